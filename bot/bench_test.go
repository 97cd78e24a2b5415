package bot_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/moderation/replycheck"
	"github.com/chorusbot/chorus/prompts"
)

// BenchmarkEngineInMemory measures the engine's own overhead per answered
// message with an instant LLM and the in-memory store (the memory package
// has the bbolt-backed figure).
func BenchmarkEngineInMemory(b *testing.B) {
	store := bottest.NewMemStore()
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	e, _ := bot.New(bot.Config{}, store, &bottest.LLM{Chunk: 64}, bot.WithPrompts(prompts.Default()))
	e.AddPlatform(plat)
	_ = e.Start(context.Background())
	defer e.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := bot.Message{Platform: "test", Chat: bot.Chat{ID: fmt.Sprint(i % 64), Kind: bot.ChatDM}, ID: fmt.Sprint(i),
			Author: bot.User{ID: fmt.Sprint(i % 64), Name: "Ann"}, Text: "when do you ship to Berlin?"}
		if err := e.Handle(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	_ = e.WaitIdle(ctx)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// timedLLM streams a reply a word at a time, gap apart, and notes when
// the first word left it.
type timedLLM struct {
	bottest.LLM
	reply string
	gap   time.Duration
	mu    sync.Mutex
	first map[string]time.Time // by query
}

func (l *timedLLM) Stream(ctx context.Context, req bot.Request) (bot.Stream, error) {
	return &timedStream{l: l, q: req.Query, words: strings.SplitAfter(l.reply, " ")}, nil
}

type timedStream struct {
	l     *timedLLM
	q     string
	words []string
	i     int
}

func (s *timedStream) Recv() (string, error) {
	if s.i >= len(s.words) {
		return "", io.EOF
	}
	time.Sleep(s.l.gap)
	if s.i == 0 {
		s.l.mu.Lock()
		s.l.first[s.q] = time.Now()
		s.l.mu.Unlock()
	}
	s.i++
	return s.words[s.i-1], nil
}

func (s *timedStream) Usage() bot.Usage { return bot.Usage{} }
func (s *timedStream) Close() error     { return nil }

// firstSend records when the first message of each reply was sent.
type firstSend struct {
	*bottest.Platform
	mu   sync.Mutex
	sent map[string]time.Time // by chat
}

func (p *firstSend) Send(ctx context.Context, out bot.Out) (string, error) {
	p.mu.Lock()
	if _, ok := p.sent[out.Chat.ID]; !ok {
		p.sent[out.Chat.ID] = time.Now()
	}
	p.mu.Unlock()
	return p.Platform.Send(ctx, out)
}

// BenchmarkFirstVisibleSentence measures what sentence gating adds before
// a streamed reply becomes visible: the time from the model's first word
// to the first send, for a model writing 40 words a second (25 ms a word)
// whose first sentence is eight words long, with the shipped output checks
// on every sentence. Without gating the first word would be sent as it
// arrived; with it the follower sees nothing until the first sentence is
// complete and checked. Reported as added-ms (mean over the run).
func BenchmarkFirstVisibleSentence(b *testing.B) {
	checks, err := replycheck.New(replycheck.Config{})
	if err != nil {
		b.Fatal(err)
	}
	llm := &timedLLM{gap: 25 * time.Millisecond, first: map[string]time.Time{},
		reply: "Thanks for asking, our beans ship within 48 hours. Every bag is roasted to order in Portland, Monday to Friday, and packed the day after. Tracking arrives by email."}
	plat := &firstSend{Platform: bottest.NewPlatform("test", bot.Limits{MaxLen: 4000, Stream: true, EditEvery: time.Second}), sent: map[string]time.Time{}}
	kb := knowledgeFunc(func(context.Context, string, int) ([]bot.Passage, error) {
		return []bot.Passage{{Source: "shipping.md", Text: "Every bag is roasted, rested for a day and packed within 48 hours of your order, Monday to Friday, in Portland.", Relevance: 1}}, nil
	})
	e, _ := bot.New(bot.Config{}, bottest.NewMemStore(), llm, bot.WithPlugin(bot.Plugin{Name: "checks", Checker: checks}), bot.WithKnowledge(kb), bot.WithPrompts(prompts.Default()))
	e.AddPlatform(plat)
	_ = e.Start(context.Background())
	defer e.Close()
	ctx := context.Background()
	var added time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := fmt.Sprint("when do you ship? ", i)
		chat := fmt.Sprint("c", i)
		m := bot.Message{Platform: "test", Chat: bot.Chat{ID: chat, Kind: bot.ChatDM}, ID: fmt.Sprint(i),
			Author: bot.User{ID: chat, Name: "Ann"}, Text: q}
		if err := e.Handle(ctx, m); err != nil {
			b.Fatal(err)
		}
		if err := e.WaitIdle(ctx); err != nil {
			b.Fatal(err)
		}
		llm.mu.Lock()
		plat.mu.Lock()
		added += plat.sent[chat].Sub(llm.first[q])
		plat.mu.Unlock()
		llm.mu.Unlock()
	}
	b.ReportMetric(float64(added.Microseconds())/1000/float64(b.N), "added-ms")
}
