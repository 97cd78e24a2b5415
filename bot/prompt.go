package bot

import (
	"fmt"
	"strings"
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

// DefaultPrompter assembles a prompt without templates: the persona and
// grounding rules as the system message, then the summary, the window and
// the question. cmd/chorus uses the prompts package instead; this keeps the
// engine usable on its own and in tests.
func DefaultPrompter(in PromptInput) ([]ChatMessage, error) {
	var sys strings.Builder
	fmt.Fprintf(&sys, "You are %s, the community assistant of %s.", in.Persona.BotName, in.Persona.Brand)
	if in.Persona.Voice != "" {
		fmt.Fprintf(&sys, " Voice: %s.", in.Persona.Voice)
	}
	sys.WriteString(" Answer from the knowledge passages when they apply and name their source; say so when you don't know.")
	if in.Lang == "zh" {
		sys.WriteString(" Answer in Chinese.")
	}
	for _, p := range in.Passages {
		fmt.Fprintf(&sys, "\n[source: %s] %s", p.Source, p.Text)
	}
	if in.Summary != "" {
		fmt.Fprintf(&sys, "\nEarlier in this conversation: %s", in.Summary)
	}
	msgs := []ChatMessage{{Role: RoleSystem, Content: sys.String()}}
	for _, t := range in.Window {
		c := t.Text
		if t.Role == RoleUser && t.Name != "" {
			c = t.Name + ": " + c
		}
		msgs = append(msgs, ChatMessage{Role: t.Role, Content: c})
	}
	msgs = append(msgs, ChatMessage{Role: RoleUser, Content: in.Query})
	return msgs, nil
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

// SummaryPrompter assembles the prompt that folds turns into a
// conversation's rolling summary.
type SummaryPrompter func(in SummaryInput) ([]ChatMessage, error)

// DefaultSummaryPrompter asks the model to fold turns into the summary so
// far, without templates; cmd/chorus uses the prompts package instead.
func DefaultSummaryPrompter(in SummaryInput) ([]ChatMessage, error) {
	var b strings.Builder
	b.WriteString("Summarise this conversation in a few sentences, keeping names, questions asked, answers given and anything promised.")
	if in.Previous != "" {
		b.WriteString("\nSummary so far: " + in.Previous)
	}
	b.WriteString("\nNew messages:")
	for _, t := range in.Turns {
		name := t.Name
		if name == "" {
			name = t.Role
		}
		fmt.Fprintf(&b, "\n%s: %s", name, t.Text)
	}
	return []ChatMessage{{Role: RoleSystem, Content: "You write concise, factual conversation summaries."}, {Role: RoleUser, Content: b.String()}}, nil
}
