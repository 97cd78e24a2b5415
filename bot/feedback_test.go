package bot_test

import (
	"context"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

func TestFeedbackData(t *testing.T) {
	for _, r := range bot.Ratings {
		d := bot.FeedbackData(r, "1234567890123456789")
		if len(d) > 64 {
			t.Errorf("%q is longer than Telegram's 64 bytes", d)
		}
		got, q, ok := bot.ParseFeedbackData(d)
		if !ok || got != r || q != "1234567890123456789" {
			t.Errorf("ParseFeedbackData(%q) = %q %q %v", d, got, q, ok)
		}
	}
	for _, bad := range []string{"", "fb:", "fb:up:", "fb:meh:1", "xx:up:1", "up:1"} {
		if _, _, ok := bot.ParseFeedbackData(bad); ok {
			t.Errorf("ParseFeedbackData(%q) accepted", bad)
		}
	}
}

// TestAnswerCarriesFeedbackAndVotesCountOnce: a real answer's final
// message asks for the buttons, naming the question; a follower's second
// vote on it is not counted, another follower's is, and a bot's is not.
func TestAnswerCarriesFeedbackAndVotesCountOnce(t *testing.T) {
	r := bottest.NewRig(t, bottest.RigConfig{})
	r.Send(t, bot.Message{ID: "q1", Chat: bot.Chat{ID: "c", Kind: bot.ChatDM}, Author: bot.User{ID: "7", Name: "Ann"}, Text: "what are your hours?"})
	var final *bottest.Sent
	for _, s := range r.Platform.Calls("send", "edit") {
		if s.Out.Final {
			final = &s
		}
	}
	if final == nil || final.Out.Feedback != "q1" {
		t.Fatalf("final message of the answer: %+v", final)
	}
	ctx := context.Background()
	chat := bot.Chat{ID: "c", Kind: bot.ChatDM}
	vote := func(user string, isBot bool, rt bot.Rating) bot.VoteResult {
		t.Helper()
		res, err := r.Engine.Vote(ctx, bot.Vote{Platform: "tg", Chat: chat, Voter: bot.User{ID: user, IsBot: isBot}, Question: "q1", Rating: rt})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if got := vote("7", false, bot.RatingDown); got != bot.VoteCounted {
		t.Errorf("first vote = %v", got)
	}
	if got := vote("7", false, bot.RatingUp); got != bot.VoteRepeated {
		t.Errorf("second vote of the same follower = %v", got)
	}
	if got := vote("8", false, bot.RatingUp); got != bot.VoteCounted {
		t.Errorf("another follower's vote = %v", got)
	}
	if got := vote("9", true, bot.RatingUp); got != bot.VoteIgnored {
		t.Errorf("a bot's vote = %v", got)
	}
	evs := r.Events.Of(bot.EventFeedback)
	if len(evs) != 2 || evs[0].Label != "down" || evs[0].User != "tg:7" || evs[0].Ref != "q1" || evs[0].Chat != "tg/c" || evs[1].Label != "up" {
		t.Errorf("feedback events %+v", evs)
	}
	if _, err := r.Engine.Vote(ctx, bot.Vote{Platform: "tg", Chat: chat, Voter: bot.User{ID: "7"}, Rating: bot.RatingUp}); err == nil {
		t.Error("a vote without a question was accepted")
	}
}

// TestApologyHasNoFeedback: a reply that is not an answer (the model
// failed) carries no buttons.
func TestApologyHasNoFeedback(t *testing.T) {
	r := bottest.NewRig(t, bottest.RigConfig{})
	r.LLM.Reply = func(bot.Request) (string, error) { return "", context.DeadlineExceeded }
	r.Send(t, bot.Message{ID: "q1", Chat: bot.Chat{ID: "c", Kind: bot.ChatDM}, Author: bot.User{ID: "7"}, Text: "hello?"})
	calls := r.Platform.Calls("send", "edit")
	if len(calls) == 0 {
		t.Fatal("no reply")
	}
	for _, s := range calls {
		if s.Out.Final && s.Out.Feedback != "" {
			t.Errorf("the apology carries feedback buttons: %+v", s.Out)
		}
	}
}

// TestPreviewSendsAndStoresNothing: the console's "what would the bot
// answer?" gets the model's checked answer; no platform sees it and no
// conversation keeps it.
func TestPreviewSendsAndStoresNothing(t *testing.T) {
	r := bottest.NewRig(t, bottest.RigConfig{})
	r.LLM.Reply = func(req bot.Request) (string, error) { return "We open at 8am.", nil }
	p, err := r.Engine.Preview(context.Background(), "when do you open?")
	if err != nil {
		t.Fatal(err)
	}
	if p.Answer != "We open at 8am." || p.Blocked || p.Lang != "en" {
		t.Errorf("preview %+v", p)
	}
	if n := len(r.Platform.Calls()); n != 0 {
		t.Errorf("the preview reached the platform: %d calls", n)
	}
	if turns := r.Store.TurnsOf("preview/preview"); len(turns) != 0 {
		t.Errorf("the preview was stored: %+v", turns)
	}
	if q := r.LLM.Requests()[0].Query; q != "when do you open?" {
		t.Errorf("query %q", q)
	}
}
