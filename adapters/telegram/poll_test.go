package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
)

// recorder is a Handler that records the message ids it took, and
// refuses one id while refuse is set, as an engine whose store cannot
// write does.
type recorder struct {
	mu      sync.Mutex
	took    []string
	refused map[string]int
	refuse  atomic.Bool
	bad     string
}

func (r *recorder) Handle(_ context.Context, m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse.Load() && m.ID == r.bad {
		r.refused[m.ID]++
		return errors.New("bot: accept: disk full")
	}
	r.took = append(r.took, m.Chat.ID+"/"+m.ID)
	return nil
}

func (r *recorder) snapshot() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.took), r.refused[r.bad]
}

// runAdapter runs a over fake until the test ends.
func runAdapter(t *testing.T, a *Adapter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLong):
			t.Error("Run did not return after cancel")
		}
	})
}

// TestPollConfirmsOnlyAccepted: an update the handler refuses (the store
// failed) is not confirmed to Telegram, nor is anything after it; it is
// asked for again until taken, a chat's later message is never taken
// before it, and updates taken before it are not delivered twice.
func TestPollConfirmsOnlyAccepted(t *testing.T) {
	fake := telegramtest.NewServer(botID, botName)
	defer fake.Close()
	rec := &recorder{refused: map[string]int{}, bad: "3"}
	rec.refuse.Store(true)
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	ad, err := New(Config{Token: "123:SECRET", APIURL: fake.URL, PollTimeout: 2 * time.Second}, rec,
		withRetryBase(10*time.Millisecond), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	const chat = int64(100)
	from := telegramtest.User(userID, "Ann", "en")
	for id := 1; id <= 5; id++ {
		fake.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(chat), from, id, "message")))
	}
	runAdapter(t, ad)
	if !fake.WaitFor(waitLong, func() bool { _, n := rec.snapshot(); return n >= 3 }) {
		t.Fatal("the refused update was not asked for again")
	}
	took, _ := rec.snapshot()
	if want := []string{"100/1", "100/2"}; !slices.Equal(took, want) {
		t.Errorf("while message 3 is refused the handler took %v, want %v (the chat's later messages wait)", took, want)
	}
	if n := fake.Pending(); n != 3 {
		t.Errorf("%d updates unconfirmed while message 3 is refused, want 3 (3, 4 and 5)", n)
	}

	rec.refuse.Store(false)
	if !fake.WaitFor(waitLong, func() bool { took, _ := rec.snapshot(); return len(took) == 5 && fake.Pending() == 0 }) {
		took, _ := rec.snapshot()
		t.Fatalf("after the store recovered: took %v, %d unconfirmed", took, fake.Pending())
	}
	took, _ = rec.snapshot()
	if want := []string{"100/1", "100/2", "100/3", "100/4", "100/5"}; !slices.Equal(took, want) {
		t.Errorf("took %v, want %v: each once, in order", took, want)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "could not be accepted") {
		t.Errorf("the refusal is not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("the token is in the log:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestPollGroupLanes: in a group, one member's refused message holds back
// only that member's later messages; other members' messages are taken.
func TestPollGroupLanes(t *testing.T) {
	fake := telegramtest.NewServer(botID, botName)
	defer fake.Close()
	rec := &recorder{refused: map[string]int{}, bad: "2"}
	rec.refuse.Store(true)
	ad, err := New(Config{Token: "1:a", APIURL: fake.URL, PollTimeout: 2 * time.Second}, rec, withRetryBase(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	group := telegramtest.GroupChat(groupID, false)
	ann, bob := telegramtest.User(1, "Ann", "en"), telegramtest.User(2, "Bob", "en")
	fake.Push(telegramtest.MessageUpdate(telegramtest.Text(group, ann, 1, "ann one")))
	fake.Push(telegramtest.MessageUpdate(telegramtest.Text(group, ann, 2, "ann two")))
	fake.Push(telegramtest.MessageUpdate(telegramtest.Text(group, bob, 3, "bob one")))
	fake.Push(telegramtest.MessageUpdate(telegramtest.Text(group, ann, 4, "ann three")))
	runAdapter(t, ad)
	if !fake.WaitFor(waitLong, func() bool { _, n := rec.snapshot(); return n >= 2 }) {
		t.Fatal("the refused update was not asked for again")
	}
	took, _ := rec.snapshot()
	g := "-1001234/"
	if !slices.Contains(took, g+"3") || slices.Contains(took, g+"4") {
		t.Errorf("took %v: Bob's message must be taken, Ann's after her refused one must wait", took)
	}
	rec.refuse.Store(false)
	if !fake.WaitFor(waitLong, func() bool { return fake.Pending() == 0 }) {
		t.Fatal("never confirmed after recovery")
	}
	took, _ = rec.snapshot()
	var annOrder []string
	for _, id := range took {
		if id != g+"3" {
			annOrder = append(annOrder, id)
		}
	}
	if want := []string{g + "1", g + "2", g + "4"}; !slices.Equal(annOrder, want) {
		t.Errorf("Ann's messages taken as %v, want %v", annOrder, want)
	}
}

// TestPollRejectedToken: a token Telegram stops accepting ends Run with
// bot.ErrFatal instead of polling forever.
func TestPollRejectedToken(t *testing.T) {
	fake := telegramtest.NewServer(botID, botName)
	defer fake.Close()
	fake.Fail(telegramtest.MethodGetUpdates, 1, http.StatusUnauthorized, "Unauthorized", 0)
	ad, err := New(Config{Token: "1:a", APIURL: fake.URL, PollTimeout: 2 * time.Second}, &recorder{refused: map[string]int{}}, withRetryBase(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := ad.Run(ctx); !errors.Is(err, bot.ErrFatal) {
		t.Errorf("Run with a token rejected by getUpdates = %v, want ErrFatal", err)
	}
}

// TestWebhookRefusalIs503: an update the handler could not take gets 503,
// so that Telegram delivers it again; once taken, 200.
func TestWebhookRefusalIs503(t *testing.T) {
	fake := telegramtest.NewServer(botID, botName)
	defer fake.Close()
	rec := &recorder{refused: map[string]int{}, bad: "7"}
	rec.refuse.Store(true)
	ad, err := New(Config{Token: "1:a", APIURL: fake.URL, Mode: ModeWebhook,
		Webhook: Webhook{Listen: "127.0.0.1:0", PublicURL: "https://bot.example.invalid/", Secret: "s3cret"}}, rec, withRetryBase(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	runAdapter(t, ad)
	var addr string
	if !fake.WaitFor(waitLong, func() bool { addr = ad.WebhookAddr(); return addr != "" }) {
		t.Fatal("webhook never listened")
	}
	u := telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(userID), telegramtest.User(userID, "Ann", "en"), 7, "hello"))
	u.ID = 70
	body, _ := json.Marshal(u)
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
		req.Header.Set(secretHeader, "s3cret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(); code != http.StatusServiceUnavailable {
		t.Errorf("refused update: status %d, want 503", code)
	}
	rec.refuse.Store(false)
	if code := post(); code != http.StatusOK {
		t.Errorf("taken update: status %d, want 200", code)
	}
	if took, _ := rec.snapshot(); !slices.Equal(took, []string{"42/7"}) {
		t.Errorf("took %v", took)
	}
}

// TestGetUpdatesAnswers: getUpdates reads the Bot API's answers: updates,
// a 429 with its retry_after, a rejected token, and a page that is not
// the Bot API's JSON (a proxy's error page), never quoting the token.
func TestGetUpdatesAnswers(t *testing.T) {
	var answer atomic.Value // func(http.ResponseWriter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" || !strings.HasSuffix(r.URL.Path, "/getUpdates") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		answer.Load().(func(http.ResponseWriter))(w)
	}))
	defer srv.Close()
	ad, err := New(Config{Token: "123:SECRET", APIURL: srv.URL, PollTimeout: 2 * time.Second}, &recorder{refused: map[string]int{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	answer.Store(func(w http.ResponseWriter) {
		w.Write([]byte(`{"ok":true,"result":[{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":9,"type":"private"},"text":"hi"}}]}`))
	})
	if upds, err := ad.getUpdates(ctx, 0, 0, 10); err != nil || len(upds) != 1 || upds[0].ID != 5 || upds[0].Message.Text != "hi" {
		t.Errorf("updates: %+v, %v", upds, err)
	}
	answer.Store(func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`))
	})
	var pe *pollError
	if _, err := ad.getUpdates(ctx, 0, 0, 10); !errors.As(err, &pe) || pe.code != 429 || pe.retryAfter != 7*time.Second {
		t.Errorf("429: %v (%+v)", err, pe)
	}
	answer.Store(func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
	})
	if _, err := ad.getUpdates(ctx, 0, 0, 10); !errors.Is(err, errPollToken) {
		t.Errorf("401: %v, want errPollToken", err)
	}
	answer.Store(func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(`<html>502 Bad Gateway</html>`))
	})
	if _, err := ad.getUpdates(ctx, 0, 0, 10); !errors.As(err, &pe) || pe.code != http.StatusBadGateway || pe.desc != "undecodable answer" {
		t.Errorf("proxy page: %v (%+v)", err, pe)
	}
	srv.Close()
	_, err = ad.getUpdates(ctx, 0, 0, 10)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("unreachable server: %v (must fail without quoting the token)", err)
	}
}
