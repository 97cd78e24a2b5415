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

// ModerationData is what moderation.tmpl asks a verdict on.
type ModerationData struct {
	Brand string
	// Text is the message to judge.
	Text string
	// Flags are what the cheap rules found ("link to unknown domain").
	Flags []string
	// Context is the message this one answers, if any.
	Context string
}

// Moderation categories the verdict may name, as moderation.tmpl lists
// them.
const (
	CategoryNone       = "none"
	CategorySpam       = "spam"
	CategoryHarassment = "harassment"
	CategoryHate       = "hate"
	CategorySexual     = "sexual"
	CategoryViolence   = "violence"
	CategorySelfHarm   = "self_harm"
	CategoryScam       = "scam"
	CategoryOther      = "other"
)

// SentimentData is the batch of messages sentiment.tmpl classifies; the
// model answers by 1-based number.
type SentimentData struct {
	Brand    string
	Messages []string
}

// Sentiment labels sentiment.tmpl asks for.
const (
	LabelNegative = "negative"
	LabelNeutral  = "neutral"
	LabelPositive = "positive"
)

// DigestData is what digest.tmpl turns into a digest for managers.
type DigestData struct {
	Brand string
	Lang  string
	// Period is the span covered, as shown ("the last 24 hours").
	Period string
	// Figures are headline numbers ("messages": "1,204").
	Figures []Figure
	// Topics are the trending topics, most first.
	Topics []string
	// Highlights are notable messages, already shortened.
	Highlights []string
}

// Figure is one labelled number of a digest.
type Figure struct {
	Label string
	Value string
}

// PostData is what post.tmpl drafts social posts from.
type PostData struct {
	Brand   string
	BotName string
	Voice   string
	Do      []string
	Dont    []string
	Lang    string
	// Platform is the target ("Telegram channel", "Discord announcement", "X").
	Platform string
	// Limit is the platform's character limit, hashtags included.
	Limit int
	// Topic is the manager's brief.
	Topic string
	// Passages are facts the post may use.
	Passages []Passage
}

// Summary assembles the prompt that folds turns into a summary.
func (s *Set) Summary(d SummaryData) ([]Message, error) { return s.Messages(NameSummary, d) }

// Moderation assembles the prompt asking for a JSON moderation verdict.
func (s *Set) Moderation(d ModerationData) ([]Message, error) {
	return s.Messages(NameModeration, d)
}

// Sentiment assembles the prompt classifying a numbered batch of messages.
func (s *Set) Sentiment(d SentimentData) ([]Message, error) { return s.Messages(NameSentiment, d) }

// Digest assembles the prompt writing a digest for managers.
func (s *Set) Digest(d DigestData) ([]Message, error) { return s.Messages(NameDigest, d) }

// Post assembles the prompt drafting three social posts.
func (s *Set) Post(d PostData) ([]Message, error) { return s.Messages(NamePost, d) }

// samples are the data each template is tried on by New, so that an
// override naming a field that doesn't exist fails at startup rather than
// on the first message. Every field is set, so that the branches guarded
// by "if .Field" are taken too.
var samples = map[string]any{
	NameSystem: ChatData{
		Brand: "Brand", BotName: "Bot", Voice: "voice", Do: []string{"do"}, Dont: []string{"dont"},
		Lang: "en", UserName: "Ann", Passages: []Passage{{Source: "a.md", Heading: "H", Text: "t"}},
		Summary: "s", Profile: &ProfileData{Names: []string{"Ann"}, Messages: 1, Topics: []string{"a.md"}, FirstSeen: "2025-01-01"},
		Now: "2025-01-02 10:00 UTC",
	},
	NameSummary:    SummaryData{Brand: "Brand", Lang: "en", Previous: "p", Turns: []Turn{{Role: RoleUser, Name: "Ann", Text: "t"}, {Role: RoleAssistant, Text: "a"}}},
	NameModeration: ModerationData{Brand: "Brand", Text: "t", Flags: []string{"f"}, Context: "c"},
	NameSentiment:  SentimentData{Brand: "Brand", Messages: []string{"a", "b"}},
	NameDigest:     DigestData{Brand: "Brand", Lang: "en", Period: "today", Figures: []Figure{{"messages", "1"}}, Topics: []string{"t"}, Highlights: []string{"h"}},
	NamePost: PostData{Brand: "Brand", BotName: "Bot", Voice: "v", Do: []string{"d"}, Dont: []string{"n"}, Lang: "en",
		Platform: "Telegram", Limit: 280, Topic: "t", Passages: []Passage{{Source: "a.md", Text: "t"}}},
}
