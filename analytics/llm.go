package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// ErrBadLLMAnswer is returned by ClassifyLLM when the model's answer is not
// exactly the JSON asked for; callers fall back to the offline classifier.
var ErrBadLLMAnswer = errors.New("analytics: malformed llm sentiment answer")

// maxLLMConcurrent bounds batch calls in flight.
const maxLLMConcurrent = 4

// Prompts renders the prompt of a sentiment batch; package prompts
// implements it with the template Chorus ships.
type Prompts interface {
	// Sentiment assembles the prompt for items, a JSON array of
	// {"id", "text"}.
	Sentiment(items string) ([]bot.ChatMessage, error)
}

type llmItem struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
}

type llmResult struct {
	ID    int      `json:"id"`
	Label string   `json:"label"`
	Score *float64 `json:"score"`
}

// ClassifyLLM asks llm for the sentiment of texts in one call, with the
// prompt p renders, and parses the answer strictly: exactly one valid
// entry per text or ErrBadLLMAnswer.
func ClassifyLLM(ctx context.Context, llm bot.LLM, p Prompts, texts []string) ([]Sentiment, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	items := make([]llmItem, len(texts))
	for i, t := range texts {
		items[i] = llmItem{ID: i + 1, Text: bot.Excerpt(t, 1000)}
	}
	payload, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("analytics: llm sentiment: %w", err)
	}
	msgs, err := p.Sentiment(string(payload))
	if err != nil {
		return nil, fmt.Errorf("analytics: llm sentiment: %w", err)
	}
	req := bot.Request{Purpose: bot.PurposeSentiment, JSON: true, Temperature: 0, MaxTokens: 40*len(texts) + 50,
		Query: string(payload), Messages: msgs}
	resp, err := llm.Complete(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("analytics: llm sentiment: %w", err)
	}
	return parseLLMAnswer(resp.Text, texts)
}

func parseLLMAnswer(answer string, texts []string) ([]Sentiment, error) {
	s := strings.TrimSpace(answer)
	if strings.HasPrefix(s, "```") { // a fenced block and nothing else
		s = strings.TrimPrefix(strings.TrimPrefix(s, "```json"), "```")
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var out struct {
		Results []llmResult `json:"results"`
	}
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLLMAnswer, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrBadLLMAnswer)
	}
	if len(out.Results) != len(texts) {
		return nil, fmt.Errorf("%w: %d results for %d messages", ErrBadLLMAnswer, len(out.Results), len(texts))
	}
	res := make([]Sentiment, len(texts))
	seen := make([]bool, len(texts))
	for _, r := range out.Results {
		if r.ID < 1 || r.ID > len(texts) || seen[r.ID-1] {
			return nil, fmt.Errorf("%w: bad or repeated id %d", ErrBadLLMAnswer, r.ID)
		}
		l, ok := ParseLabel(r.Label)
		if !ok {
			return nil, fmt.Errorf("%w: label %q", ErrBadLLMAnswer, r.Label)
		}
		if r.Score == nil || math.IsNaN(*r.Score) || *r.Score < -1 || *r.Score > 1 {
			return nil, fmt.Errorf("%w: missing or out-of-range score for id %d", ErrBadLLMAnswer, r.ID)
		}
		seen[r.ID-1] = true
		res[r.ID-1] = Sentiment{Label: l, Score: *r.Score, Lang: Lang(texts[r.ID-1])}
	}
	return res, nil
}

// llmBatcher gathers messages from concurrent conversations into batches:
// a batch goes when it is full or LLMBatchWait after its first message.
type llmBatcher struct {
	llm bot.LLM
	p   Prompts
	cfg Config
	log *slog.Logger
	sem chan struct{}
	mu  sync.Mutex
	cur []*batchReq
	tmr *time.Timer
	gen int
}

type batchReq struct {
	text string
	done chan batchAns // buffered 1
}

type batchAns struct {
	s   Sentiment
	err error
}

func newLLMBatcher(llm bot.LLM, p Prompts, cfg Config, log *slog.Logger) *llmBatcher {
	return &llmBatcher{llm: llm, p: p, cfg: cfg, log: log, sem: make(chan struct{}, maxLLMConcurrent)}
}

func (b *llmBatcher) classify(ctx context.Context, text string) (Sentiment, error) {
	r := &batchReq{text: text, done: make(chan batchAns, 1)}
	b.mu.Lock()
	b.cur = append(b.cur, r)
	if len(b.cur) >= b.cfg.LLMBatch {
		batch := b.take()
		b.mu.Unlock()
		go b.run(batch)
	} else {
		if len(b.cur) == 1 {
			gen := b.gen
			b.tmr = time.AfterFunc(b.cfg.LLMBatchWait, func() { b.fire(gen) })
		}
		b.mu.Unlock()
	}
	select {
	case a := <-r.done:
		return a.s, a.err
	case <-ctx.Done():
		return Sentiment{}, ctx.Err()
	}
}

// take removes the current batch. Caller holds b.mu.
func (b *llmBatcher) take() []*batchReq {
	batch := b.cur
	b.cur = nil
	b.gen++
	if b.tmr != nil {
		b.tmr.Stop()
		b.tmr = nil
	}
	return batch
}

func (b *llmBatcher) fire(gen int) {
	b.mu.Lock()
	if gen != b.gen || len(b.cur) == 0 {
		b.mu.Unlock()
		return
	}
	batch := b.take()
	b.mu.Unlock()
	b.run(batch)
}

func (b *llmBatcher) run(batch []*batchReq) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("llm sentiment batch panicked", "panic", fmt.Sprint(r))
			for _, q := range batch {
				select { // done may already hold an answer
				case q.done <- batchAns{err: errors.New("analytics: llm batch panicked")}:
				default:
				}
			}
		}
	}()
	b.sem <- struct{}{}
	defer func() { <-b.sem }()
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.LLMTimeout)
	defer cancel()
	texts := make([]string, len(batch))
	for i, q := range batch {
		texts[i] = q.text
	}
	res, err := ClassifyLLM(ctx, b.llm, b.p, texts)
	for i, q := range batch {
		if err != nil {
			q.done <- batchAns{err: err}
			continue
		}
		q.done <- batchAns{s: res[i]}
	}
}
