package bot

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ChatKind says what sort of place a message was written in. It decides the
// default reply policy: Chorus always answers in a DM and only when addressed
// elsewhere.
type ChatKind string

// Chat kinds.
const (
	ChatDM      ChatKind = "dm"
	ChatGroup   ChatKind = "group"
	ChatChannel ChatKind = "channel"
)

// Role is what a user may do. Roles are ordered: an Owner may do everything a
// Manager may, a Manager everything a Follower may.
type Role int

// Roles, least first.
const (
	RoleFollower Role = iota
	RoleManager
	RoleOwner
)

// String returns the role's name as used in config and in help texts.
func (r Role) String() string {
	switch r {
	case RoleManager:
		return "manager"
	case RoleOwner:
		return "owner"
	default:
		return "follower"
	}
}

// ParseRole turns a config name into a Role.
func ParseRole(s string) (Role, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "follower", "":
		return RoleFollower, true
	case "manager":
		return RoleManager, true
	case "owner":
		return RoleOwner, true
	}
	return RoleFollower, false
}

// Chat identifies where a message was written.
type Chat struct {
	// ID is the platform's chat (or channel) id.
	ID string `json:"id"`
	// Kind is dm, group or channel.
	Kind ChatKind `json:"kind"`
	// Thread is the forum topic or thread id, empty when the chat has none.
	// It is part of the conversation key.
	Thread string `json:"thread,omitempty"`
	// Title is the chat's human name where the platform gives one.
	Title string `json:"title,omitempty"`
	// Server is the server (Discord guild) the chat belongs to; empty
	// where a chat stands alone (Telegram). Platform roles come from it.
	Server string `json:"server,omitempty"`
}

// User is the author of a message as the platform knows them.
type User struct {
	ID string `json:"id"`
	// Name is the display name the platform shows for the user.
	Name string `json:"name"`
	// Handle is the user's @username without the @, empty when none.
	Handle string `json:"handle,omitempty"`
	// Role is what the platform says of the user in this chat (Telegram
	// chat administrator, Discord Manage Server or Moderate Members). It
	// counts only in the brand's home chats, and only there: the engine
	// decides authority (Engine.AuthorityOf).
	Role Role `json:"role"`
	// Lang is the platform's locale for the user (an IETF tag such as "en"
	// or "zh-hans"), empty when unknown.
	Lang string `json:"lang,omitempty"`
	// Roles are platform role ids (Discord), used to match config.
	Roles []string `json:"roles,omitempty"`
	// IsBot marks messages from bots, which Chorus never answers.
	IsBot bool `json:"is_bot,omitempty"`
}

// Message is one incoming message, normalised from any platform.
type Message struct {
	Platform string `json:"platform"`
	Chat     Chat   `json:"chat"`
	ID       string `json:"id"`
	Author   User   `json:"author"`
	Text     string `json:"text"`
	// ReplyTo is the id of the message this one answers, if any.
	ReplyTo string `json:"reply_to,omitempty"`
	// ReplyToBot is set when ReplyTo is one of the bot's own messages.
	ReplyToBot bool `json:"reply_to_bot,omitempty"`
	// ReplyToUser is the author of the message replied to, when the
	// platform says; commands that take a user read it.
	ReplyToUser *User `json:"reply_to_user,omitempty"`
	// Mentions are the users the text mentions (other than the bot), as
	// the platform identified them.
	Mentions []User `json:"mentions,omitempty"`
	// Mentioned is set when the bot was mentioned (@name, text mention).
	Mentioned bool `json:"mentioned,omitempty"`
	// Command is the parsed command, nil for ordinary text.
	Command *Command  `json:"command,omitempty"`
	Time    time.Time `json:"time"`
	// Edited marks an edit of an earlier message (same ID).
	Edited bool `json:"edited,omitempty"`
	// Interaction carries a platform token for replying to a slash command
	// interaction (Discord); adapters read it back from the Out message.
	Interaction string `json:"interaction,omitempty"`
}

// ConversationKey is the key of the conversation a message belongs to:
// platform, chat and thread.
func (m *Message) ConversationKey() string {
	return ConversationKey(m.Platform, m.Chat.ID, m.Chat.Thread)
}

// UserKey is the user's key across Chorus: "platform:id".
func (m *Message) UserKey() string { return UserKey(m.Platform, m.Author.ID) }

// DedupKey identifies one delivery of a message; platforms redeliver, and an
// edit is a new delivery of the same message.
func (m *Message) DedupKey() string {
	k := m.Platform + "\x00" + m.Chat.ID + "\x00" + m.ID
	if m.Edited {
		k += "\x00edit\x00" + m.Time.UTC().Format(time.RFC3339Nano)
	}
	return k
}

// ConversationKey builds a conversation key from its parts.
func ConversationKey(platform, chat, thread string) string {
	if thread == "" {
		return platform + "/" + chat
	}
	return platform + "/" + chat + "/" + thread
}

// UserKey builds a user key from its parts.
func UserKey(platform, id string) string { return platform + ":" + id }

// SplitUserKey splits "platform:id".
func SplitUserKey(k string) (platform, id string, ok bool) {
	platform, id, ok = strings.Cut(k, ":")
	if !ok || platform == "" || id == "" {
		return "", "", false
	}
	return platform, id, true
}

// Command is a parsed slash command.
type Command struct {
	// Name is lower case, without the slash or any @botname suffix.
	Name string `json:"name"`
	// Args is the raw text after the name, trimmed.
	Args string `json:"args,omitempty"`
}

// Fields splits Args on white space.
func (c *Command) Fields() []string { return strings.Fields(c.Args) }

// MaxCommandName bounds command names; longer words are not commands.
const MaxCommandName = 32

// ParseCommand parses "/name[@bot] args". botName, when not empty, makes a
// command addressed to another bot (/cmd@otherbot) not a command for us.
// It reports false for text that is not a command.
func ParseCommand(text, botName string) (*Command, bool) {
	text = strings.TrimLeftFunc(text, unicode.IsSpace)
	if !strings.HasPrefix(text, "/") {
		return nil, false
	}
	rest := text[1:]
	end := strings.IndexFunc(rest, unicode.IsSpace)
	head, args := rest, ""
	if end >= 0 {
		head, args = rest[:end], strings.TrimSpace(rest[end:])
	}
	name, target, hasTarget := strings.Cut(head, "@")
	if hasTarget && botName != "" && !strings.EqualFold(target, strings.TrimPrefix(botName, "@")) {
		return nil, false
	}
	if name == "" || len(name) > MaxCommandName {
		return nil, false
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return nil, false
		}
	}
	return &Command{Name: strings.ToLower(name), Args: args}, true
}

// MaxTextBytes is the largest message text the engine keeps; longer text is
// truncated on a rune boundary (and the truncation is marked) so that a
// 100 KB paste can't blow the prompt or the store.
const MaxTextBytes = 16 << 10

// SanitizeText makes text safe to store and to show: invalid UTF-8 is
// replaced, control characters other than newline and tab are dropped, and
// the result is cut at MaxTextBytes on a rune boundary. The second result
// reports whether anything was cut.
func SanitizeText(s string) (string, bool) {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			clean = false
			break
		}
		i += n
	}
	if clean && len(s) <= MaxTextBytes {
		return s, false
	}
	var b strings.Builder
	b.Grow(min(len(s), MaxTextBytes))
	cut := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > MaxTextBytes {
			cut = true
			break
		}
		b.WriteRune(r)
	}
	return b.String(), cut
}
