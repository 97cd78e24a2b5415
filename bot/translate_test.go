package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chorusbot/chorus/bot"
)

// kbByLang finds a passage only for Chinese questions about gift wrap.
type kbByLang struct{}

func (kbByLang) Search(_ context.Context, q string, _ int) ([]bot.Passage, error) {
	if strings.Contains(q, "礼品包装") {
		return []bot.Passage{{Source: "faq-zh.md", Text: "所有订单都可以免费礼品包装。", Relevance: 0.9}}, nil
	}
	return []bot.Passage{{Source: "shipping.md", Text: "We ship from Portland.", Relevance: 0.1}}, nil
}

// translator answers from a table and counts calls; a question it has
// seen comes from its "cache" with no model call.
type translator struct {
	mu    sync.Mutex
	calls []string
	seen  map[string]bool
	fail  error
}

func (t *translator) Translate(_ context.Context, text, lang string) (string, bot.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, lang+":"+text)
	if t.fail != nil {
		return "", bot.Response{}, t.fail
	}
	resp := bot.Response{Model: "m", Usage: bot.Usage{PromptTokens: 30, CompletionTokens: 8}}
	if t.seen[text] {
		resp = bot.Response{}
	}
	t.seen[text] = true
	return "你们提供礼品包装吗？", resp, nil
}

// The engine searches again with the translated question when its own
// language found nothing relevant, gives the model the passage found, and
// counts the translation as a PurposeTranslate call, except when it came
// from the translator's cache; a failing translator leaves the answer an
// "I don't know", not an error.
func TestTranslatedSearch(t *testing.T) {
	tr := &translator{seen: map[string]bool{}}
	var mu sync.Mutex
	var calls []bot.Event
	r := newRig(t, bot.Config{}, bot.WithKnowledge(kbByLang{}), bot.WithTranslator(tr),
		bot.WithObserver(bot.ObserverFunc(func(e bot.Event) {
			if e.Kind == bot.EventLLMCall && e.Purpose == bot.PurposeTranslate {
				mu.Lock()
				calls = append(calls, e)
				mu.Unlock()
			}
		})))
	r.e.Handle(context.Background(), dm("c1", "1", "Do you offer gift wrapping?"))
	r.e.Handle(context.Background(), dm("c1", "2", "Do you offer gift wrapping?"))
	r.idle(t)
	reqs := r.llm.Requests()
	if len(reqs) != 2 || len(reqs[0].Passages) != 1 || reqs[0].Passages[0].Source != "faq-zh.md" {
		t.Fatalf("requests = %+v, want the Chinese passage found through the translation", reqs)
	}
	if len(tr.calls) != 2 || tr.calls[0] != "zh:Do you offer gift wrapping?" {
		t.Errorf("translator calls = %q", tr.calls)
	}
	mu.Lock()
	if len(calls) != 1 || calls[0].Model != "m" || calls[0].Outcome != bot.OutcomeOK || calls[0].Usage.Total() != 38 {
		t.Errorf("translate LLM events = %+v, want one for the model call and none for the cached one", calls)
	}
	mu.Unlock()

	tr.mu.Lock()
	tr.fail = fmt.Errorf("llm: translate: %w", bot.ErrLLMUnavailable)
	tr.mu.Unlock()
	r.e.Handle(context.Background(), dm("c2", "3", "Is there parking?"))
	r.idle(t)
	reqs = r.llm.Requests()
	if last := reqs[len(reqs)-1]; len(last.Passages) != 0 {
		t.Errorf("a failed translation still brought passages: %+v", last.Passages)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[1].Outcome == bot.OutcomeOK {
		t.Errorf("a failed translation is not counted as failed: %+v", calls)
	}
}

// versionedKB finds only the contact passage, counts the searches for it,
// and says its version.
type versionedKB struct {
	mu       sync.Mutex
	version  uint64
	text     string
	searches int
}

func (k *versionedKB) Search(_ context.Context, q string, _ int) ([]bot.Passage, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if strings.Contains(q, "contact") {
		k.searches++
		return []bot.Passage{{Source: "about.md", Text: k.text, Relevance: 0.5}}, nil
	}
	return []bot.Passage{{Source: "shipping.md", Text: "We ship from Portland.", Relevance: 0.1}}, nil
}

func (k *versionedKB) Version() uint64 { k.mu.Lock(); defer k.mu.Unlock(); return k.version }

func (k *versionedKB) change(text string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.version++
	k.text = text
}

// The passage saying how to reach a person is searched once per version
// of a knowledge base that has versions, and every unanswered question
// gets the current one: after a change, the new text.
func TestContactPassageKeptPerKnowledgeVersion(t *testing.T) {
	kb := &versionedKB{text: "Write to help@lumen.example."}
	r := newRig(t, bot.Config{}, bot.WithKnowledge(kb))
	r.e.Handle(context.Background(), dm("c1", "1", "Is there parking?"))
	r.e.Handle(context.Background(), dm("c2", "2", "Do you sell tea?"))
	r.idle(t)
	kb.change("Call us on weekdays.")
	r.e.Handle(context.Background(), dm("c3", "3", "Do you sell mugs?"))
	r.idle(t)
	reqs := r.llm.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, want := range []string{"Write to help@lumen.example.", "Write to help@lumen.example.", "Call us on weekdays."} {
		if len(reqs[i].Contact) != 1 || reqs[i].Contact[0].Text != want {
			t.Errorf("request %d contact = %+v, want %q", i, reqs[i].Contact, want)
		}
	}
	if kb.searches != 2 {
		t.Errorf("%d searches for the contact passage, want 2 (one per version)", kb.searches)
	}
}
