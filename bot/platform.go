package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// ErrUnsupported is returned by a Platform method the platform can't do
// (the console can't ban anyone). Callers check it with errors.Is and carry on.
var ErrUnsupported = errors.New("bot: not supported by this platform")

// RateLimitError is returned by a Platform when the platform said "slow
// down" (HTTP 429). The caller waits RetryAfter and tries again; the streaming
// writer does this for edits and sends.
type RateLimitError struct {
	RetryAfter time.Duration
	Op         string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("bot: %s rate limited, retry after %s", e.Op, e.RetryAfter)
}

// Markup is the formatting an adapter renders.
type Markup int

// Markups.
const (
	MarkupPlain Markup = iota
	MarkupMarkdown
	MarkupHTML
)

// Limits are what a platform allows; the streaming writer follows them.
type Limits struct {
	// MaxLen is the longest message, in runes or, with UTF16, in UTF-16
	// code units; longer replies are split at paragraph or sentence
	// boundaries.
	MaxLen int
	// UTF16 says the platform counts MaxLen in UTF-16 code units, as
	// Telegram does: a character outside the Basic Multilingual Plane
	// (most emoji) counts twice.
	UTF16 bool
	// EditEvery is the least time between two edits of one message in one
	// chat. Zero with Stream false means the platform shows only the final
	// text.
	EditEvery time.Duration
	// Stream is true when the reply should appear growing by edits.
	Stream bool
	// Markup is the formatting the adapter renders from the LLM's Markdown.
	Markup Markup
}

// Len is the length of s as the platform counts it against MaxLen.
func (l Limits) Len(s string) int {
	if l.UTF16 {
		return measure(s, utf16Units)
	}
	return utf8.RuneCountInString(s)
}

// Split cuts text into pieces of at most MaxLen as the platform counts
// it (see SplitText).
func (l Limits) Split(text string) []string {
	if l.UTF16 {
		return splitBy(text, l.MaxLen, utf16Units)
	}
	return SplitText(text, l.MaxLen)
}

// Attachment is a file sent with a message (a chart PNG).
type Attachment struct {
	Name string
	MIME string
	Data []byte
}

// Out is one message the bot sends.
type Out struct {
	Chat Chat
	Text string
	// ReplyTo is the message id this answers, empty for none.
	ReplyTo string
	// Attachments are sent with the message where the platform can.
	Attachments []Attachment
	// Interaction is copied from the incoming message so that an adapter
	// can answer a slash command through its interaction token.
	Interaction string
	// Final is set on the last Send or Edit of a streamed reply.
	Final bool
	// Feedback, when set, asks for 👍/👎 buttons under the final message
	// of an answer (Final): its value is the id of the question answered,
	// which the buttons carry back in a Vote (FeedbackData). Adapters
	// that can't show buttons ignore it.
	Feedback string
}

// Platform is what the engine needs of a chat platform. Adapters implement it
// and check themselves with var _ bot.Platform = (*Adapter)(nil).
// Methods a platform can't do return ErrUnsupported; a 429 is a
// *RateLimitError.
type Platform interface {
	// Name is the platform key used in Message.Platform ("telegram").
	Name() string
	// Send posts a message and returns its id.
	Send(ctx context.Context, out Out) (id string, err error)
	// Edit replaces the text of a message the bot sent.
	Edit(ctx context.Context, out Out, id string) error
	// Delete removes a message.
	Delete(ctx context.Context, chat Chat, id string) error
	// Typing shows the typing indicator for a few seconds.
	Typing(ctx context.Context, chat Chat) error
	// Restrict times a user out until the given time.
	Restrict(ctx context.Context, chat Chat, userID string, until time.Time) error
	// Ban removes a user from the chat for good.
	Ban(ctx context.Context, chat Chat, userID string) error
	// Limits says how long messages may be and how fast edits may come.
	Limits() Limits
}

// MemberCounter is a Platform that can say how many members a chat has
// (Telegram getChatMemberCount, Discord's approximate member count of the
// channel's server): the reach of a post published there. Callers check
// for it with a type assertion; a platform without it has no reach.
type MemberCounter interface {
	MemberCount(ctx context.Context, chat Chat) (int, error)
}

// Handler takes incoming messages; the Engine is one. Adapters depend on this
// interface, not on the Engine.
type Handler interface {
	Handle(ctx context.Context, m Message) error
}

// Join is a member joining a community chat: Telegram's chat_member and
// new_chat_members, Discord's GUILD_MEMBER_ADD.
type Join struct {
	Platform string
	// Chat is where the member joined and may be greeted (on Discord the
	// server's system channel, with Server set; ID empty when the server
	// has none).
	Chat Chat
	User User
	// Time is when the platform says the member joined (informative: the
	// engine stamps the event on receipt).
	Time time.Time
}

// JoinHandler takes members joining chats; the Engine is one. An adapter
// checks its Handler for it and hands joins on when it is one.
type JoinHandler interface {
	HandleJoin(ctx context.Context, j Join) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m Message) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, m Message) error { return f(ctx, m) }
