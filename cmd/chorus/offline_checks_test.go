package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/memory"
)

// questions reads the "Q: " lines of the reply checks' test data.
func questions(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range []string{"good_answers_en.txt", "good_answers_zh.txt", "small_talk.txt", "number_forms.txt"} {
		fh, err := os.Open(filepath.Join("..", "..", "moderation", "replycheck", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if q, ok := strings.CutPrefix(sc.Text(), "Q: "); ok {
				out = append(out, q)
			}
		}
		fh.Close()
	}
	return out
}

// TestOfflineAnswersPassTheChecks: the offline provider's answers go
// through the same checks as a remote model's, in the engine, wired as the
// binary wires it over the example knowledge base. Its answers quote the
// knowledge base, so none may be blocked: the count is the offline
// provider's false positives.
func TestOfflineAnswersPassTheChecks(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.KB.Dir = repoKnowledge(t)
	cfg.Engine.RatePerMinute, cfg.Engine.UserDailyTokens, cfg.Engine.ChatDailyTokens = 0, 0, 0
	st, err := openStore(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := newApp(cfg, slog.New(slog.DiscardHandler), st)
	if err != nil {
		t.Fatal(err)
	}
	if a.model != "offline" || a.plug.checks == nil {
		t.Fatalf("model %q, checks %v: want the offline provider with the reply checks", a.model, a.plug.checks)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a.ingestKB(ctx)
	plat := bottest.NewPlatform("console", bot.Limits{})
	a.engine.AddPlatform(plat)
	if err := a.engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.engine.Close()
	qs := questions(t)
	for i, q := range qs {
		chat := fmt.Sprint("u", i)
		m := bot.Message{Platform: "console", Chat: bot.Chat{ID: chat, Kind: bot.ChatDM}, ID: "1", Author: bot.User{ID: chat, Name: "Ann"}, Text: q}
		if err := a.engine.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.engine.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	es, err := st.AuditLog(ctx, memory.AuditQuery{Kind: bot.AuditOutputBlocked, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	answered := 0
	for i := range qs {
		if r := plat.Replies(fmt.Sprint("u", i)); len(r) > 0 && r[0] != "" {
			answered++
		}
	}
	for _, e := range es {
		t.Errorf("offline answer blocked (%s): %q: %s", e.Rule, e.Excerpt, e.Note)
	}
	t.Logf("offline answers: %d questions, %d answered, %d sentences blocked", len(qs), answered, len(es))
	if answered != len(qs) {
		t.Errorf("%d of %d questions answered", answered, len(qs))
	}
}
