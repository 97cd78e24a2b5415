package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
)

// tgLoad pushes messages from users to the fake Bot API, a few at a time,
// and counts the bot's replies to them.
type tgLoad struct {
	tg             *telegramtest.Server
	users, perUser int
	pushed         atomic.Int64
}

func (l *tgLoad) uid(u int) int64 { return int64(20000 + u) }

func (l *tgLoad) text(u, m int) string { return fmt.Sprintf("question %d from user %d", m, u) }

// push sends the next n messages (round robin over the users, each
// user's in order), returning false when all are sent.
func (l *tgLoad) push(n int) bool {
	for range n {
		i := int(l.pushed.Load())
		if i >= l.users*l.perUser {
			return false
		}
		u, m := i%l.users, i/l.users+1
		l.tg.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(l.uid(u)), telegramtest.User(l.uid(u), fmt.Sprintf("User%d", u), "en"), m, l.text(u, m))))
		l.pushed.Add(1)
	}
	return true
}

// replies counts, for every message pushed, the bot's messages answering
// it; the second result is how many got none.
func (l *tgLoad) replies() (map[[2]int]int, int) {
	out := map[[2]int]int{}
	missing := 0
	for u := range l.users {
		r := repliesTo(l.tg, l.uid(u), "")
		for m := 1; m <= l.perUser; m++ {
			out[[2]int{u, m}] = r[m]
			if r[m] == 0 {
				missing++
			}
		}
	}
	return out, missing
}

// waitAnswered waits until every message is answered, and fails the test
// naming how many were not within timeout (a bound, not a measurement).
func (l *tgLoad) waitAnswered(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, missing := l.replies()
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages never answered", missing, l.users*l.perUser)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// twice counts the messages answered more than once, logging each.
func (l *tgLoad) twice(t *testing.T) int {
	counts, _ := l.replies()
	n := 0
	for k, c := range counts {
		if c < 2 {
			continue
		}
		n++
		for _, s := range l.tg.Messages(l.uid(k[0])) {
			if s.ReplyTo == k[1] {
				t.Logf("user %d message %d answered %d times: message %d: %q (%d edits)", k[0], k[1], c, s.MessageID, s.Text, s.Edits)
			}
		}
	}
	return n
}

// pushEvery pushes n messages every period until all are sent or stop is
// closed.
func (l *tgLoad) pushEvery(n int, period time.Duration, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for l.push(n) {
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return &wg
}

// TestCrashTelegramKill9Under1000Updates runs `chorus serve` against the
// fake Bot API while 1,000 updates arrive, kills it with SIGKILL in the
// middle, starts it again on the same data directory, and checks that
// every update is answered: the poller confirms an update to Telegram only
// once it is in the store, so none was confirmed and lost in memory.
func TestCrashTelegramKill9Under1000Updates(t *testing.T) {
	if testing.Short() {
		t.Skip("a load of 1,000 updates through the binary; not in -short")
	}
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := newFakeOpenAI(t, func(req chatRequest) string {
		time.Sleep(5 * time.Millisecond)
		return "Answer to: " + req.Messages[len(req.Messages)-1].Content
	})
	data := t.TempDir()
	// At debug level serve logs how long each pending-send marker took
	// to be recorded after its send: the window in which a kill makes
	// the replay answer again.
	env := telegramEnv(tg, ai.URL, data, "CHORUS_LOG_LEVEL=debug")
	load := &tgLoad{tg: tg, users: 200, perUser: 5} // 5 each: within the default rate burst
	total := load.users * load.perUser

	first := startServe(t, env)
	stop := make(chan struct{})
	pushing := load.pushEvery(10, 40*time.Millisecond, stop)
	waitFor(t, 120*time.Second, "a third of the updates answered", func() bool {
		_, missing := load.replies()
		return total-missing >= total/3
	})
	first.kill9(t)
	if w := markerWindows(first.stderr.String()); len(w) > 0 {
		t.Logf("pending-send marker recorded after the send: p50 %v, p90 %v, max %v (%d markers before the kill)",
			w[len(w)/2], w[len(w)*9/10], w[len(w)-1], len(w))
	}
	// The fake server finishes the requests it was reading at the kill.
	time.Sleep(200 * time.Millisecond)
	atKill, missing := load.replies()
	answeredAtKill, pushedAtKill, unconfirmed := total-missing, int(load.pushed.Load()), tg.Pending()
	t.Logf("at the kill: %d pushed, %d answered, %d not confirmed to Telegram", pushedAtKill, answeredAtKill, unconfirmed)
	if answeredAtKill >= pushedAtKill {
		t.Fatalf("every update pushed was answered before the kill: the crash did not happen mid-load")
	}

	second := startServe(t, env)
	load.waitAnswered(t, 240*time.Second)
	close(stop)
	pushing.Wait()
	second.term(t)

	twice := load.twice(t)
	_, missing = load.replies()
	t.Logf("%d of %d updates answered after the restart, %d answered twice; %d replies sent before the kill were edited by the replay instead of sent again",
		total-missing, total, twice, strings.Count(second.stderr.String(), "replaying a reply sent before the last stop"))
	if missing != 0 {
		t.Errorf("%d updates never answered", missing)
	}
	// What can be answered twice is a reply on its way at the kill (sent,
	// its pending-send marker not yet on disk); a message first answered
	// after the restart is answered once.
	after, _ := load.replies()
	for k, n := range after {
		if n > 1 && atKill[k] == 0 {
			t.Errorf("user %d message %d, unanswered at the kill, was answered %d times", k[0], k[1], n)
		}
	}
	if tg.Pending() != 0 {
		t.Errorf("%d updates still unconfirmed after all were answered", tg.Pending())
	}
}

// TestCrashTelegramBackPressure kills `chorus serve` with SIGKILL while a
// slow model keeps its small queue full: the updates waiting for room
// were never confirmed to Telegram, so after the restart every one is
// answered (the library's poller had confirmed them while they waited in
// memory, and a kill lost them for good).
func TestCrashTelegramBackPressure(t *testing.T) {
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := newFakeOpenAI(t, func(req chatRequest) string {
		time.Sleep(400 * time.Millisecond) // slower than the messages come
		return "Answer to: " + req.Messages[len(req.Messages)-1].Content
	})
	data := t.TempDir()
	env := telegramEnv(tg, ai.URL, data, "CHORUS_ENGINE_WORKERS=2", "CHORUS_ENGINE_QUEUE_SIZE=4")
	load := &tgLoad{tg: tg, users: 40, perUser: 1}
	load.push(40)

	first := startServe(t, env)
	waitFor(t, 60*time.Second, "the first answers", func() bool {
		_, missing := load.replies()
		return missing <= 36
	})
	first.kill9(t)
	_, missing := load.replies()
	t.Logf("at the kill: %d of 40 answered, %d not confirmed to Telegram", 40-missing, tg.Pending())

	second := startServe(t, env)
	load.waitAnswered(t, 60*time.Second)
	second.term(t)
	t.Logf("40 of 40 answered after the restart, %d answered twice", load.twice(t))
}

// withFileSizeLimit runs start (which starts a process) with the soft
// RLIMIT_FSIZE set to n bytes, so that the process inherits it: a file it
// writes may not grow past n (writes fail with EFBIG, as on a full disk;
// Go ignores SIGXFSZ). The test process's own limit is restored at once.
func withFileSizeLimit(t *testing.T, n int64, start func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = uint64(n)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
	}()
	start()
}

// TestCrashTelegramDiskFull runs `chorus serve` on a store file that may
// not grow (RLIMIT_FSIZE at its size: a full disk for bbolt) while 300
// updates arrive: the updates it could not store stay unconfirmed at
// Telegram, and once it runs again with room every one is answered.
func TestCrashTelegramDiskFull(t *testing.T) {
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := newFakeOpenAI(t, func(req chatRequest) string {
		return "Answer to: " + req.Messages[len(req.Messages)-1].Content
	})
	data := t.TempDir()
	env := telegramEnv(tg, ai.URL, data)
	// A first run creates the store and its example knowledge base.
	warm := startServe(t, env)
	waitFor(t, 30*time.Second, "ready", func() bool { code, _ := warm.readyz(); return code == http.StatusOK })
	warm.term(t)
	fi, err := os.Stat(filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	var full *serveProc
	withFileSizeLimit(t, fi.Size(), func() { full = startServe(t, env) })
	load := &tgLoad{tg: tg, users: 100, perUser: 3}
	load.push(load.users * load.perUser)
	waitFor(t, 60*time.Second, "the store to refuse a write", func() bool {
		return strings.Contains(full.stderr.String(), "file too large")
	})
	// Let it run into the wall: what it took before is answered, what it
	// could not take stays with Telegram.
	last := -1
	waitFor(t, 60*time.Second, "the answers to stop", func() bool {
		_, missing := load.replies()
		stuck := missing == last
		last = missing
		time.Sleep(time.Second)
		return stuck
	})
	answered, unconfirmed := load.users*load.perUser-last, tg.Pending()
	code, body := full.readyz()
	full.kill9(t)
	t.Logf("on the full disk: %d of %d answered, %d not confirmed to Telegram; /readyz %d %s", answered, load.users*load.perUser, unconfirmed, code, strings.TrimSpace(body))
	if unconfirmed == 0 {
		t.Errorf("every update was confirmed to Telegram although the store could not take them all")
	}
	if code == http.StatusOK {
		t.Errorf("/readyz says ready while the store cannot write")
	}

	// Space is freed; Chorus starts again.
	again := startServe(t, env)
	load.waitAnswered(t, 120*time.Second)
	again.term(t)
	// Every message has its answer; one whose answer was shown on the
	// full disk but could not be stored (nor its pending-send marker)
	// before the kill is answered again.
	again2 := 0
	for u := range load.users {
		r := repliesTo(tg, load.uid(u), "Answer to: ")
		for m := 1; m <= load.perUser; m++ {
			switch {
			case r[m] == 0:
				t.Errorf("user %d message %d has no answer", u, m)
			case r[m] > 1:
				again2++
			}
		}
	}
	t.Logf("after the restart with room: all %d answered; %d answered twice (shown on the full disk, not stored before the kill)",
		load.users*load.perUser, again2)
}

var markerWindowRE = regexp.MustCompile(`pending send recorded.* after=(\S+)`)

// markerWindows returns, sorted, the times serve's debug log says its
// pending-send markers took to be recorded after their sends.
func markerWindows(log string) []time.Duration {
	var out []time.Duration
	for _, m := range markerWindowRE.FindAllStringSubmatch(log, -1) {
		if d, err := time.ParseDuration(m[1]); err == nil {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}
