package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/memory"
)

// serveProc is a running `chorus serve`.
type serveProc struct {
	cmd    *exec.Cmd
	stderr *bottest.Buffer
	done   chan struct{}
	err    error
}

var adminLine = regexp.MustCompile(`msg="admin server listening" component=admin addr=(\S+)`)

// adminAddr returns the address serve's admin listener bound, "" until
// its log says so. serve binds 127.0.0.1:0: a port picked by the test and
// freed for the child could be taken by another test in between.
func (p *serveProc) adminAddr() string {
	if m := adminLine.FindStringSubmatch(p.stderr.String()); m != nil {
		return m[1]
	}
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `chorus serve` with env (plus PATH, HOME and the admin
// and web listeners on loopback ports the kernel picks). It is killed at the end of the test
// if still running.
func startServe(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{stderr: &bottest.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"serve"}, args...)...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "CHORUS_ADMIN_LISTEN=127.0.0.1:0", "CHORUS_WEB_LISTEN=127.0.0.1:0"}, env...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdin = strings.NewReader("")
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("serve stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// kill9 kills the process without warning, as a crash or an OOM kill does.
func (p *serveProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// term stops the process as an orchestrator does and waits for its exit.
func (p *serveProc) term(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM\n%s", p.stderr.String())
	}
}

func (p *serveProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// readyz returns /readyz's status code and body, 0 when unreachable.
func (p *serveProc) readyz() (int, string) {
	addr := p.adminAddr()
	if addr == "" {
		return 0, "admin listener not bound yet"
	}
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitFor polls cond until it holds or timeout passes; the timeout is a
// bound on the test, not a measurement.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const tgBotID = 777

// telegramEnv points serve at a fake Bot API and a fake LLM. Moderation
// runs its rules but not the shipped classifiers, which flag plain
// questions ("hello, when does my order arrive?" scores as hate) and would
// turn these tests into tests of the models.
func telegramEnv(tg *telegramtest.Server, llmURL, data string, extra ...string) []string {
	return append([]string{"CHORUS_TELEGRAM_TOKEN=777:TEST", "CHORUS_TELEGRAM_API_URL=" + tg.URL, "CHORUS_TELEGRAM_POLL_TIMEOUT=2s",
		"CHORUS_MODERATION_CLASSIFIERS=false",
		"CHORUS_LLM_BASE_URL=" + llmURL + "/v1", "CHORUS_LLM_MODEL=test-model", "CHORUS_DATA_DIR=" + data,
		"CHORUS_LOG_LEVEL=info", "CHORUS_KB_DIR=" + filepath.Join(data, "no-kb")}, extra...)
}

// repliesTo counts the bot's messages answering each incoming message id
// in a chat (the first piece of a reply carries reply_parameters) whose
// text starts with prefix.
func repliesTo(tg *telegramtest.Server, chat int64, prefix string) map[int]int {
	out := map[int]int{}
	for _, m := range tg.Messages(chat) {
		if m.ReplyTo != 0 && strings.HasPrefix(m.Text, prefix) {
			out[m.ReplyTo]++
		}
	}
	return out
}

// TestCrashKill9MidLoad kills `chorus serve` with SIGKILL while it answers a
// backlog of Telegram messages, restarts it on the same data directory,
// and checks that no stored message is lost or corrupted, that every
// message received before the crash is answered, and how many were
// answered twice.
func TestCrashKill9MidLoad(t *testing.T) {
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := newFakeOpenAI(t, func(req chatRequest) string {
		time.Sleep(40 * time.Millisecond) // a model that takes a moment
		return "Answer to: " + req.Messages[len(req.Messages)-1].Content
	})
	data := t.TempDir()
	env := telegramEnv(tg, ai.URL, data, "CHORUS_ENGINE_WORKERS=4")

	const users, perUser = 12, 5
	uid := func(u int) int64 { return int64(5000 + u) }
	for m := 1; m <= perUser; m++ {
		for u := range users {
			text := fmt.Sprintf("question %d from user %d", m, u)
			tg.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(uid(u)), telegramtest.User(uid(u), fmt.Sprintf("User%d", u), "en"), m, text)))
		}
	}
	first := startServe(t, env)
	waitFor(t, 30*time.Second, "the first replies", func() bool { return tg.SentCount() >= users*perUser/4 })
	first.kill9(t)
	atKill := tg.SentCount()
	if atKill >= users*perUser {
		t.Fatalf("every message was answered before the kill (%d sends): the crash did not happen mid-load", atKill)
	}

	second := startServe(t, env)
	allAnswered := func() bool {
		for u := range users {
			r := repliesTo(tg, uid(u), "Answer to:")
			for m := 1; m <= perUser; m++ {
				if r[m] == 0 {
					return false
				}
			}
		}
		return true
	}
	defer func() {
		if t.Failed() {
			for u := range users {
				for _, m := range tg.Messages(uid(u)) {
					t.Logf("user %d: reply to %d: %q", u, m.ReplyTo, m.Text)
				}
			}
		}
	}()
	waitFor(t, 60*time.Second, "every message answered after the restart", allAnswered)
	second.term(t)

	twice := 0
	for u := range users {
		for id, n := range repliesTo(tg, uid(u), "Answer to:") {
			if n > 1 {
				twice++
				t.Logf("user %d message %d answered %d times", u, id, n)
			}
		}
	}
	// Only a message in flight at the kill (at most one per worker) may be
	// answered again by the replay.
	if twice > 4 {
		t.Errorf("%d messages answered twice; at most the 4 in flight at the kill may be", twice)
	}
	t.Logf("%d sends before the kill; %d of %d messages answered twice", atKill, twice, users*perUser)

	// The store: every question stored exactly once, with an answer; no
	// message left pending; the file consistent.
	st, err := memory.Open(filepath.Join(data, dbFile))
	if err != nil {
		t.Fatalf("reopen the store after the crash: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	if p, err := st.Pending(ctx); err != nil || len(p) != 0 {
		t.Errorf("pending after restart: %d, %v", len(p), err)
	}
	for u := range users {
		conv := bot.ConversationKey("telegram", fmt.Sprint(uid(u)), "")
		turns, err := st.Turns(ctx, conv, 0, 1<<62, 1000)
		if err != nil {
			t.Fatalf("turns of %s: %v", conv, err)
		}
		questions, answers := map[string]int{}, 0
		for _, tr := range turns {
			switch tr.Role {
			case bot.RoleUser:
				questions[tr.MsgID]++
				if want := fmt.Sprintf("question %s from user %d", tr.MsgID, u); tr.Text != want {
					t.Errorf("%s: stored %q, want %q", conv, tr.Text, want)
				}
			case bot.RoleAssistant:
				answers++
				if !strings.HasPrefix(tr.Text, "Answer to: ") {
					t.Errorf("%s: stored answer %q", conv, tr.Text)
				}
			}
		}
		for m := 1; m <= perUser; m++ {
			if n := questions[fmt.Sprint(m)]; n != 1 {
				t.Errorf("%s: question %d stored %d times", conv, m, n)
			}
		}
		if answers < perUser {
			t.Errorf("%s: %d answers stored, want at least %d", conv, answers, perUser)
		}
	}
}
