package discord

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/chorusbot/chorus/bot"
)

// managerPerms are the permissions that make a member a manager.
const managerPerms = discordgo.PermissionAdministrator | discordgo.PermissionManageGuild | discordgo.PermissionModerateMembers

// maxChannelCache bounds the channel→guild cache.
const maxChannelCache = 10000

// onMessageCreate turns a MESSAGE_CREATE into a bot.Message and queues it.
func (a *Adapter) onMessageCreate(s *discordgo.Session, mc *discordgo.MessageCreate) {
	defer a.recoverEvent("MESSAGE_CREATE")
	if mc == nil || mc.Message == nil {
		return
	}
	m, ok := a.convertMessage(s, mc.Message)
	if !ok {
		return
	}
	a.enqueue(job{m: m})
}

// onMemberAdd hands a member joining a guild (GUILD_MEMBER_ADD, with
// discord.member_events) on as a bot.Join, to be greeted in the guild's
// system channel.
func (a *Adapter) onMemberAdd(s *discordgo.Session, ma *discordgo.GuildMemberAdd) {
	defer a.recoverEvent("GUILD_MEMBER_ADD")
	if ma == nil || ma.Member == nil || ma.User == nil || ma.User.Bot {
		return
	}
	chat := bot.Chat{Kind: bot.ChatGroup, Server: ma.GuildID}
	if g, err := s.State.Guild(ma.GuildID); err == nil {
		chat.ID, chat.Title = g.SystemChannelID, g.Name
	}
	name := ma.User.GlobalName
	if ma.Nick != "" {
		name = ma.Nick
	}
	if name == "" {
		name = ma.User.Username
	}
	j := &bot.Join{Platform: PlatformName, Chat: chat, User: bot.User{ID: ma.User.ID, Name: name, Handle: ma.User.Username, Roles: ma.Roles},
		Time: ma.JoinedAt}
	key := chat.ID
	if key == "" {
		key = "guild:" + ma.GuildID
	}
	a.mu.RLock()
	disp, ctx := a.disp, a.dctx
	a.mu.RUnlock()
	if disp != nil {
		disp.Send(ctx, key, job{join: j})
	}
}

// onMessageUpdate turns an edit of a message's text into a bot.Message
// with Edited set, so the stored turn follows the edit. Updates without an
// edit time are Discord filling in embeds, not edits.
func (a *Adapter) onMessageUpdate(s *discordgo.Session, mu *discordgo.MessageUpdate) {
	defer a.recoverEvent("MESSAGE_UPDATE")
	if mu == nil || mu.Message == nil || mu.EditedTimestamp == nil {
		return
	}
	m, ok := a.convertMessage(s, mu.Message)
	if !ok {
		return
	}
	m.Edited, m.Time = true, *mu.EditedTimestamp
	a.enqueue(job{m: m})
}

// onInteractionCreate turns an application command into a bot.Message
// carrying the interaction, acknowledged by the dispatcher first.
func (a *Adapter) onInteractionCreate(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	defer a.recoverEvent("INTERACTION_CREATE")
	if ic == nil || ic.Interaction == nil {
		return
	}
	if ic.Type == discordgo.InteractionMessageComponent {
		a.onComponent(s, ic.Interaction)
		return
	}
	if ic.Type != discordgo.InteractionApplicationCommand {
		return
	}
	m, ok := a.convertInteraction(s, ic.Interaction)
	if !ok {
		return
	}
	a.enqueue(job{m: m, ix: ic.Interaction})
}

func (a *Adapter) recoverEvent(kind string) {
	if r := recover(); r != nil {
		a.log.Error("panic converting event", "event", kind, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		if a.obs != nil {
			a.obs.Observe(bot.Event{Kind: bot.EventPanic, Platform: PlatformName, Time: time.Now()})
		}
	}
}

// enqueue hands a message to the dispatcher owning its lane (its channel;
// in a server channel, its author there: bot.LaneKey), blocking while that
// dispatcher is busy (back-pressure on the gateway) until Run stops.
func (a *Adapter) enqueue(j job) {
	a.mu.RLock()
	disp, ctx := a.disp, a.dctx
	a.mu.RUnlock()
	if disp != nil {
		disp.Send(ctx, bot.LaneKey(&j.m), j)
	}
}

// handle acknowledges an interaction and hands the message to the
// handler; once Run is stopping the event is dropped.
func (a *Adapter) handle(ctx context.Context, j job) {
	defer a.recoverEvent("dispatch")
	if ctx.Err() != nil {
		return
	}
	if j.join != nil {
		if jh, ok := a.h.(bot.JoinHandler); ok {
			if err := jh.HandleJoin(ctx, *j.join); err != nil && ctx.Err() == nil {
				a.log.Warn("handler refused a join", "guild", j.join.Chat.Server, "err", err)
			}
		}
		return
	}
	if j.ix != nil {
		if err := a.defer3s(ctx, j.ix); err != nil {
			a.log.Warn("acknowledging interaction failed", "command", j.m.Command.Name, "err", err)
		}
	}
	if err := a.h.Handle(ctx, j.m); err != nil && ctx.Err() == nil {
		a.log.Warn("handler refused message", "chat", j.m.Chat.ID, "err", err)
	}
}

// defer3s sends the deferred response (type 5) that Discord wants within
// three seconds; the answer later edits it.
func (a *Adapter) defer3s(ctx context.Context, ix *discordgo.Interaction) error {
	s, err := a.session()
	if err != nil {
		return err
	}
	err = s.InteractionRespond(ix, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource},
		discordgo.WithContext(ctx))
	if err != nil {
		return mapErr("acknowledge interaction", err)
	}
	return nil
}

func (a *Adapter) convertMessage(s *discordgo.Session, dm *discordgo.Message) (bot.Message, bool) {
	botID, _ := a.ids()
	if dm.Author == nil || dm.ChannelID == "" || dm.ID == "" {
		return bot.Message{}, false
	}
	if dm.Author.ID == botID {
		return bot.Message{}, false
	}
	switch dm.Type {
	case discordgo.MessageTypeDefault, discordgo.MessageTypeReply:
	default:
		return bot.Message{}, false // joins, pins, boosts: not conversation
	}
	text := dm.Content
	mentioned := false
	for _, u := range dm.Mentions {
		if u != nil && u.ID == botID && botID != "" {
			mentioned = true
		}
	}
	if botID != "" {
		for _, tag := range []string{"<@" + botID + ">", "<@!" + botID + ">"} {
			if strings.Contains(text, tag) {
				mentioned = true
				text = strings.ReplaceAll(text, tag, "")
			}
		}
		text = strings.TrimSpace(text)
	}
	if !mentioned && dm.GuildID != "" && len(dm.MentionRoles) > 0 && botID != "" {
		if me, err := s.State.Member(dm.GuildID, botID); err == nil {
			for _, r := range dm.MentionRoles {
				if contains(me.Roles, r) {
					mentioned = true
				}
			}
		}
	}
	if strings.TrimSpace(text) == "" {
		return bot.Message{}, false
	}
	m := bot.Message{
		Platform:  PlatformName,
		Chat:      a.chat(s, dm.GuildID, dm.ChannelID),
		ID:        dm.ID,
		Author:    a.author(s, dm.GuildID, dm.Author, dm.Member, ""),
		Text:      text,
		Mentioned: mentioned,
		Time:      dm.Timestamp,
	}
	if dm.WebhookID != "" {
		m.Author.IsBot = true
	}
	if dm.MessageReference != nil {
		m.ReplyTo = dm.MessageReference.MessageID
	}
	if rm := dm.ReferencedMessage; rm != nil && rm.Author != nil {
		if rm.Author.ID == botID && botID != "" {
			m.ReplyToBot = true
		}
		if m.ReplyTo == "" {
			m.ReplyTo = rm.ID
		}
		ru := userOf(rm.Author)
		m.ReplyToUser = &ru
	}
	for _, u := range dm.Mentions {
		if u != nil && u.ID != "" && u.ID != botID {
			m.Mentions = append(m.Mentions, userOf(u))
		}
	}
	if c, ok := bot.ParseCommand(text, ""); ok {
		m.Command = c
	}
	return m, true
}

func (a *Adapter) convertInteraction(s *discordgo.Session, ix *discordgo.Interaction) (bot.Message, bool) {
	data, ok := ix.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok || data.Name == "" || ix.ID == "" || ix.Token == "" || ix.ChannelID == "" {
		return bot.Message{}, false
	}
	user := ix.User
	if ix.Member != nil && ix.Member.User != nil {
		user = ix.Member.User
	}
	if user == nil {
		return bot.Message{}, false
	}
	_, appID := a.ids()
	if ix.AppID != "" {
		appID = ix.AppID
	}
	var args []string
	var walk func(opts []*discordgo.ApplicationCommandInteractionDataOption)
	walk = func(opts []*discordgo.ApplicationCommandInteractionDataOption) {
		for _, o := range opts {
			if o == nil {
				continue
			}
			if o.Value != nil {
				args = append(args, strings.TrimSpace(fmt.Sprint(o.Value)))
			}
			walk(o.Options)
		}
	}
	walk(data.Options)
	cmd := &bot.Command{Name: strings.ToLower(data.Name), Args: strings.TrimSpace(strings.Join(args, " "))}
	text := "/" + cmd.Name
	if cmd.Args != "" {
		text += " " + cmd.Args
	}
	t := time.Now()
	if ts, err := discordgo.SnowflakeTimestamp(ix.ID); err == nil {
		t = ts
	}
	m := bot.Message{
		Platform:    PlatformName,
		Chat:        a.chat(s, ix.GuildID, ix.ChannelID),
		ID:          ix.ID,
		Author:      a.author(s, ix.GuildID, user, ix.Member, string(ix.Locale)),
		Text:        text,
		Mentioned:   true, // a slash command is addressed to the bot
		Command:     cmd,
		Time:        t,
		Interaction: encodeInteraction(appID, ix.ID, ix.Token),
	}
	a.trackInteraction(m.Interaction)
	return m, true
}

// chat describes a channel; a thread is a channel of its own, so its id is
// the conversation.
func (a *Adapter) chat(s *discordgo.Session, guildID, channelID string) bot.Chat {
	c := bot.Chat{ID: channelID, Kind: bot.ChatGroup, Server: guildID}
	if guildID == "" {
		c.Kind = bot.ChatDM
	} else {
		a.rememberGuild(channelID, guildID)
	}
	if s != nil && s.State != nil {
		if ch, err := s.State.Channel(channelID); err == nil {
			c.Title = ch.Name
		}
	}
	return c
}

func (a *Adapter) author(s *discordgo.Session, guildID string, u *discordgo.User, member *discordgo.Member, locale string) bot.User {
	name := u.GlobalName
	if name == "" {
		name = u.Username
	}
	if member != nil && member.Nick != "" {
		name = member.Nick
	}
	au := bot.User{ID: u.ID, Name: name, Handle: u.Username, IsBot: u.Bot, Lang: locale}
	if member != nil {
		au.Roles = append([]string(nil), member.Roles...)
	}
	au.Role = a.roleOf(s, guildID, u.ID, member)
	return au
}

// roleOf is what Discord says of the member in this guild: a manager with
// Administrator, Manage Server or Moderate Members (from the interaction's
// computed permissions, or from the member's roles in the gateway state),
// or as the guild's owner. The engine decides whether it counts (only in a
// home guild, and only there); roles from config are the engine's too.
func (a *Adapter) roleOf(s *discordgo.Session, guildID, userID string, member *discordgo.Member) bot.Role {
	if guildID == "" || member == nil {
		return bot.RoleFollower
	}
	perms := member.Permissions
	if perms == 0 && s != nil && s.State != nil {
		if g, err := s.State.Guild(guildID); err == nil && g.OwnerID == userID {
			return bot.RoleManager
		}
		if everyone, err := s.State.Role(guildID, guildID); err == nil {
			perms |= everyone.Permissions
		}
		for _, id := range member.Roles {
			if r, err := s.State.Role(guildID, id); err == nil {
				perms |= r.Permissions
			}
		}
	}
	if perms&managerPerms != 0 {
		return bot.RoleManager
	}
	return bot.RoleFollower
}

// userOf is a Discord user as Chorus names people, without a role: for
// the author of a message replied to, or a user mentioned.
func userOf(u *discordgo.User) bot.User {
	name := u.GlobalName
	if name == "" {
		name = u.Username
	}
	return bot.User{ID: u.ID, Name: name, Handle: u.Username, IsBot: u.Bot}
}

func (a *Adapter) rememberGuild(channelID, guildID string) {
	a.chMu.Lock()
	defer a.chMu.Unlock()
	if _, ok := a.chGuild[channelID]; !ok && len(a.chGuild) >= maxChannelCache {
		a.chGuild = map[string]string{}
	}
	a.chGuild[channelID] = guildID
}

// guildOf finds the guild of a channel: from messages seen, the gateway
// state, or the API.
func (a *Adapter) guildOf(ctx context.Context, s *discordgo.Session, channelID string) (string, error) {
	a.chMu.Lock()
	g, ok := a.chGuild[channelID]
	a.chMu.Unlock()
	if ok {
		return g, nil
	}
	if ch, err := s.State.Channel(channelID); err == nil && ch.GuildID != "" {
		a.rememberGuild(channelID, ch.GuildID)
		return ch.GuildID, nil
	}
	ch, err := s.Channel(channelID, discordgo.WithContext(ctx))
	if err != nil {
		return "", mapErr("look up channel", err)
	}
	if ch.GuildID == "" {
		return "", nil
	}
	a.rememberGuild(channelID, ch.GuildID)
	return ch.GuildID, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
