package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// sseModel is an OpenAI-compatible server that streams pieces as real
// chat.completion.chunk events, a little apart so that the reply is shown
// growing by edits.
func sseModel(t *testing.T, pieces []string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		event := func(v any) {
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "data: %s\n\n", b)
			rc.Flush()
		}
		chunk := func(delta map[string]string, finish any) map[string]any {
			return map[string]any{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
				"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}}}
		}
		for _, p := range pieces {
			event(chunk(map[string]string{"content": p}, nil))
			time.Sleep(15 * time.Millisecond)
		}
		event(chunk(map[string]string{}, "stop"))
		event(map[string]any{"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []any{},
			"usage": map[string]int{"prompt_tokens": 40, "completion_tokens": len(pieces), "total_tokens": 40 + len(pieces)}})
		fmt.Fprint(w, "data: [DONE]\n\n")
		rc.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoAnswerMarkerNeverShown: the binary's engine, knowledge base and
// manager tools with a model (streaming real SSE) that says the facts it
// was given don't cover the question, the marker split across pieces. A
// platform fake records every send and edit: the marker is in none of
// them, the reply reads as an "I don't know", and the question is a gap
// although retrieval found relevant passages.
func TestNoAnswerMarkerNeverShown(t *testing.T) {
	ctx := context.Background()
	model := sseModel(t, []string{"[[no", "-ans", "wer]", "] Sorry, ", "the facts I have ", "don't cover that. ", "Try ", "/help."})
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.LLM.BaseURL, cfg.LLM.Model = model.URL+"/v1", "m"
	cfg.KB.Dir = repoKnowledge(t)
	cfg.Engine.RatePerMinute = 0
	st, err := openStore(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := newApp(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), st)
	if err != nil {
		t.Fatal(err)
	}
	a.ingestKB(ctx)
	p := bottest.NewPlatform("fake", bot.Limits{MaxLen: 4000, Stream: true, EditEvery: time.Millisecond})
	a.engine.AddPlatform(p)
	if err := a.engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.engine.Close()
	since := time.Now().Add(-time.Minute)
	const q = "How do I pause my subscription?"
	if ps, _ := st.KB().Search(ctx, q, 3); len(ps) == 0 || ps[0].Relevance < bot.DefaultMinRelevance {
		t.Fatalf("the knowledge base should find the pausing passage relevant: %+v", ps)
	}
	err = a.engine.Handle(ctx, bot.Message{Platform: "fake", Chat: bot.Chat{ID: "c1", Kind: bot.ChatDM}, ID: "m1",
		Author: bot.User{ID: "u1", Name: "Ann"}, Text: q, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.engine.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}

	calls := p.Calls("send", "edit")
	if len(calls) < 2 {
		t.Errorf("%d sends and edits: the reply was not shown growing, so the test shows nothing about streaming", len(calls))
	}
	for _, c := range calls {
		if l := strings.ToLower(c.Out.Text); strings.Contains(l, "no-") || strings.Contains(l, "answer]") || strings.Contains(l, "[[") {
			t.Errorf("%s showed the marker: %q", c.Op, c.Out.Text)
		}
	}
	if got := p.Replies("c1"); len(got) != 1 || got[0] != "Sorry, the facts I have don't cover that. Try /help." {
		t.Errorf("final reply = %q", got)
	}
	gaps, err := a.plug.man.GapQuestions(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(gaps, q) {
		t.Errorf("gaps = %q, want the question the model could not answer", gaps)
	}
	win, err := st.Window(ctx, bot.ConversationKey("fake", "c1", ""), 4000)
	if err != nil || len(win) == 0 || !win[len(win)-1].Unanswered || strings.Contains(win[len(win)-1].Text, "[[") {
		t.Errorf("stored reply = %+v, %v; want it marked unanswered, without the marker", win, err)
	}
}
