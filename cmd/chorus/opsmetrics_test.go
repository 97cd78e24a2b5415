package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
)

// TestServeOpsSeriesFromTheStart: a configured Telegram adapter that
// can't connect is exported as disconnected (0) from the first scrape, so
// the shipped alert can fire.
func TestServeOpsSeriesFromTheStart(t *testing.T) {
	p := startServe(t, []string{
		"CHORUS_TELEGRAM_TOKEN=123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"CHORUS_TELEGRAM_API_URL=http://127.0.0.1:1", // nothing listens: never connects
	}, "--data-dir", t.TempDir())
	var m map[string]float64
	waitFor(t, 30*time.Second, "the admin server", func() bool {
		if code, _ := p.readyz(); code == 0 {
			return false
		}
		m = scrape(t, p.adminAddr())
		return true
	})
	want := map[string]float64{
		`chorus_adapter_connected{platform="telegram"}`:          0,
		`chorus_panics_recovered_total{platform="telegram"}`:     0,
		`chorus_webhook_unauthorized_total{platform="telegram"}`: 0,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("first scrape: %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	for k := range m {
		if strings.HasPrefix(k, "chorus_adapter_connected") && k != `chorus_adapter_connected{platform="telegram"}` {
			t.Errorf("unexpected series %s", k)
		}
	}
}

// TestServeWebhookRefusals: 2,000 webhook requests without the secret are
// all counted and logged in a line or two, not 2,000.
func TestServeWebhookRefusals(t *testing.T) {
	fake := telegramtest.NewServer(9000, "chorusbot")
	t.Cleanup(fake.Close)
	hook := freePort(t)
	p := startServe(t, []string{
		"CHORUS_TELEGRAM_TOKEN=9000:AAEtest-token-for-the-fake-bot-api-0123",
		"CHORUS_TELEGRAM_API_URL=" + fake.URL,
		"CHORUS_TELEGRAM_MODE=webhook",
		"CHORUS_TELEGRAM_WEBHOOK_LISTEN=" + hook,
		"CHORUS_TELEGRAM_WEBHOOK_PUBLIC_URL=https://bot.example.invalid/tg/hook",
		"CHORUS_TELEGRAM_WEBHOOK_SECRET=s3cret",
	}, "--data-dir", t.TempDir())
	waitFor(t, 30*time.Second, "the webhook listener", func() bool {
		res, err := http.Get("http://" + hook + "/tg/hook")
		if err != nil {
			return false
		}
		res.Body.Close()
		return true
	})
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 2000 {
		req, _ := http.NewRequest(http.MethodPost, "http://"+hook+"/tg/hook", strings.NewReader(`{"update_id":1}`))
		if i%2 == 0 {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "guess")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, res.StatusCode)
		}
	}
	if got := scrape(t, p.adminAddr())[`chorus_webhook_unauthorized_total{platform="telegram"}`]; got != 2000 {
		t.Errorf("webhook_unauthorized_total = %v, want 2000", got)
	}
	if n := strings.Count(p.stderr.String(), "wrong secret"); n < 1 || n > 2 {
		t.Errorf("2,000 refused requests logged %d lines, want 1 (2 if a minute passed)", n)
	}
}

// TestServeActiveUsersSurviveRestart: chorus_active_users after a restart
// is what it was before it (rebuilt from the activity analytics stored),
// not zero.
func TestServeActiveUsersSurviveRestart(t *testing.T) {
	data := t.TempDir()
	const users = 7
	run := func(say bool) map[string]float64 {
		fake := telegramtest.NewServer(9000, "chorusbot")
		defer fake.Close()
		p := startServe(t, []string{
			"CHORUS_TELEGRAM_TOKEN=9000:AAEtest-token-for-the-fake-bot-api-0123",
			"CHORUS_TELEGRAM_API_URL=" + fake.URL,
			"CHORUS_TELEGRAM_POLL_TIMEOUT=1s",
		}, "--data-dir", data)
		waitFor(t, 30*time.Second, "ready", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
		if say {
			for i := range users {
				id := int64(500 + i)
				fake.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(id),
					telegramtest.User(id, "Follower", "en"), 1, "how long does shipping take?")))
			}
			waitFor(t, 60*time.Second, "every follower answered", func() bool {
				for i := range users {
					if len(fake.Messages(int64(500+i))) == 0 {
						return false
					}
				}
				return true
			})
		}
		m := scrape(t, p.adminAddr())
		p.term(t)
		return m
	}
	before := run(true)
	after := run(false)
	for _, w := range []string{"5m", "1d", "30d"} {
		k := `chorus_active_users{window="` + w + `"}`
		if before[k] != users {
			t.Errorf("before the restart: %s = %v, want %d", k, before[k], users)
		}
		if after[k] != before[k] {
			t.Errorf("after the restart: %s = %v, want %v as before", k, after[k], before[k])
		}
	}
}
