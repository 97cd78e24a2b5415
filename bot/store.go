package bot

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by stores when the thing asked for does not exist.
var ErrNotFound = errors.New("bot: not found")

// Turn is one stored message of a conversation, the user's or the bot's.
type Turn struct {
	// Seq orders turns within a conversation; the store assigns it.
	Seq uint64 `json:"seq"`
	// Role is RoleUser or RoleAssistant.
	Role string `json:"role"`
	// User is the author's user key ("telegram:42"); the bot's own turns
	// carry the user key of the person answered, so forget finds them.
	User string `json:"user"`
	// Name is the author's display name at the time.
	Name string `json:"name,omitempty"`
	// MsgID is the platform message id, for edits.
	MsgID string    `json:"msg_id,omitempty"`
	Text  string    `json:"text"`
	Time  time.Time `json:"time"`
	// Tokens is the token count of Text, computed once when stored.
	Tokens int `json:"tokens"`
	// Unanswered marks a reply of the bot that said it didn't know (no
	// relevant passage, or the model's NoAnswerMarker).
	Unanswered bool `json:"unanswered,omitempty"`
}

// Summary is the rolling summary of the turns of a conversation that no
// longer fit the prompt window.
type Summary struct {
	Text string `json:"text"`
	// UpTo is the Seq of the last turn folded in.
	UpTo uint64 `json:"up_to"`
	// Users are the user keys whose messages the summary was built from;
	// forgetting one of them discards the summary.
	Users   []string  `json:"users,omitempty"`
	Updated time.Time `json:"updated"`
}

// Profile is what Chorus knows of a user.
type Profile struct {
	User      string    `json:"user"`
	Names     []string  `json:"names,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Messages  int       `json:"messages"`
	Lang      string    `json:"lang,omitempty"`
	// Handle is the user's latest @username (without the @).
	Handle string `json:"handle,omitempty"`
	// Topics counts what the user asked about (knowledge-base documents).
	Topics map[string]int `json:"topics,omitempty"`
}

// Inbox makes message intake durable: dedup that survives a restart, and
// messages accepted but not yet handled are replayed after a crash.
type Inbox interface {
	// Accept records m as received. It reports false when the same delivery
	// (DedupKey) was accepted before, in which case nothing is written.
	Accept(ctx context.Context, m *Message) (fresh bool, err error)
	// Done marks m handled; it is no longer pending.
	Done(ctx context.Context, m *Message) error
	// Pending lists accepted messages not yet Done, oldest first.
	Pending(ctx context.Context) ([]Message, error)
}

// History stores conversations.
type History interface {
	// Append stores a turn and returns its Seq.
	Append(ctx context.Context, conv string, t Turn) (uint64, error)
	// Window returns the most recent turns whose Tokens sum to at most
	// budget, oldest first. Its cost does not depend on how long the
	// history is.
	Window(ctx context.Context, conv string, budget int) ([]Turn, error)
	// Turns returns turns with from <= Seq <= to, oldest first, at most max.
	Turns(ctx context.Context, conv string, from, to uint64, max int) ([]Turn, error)
	// Summary returns the conversation's summary; the zero Summary when none.
	Summary(ctx context.Context, conv string) (Summary, error)
	// SetSummary replaces the summary.
	SetSummary(ctx context.Context, conv string, s Summary) error
}

// Profiles stores user profiles.
type Profiles interface {
	// Touch updates the author's profile from a message they sent.
	Touch(ctx context.Context, m *Message, lang string) error
	// Profile returns a user's profile, ErrNotFound when unknown.
	Profile(ctx context.Context, user string) (Profile, error)
	// AddTopics counts topics (knowledge-base sources) the user asked about.
	AddTopics(ctx context.Context, user string, topics []string) error
}

// Directory finds known users by name, for the commands that take a
// user ("/forget @alice").
type Directory interface {
	// FindUsers returns up to limit profiles of users of platform whose
	// current @username (without the @) or current display name equals
	// name, ignoring case.
	FindUsers(ctx context.Context, platform, name string, limit int) ([]Profile, error)
}

// UserData is everything Chorus holds about one user, for export: what
// they wrote and what the bot wrote to them, never other people's words.
type UserData struct {
	User     string         `json:"user"`
	Profile  *Profile       `json:"profile,omitempty"`
	Messages []ExportedTurn `json:"messages"`
	Extra    map[string]any `json:"extra,omitempty"`
}

// ExportedTurn is a turn with its conversation.
type ExportedTurn struct {
	Conversation string `json:"conversation"`
	Turn
}

// Privacy implements the user's rights to their data.
type Privacy interface {
	// Forget deletes, within req.Scope, the user's messages and the bot's
	// answers to them, every summary built from them, and (for the whole
	// scope) their profile; records kept for the audit lose the user's id
	// (replaced by "forgotten:"+req.Ref), name and text. It returns how
	// many records changed, and may be run again after a crash.
	Forget(ctx context.Context, req ForgetRequest) (int, error)
	// Export returns everything held about the user that is theirs: their
	// profile, their messages and the bot's answers to them, and the
	// audit entries about them (with other people's ids left out).
	Export(ctx context.Context, user string) (UserData, error)
}

// Store is the engine's durable state.
type Store interface {
	Inbox
	History
	Profiles
	Directory
	Privacy
	Recorder
}

// Passage is a knowledge-base passage.
type Passage struct {
	// Source names the document ("shipping.md").
	Source string `json:"source"`
	// Title is the document's title ("Shipping"), for naming it briefly.
	Title string `json:"title,omitempty"`
	// Heading is the section heading the passage sits under.
	Heading string  `json:"heading,omitempty"`
	Text    string  `json:"text"`
	Score   float64 `json:"score,omitempty"`
	// Relevance, from 0 to 1, is how much of the question the passage
	// covers, comparable across questions (unlike Score): the engine
	// drops passages under its floor (Config.MinRelevance).
	Relevance float64 `json:"relevance,omitempty"`
}

// Knowledge finds passages relevant to a query.
type Knowledge interface {
	Search(ctx context.Context, query string, k int) ([]Passage, error)
}

// VersionedKnowledge is a Knowledge that says when it changed: Version
// moves on every change to what Search finds. The engine keeps the
// results of searches it repeats for every message (the passage saying
// how to reach a person) with the version they were made at.
type VersionedKnowledge interface {
	Knowledge
	Version() uint64
}

// Persona is the brand's voice, in every prompt and in the offline
// provider's phrasing: the "persona" section of the configuration.
type Persona struct {
	// Brand is the brand's name as followers know it.
	Brand string `json:"brand" yaml:"brand" empty:"default"`
	// BotName is the assistant's name (and its handle for /cmd@name).
	BotName string `json:"bot_name" yaml:"bot_name" empty:"default"`
	// Voice describes the tone in a few words.
	Voice string `json:"voice" yaml:"voice"`
	// Do and Dont are short rules of conduct added to the prompt.
	Do   []string `json:"do,omitempty" yaml:"do"`
	Dont []string `json:"dont,omitempty" yaml:"dont"`
}

// KV is a small durable key-value space for the parts that plug into the
// engine (moderation strikes and word lists, analytics rollups, drafts), so
// they need no storage of their own. Buckets are created on first Put.
type KV interface {
	// Put stores value under key in bucket, replacing any earlier value.
	Put(ctx context.Context, bucket, key string, value []byte) error
	// Get returns the value, ErrNotFound when absent.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, bucket, key string) error
	// Scan calls fn for each key in [from, to) in byte order; to == ""
	// means to the end. fn must not keep value after it returns. An error
	// from fn stops the scan and is returned.
	Scan(ctx context.Context, bucket, from, to string, fn func(key string, value []byte) error) error
}

// KVBatch is a KV that can group reads and writes in one transaction: one
// commit (one disk sync) for many records, as a plug-in's periodic flush
// wants. Update calls fn with a KV bound to the transaction; nothing fn
// wrote is kept unless it returns nil. A store may run fn more than once
// (bbolt retries a batch that failed), so fn must change nothing outside
// the transaction, and it must not call the store itself (only tx) until
// it returns.
type KVBatch interface {
	Update(ctx context.Context, fn func(tx KV) error) error
}

// Recorder writes the engine's records for one message in two
// transactions instead of five, so that a durable store spends fewer disk
// syncs per message. Each method's effect is that of the calls it names.
type Recorder interface {
	// Incoming is Touch(m, lang) then Append(conv, t), atomically.
	Incoming(ctx context.Context, m *Message, lang, conv string, t Turn) (uint64, error)
	// Outgoing is Append(conv, reply), AddTopics(user, topics) and
	// Done(m), atomically.
	Outgoing(ctx context.Context, m *Message, conv string, reply Turn, topics []string) (uint64, error)
}

// IntakeRecorder is implemented by a Store that can accept a message and
// record it in one transaction: the engine's intake of a message whose
// conversation has nothing queued or in flight and that a free worker
// handles at once (Engine.Handle), one commit where Accept and Incoming
// make two. The message stays pending until Done (or Outgoing), so a
// crash replays it; its turn, stored again by the replay's Incoming,
// replaces itself (a user turn is keyed by its MsgID).
type IntakeRecorder interface {
	// AcceptIncoming is Accept(m) and, when m is fresh, Incoming(m,
	// lang, conv, t), atomically. When the delivery was accepted before
	// it writes nothing and reports false.
	AcceptIncoming(ctx context.Context, m *Message, lang, conv string, t Turn) (fresh bool, err error)
	// Dismiss removes the user turn of m (its MsgID) from conv and
	// marks m done, atomically: a message recorded at intake that an
	// inspector then stopped is not kept in the conversation. Removing
	// a turn that is not there is not an error.
	Dismiss(ctx context.Context, m *Message, conv string) error
}
