package moderation_test

import (
	"context"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/prompts"
)

// TestShippedClassifiersLeaveCustomersAlone: with the shipped models on and
// no LLM, the ordinary questions and complaints of a brand's community are
// not acted on, while plain spam with a link and explicit abuse are.
func TestShippedClassifiersLeaveCustomersAlone(t *testing.T) {
	m, err := moderation.New(moderation.Config{Enabled: true, Classifiers: true}, bottest.NewMemKV(), bottest.NewMemStore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	innocent := []string{
		"hello, when does my order arrive?",
		"can I pause my subscription",
		"how long does shipping take to Berlin?",
		"my bag arrived torn, can I get a refund?",
		"the app keeps crashing when I log in",
		"this coffee tastes like garbage, worst company ever",
		"is the decaf any good?",
		"I want to subscribe for the monthly box, free shipping?",
	}
	for _, s := range innocent {
		if fs := m.Check(context.Background(), s, nil); len(fs) > 0 {
			t.Errorf("%q flagged: %+v", s, fs)
		}
	}
	abusive := []string{
		"Subscribe to my channel for free iPhone giveaway!!! http://bit.ly/x",
		"call now to win cash prize text WIN to 80086 or 0906 170 1461",
	}
	for _, s := range abusive {
		if fs := m.Check(context.Background(), s, nil); len(fs) == 0 {
			t.Errorf("%q not flagged", s)
		}
	}
}

// TestSpamWithoutContactIsNotAskedAbout: the LLM second opinion is not
// spent on a customer's question that only looks like spam to the model
// (nothing in it reaches a spammer); a message with a link that the model
// finds borderline is still asked about.
func TestSpamWithoutContactIsNotAskedAbout(t *testing.T) {
	m, err := moderation.New(moderation.Config{Enabled: true, Classifiers: true, LLMSecondOpinion: true}, bottest.NewMemKV(), bottest.NewMemStore(), nil, moderation.WithPrompts(prompts.Default()))
	if err != nil {
		t.Fatal(err)
	}
	llm := &bottest.LLM{Reply: func(bot.Request) (string, error) {
		return `{"category": "ok", "severity": 0, "reason": "fine"}`, nil
	}}
	for _, s := range []string{"can I pause my subscription", "I want to subscribe for the monthly box, free shipping?"} {
		if fs := m.Check(context.Background(), s, llm); len(fs) > 0 {
			t.Errorf("%q flagged: %+v", s, fs)
		}
	}
	if n := len(llm.Requests()); n != 0 {
		t.Errorf("the LLM was asked %d times about customers' questions", n)
	}
}
