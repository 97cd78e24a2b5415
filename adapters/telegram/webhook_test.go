package telegram

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// A flood of requests without the secret is refused and counted one by
// one, but logged at most once a minute, each line saying how many were
// left out.
func TestWebhookRefusalsCountedLogRateLimited(t *testing.T) {
	var logs bottest.Buffer
	var refused atomic.Int64
	handled := atomic.Int64{}
	ad, err := New(Config{Token: "1:a", Mode: ModeWebhook, Webhook: Webhook{Listen: "127.0.0.1:0", PublicURL: "https://bot.example.invalid/hook", Secret: "s3cret"}},
		bot.HandlerFunc(func(context.Context, bot.Message) error { handled.Add(1); return nil }),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		WithObserver(bot.ObserverFunc(func(e bot.Event) {
			if e.Kind == bot.EventAdapter && e.State == bot.AdapterUnauthorized && e.Platform == PlatformName {
				refused.Add(1)
			}
		})))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	ad.whRefused.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	h := ad.WebhookHandler()
	post := func(secret string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"update_id":1,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"text":"hi"}}`))
		if secret != "" {
			req.Header.Set(secretHeader, secret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("secret %q: status %d, want 401", secret, rec.Code)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				post([]string{"", "wrong"}[(w+i)%2])
			}
		}()
	}
	wg.Wait()
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if strings.Contains(l, "wrong secret") {
				out = append(out, l)
			}
		}
		return out
	}
	if got := refused.Load(); got != 2000 {
		t.Errorf("refusals counted: %d, want 2000", got)
	}
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "refused_unlogged_before=0") {
		t.Fatalf("2,000 refusals within a minute logged %d lines, want 1 (the first):\n%s", len(got), logs.String())
	}
	if n := len(logs.String()); n > 1024 {
		t.Errorf("2,000 refusals wrote %d bytes of log", n)
	}
	clockMu.Lock()
	clock = clock.Add(refusedLogEvery)
	clockMu.Unlock()
	post("wrong")
	got := lines()
	if len(got) != 2 || !strings.Contains(got[1], "refused_unlogged_before=1999") {
		t.Errorf("a minute later: lines %q, want a second one counting the 1,999 left out", got)
	}
	if handled.Load() != 0 {
		t.Errorf("%d refused updates reached the handler", handled.Load())
	}
}
