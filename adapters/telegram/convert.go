package telegram

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/chorusbot/chorus/bot"
	"github.com/go-telegram/bot/models"
)

// Skip categories: the Category of a bot.AdapterSkipped event (an update
// carried nothing Chorus reads: a photo or sticker without caption, a
// command for another bot, a channel post when channel posts are off).
const (
	SkipNoText   = "no_text"
	SkipOtherBot = "other_bot"
	SkipChannel  = "channel"
	SkipOther    = "other"
)

// joins are the members an update says joined a group: the members of a
// new_chat_members service message, or a chat_member update from "left"
// or "kicked" to a member. Bots are left out.
func joins(u *models.Update) (models.Chat, []models.User, int) {
	if m := u.Message; m != nil && len(m.NewChatMembers) > 0 {
		var out []models.User
		for _, nm := range m.NewChatMembers {
			if !nm.IsBot {
				out = append(out, nm)
			}
		}
		return m.Chat, out, m.Date
	}
	cm := u.ChatMember
	if cm == nil {
		return models.Chat{}, nil, 0
	}
	was := cm.OldChatMember.Type == models.ChatMemberTypeLeft || cm.OldChatMember.Type == models.ChatMemberTypeBanned ||
		cm.OldChatMember.Type == models.ChatMemberTypeRestricted && cm.OldChatMember.Restricted != nil && !cm.OldChatMember.Restricted.IsMember
	var user *models.User
	switch n := cm.NewChatMember; n.Type {
	case models.ChatMemberTypeMember:
		if n.Member != nil {
			user = n.Member.User
		}
	case models.ChatMemberTypeRestricted:
		if n.Restricted != nil && n.Restricted.IsMember {
			user = n.Restricted.User
		}
	}
	if !was || user == nil || user.IsBot {
		return models.Chat{}, nil, 0
	}
	return cm.Chat, []models.User{*user}, cm.Date
}

// handleJoins hands the members upd says joined to the handler, when it
// takes joins; it reports whether upd was about joins.
func (a *Adapter) handleJoins(ctx context.Context, upd *models.Update) bool {
	chat, users, date := joins(upd)
	if len(users) == 0 {
		return upd.ChatMember != nil
	}
	jh, ok := a.h.(bot.JoinHandler)
	if !ok {
		return true
	}
	kind := bot.ChatGroup
	if chat.Type == models.ChatTypeChannel {
		kind = bot.ChatChannel
	}
	for _, u := range users {
		j := bot.Join{Platform: PlatformName, Chat: bot.Chat{ID: strconv.FormatInt(chat.ID, 10), Kind: kind, Title: chat.Title},
			User: bot.User{ID: strconv.FormatInt(u.ID, 10), Name: displayName(&u), Handle: u.Username, Lang: u.LanguageCode},
			Time: time.Unix(int64(date), 0)}
		if err := jh.HandleJoin(ctx, j); err != nil && ctx.Err() == nil {
			a.log.Warn("handler refused a join", "err", err)
		}
	}
	return true
}

// handleUpdate converts upd and hands it to the handler. A panic while
// converting is recovered, logged and counted; it never reaches the
// caller. It returns the handler's error (for the webhook's status).
func (a *Adapter) handleUpdate(ctx context.Context, upd *models.Update) (err error) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("panic converting update", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			a.events.Emit(bot.Event{Kind: bot.EventAdapter, Platform: PlatformName, State: bot.AdapterBadUpdate})
			err = nil
		}
	}()
	if upd.CallbackQuery != nil {
		a.onCallback(ctx, upd.CallbackQuery)
		return nil
	}
	if a.handleJoins(ctx, upd) {
		return nil
	}
	m, skip := a.convert(ctx, upd)
	if skip != "" {
		a.events.Emit(bot.Event{Kind: bot.EventAdapter, Platform: PlatformName, State: bot.AdapterSkipped, Category: skip})
		return nil
	}
	if err := a.h.Handle(ctx, m); err != nil {
		if ctx.Err() == nil {
			a.log.Warn("handler refused message", "err", err)
		}
		return err
	}
	return nil
}

// convert builds the bot.Message for upd, or names why it is skipped.
func (a *Adapter) convert(ctx context.Context, upd *models.Update) (bot.Message, string) {
	var (
		tm      *models.Message
		edited  bool
		channel bool
	)
	switch {
	case upd.Message != nil:
		tm = upd.Message
	case upd.EditedMessage != nil:
		tm, edited = upd.EditedMessage, true
	case upd.ChannelPost != nil:
		tm, channel = upd.ChannelPost, true
	case upd.EditedChannelPost != nil:
		tm, channel, edited = upd.EditedChannelPost, true, true
	default:
		return bot.Message{}, SkipOther
	}
	if channel && !a.cfg.ChannelPosts {
		return bot.Message{}, SkipChannel
	}
	text, entities := tm.Text, tm.Entities
	if text == "" {
		text, entities = tm.Caption, tm.CaptionEntities
	}
	if strings.TrimSpace(text) == "" {
		return bot.Message{}, SkipNoText
	}
	meID, meName := a.me()
	m := bot.Message{
		Platform: PlatformName,
		ID:       strconv.Itoa(tm.ID),
		Text:     text,
		Edited:   edited,
		Time:     time.Unix(int64(tm.Date), 0),
	}
	if edited && tm.EditDate > 0 {
		m.Time = time.Unix(int64(tm.EditDate), 0)
	}
	m.Chat = chatOf(tm)
	// Who wrote it. A message sent as the chat itself (sender_chat is the
	// chat) is from one of its administrators, posting anonymously (or, in
	// a channel, from the channel's admins): it carries their role.
	// Telegram sets from to its placeholder bot (GroupAnonymousBot) then.
	anonymousAdmin := tm.SenderChat != nil && tm.SenderChat.ID == tm.Chat.ID
	switch {
	case anonymousAdmin:
		m.Author = bot.User{ID: strconv.FormatInt(tm.SenderChat.ID, 10), Name: tm.SenderChat.Title, Handle: tm.SenderChat.Username,
			Role: bot.RoleManager}
	case tm.SenderChat != nil:
		m.Author = bot.User{ID: strconv.FormatInt(tm.SenderChat.ID, 10), Name: tm.SenderChat.Title, Handle: tm.SenderChat.Username}
	case tm.From != nil:
		m.Author = bot.User{ID: strconv.FormatInt(tm.From.ID, 10), Name: displayName(tm.From), Handle: tm.From.Username,
			Lang: tm.From.LanguageCode, IsBot: tm.From.IsBot}
	default:
		m.Author = bot.User{ID: m.Chat.ID, Name: tm.Chat.Title}
	}
	if r := tm.ReplyToMessage; r != nil {
		m.ReplyTo = strconv.Itoa(r.ID)
		m.ReplyToBot = meID != 0 && r.From != nil && r.From.ID == meID
		switch {
		case r.SenderChat != nil:
			m.ReplyToUser = &bot.User{ID: strconv.FormatInt(r.SenderChat.ID, 10), Name: r.SenderChat.Title, Handle: r.SenderChat.Username}
		case r.From != nil:
			m.ReplyToUser = &bot.User{ID: strconv.FormatInt(r.From.ID, 10), Name: displayName(r.From), Handle: r.From.Username, IsBot: r.From.IsBot}
		}
	}

	// Mentions of the bot: "@name" entities and text mentions of its id.
	// They are taken out of the text, which becomes the question.
	var cuts [][2]int
	for _, e := range entities {
		switch e.Type {
		case models.MessageEntityTypeMention:
			if meName != "" && strings.EqualFold(utf16Slice(text, e.Offset, e.Length), "@"+meName) {
				m.Mentioned = true
				cuts = append(cuts, [2]int{e.Offset, e.Length})
			}
		case models.MessageEntityTypeTextMention:
			switch {
			case e.User == nil:
			case meID != 0 && e.User.ID == meID:
				m.Mentioned = true
			default:
				// A mention of a user without a username carries the user.
				m.Mentions = append(m.Mentions, bot.User{ID: strconv.FormatInt(e.User.ID, 10), Name: displayName(e.User),
					Handle: e.User.Username, IsBot: e.User.IsBot})
			}
		}
	}

	// Commands: "/cmd" or "/cmd@us"; "/cmd@other" is another bot's.
	if strings.HasPrefix(strings.TrimSpace(text), "/") {
		if c, ok := bot.ParseCommand(text, meName); ok {
			m.Command = c
		} else if _, ok := bot.ParseCommand(text, ""); ok {
			return bot.Message{}, SkipOtherBot
		}
	}
	if m.Command == nil && len(cuts) > 0 {
		if t := strings.TrimSpace(removeUTF16(text, cuts)); t != "" {
			m.Text = t
		}
	}

	// Role: what Telegram says of the author in this chat, a chat
	// administrator. The engine decides whether it counts (only in a home
	// chat, and only there); managers from config are the engine's too.
	if tm.From != nil && tm.SenderChat == nil && m.Chat.Kind == bot.ChatGroup && !m.Author.IsBot && a.isAdmin(ctx, tm.Chat.ID, tm.From.ID) {
		m.Author.Role = bot.RoleManager
	}
	return m, ""
}

func displayName(u *models.User) string {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = u.Username
	}
	return name
}

// utf16Slice returns the text of an entity: Telegram's offsets and lengths
// count UTF-16 code units. Out-of-range entities give "".
func utf16Slice(s string, off, length int) string {
	u := utf16.Encode([]rune(s))
	if off < 0 || length <= 0 || off > len(u) || length > len(u)-off {
		return ""
	}
	return string(utf16.Decode(u[off : off+length]))
}

// removeUTF16 removes the UTF-16 ranges cuts from s.
func removeUTF16(s string, cuts [][2]int) string {
	u := utf16.Encode([]rune(s))
	drop := make([]bool, len(u))
	for _, c := range cuts {
		for i := c[0]; i < c[0]+c[1] && i < len(u); i++ {
			if i >= 0 {
				drop[i] = true
			}
		}
	}
	kept := u[:0:0]
	for i, c := range u {
		if !drop[i] {
			kept = append(kept, c)
		}
	}
	return strings.TrimSpace(strings.ReplaceAll(string(utf16.Decode(kept)), "  ", " "))
}

// chatOf is the chat (and forum topic) a message is in.
func chatOf(tm *models.Message) bot.Chat {
	c := bot.Chat{ID: strconv.FormatInt(tm.Chat.ID, 10), Title: tm.Chat.Title}
	switch tm.Chat.Type {
	case models.ChatTypePrivate:
		c.Kind = bot.ChatDM
	case models.ChatTypeChannel:
		c.Kind = bot.ChatChannel
	default:
		c.Kind = bot.ChatGroup
	}
	if tm.IsTopicMessage && tm.MessageThreadID != 0 {
		c.Thread = strconv.Itoa(tm.MessageThreadID)
	}
	return c
}
