package bot

import (
	"time"
	"unicode"
)

// ApproxTokens estimates the tokens of s for BPE tokenizers of the
// cl100k/o200k family without a vocabulary: one token per Han, kana or
// hangul character (those tokenizers give 1 to 1.5 per character), and
// about one per four bytes of other text, counted per word so that short
// words aren't undercounted. The llm package has the exact counter; this is
// the engine's fallback when none is set.
func ApproxTokens(s string) int {
	n := 0
	word := 0
	flush := func() {
		if word > 0 {
			n += (word + 3) / 4
			word = 0
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r):
			flush()
			n++
		case unicode.IsSpace(r):
			flush()
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			flush()
			n++
		default:
			word += len(string(r))
		}
	}
	flush()
	return n
}

// SummaryInput is what a summary prompt is assembled from.
type SummaryInput struct {
	Persona Persona
	Lang    string
	// Previous is the summary so far, empty at first.
	Previous string
	// Turns are the turns to fold in, oldest first.
	Turns []Turn
}

// Prompts assembles the prompts the engine sends the model: the answer to
// a message, the fold of old turns into a conversation's summary, and the
// note that asks again for an answer whose draft was blocked. Package
// prompts implements it with the templates the binary ships (and every
// test uses): New requires it (WithPrompts). Implementations must be safe
// for concurrent use.
type Prompts interface {
	// Answer assembles the prompt of an answer: the system message, the
	// window's turns, the question last.
	Answer(in PromptInput) ([]ChatMessage, error)
	// Summary assembles the prompt that folds turns into the summary.
	Summary(in SummaryInput) ([]ChatMessage, error)
	// Reask is the note added to the system message when an answer is
	// asked for again, saying why the draft was not sent.
	Reask(reason string) (string, error)
}

// The inputs of the plug-ins' prompts, rendered by package prompts: each
// plug-in declares the one-method interface it calls.

// DigestPartInput is one map step of a digest: a part of the chat's
// transcript (or, when Regroup is set, of the partial summaries) to
// summarise.
type DigestPartInput struct {
	Persona Persona
	Lang    string
	// Part and Parts number the part (1-based) among the parts.
	Part, Parts int
	// Regroup says the transcript holds partial summaries of consecutive
	// parts, not messages.
	Regroup bool
	// Transcript is one line per message, "Name: text".
	Transcript string
}

// DigestTopic is a thread of a digest, found by shared words.
type DigestTopic struct {
	Terms []string
	Count int
}

// DigestQuestion is a question left unanswered, with its author's name.
type DigestQuestion struct {
	Name, Text string
}

// DigestInput is the reduce step of a digest: the facts computed over the
// span, and either the partial summaries of its parts or, for a short chat,
// the transcript itself.
type DigestInput struct {
	Persona Persona
	Lang    string
	// Hours is the span covered.
	Hours int
	// Messages and People count the span's messages and their authors.
	Messages, People int
	Topics           []DigestTopic
	Unanswered       []DigestQuestion
	// Mood is the span's mood by word lists ("mostly positive").
	Mood string
	// Partials are the parts' summaries, in order; nil when Transcript is
	// the whole span.
	Partials   []string
	Transcript string
}

// PostInput is what /post drafts are written from.
type PostInput struct {
	Persona Persona
	Lang    string
	// Platform names where the post goes ("Telegram", "X").
	Platform string
	// Limit is the most characters a draft may have, hashtags included.
	Limit int
	// Formatting says the platform renders **bold** and _italics_.
	Formatting bool
	// Drafts is how many drafts to write.
	Drafts int
	Brief  string
	// Passages are the facts the drafts may use.
	Passages []Passage
	// Previous are earlier drafts the new ones must differ from.
	Previous []string
}

// PromptInput is what a prompt is assembled from.
type PromptInput struct {
	Persona  Persona
	Lang     string
	Query    string
	UserName string
	Passages []Passage
	// Contact is, when no passage was relevant, the passage saying how to
	// reach a person.
	Contact []Passage
	Summary string
	Window  []Turn
	Profile *Profile
	Now     time.Time
}
