package discord_test

import (
	"sync"
	"testing"

	"github.com/chorusbot/chorus/adapters/discord/discordtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

type voteLog struct {
	mu sync.Mutex
	vs []bot.Event
}

func (l *voteLog) Observe(e bot.Event) {
	if e.Kind == bot.EventFeedback {
		l.mu.Lock()
		l.vs = append(l.vs, e)
		l.mu.Unlock()
	}
}

func (l *voteLog) votes() []bot.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bot.Event(nil), l.vs...)
}

// TestFeedbackButtons: an answer's final message carries 👍/👎 buttons
// (message components); a press is an interaction of type 3 the adapter
// acknowledges with a deferred update (type 6) and counts once per
// follower.
func TestFeedbackButtons(t *testing.T) {
	votes := &voteLog{}
	h := start(t, setup{llm: &bottest.LLM{Reply: func(bot.Request) (string, error) { return "We open at 8am.", nil }},
		engineOpts: []bot.Option{bot.WithObserver(votes)}})
	q := h.say(discordtest.UserMessage{ChannelID: chanA, GuildID: guild, AuthorID: "u1",
		Content: "<@" + h.fake.BotID() + "> when do you open?", Mentions: []string{h.fake.BotID()}})
	got := h.replies(chanA, 1, func(ms []discordtest.Message) bool { return len(ms[0].Buttons) == 2 })
	h.idle()
	bs := got[0].Buttons
	if bs[0].Emoji != "👍" || bs[1].Emoji != "👎" {
		t.Fatalf("buttons %+v", bs)
	}
	if r, question, ok := bot.ParseFeedbackData(bs[1].CustomID); !ok || r != bot.RatingDown || question != q {
		t.Fatalf("custom_id %q does not name question %s", bs[1].CustomID, q)
	}
	press := func(user, customID string) string {
		t.Helper()
		id, err := h.fake.PressButton(discordtest.Press{ChannelID: chanA, GuildID: guild, UserID: user, Name: "user" + user,
			MessageID: got[0].ID, CustomID: customID})
		if err != nil {
			t.Fatal(err)
		}
		h.wait("the press acknowledged", func() bool { return h.fake.Callbacks(id) != 0 })
		if typ := h.fake.Callbacks(id); typ != 6 {
			t.Errorf("interaction response type %d, want 6 (deferred update)", typ)
		}
		return id
	}
	press("u1", bs[1].CustomID)
	press("u1", bs[0].CustomID) // the same follower again: not counted
	press("u2", bs[0].CustomID)
	vs := votes.votes()
	if len(vs) != 2 || vs[0].Label != "down" || vs[0].User != "discord:u1" || vs[0].Chat != "discord/"+chanA || vs[0].Ref != q ||
		vs[1].Label != "up" || vs[1].User != "discord:u2" {
		t.Errorf("votes %+v", vs)
	}
	if n := len(h.fake.BotMessages(chanA)); n != 1 {
		t.Errorf("the votes made noise: %d bot messages", n)
	}
	if _, err := h.fake.PressButton(discordtest.Press{ChannelID: chanA, GuildID: guild, UserID: "u1", MessageID: got[0].ID, CustomID: "nope"}); err == nil {
		t.Error("the fake pressed a button that does not exist")
	}
}
