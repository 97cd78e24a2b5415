package discord_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/discord/discordtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// BenchmarkMessages measures messages per second through the fake gateway,
// the adapter, the engine (instant LLM) and back through the REST API.
func BenchmarkMessages(b *testing.B) {
	var replies atomic.Int64
	count := bot.ObserverFunc(func(e bot.Event) {
		if e.Kind == bot.EventReplySent {
			replies.Add(1)
		}
	})
	h := start(b, setup{llm: &bottest.LLM{Chunk: 1 << 12}, engineOpts: []bot.Option{bot.WithObserver(count)}})
	const channels = 64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.fake.MessageCreate(discordtest.UserMessage{ChannelID: "bench-" + strconv.Itoa(i%channels),
			AuthorID: "u" + strconv.Itoa(i%channels), Content: "question " + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for replies.Load() < int64(b.N) {
		if ctx.Err() != nil {
			b.Fatalf("only %d of %d replies", replies.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
