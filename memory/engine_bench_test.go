package memory_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/prompts"
)

// BenchmarkEngineBolt is the engine's cost per answered message on the real
// bbolt store with an instant LLM: dedup and inbox, profile, both turns,
// done marker — every write durable. Messages spread over 256
// conversations so that the pool works in parallel and bbolt's Batch can
// coalesce commits. Followers write concurrently (32 producers), as they
// do on a platform; one producer would wait out one disk sync per message.
func BenchmarkEngineBolt(b *testing.B) {
	s, err := memory.Open(filepath.Join(b.TempDir(), "chorus.db"), memory.WithBatchDelay(benchBatchDelay))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	plat := bottest.NewPlatform("bench", bot.Limits{MaxLen: 4000})
	e, err := bot.New(bot.Config{QueueSize: 1024}, s, &bottest.LLM{Chunk: 64}, bot.WithKV(s), bot.WithPrompts(prompts.Default()))
	if err != nil {
		b.Fatal(err)
	}
	e.AddPlatform(plat)
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // × GOMAXPROCS producers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			c := fmt.Sprint(i % 256)
			m := bot.Message{Platform: "bench", Chat: bot.Chat{ID: c, Kind: bot.ChatDM}, ID: fmt.Sprint(i),
				Author: bot.User{ID: c, Name: "Ann"}, Text: "when do you ship to Berlin?"}
			if err := e.Handle(ctx, m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := e.WaitIdle(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// benchBatchDelay is memory's default; raise it to trade latency for throughput.
var benchBatchDelay = 2 * time.Millisecond
