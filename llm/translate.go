package llm

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
)

// Translator defaults.
const (
	// DefaultTranslateCache is how many translations a Translator keeps.
	DefaultTranslateCache = 2048
	// DefaultTranslateTimeout bounds one translation call: it stands
	// between a follower and their answer.
	DefaultTranslateTimeout = 10 * time.Second
	// maxTranslateRunes bounds the text sent for translation; a question
	// is short, and a paste need not be translated whole to be searched.
	maxTranslateRunes = 500
)

// TranslatePrompt assembles the prompt that translates text into lang
// ("en", "zh"); cmd/chorus renders prompts/translate.tmpl.
type TranslatePrompt func(text, lang string) ([]bot.ChatMessage, error)

// TranslatorOption customises a Translator.
type TranslatorOption func(*Translator)

// WithTranslateCache sets how many translations are kept (default
// DefaultTranslateCache).
func WithTranslateCache(n int) TranslatorOption {
	return func(t *Translator) {
		if n > 0 {
			t.size = n
		}
	}
}

// WithTranslateTimeout bounds one call (default DefaultTranslateTimeout).
func WithTranslateTimeout(d time.Duration) TranslatorOption {
	return func(t *Translator) {
		if d > 0 {
			t.timeout = d
		}
	}
}

// Translator implements bot.Translator with a model: a short completion
// (bot.PurposeTranslate) on the prompt TranslatePrompt builds, the reply
// tidied to one line. Translations are kept in a least-recently-used
// cache keyed by language and text (case and spacing ignored), so a
// question asked again costs nothing; failures are not kept. It is safe
// for concurrent use.
type Translator struct {
	model   bot.LLM
	prompt  TranslatePrompt
	size    int
	timeout time.Duration

	mu    sync.Mutex
	order *list.List // of *translation, most recent first
	byKey map[string]*list.Element
}

type translation struct{ key, text string }

var _ bot.Translator = (*Translator)(nil)

// ErrNoTranslation is returned (wrapped) when the model's reply holds no
// translation.
var ErrNoTranslation = errors.New("llm: no translation in the reply")

// NewTranslator returns a Translator that asks model with prompt.
func NewTranslator(model bot.LLM, prompt TranslatePrompt, opts ...TranslatorOption) *Translator {
	t := &Translator{model: model, prompt: prompt, size: DefaultTranslateCache, timeout: DefaultTranslateTimeout,
		order: list.New(), byKey: map[string]*list.Element{}}
	for _, o := range opts {
		o(t)
	}
	return t
}

func translateKey(text, lang string) string {
	return lang + "\x00" + strings.ToLower(strings.Join(strings.Fields(text), " "))
}

// Translate implements bot.Translator.
func (t *Translator) Translate(ctx context.Context, text, lang string) (string, bot.Response, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", bot.Response{}, nil
	}
	if utf8.RuneCountInString(text) > maxTranslateRunes {
		text = string([]rune(text)[:maxTranslateRunes])
	}
	key := translateKey(text, lang)
	t.mu.Lock()
	if el, ok := t.byKey[key]; ok {
		t.order.MoveToFront(el)
		out := el.Value.(*translation).text
		t.mu.Unlock()
		return out, bot.Response{}, nil
	}
	t.mu.Unlock()

	msgs, err := t.prompt(text, lang)
	if err != nil {
		return "", bot.Response{}, fmt.Errorf("llm: translate: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	resp, err := t.model.Complete(cctx, bot.Request{Purpose: bot.PurposeTranslate, Messages: msgs, Query: text, Lang: lang,
		MaxTokens: 60 + 3*utf8.RuneCountInString(text)})
	if err != nil {
		return "", resp, fmt.Errorf("llm: translate: %w", err)
	}
	if resp.Offline {
		return "", bot.Response{}, fmt.Errorf("llm: translate: %w", bot.ErrLLMUnavailable)
	}
	out := tidyTranslation(resp.Text, text)
	if out == "" {
		return "", resp, fmt.Errorf("llm: translate: %w", ErrNoTranslation)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byKey[key]; !ok {
		t.byKey[key] = t.order.PushFront(&translation{key: key, text: out})
		for t.order.Len() > t.size {
			old := t.order.Remove(t.order.Back()).(*translation)
			delete(t.byKey, old.key)
		}
	}
	return out, resp, nil
}

// tidyTranslation takes the first line of a model's reply, without a
// "Translation:" label or quotes around it, and no longer than a
// translation of src can reasonably be.
func tidyTranslation(reply, src string) string {
	var line string
	for _, l := range strings.Split(reply, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			line = l
			break
		}
	}
	if i := strings.IndexAny(line, ":："); i >= 0 && i <= 24 {
		if label := strings.ToLower(line[:i]); strings.Contains(label, "translat") || strings.Contains(label, "翻译") {
			_, size := utf8.DecodeRuneInString(line[i:])
			line = strings.TrimSpace(line[i+size:])
		}
	}
	line = strings.Trim(line, "\"'“”‘’「」『』` ")
	if limit := 3*utf8.RuneCountInString(src) + 40; utf8.RuneCountInString(line) > limit {
		line = string([]rune(line)[:limit])
	}
	return line
}
