package storetest

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

func knowledge(t *testing.T, h *harness, s bot.Store) Knowledge {
	t.Helper()
	if h.cfg.kb == nil {
		t.Skip("no knowledge base given (storetest.WithKnowledge)")
	}
	return h.cfg.kb(s)
}

func testKnowledge(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	kb := knowledge(t, h, st.Store)
	if ps, err := kb.Search(ctx, "zebras", 5); err != nil || len(ps) != 0 {
		t.Fatalf("empty knowledge base search = %+v, %v", ps, err)
	}
	alpha := []byte("# Returns\n\nAlpha takes zebras back within 30 days.\n")
	for i, want := range []bool{true, false} {
		changed, err := kb.IngestFile(ctx, "/kb/alpha", "returns.md", alpha)
		if err != nil || changed != want {
			t.Fatalf("ingest %d = %v, %v; want %v", i, changed, err, want)
		}
	}
	if _, err := kb.IngestFile(ctx, "/kb/beta", "returns.md", []byte("# Returns\n\nBeta takes giraffes back within 14 days.\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := kb.IngestFile(ctx, "/kb/beta", "faq/shipping.md", []byte("# Shipping\n\n## Canada\n\nParcels to Canada take five working days.\n")); err != nil {
		t.Fatal(err)
	}
	n := kb.Len()
	if n < 3 {
		t.Fatalf("Len = %d after three documents", n)
	}
	ps, err := kb.Search(ctx, "Do you take zebras back?", 5)
	if err != nil || len(ps) == 0 {
		t.Fatalf("search zebras = %+v, %v", ps, err)
	}
	if p := ps[0]; p.Source != "returns.md" || p.Title != "Returns" || !strings.Contains(p.Text, "Alpha takes zebras") ||
		p.Relevance <= 0 || p.Relevance > 1 || p.Score <= 0 {
		t.Errorf("best passage for zebras = %+v", p)
	}
	ps, _ = kb.Search(ctx, "how long does shipping to Canada take", 5)
	if len(ps) == 0 || ps[0].Source != "faq/shipping.md" || ps[0].Heading != "Canada" || !strings.Contains(ps[0].Text, "five working days") {
		t.Errorf("best passage for Canada = %+v", ps)
	}
	for _, p := range ps {
		if p.Relevance < 0 || p.Relevance > 1 {
			t.Errorf("relevance %v out of [0, 1]: %+v", p.Relevance, p)
		}
	}
	if len(ps) > 1 && ps[1].Relevance > ps[0].Relevance {
		t.Errorf("a passage holding less of the question ranks first: %+v", ps)
	}
	// An update replaces the document's passages.
	if changed, err := kb.IngestFile(ctx, "/kb/beta", "returns.md", []byte("# Returns\n\nBeta takes okapis back within 60 days.\n")); err != nil || !changed {
		t.Fatalf("update = %v, %v", changed, err)
	}
	if ps, _ := kb.Search(ctx, "giraffes", 5); len(ps) != 0 {
		t.Errorf("replaced text still found: %+v", ps)
	}
	if ps, _ := kb.Search(ctx, "okapis", 5); len(ps) != 1 {
		t.Errorf("new text not found: %+v", ps)
	}
	if err := kb.Remove(ctx, "/kb/alpha", "returns.md"); err != nil {
		t.Fatal(err)
	}
	if err := kb.Remove(ctx, "/kb/alpha", "returns.md"); !isNotFound(err) {
		t.Errorf("second remove = %v, want not found", err)
	}
	if ps, _ := kb.Search(ctx, "zebras", 5); len(ps) != 0 {
		t.Errorf("removed document still found: %+v", ps)
	}
	if kb.Len() >= n {
		t.Errorf("Len = %d after a removal, was %d", kb.Len(), n)
	}
}

func testKnowledgeRestart(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	kb := knowledge(t, h, st.Store)
	if _, err := kb.IngestFile(ctx, "/kb/alpha", "returns.md", []byte("# Returns\n\nAlpha takes zebras back within 30 days.\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := kb.IngestFile(ctx, "/kb/alpha", "gone.md", []byte("# Gone\n\nAbout llamas.\n")); err != nil {
		t.Fatal(err)
	}
	if err := kb.Remove(ctx, "/kb/alpha", "gone.md"); err != nil {
		t.Fatal(err)
	}
	n := kb.Len()
	h.reopen(t, st)
	kb = knowledge(t, h, st.Store)
	if kb.Len() != n {
		t.Errorf("Len after restart = %d, want %d", kb.Len(), n)
	}
	ps, err := kb.Search(ctx, "zebras", 5)
	if err != nil || len(ps) != 1 || ps[0].Title != "Returns" || !strings.Contains(ps[0].Text, "zebras") {
		t.Errorf("search after restart = %+v, %v", ps, err)
	}
	if ps, _ := kb.Search(ctx, "llamas", 5); len(ps) != 0 {
		t.Errorf("a removed document came back: %+v", ps)
	}
	if changed, _ := kb.IngestFile(ctx, "/kb/alpha", "returns.md", []byte("# Returns\n\nAlpha takes zebras back within 30 days.\n")); changed {
		t.Error("the same content after restart counted as a change")
	}
}

// restartOrKeep reopens a durable store, and keeps an in-memory one as it
// is (its engine restarts over the same state).
func (h *harness) restartOrKeep(t *testing.T, s *store) {
	t.Helper()
	if _, ok := s.Store.(io.Closer); ok {
		h.reopen(t, s)
	}
}

func dmTo(id, text string) bot.Message {
	return bot.Message{Platform: "console", Chat: bot.Chat{ID: "local", Kind: bot.ChatDM}, ID: id,
		Author: bot.User{ID: "owner", Name: "Owner"}, Text: text}
}

// testEngineRestartAndReplay runs the real engine over the store, stops
// it, leaves a message accepted but unanswered as a crash would, and
// starts again: the message is answered once, with the first run's
// conversation in its prompt.
func testEngineRestart(t *testing.T, h *harness) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := h.newStore(t, Options{})
	run := func(handle []bot.Message, accept *bot.Message) *bottest.LLM {
		t.Helper()
		llm := &bottest.LLM{Reply: func(req bot.Request) (string, error) { return "answer to " + req.Query, nil }}
		opts := []bot.Option{}
		if a, ok := st.Store.(bot.Auditor); ok {
			opts = append(opts, bot.WithAuditor(a))
		}
		if k, ok := st.Store.(bot.KV); ok {
			opts = append(opts, bot.WithKV(k))
		}
		if h.cfg.kb != nil {
			opts = append(opts, bot.WithKnowledge(h.cfg.kb(st.Store)))
		}
		e, err := bot.New(bot.Config{}, st.Store, llm, append(opts, bot.WithPrompts(prompts.Default()))...)
		if err != nil {
			t.Fatal(err)
		}
		e.AddPlatform(bottest.NewPlatform("console", bot.Limits{MaxLen: 4000}))
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, m := range handle {
			if err := e.Handle(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		e.Close()
		if accept != nil {
			if fresh, err := st.Accept(ctx, accept); err != nil || !fresh {
				t.Fatalf("accept before the crash = %v, %v", fresh, err)
			}
		}
		return llm
	}
	first := dmTo("1", "How long does shipping to Canada take?")
	crashed := dmTo("2", "And to Mexico?")
	crashed.Time = time.Now()
	// The first message is delivered twice: the redelivery is dropped.
	llm := run([]bot.Message{first, first}, &crashed)
	if n := len(llm.Requests()); n != 1 {
		t.Fatalf("first run made %d model calls, want 1 (redelivery not dropped?)", n)
	}
	h.restartOrKeep(t, st)
	llm = run(nil, nil)
	reqs := llm.Requests()
	if len(reqs) != 1 || reqs[0].Query != "And to Mexico?" {
		t.Fatalf("after the restart the model was asked %d times: %+v", len(reqs), reqs)
	}
	var prompt strings.Builder
	for _, m := range reqs[0].Messages {
		prompt.WriteString(m.Content + "\n")
	}
	for _, want := range []string{"How long does shipping to Canada take?", "answer to How long does shipping to Canada take?"} {
		if !strings.Contains(prompt.String(), want) {
			t.Errorf("the replayed message's prompt lacks %q:\n%s", want, prompt.String())
		}
	}
	d, err := st.Export(ctx, "console:owner")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 4 || d.Profile == nil || d.Profile.Messages != 2 {
		t.Errorf("export = %d messages, profile %+v", len(d.Messages), d.Profile)
	}
	if p, _ := st.Pending(ctx); len(p) != 0 {
		t.Errorf("%d messages still pending", len(p))
	}
	// Another start replays nothing.
	h.restartOrKeep(t, st)
	if llm := run(nil, nil); len(llm.Requests()) != 0 {
		t.Errorf("a clean restart asked the model again: %+v", llm.Requests())
	}
}

// flakyKeeper fails its first forget, as a crash mid-forget would.
type flakyKeeper struct {
	mu    sync.Mutex
	calls int
	fail  bool
}

func (k *flakyKeeper) ExportUser(context.Context, string) (any, error) { return nil, nil }

func (k *flakyKeeper) ForgetUser(_ context.Context, req bot.ForgetRequest) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	if k.fail {
		k.fail = false
		return 0, errors.New("keeper down")
	}
	return 1, nil
}

// testEngineForget: a forget interrupted after its journal record was
// written finishes when the engine next starts, with the journal in the
// store's KV.
func testEngineForget(t *testing.T, h *harness) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := h.newStore(t, Options{})
	kv(t, st.Store)
	SeedPrivacy(t, st.Store)
	engine := func(k bot.Keeper) *bot.Engine {
		t.Helper()
		e, err := bot.New(bot.Config{}, st.Store, &bottest.LLM{}, bot.WithKV(st.Store.(bot.KV)), bot.WithPrompts(prompts.Default()),
			bot.WithPlugin(bot.Plugin{Name: "flaky", Keeper: k}))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	k := &flakyKeeper{fail: true}
	e := engine(k)
	if _, _, err := e.Forget(ctx, forgetAll("tg:alice"), "cli"); !errors.Is(err, bot.ErrForgetStep) {
		t.Fatalf("interrupted forget = %v, want ErrForgetStep", err)
	}
	e.Close()
	if d, _ := st.Export(ctx, "tg:alice"); len(d.Messages) == 0 {
		t.Fatal("the store step ran though a keeper before it failed")
	}
	h.restartOrKeep(t, st)
	e = engine(k)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	d, err := st.Export(ctx, "tg:alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 0 || d.Profile != nil {
		t.Errorf("after the resumed forget the store still holds %+v", d)
	}
	if k.calls != 2 {
		t.Errorf("keeper called %d times, want 2 (failed, then resumed)", k.calls)
	}
	var left int
	st.Store.(bot.KV).Scan(ctx, "forget_jobs", "", "", func(string, []byte) error { left++; return nil })
	if left != 0 {
		t.Errorf("%d forget journal records left", left)
	}
	if d, _ := st.Export(ctx, "tg:bob"); len(d.Messages) != 3 {
		t.Errorf("bob's messages after alice's forget = %d, want 3", len(d.Messages))
	}
}
