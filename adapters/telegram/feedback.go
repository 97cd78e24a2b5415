package telegram

import (
	"context"
	"strconv"
	"strings"

	"github.com/chorusbot/chorus/bot"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// The toasts a press of a feedback button is answered with: a small
// notice on the presser's screen, nothing in the chat.
var voteToasts = map[string][2]string{
	"en": {"Thanks for the feedback!", "You already rated this answer."},
	"zh": {"感谢你的反馈！", "你已经评价过这个回答了。"},
}

// onCallback takes a press of an inline button. A feedback button's vote
// goes to the engine (bot.Voter); every press is answered with
// answerCallbackQuery, so the client stops its spinner.
func (a *Adapter) onCallback(ctx context.Context, cq *models.CallbackQuery) {
	text := ""
	rating, question, ok := bot.ParseFeedbackData(cq.Data)
	voter, canVote := a.h.(bot.Voter)
	if msg := cq.Message.Message; ok && canVote && msg != nil {
		res, err := voter.Vote(ctx, bot.Vote{Platform: PlatformName, Chat: chatOf(msg), Question: question, Rating: rating,
			Voter: bot.User{ID: strconv.FormatInt(cq.From.ID, 10), Name: displayName(&cq.From), IsBot: cq.From.IsBot}})
		if err != nil {
			a.log.Warn("vote failed", "err", err)
		}
		t := voteToasts["en"]
		if strings.HasPrefix(strings.ToLower(cq.From.LanguageCode), "zh") {
			t = voteToasts["zh"]
		}
		switch res {
		case bot.VoteCounted:
			text = t[0]
		case bot.VoteRepeated:
			text = t[1]
		}
	}
	err := a.do(ctx, "answerCallbackQuery", sendAttempts, func(ctx context.Context) error {
		_, err := a.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: cq.ID, Text: text})
		return err
	})
	if err != nil && ctx.Err() == nil {
		a.log.Warn("answerCallbackQuery failed", "err", err)
	}
}
