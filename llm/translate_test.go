package llm

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/bot"
)

func testPrompt(text, lang string) ([]bot.ChatMessage, error) {
	return []bot.ChatMessage{{Role: bot.RoleSystem, Content: "Translate into " + lang + "."}, {Role: bot.RoleUser, Content: text}}, nil
}

// TestTranslator runs translations through the real client against the
// OpenAI fake: the reply is tidied, a repeat comes from the cache, a
// failure is not cached, and the cache keeps its size.
func TestTranslator(t *testing.T) {
	ctx := context.Background()
	f := newFake(t,
		completion("Translation: “订阅可以暂停吗？”\n(note: informal)"),
		apiError(400, nil),
		completion("退款多久到账"),
		completion("配送要多久"),
	)
	c, _ := newTestClient(t, f, Config{MaxRetries: -1})
	tr := NewTranslator(c, testPrompt, WithTranslateCache(2))

	got, resp, err := tr.Translate(ctx, "Can I pause my subscription?", "zh")
	if err != nil || got != "订阅可以暂停吗？" {
		t.Fatalf("Translate = %q, %v; want the translation alone", got, err)
	}
	if resp.Model == "" || resp.Usage.Total() == 0 {
		t.Errorf("a model call reports no model or usage: %+v", resp)
	}
	var body struct {
		Messages  []struct{ Role, Content string }
		MaxTokens int `json:"max_tokens"`
	}
	if err := json.Unmarshal([]byte(f.body(0)), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Messages) != 2 || body.Messages[0].Content != "Translate into zh." || body.Messages[1].Content != "Can I pause my subscription?" || body.MaxTokens == 0 {
		t.Errorf("request = %s", f.body(0))
	}

	// The same question, cased and spaced differently: from the cache.
	got, resp, err = tr.Translate(ctx, "  can I pause   my subscription? ", "zh")
	if err != nil || got != "订阅可以暂停吗？" || resp.Model != "" || f.requests() != 1 {
		t.Errorf("repeat = %q, %+v, %v after %d requests; want the cached translation and no call", got, resp, err, f.requests())
	}

	// A failure is an error, and not remembered.
	if _, _, err := tr.Translate(ctx, "refund time?", "zh"); !errors.Is(err, bot.ErrLLMRejected) {
		t.Errorf("Translate on a 400 = %v, want ErrLLMRejected", err)
	}
	if got, _, err := tr.Translate(ctx, "refund time?", "zh"); err != nil || got != "退款多久到账" || f.requests() != 3 {
		t.Errorf("after a failure = %q, %v (%d requests)", got, err, f.requests())
	}

	// Two entries fit: a third evicts the least recently used.
	if _, _, err := tr.Translate(ctx, "how long is shipping?", "zh"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.Translate(ctx, "Can I pause my subscription?", "zh"); err != nil || f.requests() != 5 {
		t.Errorf("the oldest entry was kept past the cache size (%d requests, %v)", f.requests(), err)
	}
}

func TestTranslatorOfflineAndBadReplies(t *testing.T) {
	ctx := context.Background()
	if _, _, err := NewTranslator(NewOffline(), testPrompt).Translate(ctx, "hi there", "zh"); !errors.Is(err, bot.ErrLLMUnavailable) {
		t.Errorf("offline translation = %v, want ErrLLMUnavailable", err)
	}
	f := newFake(t, completion("  \n\n"))
	c, _ := newTestClient(t, f, Config{MaxRetries: -1})
	if _, _, err := NewTranslator(c, testPrompt).Translate(ctx, "hi there", "zh"); !errors.Is(err, ErrNoTranslation) {
		t.Errorf("empty reply = %v, want ErrNoTranslation", err)
	}
	bad := func(string, string) ([]bot.ChatMessage, error) { return nil, errors.New("template broke") }
	if _, _, err := NewTranslator(c, bad).Translate(ctx, "hi there", "zh"); err == nil || !strings.Contains(err.Error(), "template broke") {
		t.Errorf("prompt error = %v", err)
	}
	if got, resp, err := NewTranslator(c, testPrompt).Translate(ctx, "   ", "zh"); got != "" || resp.Model != "" || err != nil {
		t.Errorf("blank text = %q, %+v, %v; want nothing and no call", got, resp, err)
	}
}

func TestTidyTranslation(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"订阅可以暂停吗？", "订阅可以暂停吗？"},
		{"\"How long does a refund take?\"", "How long does a refund take?"},
		{"Chinese translation: 多久发货", "多久发货"},
		{"翻译：退款多久到账", "退款多久到账"},
		{"Note: this is 3 words", "Note: this is 3 words"},
		{"line one\nline two", "line one"},
		{strings.Repeat("很", 500), strings.Repeat("很", 3*2+40)},
	} {
		if got := tidyTranslation(tc.in, "ab"); got != tc.want {
			t.Errorf("tidyTranslation(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
