package discord

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/chorusbot/chorus/bot"
)

// componentTimeout bounds handling a button press: Discord wants the
// acknowledgement within three seconds.
const componentTimeout = 2500 * time.Millisecond

// onComponent takes a press of a message component. A feedback button's
// vote goes to the engine (bot.Voter); every press is acknowledged with a
// deferred update (type 6), which changes nothing anyone sees.
func (a *Adapter) onComponent(s *discordgo.Session, ix *discordgo.Interaction) {
	ctx, cancel := context.WithTimeout(context.Background(), componentTimeout)
	defer cancel()
	data := ix.MessageComponentData()
	if rating, question, ok := bot.ParseFeedbackData(data.CustomID); ok {
		if voter, ok := a.h.(bot.Voter); ok {
			u := ix.User
			if ix.Member != nil && ix.Member.User != nil {
				u = ix.Member.User
			}
			if u != nil {
				v := bot.Vote{Platform: PlatformName, Chat: a.chat(s, ix.GuildID, ix.ChannelID), Question: question, Rating: rating,
					Voter: bot.User{ID: u.ID, Name: u.Username, IsBot: u.Bot}}
				if _, err := voter.Vote(ctx, v); err != nil {
					a.log.Warn("vote failed", "err", err)
				}
			}
		}
	}
	err := s.InteractionRespond(ix, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate},
		discordgo.WithContext(ctx))
	if err != nil {
		a.log.Warn("acknowledging a button press failed", "err", mapErr("acknowledge component", err))
	}
}
