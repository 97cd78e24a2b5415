package bot_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// BenchmarkEngineInMemory measures the engine's own overhead per answered
// message with an instant LLM and the in-memory store (the memory package
// has the bbolt-backed figure).
func BenchmarkEngineInMemory(b *testing.B) {
	store := bottest.NewMemStore()
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	e, _ := bot.New(bot.Config{}, store, &bottest.LLM{Chunk: 64})
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
