package bot

import (
	"context"
	"strings"
	"sync"
)

// Check names one of the checks every sentence of the bot's own words
// passes before anyone sees it. Metrics label chorus_output_blocked_total
// with these values and audit entries name them in Rule.
type Check string

// The output checks. An OutputChecker reports one of these; the engine
// treats any other value as CheckOther.
const (
	// CheckAbuse: offensive or hateful words (word lists, classifiers).
	CheckAbuse Check = "abuse"
	// CheckGeneralisation: a statement about a protected group of people
	// as a whole ("women are ...", "所有外国人 ...").
	CheckGeneralisation Check = "generalisation"
	// CheckUngrounded: a price, percentage, promo code, duration, date,
	// time, phone number, e-mail address, URL or handle that appears
	// nowhere in what the model was given for this answer.
	CheckUngrounded Check = "ungrounded"
	// CheckCompetitor: a competitor named negatively, or at all when the
	// persona forbids discussing competitors.
	CheckCompetitor Check = "competitor"
	// CheckOther: a check an OutputChecker added that has no name here.
	CheckOther Check = "other"
)

// Checks lists every check name, for metrics created at zero.
var Checks = []Check{CheckAbuse, CheckGeneralisation, CheckUngrounded, CheckCompetitor, CheckOther}

// Known returns c when it is one of Checks, CheckOther otherwise.
func (c Check) Known() Check {
	for _, k := range Checks {
		if c == k {
			return c
		}
	}
	return CheckOther
}

// Violation is why a sentence may not be shown. The zero value (empty
// Check) means the sentence passed.
type Violation struct {
	Check Check
	// Reason is said to the model when it is asked again, in English: what
	// was wrong and what to do instead ("your draft stated a price that
	// the facts don't give; answer again using only the facts given").
	Reason string
	// Detail is a short note for the audit log and managers (the value or
	// rule that fired: "price $5", "word list: idiot").
	Detail string
	// Masked is the sentence as it may be kept for review, with the
	// offending words and personal data (MaskPII) masked. Empty means the
	// engine masks the personal data itself.
	Masked string
}

// Blocked reports whether v stops the sentence.
func (v Violation) Blocked() bool { return v.Check != "" }

// Grounding is what the model was given for one answer: the only place a
// specific (a price, a date, a link) in the reply may come from.
type Grounding struct {
	// Query is the user's own message.
	Query string
	// Lang is the language of the answer ("en", "zh").
	Lang string
	// Persona is the brand's persona in force.
	Persona Persona
	// Passages are the knowledge-base passages placed in the prompt.
	Passages []Passage
	// Window is the conversation window placed in the prompt.
	Window []Turn
	// Summary is the conversation summary placed in the prompt.
	Summary string

	memo sync.Map
}

// Memo returns the value kept under key for this grounding, computing it
// with fn the first time. A checker keeps what it derives from the
// grounding (the numbers in the passages) here, so that each sentence of
// one answer doesn't derive it again. Safe for concurrent use.
func (g *Grounding) Memo(key any, fn func() any) any {
	if v, ok := g.memo.Load(key); ok {
		return v
	}
	v, _ := g.memo.LoadOrStore(key, fn())
	return v
}

// Texts returns every text of the grounding, for checkers that search it:
// the user's message, the persona, the summary, the window's turns and the
// passages (heading, source and text).
func (g *Grounding) Texts() []string {
	out := []string{g.Query, g.Persona.Brand, g.Persona.BotName, g.Persona.Voice, g.Summary}
	out = append(out, g.Persona.Do...)
	out = append(out, g.Persona.Dont...)
	for _, t := range g.Window {
		out = append(out, t.Text)
	}
	for _, p := range g.Passages {
		out = append(out, p.Heading, p.Source, p.Text)
	}
	return out
}

// OutputRewriter rewrites a sentence of the bot's own answer after it
// passed the output checks and before it is shown (links to the brand's
// site become tracked links). It must be safe for concurrent use and
// quick, return the sentence unchanged when it has nothing to do, and
// never add what the checks would refuse.
type OutputRewriter interface {
	RewriteSentence(ctx context.Context, sentence string, m *Message) string
}

// OutputChecker judges one sentence of the bot's own words against the
// grounding of the answer it belongs to. It must be safe for concurrent
// use and quick: it runs on every sentence before the sentence is shown.
// The moderation package provides the checks Chorus ships.
type OutputChecker interface {
	CheckSentence(ctx context.Context, sentence string, g *Grounding) Violation
}

// OutputCheckerFunc adapts a function to OutputChecker.
type OutputCheckerFunc func(ctx context.Context, sentence string, g *Grounding) Violation

// CheckSentence calls f.
func (f OutputCheckerFunc) CheckSentence(ctx context.Context, sentence string, g *Grounding) Violation {
	return f(ctx, sentence, g)
}

// Flag is a violation found in a longer text, with the sentence it is in.
type Flag struct {
	Sentence string
	Violation
}

// CheckText runs c over every sentence of text (a draft post, an
// announcement) and returns what it flagged, in order. A nil checker
// flags nothing.
func CheckText(ctx context.Context, c OutputChecker, text string, g *Grounding) []Flag {
	if c == nil {
		return nil
	}
	if g == nil {
		g = &Grounding{}
	}
	var out []Flag
	for _, s := range Sentences(text, HardSentenceRunes) {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if v := c.CheckSentence(ctx, s, g); v.Blocked() {
			out = append(out, Flag{Sentence: strings.TrimSpace(s), Violation: v})
		}
	}
	return out
}
