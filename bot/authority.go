package bot

import (
	"context"
	"strings"
)

// Authority is what the author of a message may do, and where. It is
// decided in one place, Engine.AuthorityOf, from the config and from what
// the platform says scoped to the chat the message came from.
//
// A role from config (roles.owners, roles.managers, role ids) holds
// everywhere: Home is empty. A role the platform gives (a Telegram chat
// administrator, a Discord member with Manage Server or Moderate Members)
// holds only in a chat or server the brand declared as its own
// (roles.home_chats), and only there: Home names it. Anyone can create a
// group and add the bot; being its administrator makes nobody a manager of
// the brand's community.
type Authority struct {
	Role Role
	// Home is the home chat a platform-given role is limited to, as
	// HomeKey gives it ("telegram:-100123", "discord:GUILD"); empty for a
	// role from config, and for followers.
	Home string
}

// CommunityWide reports whether the role holds everywhere: a manager or
// owner named in config. Word lists, dry-run, the persona, announcements
// and reports across chats need it.
func (a Authority) CommunityWide() bool { return a.Role >= RoleManager && a.Home == "" }

// String describes the authority for the audit log ("manager of
// telegram:-100123", "owner").
func (a Authority) String() string {
	if a.Home != "" && a.Role > RoleFollower {
		return a.Role.String() + " of " + a.Home
	}
	return a.Role.String()
}

// HomeKey names the place a platform role comes from: the server (Discord
// guild) when the chat belongs to one, the chat itself otherwise
// ("telegram:-100123", "discord:81234"). roles.home_chats lists these.
func HomeKey(platform string, c Chat) string {
	if c.Server != "" {
		return platform + ":" + c.Server
	}
	return platform + ":" + c.ID
}

// ChatKey is the key of a whole chat, every thread of it: the conversation
// key without a thread ("telegram/-100123").
func ChatKey(platform, chatID string) string { return platform + "/" + chatID }

// AuthorityOf decides what the author of m may do, and where. Config
// roles come first and hold everywhere; a platform's role counts only in a
// home chat (Config.HomeChats), limited to it, and never above manager.
// The role the adapter reports on a trusted platform (the console, whose
// user runs the process) holds everywhere.
func (e *Engine) AuthorityOf(m *Message) Authority {
	r := RoleFollower
	uk := m.UserKey()
	if e.managers[uk] {
		r = RoleManager
	}
	for _, id := range m.Author.Roles {
		if e.managerRoles[id] && r < RoleManager {
			r = RoleManager
		}
		if e.ownerRoles[id] {
			r = RoleOwner
		}
	}
	if e.owners[uk] {
		r = RoleOwner
	}
	if e.trusted[m.Platform] && m.Author.Role > r {
		r = m.Author.Role
	}
	if r >= RoleManager {
		return Authority{Role: r}
	}
	if m.Author.Role >= RoleManager && m.Chat.Kind != ChatDM && !m.Author.IsBot {
		if home := HomeKey(m.Platform, m.Chat); e.homes[home] {
			return Authority{Role: RoleManager, Home: home}
		}
	}
	return Authority{Role: RoleFollower}
}

// View is what a room may see: which conversations a report asked in it
// may cover and quote. The engine decides it for every message
// (Env.View); reports keep only what it covers, so that a new report
// cannot forget the rule. The zero View covers nothing.
//
// A report asked in a group or channel covers that chat (every thread of
// it) and nothing else. Reports across chats, and any quote from a direct
// message, are given only where every chat is covered: a DM with a
// community-wide manager, a managers' channel (Config.ManagersChats), the
// console.
type View struct {
	all  bool
	chat string
}

// ViewAll covers every chat.
func ViewAll() View { return View{all: true} }

// ViewChat covers one chat of a platform, every thread of it.
func ViewChat(platform, chatID string) View { return View{chat: ChatKey(platform, chatID)} }

// ViewOfKey returns the view ViewString gave: "*" for every chat, a chat
// key for one.
func ViewOfKey(s string) View {
	if s == "*" {
		return ViewAll()
	}
	p, c, ok := strings.Cut(s, "/")
	if !ok || p == "" || c == "" {
		return View{}
	}
	if i := strings.IndexByte(c, '/'); i >= 0 {
		c = c[:i]
	}
	return ViewChat(p, c)
}

// All reports whether every chat is covered.
func (v View) All() bool { return v.all }

// Chat is the chat key covered when not All; "" when All.
func (v View) Chat() string {
	if v.all {
		return ""
	}
	return v.chat
}

// String is "*" for every chat, else the chat key; ViewOfKey reads it.
func (v View) String() string {
	if v.all {
		return "*"
	}
	return v.chat
}

// Covers reports whether the conversation conv (a conversation key,
// "platform/chat[/thread]") may be reported on and quoted in the room.
func (v View) Covers(conv string) bool {
	if v.all {
		return true
	}
	if v.chat == "" {
		return false
	}
	return conv == v.chat || strings.HasPrefix(conv, v.chat+"/")
}

// Narrow returns the view of the chat of conversation conv, when v covers
// it: a report about another chat than the room's, named PLATFORM/CHAT,
// is allowed only where every chat is.
func (v View) Narrow(conv string) (View, bool) {
	if !v.Covers(conv) {
		return View{}, false
	}
	if !v.all {
		return v, true
	}
	return ViewOfKey(conv), true
}

// ViewOf decides what the room m was written in may see, for an author
// with authority a. See View.
func (e *Engine) ViewOf(m *Message, a Authority) View {
	switch {
	case e.trusted[m.Platform]:
		return ViewAll()
	case a.Role >= RoleManager && e.managersChats[ChatKey(m.Platform, m.Chat.ID)]:
		return ViewAll()
	case m.Chat.Kind == ChatDM && a.CommunityWide():
		return ViewAll()
	}
	return ViewChat(m.Platform, m.Chat.ID)
}

// Quote is how a report quotes a message: the author as the room sees
// them (their display name, never a platform id; fallback when unknown),
// then the text cut to n runes with personal data masked as it is for
// the model.
func Quote(name, text string, n int, fallback string) string {
	name = strings.TrimSpace(name)
	if name == "" || looksLikeUserKey(name) {
		name = fallback
	}
	return name + ": " + Excerpt(MaskPII(text), n) // masked whole, then cut: no half address survives
}

// looksLikeUserKey catches a name that is really an id ("telegram:42").
func looksLikeUserKey(s string) bool {
	_, id, ok := SplitUserKey(s)
	if !ok || strings.ContainsRune(s, ' ') {
		return false
	}
	for _, r := range strings.TrimPrefix(id, "-") {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Quote quotes a message for the room the command was asked in; see the
// package function Quote.
func (env *Env) Quote(name, text string, n int) string {
	return Quote(name, text, n, env.T("someone"))
}

// NeedCommunity answers and audits a refusal, and returns false, when the
// asker's role does not hold community-wide: for the parts of a command
// that change or read the whole community (word lists, dry-run, persona).
func (env *Env) NeedCommunity(ctx context.Context, what string) (bool, error) {
	if env.Auth.CommunityWide() {
		return true, nil
	}
	m := env.msg
	env.e.audit(ctx, AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Name: m.Author.Name, Actor: m.UserKey(),
		Kind: AuditRefused, Rule: what, Note: "needs a community-wide role; has " + env.Auth.String()})
	return false, env.Reply(ctx, env.T("refused_scope", "command", strings.TrimPrefix(what, "/")))
}
