package prompts

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

// Summary assembles the prompt that folds turns into a summary.
func (s *Set) Summary(d SummaryData) ([]Message, error) { return s.Messages(NameSummary, d) }

// TranslateData is what translate.tmpl turns into a translation request.
type TranslateData struct {
	// Lang is the language to translate into: "zh" (Simplified Chinese)
	// or "en".
	Lang string
	// Text is the question to translate.
	Text string
}

// Translate assembles the prompt that translates a question for a
// knowledge-base search in the other language.
func (s *Set) Translate(d TranslateData) ([]Message, error) { return s.Messages(NameTranslate, d) }

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
	NameTranslate: TranslateData{Lang: "zh", Text: "how long does shipping take?"},
	NameSummary:   SummaryData{Brand: "Brand", Lang: "en", Previous: "p", Turns: []Turn{{Role: RoleUser, Name: "Ann", Text: "t"}, {Role: RoleAssistant, Text: "a"}}},
}
