package telegram

import (
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot/bottest"
)

// BenchmarkUpdates measures updates per second through the real client,
// the adapter and the engine, against the fake Bot API with an instant
// LLM. Each update is a DM in one of 64 chats and gets one answer
// (sendChatAction, sendMessage, a final editMessageText).
func BenchmarkUpdates(b *testing.B) {
	h := start(b, &bottest.LLM{Reply: fixed("Thanks, we open at 8."), Chunk: 1000}, nil)
	const chats = 64
	b.ResetTimer()
	startAt := time.Now()
	for i := range b.N {
		id := int64(1000 + i%chats)
		h.push(telegramtest.PrivateChat(id), telegramtest.User(id, "Fan", "en"), "when do you open?", nil)
	}
	if !h.fake.WaitFor(5*time.Minute, func() bool { return h.fake.SentCount() >= b.N }) {
		b.Fatalf("only %d of %d answered", h.fake.SentCount(), b.N)
	}
	h.idle()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(startAt).Seconds(), "updates/s")
}
