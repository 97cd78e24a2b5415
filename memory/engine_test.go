package memory_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/prompts"
)

// TestEngineWithStore runs the real engine on the bbolt store and the
// knowledge base, restarts it on the same file, and checks that the second
// run's prompt carries the first run's conversation and the right passage.
func TestEngineWithStore(t *testing.T) {
	kdir := filepath.Join("..", "configs", "knowledge")
	if _, err := os.Stat(kdir); err != nil {
		t.Skipf("example knowledge base not found: %v", err)
	}
	path := filepath.Join(t.TempDir(), "chorus.db")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	run := func(text, id string) (*bottest.LLM, *memory.Store) {
		t.Helper()
		s, err := memory.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.KB().Ingest(ctx, kdir); err != nil {
			t.Fatal(err)
		}
		llm := &bottest.LLM{Reply: func(req bot.Request) (string, error) { return "answer to " + req.Query, nil }}
		e, err := bot.New(bot.Config{}, s, llm, bot.WithKnowledge(s.KB()), bot.WithAuditor(s), bot.WithPrompts(prompts.Default()))
		if err != nil {
			t.Fatal(err)
		}
		plat := bottest.NewPlatform("console", bot.Limits{MaxLen: 4000})
		e.AddPlatform(plat)
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		m := bot.Message{Platform: "console", Chat: bot.Chat{ID: "local", Kind: bot.ChatDM}, ID: id,
			Author: bot.User{ID: "owner", Name: "Owner"}, Text: text}
		if err := e.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
		// A redelivery is dropped.
		if err := e.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := e.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		e.Close()
		return llm, s
	}

	llm, s := run("How long does shipping to Canada take?", "1")
	reqs := llm.Requests()
	if len(reqs) != 1 {
		t.Fatalf("first run made %d LLM calls, want 1 (redelivery not dropped?)", len(reqs))
	}
	if len(reqs[0].Passages) == 0 || reqs[0].Passages[0].Source != "shipping.md" {
		t.Errorf("first prompt passages = %+v", reqs[0].Passages)
	}
	s.Close()

	llm, s = run("退货怎么办？", "2")
	defer s.Close()
	reqs = llm.Requests()
	if len(reqs) != 1 {
		t.Fatalf("second run made %d LLM calls", len(reqs))
	}
	var prompt strings.Builder
	for _, m := range reqs[0].Messages {
		prompt.WriteString(m.Content)
		prompt.WriteByte('\n')
	}
	for _, want := range []string{"How long does shipping to Canada take?", "answer to How long does shipping to Canada take?"} {
		if !strings.Contains(prompt.String(), want) {
			t.Errorf("second prompt lacks %q:\n%s", want, prompt.String())
		}
	}
	if len(reqs[0].Passages) == 0 || reqs[0].Passages[0].Source != "faq-zh.md" {
		t.Errorf("second prompt passages = %+v", reqs[0].Passages)
	}
	d, err := s.Export(ctx, "console:owner")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 4 || d.Profile == nil || d.Profile.Messages != 2 {
		t.Errorf("export = %d messages, profile %+v", len(d.Messages), d.Profile)
	}
	if p, _ := s.Pending(ctx); len(p) != 0 {
		t.Errorf("%d messages still pending", len(p))
	}
}
