package telegramtest

import (
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// PrivateChat is a private chat with user id.
func PrivateChat(id int64) models.Chat {
	return models.Chat{ID: id, Type: models.ChatTypePrivate, FirstName: "User"}
}

// GroupChat is a supergroup with the given id; forum marks it as having
// topics.
func GroupChat(id int64, forum bool) models.Chat {
	return models.Chat{ID: id, Type: models.ChatTypeSupergroup, Title: "Group", IsForum: forum}
}

// User is a human user.
func User(id int64, name, lang string) models.User {
	return models.User{ID: id, FirstName: name, Username: strings.ToLower(name), LanguageCode: lang}
}

// Text builds an incoming text message with the entities Telegram would
// attach: bot_command for a leading /word and mention for @words. Offsets
// are in UTF-16 code units as on the wire.
func Text(chat models.Chat, from models.User, messageID int, text string) *models.Message {
	m := &models.Message{ID: messageID, From: &from, Chat: chat, Date: int(time.Now().Unix()), Text: text}
	m.Entities = Entities(text)
	return m
}

// Entities finds bot_command and mention entities in text.
func Entities(text string) []models.MessageEntity {
	var out []models.MessageEntity
	off := 0 // UTF-16 offset of the current word
	for i, word := range strings.SplitAfter(text, " ") {
		w := strings.TrimSpace(word)
		n := len(utf16.Encode([]rune(w)))
		switch {
		case i == 0 && strings.HasPrefix(w, "/") && len(w) > 1:
			out = append(out, models.MessageEntity{Type: models.MessageEntityTypeBotCommand, Offset: off, Length: n})
		case strings.HasPrefix(w, "@") && len(w) > 1:
			out = append(out, models.MessageEntity{Type: models.MessageEntityTypeMention, Offset: off, Length: n})
		}
		off += len(utf16.Encode([]rune(word)))
	}
	return out
}

// MessageUpdate wraps m in an update.
func MessageUpdate(m *models.Message) models.Update { return models.Update{Message: m} }

// EditedUpdate wraps m as an edited_message update, stamping its edit date.
func EditedUpdate(m *models.Message) models.Update {
	m.EditDate = int(time.Now().Unix()) + 1
	return models.Update{EditedMessage: m}
}
