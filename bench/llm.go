package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// FakeLLM is a bot.LLM that answers after a set time to first token and at a
// set pace, failing a set share of calls. It never reads the prompt beyond
// the query, so its own cost is negligible next to the engine's.
type FakeLLM struct {
	// TTFT is the wait before the first token.
	TTFT time.Duration
	// TPS is tokens per second after the first; 0 streams every token at
	// once.
	TPS float64
	// Tokens is the length of a reply in tokens (default 40).
	Tokens int
	// ErrorRate is the share of calls, in [0, 1], that fail with
	// bot.ErrLLMUnavailable before the first token.
	ErrorRate float64
	// OnDone, when set, is called once per chat stream with the query and
	// the time the fake itself held the caller (its sleeps), which is what
	// the engine's overhead is measured against.
	OnDone func(query string, own time.Duration)

	mu     sync.Mutex
	rng    *rand.Rand
	calls  atomic.Int64
	failed atomic.Int64
}

var _ bot.LLM = (*FakeLLM)(nil)

// Calls is the number of Stream and Complete calls made.
func (f *FakeLLM) Calls() int64 { return f.calls.Load() }

// Failed is the number of calls failed on purpose.
func (f *FakeLLM) Failed() int64 { return f.failed.Load() }

func (f *FakeLLM) fail() bool {
	if f.ErrorRate <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng == nil {
		f.rng = rand.New(rand.NewPCG(1, 2))
	}
	return f.rng.Float64() < f.ErrorRate
}

func (f *FakeLLM) tokens() int {
	if f.Tokens <= 0 {
		return 40
	}
	return f.Tokens
}

// replyWords are the tokens of a reply: plain sentences with no specific
// (no price, no duration), so that the output checks pass them as they
// would a grounded answer, a sentence of about twelve tokens at a time.
var replyWords = strings.Fields("Thanks for asking. Our beans ship soon after roasting, fresh and whole. The grinder works with every brew method you like.")

// Complete implements bot.LLM (summaries): it waits as long as a stream
// of the same length would, then answers at once.
func (f *FakeLLM) Complete(ctx context.Context, req bot.Request) (bot.Response, error) {
	f.calls.Add(1)
	if f.fail() {
		f.failed.Add(1)
		return bot.Response{}, fmt.Errorf("bench: fake llm: %w", bot.ErrLLMUnavailable)
	}
	d := f.TTFT
	if f.TPS > 0 {
		d += time.Duration(float64(f.tokens()) / f.TPS * float64(time.Second))
	}
	if err := bot.Sleep(ctx, d); err != nil {
		return bot.Response{}, fmt.Errorf("bench: fake llm: %w", bot.ErrLLMTimeout)
	}
	return bot.Response{Text: "They asked about shipping and brewing.", Model: "bench", Usage: bot.Usage{PromptTokens: 100, CompletionTokens: 8}}, nil
}

// Stream implements bot.LLM.
func (f *FakeLLM) Stream(ctx context.Context, req bot.Request) (bot.Stream, error) {
	f.calls.Add(1)
	if f.fail() {
		f.failed.Add(1)
		if f.OnDone != nil {
			f.OnDone(req.Query, 0)
		}
		return nil, fmt.Errorf("bench: fake llm: %w", bot.ErrLLMUnavailable)
	}
	return &fakeStream{f: f, ctx: ctx, query: req.Query, start: time.Now(), n: f.tokens()}, nil
}

type fakeStream struct {
	f     *FakeLLM
	ctx   context.Context
	query string
	start time.Time
	n     int
	sent  int
	own   time.Duration
	done  bool
}

// due is when token i (0-based) may be sent.
func (s *fakeStream) due(i int) time.Time {
	t := s.start.Add(s.f.TTFT)
	if s.f.TPS > 0 && i > 0 {
		t = t.Add(time.Duration(float64(i) / s.f.TPS * float64(time.Second)))
	}
	return t
}

func (s *fakeStream) Recv() (string, error) {
	if s.sent >= s.n {
		s.finish()
		return "", io.EOF
	}
	in := time.Now()
	if d := time.Until(s.due(s.sent)); d > 0 {
		if err := bot.Sleep(s.ctx, d); err != nil {
			s.own += time.Since(in)
			s.finish()
			return "", fmt.Errorf("bench: fake llm: %w", bot.ErrLLMTimeout)
		}
	}
	s.own += time.Since(in)
	// Send every token that is due, as a real server's chunk would.
	var b strings.Builder
	now := time.Now()
	for s.sent < s.n && !s.due(s.sent).After(now) {
		b.WriteString(replyWords[s.sent%len(replyWords)])
		b.WriteByte(' ')
		s.sent++
	}
	return b.String(), nil
}

func (s *fakeStream) finish() {
	if s.done {
		return
	}
	s.done = true
	if s.f.OnDone != nil {
		s.f.OnDone(s.query, s.own)
	}
}

func (s *fakeStream) Usage() bot.Usage {
	return bot.Usage{PromptTokens: 200, CompletionTokens: s.sent}
}

func (s *fakeStream) Close() error { s.finish(); return nil }

func (s *fakeStream) Model() string { return "bench" }
