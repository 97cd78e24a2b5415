package prompts

import "github.com/chorusbot/chorus/bot"

// SummaryData is what summary.tmpl folds into a conversation summary.
type SummaryData struct {
	Brand string
	// Lang is the language to write the summary in ("zh"); empty means
	// the conversation's own.
	Lang string
	// Previous is the summary so far, empty at first.
	Previous string
	// Turns are the turns to fold in, oldest first.
	Turns []Turn
}

// Summarise assembles the prompt that folds turns into a summary:
// summary.tmpl rendered on d.
func (s *Set) Summarise(d SummaryData) ([]Message, error) { return s.Messages(NameSummary, d) }

// Summary assembles the prompt that folds in's turns into the
// conversation's summary (bot.Prompts).
func (s *Set) Summary(in bot.SummaryInput) ([]bot.ChatMessage, error) {
	return s.Summarise(SummaryData{Brand: in.Persona.Brand, Lang: in.Lang, Previous: in.Previous, Turns: turns(in.Turns)})
}

// ReaskData is what reask.tmpl sees.
type ReaskData struct {
	// Reason says what was wrong with the draft, in English.
	Reason string
}

// Reask is the note that asks the model again for an answer whose draft
// was blocked, saying why (bot.Prompts).
func (s *Set) Reask(reason string) (string, error) {
	return s.Render(NameReask, ReaskData{Reason: reason})
}

// ModerationData is what moderation.tmpl sees.
type ModerationData struct {
	// Text is the message to classify, the user message of the prompt.
	Text string
}

// Moderation assembles the prompt of the LLM's second opinion on text.
func (s *Set) Moderation(text string) ([]bot.ChatMessage, error) {
	return s.Messages(NameModeration, ModerationData{Text: text})
}

// SentimentData is what sentiment.tmpl sees.
type SentimentData struct {
	// Items is the batch as a JSON array of {"id", "text"}, the user
	// message of the prompt.
	Items string
}

// Sentiment assembles the prompt that labels a batch of messages; items
// is the batch as a JSON array of {"id", "text"}.
func (s *Set) Sentiment(items string) ([]bot.ChatMessage, error) {
	return s.Messages(NameSentiment, SentimentData{Items: items})
}

// DigestPart assembles the prompt of one map step of a digest.
func (s *Set) DigestPart(in bot.DigestPartInput) ([]bot.ChatMessage, error) {
	return s.Messages(NameDigestPart, in)
}

// Digest assembles the prompt of a digest's reduce step.
func (s *Set) Digest(in bot.DigestInput) ([]bot.ChatMessage, error) {
	return s.Messages(NameDigest, in)
}

// Post assembles the prompt of /post's drafts.
func (s *Set) Post(in bot.PostInput) ([]bot.ChatMessage, error) { return s.Messages(NamePost, in) }

// TranslateData is what translate.tmpl turns into a translation request.
type TranslateData struct {
	// Lang is the language to translate into: "zh" (Simplified Chinese)
	// or "en".
	Lang string
	// Text is the question to translate.
	Text string
}

// Translate assembles the prompt that translates text, a question, into
// lang ("en", "zh") for a knowledge-base search in the other language: the
// llm.TranslatePrompt of the translator.
func (s *Set) Translate(text, lang string) ([]bot.ChatMessage, error) {
	return s.Messages(NameTranslate, TranslateData{Lang: lang, Text: text})
}

// samples are the data each template is tried on by New, so that an
// override naming a field that doesn't exist fails at startup rather than
// on the first message. Every field is set, so that the branches guarded
// by "if .Field" are taken too.
var samples = map[string]any{
	NameSystem: ChatData{
		Brand: "Brand", BotName: "Bot", Voice: "voice", Do: []string{"do"}, Dont: []string{"dont"},
		Lang: "en", UserName: "Ann", Passages: []Passage{{Source: "a.md", Heading: "H", Text: "t"}},
		Summary: "s", Profile: &ProfileData{Names: []string{"Ann"}, Messages: 1, Topics: []string{"a.md"}, FirstSeen: "2025-01-01"},
		Now: "2025-01-02 10:00 UTC", Contact: []Passage{{Source: "c.md", Heading: "Contact", Text: "mail us"}}, NoAnswerMarker: "[[x]]",
	},
	NameSummary:    SummaryData{Brand: "Brand", Lang: "en", Previous: "p", Turns: []Turn{{Role: RoleUser, Name: "Ann", Text: "t"}, {Role: RoleAssistant, Text: "a"}}},
	NameReask:      ReaskData{Reason: "r"},
	NameModeration: ModerationData{Text: "t"},
	NameSentiment:  SentimentData{Items: `[{"id":1,"text":"t"}]`},
	NameDigestPart: bot.DigestPartInput{Persona: samplePersona, Lang: "en", Part: 1, Parts: 2, Regroup: true, Transcript: "Ann: t"},
	NameDigest: bot.DigestInput{Persona: samplePersona, Lang: "en", Hours: 24, Messages: 2, People: 1,
		Topics: []bot.DigestTopic{{Terms: []string{"t"}, Count: 2}}, Unanswered: []bot.DigestQuestion{{Name: "Ann", Text: "q?"}},
		Mood: "m", Partials: []string{"p"}, Transcript: "Ann: t"},
	NamePost: bot.PostInput{Persona: samplePersona, Lang: "en", Platform: "Telegram", Limit: 100, Formatting: true, Drafts: 3,
		Brief: "b", Passages: []bot.Passage{{Source: "a.md", Heading: "H", Text: "t"}}, Previous: []string{"d"}},
	NameTranslate: TranslateData{Lang: "zh", Text: "how long does shipping take?"},
}

var samplePersona = bot.Persona{Brand: "Brand", BotName: "Bot", Voice: "v", Do: []string{"do"}, Dont: []string{"dont"}}
