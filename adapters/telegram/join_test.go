package telegram

import (
	"fmt"
	"testing"

	"github.com/go-telegram/bot/models"
)

func TestJoins(t *testing.T) {
	group := models.Chat{ID: -100, Type: models.ChatTypeSupergroup, Title: "G"}
	mia := &models.User{ID: 5, FirstName: "Mia", LanguageCode: "zh-hans"}
	member := func(u *models.User) models.ChatMember {
		return models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{User: u}}
	}
	left := models.ChatMember{Type: models.ChatMemberTypeLeft, Left: &models.ChatMemberLeft{User: mia}}
	admin := models.ChatMember{Type: models.ChatMemberTypeAdministrator, Administrator: &models.ChatMemberAdministrator{User: *mia}}
	for _, c := range []struct {
		name string
		upd  models.Update
		want []int64
	}{
		{"new_chat_members without bots", models.Update{Message: &models.Message{Chat: group, NewChatMembers: []models.User{*mia, {ID: 6, IsBot: true}}}}, []int64{5}},
		{"left to member", models.Update{ChatMember: &models.ChatMemberUpdated{Chat: group, OldChatMember: left, NewChatMember: member(mia)}}, []int64{5}},
		{"member promoted", models.Update{ChatMember: &models.ChatMemberUpdated{Chat: group, OldChatMember: member(mia), NewChatMember: admin}}, nil},
		{"member left", models.Update{ChatMember: &models.ChatMemberUpdated{Chat: group, OldChatMember: member(mia), NewChatMember: left}}, nil},
		{"a bot added", models.Update{ChatMember: &models.ChatMemberUpdated{Chat: group, OldChatMember: left, NewChatMember: member(&models.User{ID: 7, IsBot: true})}}, nil},
		{"a text message", models.Update{Message: &models.Message{Chat: group, Text: "hi"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			chat, users, _ := joins(&c.upd)
			var ids []int64
			for _, u := range users {
				ids = append(ids, u.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(c.want) || len(ids) > 0 && chat.ID != -100 {
				t.Fatalf("joins = %v in %d, want %v", ids, chat.ID, c.want)
			}
		})
	}
}
