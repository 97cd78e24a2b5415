package telegram

import (
	"strconv"
	"testing"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// TestFeedbackButtons: an answer's final message carries 👍/👎 as an
// inline keyboard; a press is a callback query the adapter answers
// (answerCallbackQuery, a toast, nothing in the chat), counted once per
// follower.
func TestFeedbackButtons(t *testing.T) {
	h := start(t, &bottest.LLM{Reply: fixed("We open at 8am."), Chunk: 4}, nil)
	chat := telegramtest.PrivateChat(userID)
	ann := telegramtest.User(userID, "Ann", "en")
	q := h.push(chat, ann, "when do you open?", nil)
	msgs := h.waitMessages(userID, 1, func(s []telegramtest.Sent) bool { return len(s[0].Buttons) > 0 })
	h.idle()
	m := msgs[0]
	if len(m.Buttons) != 1 || len(m.Buttons[0]) != 2 || m.Buttons[0][0].Text != "👍" || m.Buttons[0][1].Text != "👎" {
		t.Fatalf("buttons %+v", m.Buttons)
	}
	down := m.Buttons[0][1].CallbackData
	if r, question, ok := bot.ParseFeedbackData(down); !ok || r != bot.RatingDown || question != itoa(q) {
		t.Fatalf("callback data %q does not name question %d", down, q)
	}
	sentBefore := h.fake.SentCount()

	id, err := h.fake.Press(chat, m.MessageID, ann, down)
	if err != nil {
		t.Fatal(err)
	}
	if !h.fake.WaitFor(waitLong, func() bool { a, _ := h.fake.Answer(id); return a }) {
		t.Fatal("the callback query was never answered")
	}
	if _, text := h.fake.Answer(id); text != "Thanks for the feedback!" {
		t.Errorf("toast %q", text)
	}
	// The same follower again: answered, not counted.
	id2, _ := h.fake.Press(chat, m.MessageID, ann, m.Buttons[0][0].CallbackData)
	h.fake.WaitFor(waitLong, func() bool { a, _ := h.fake.Answer(id2); return a })
	if _, text := h.fake.Answer(id2); text != "You already rated this answer." {
		t.Errorf("second toast %q", text)
	}
	// A button that is not ours: answered quietly, no vote.
	if _, err := h.fake.Press(chat, m.MessageID, ann, "other:thing"); err == nil {
		t.Error("the fake pressed a button that does not exist")
	}
	h.events.mu.Lock()
	votes := append([]bot.Event(nil), h.events.votes...)
	h.events.mu.Unlock()
	if len(votes) != 1 || votes[0].Label != "down" || votes[0].User != "telegram:42" || votes[0].Chat != "telegram/42" || votes[0].Ref != itoa(q) {
		t.Errorf("votes %+v", votes)
	}
	if h.fake.SentCount() != sentBefore {
		t.Error("a vote made noise in the chat")
	}
}

func itoa(n int) string {
	return strconv.Itoa(n)
}
