package console

import (
	"strconv"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// message is line n of the run as a bot.Message: the console's only chat,
// a direct one, written by its owner.
func (a *Adapter) message(n int, line string) bot.Message {
	return bot.Message{
		Platform: Name,
		Chat:     bot.Chat{ID: ChatID, Kind: bot.ChatDM, Title: "console"},
		ID:       a.runID + "-" + strconv.Itoa(n),
		Author:   bot.User{ID: a.user, Name: a.user, Role: bot.RoleOwner, Lang: a.lang},
		Text:     line,
		Time:     time.Now(),
	}
}
