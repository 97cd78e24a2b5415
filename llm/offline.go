package llm

import (
	"context"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/textkit"
)

// OfflineModel is the model name the offline provider reports.
const OfflineModel = "offline"

// Bounds of offline answers.
const (
	// DefaultSummaryRunes bounds an offline summary or digest.
	DefaultSummaryRunes = 600
	// maxSentenceRunes bounds one quoted sentence.
	maxSentenceRunes = 400
	// offlinePassages is how many of the top passages an answer draws on.
	offlinePassages = 3
)

// OfflineOption customises an Offline provider.
type OfflineOption func(*Offline)

// WithOfflineTokenCounter sets the counter used for usage figures
// (default bot.ApproxTokens).
func WithOfflineTokenCounter(t bot.TokenCounter) OfflineOption {
	return func(o *Offline) { o.tokens = t }
}

// WithSummaryRunes bounds summaries and digests (default
// DefaultSummaryRunes).
func WithSummaryRunes(n int) OfflineOption { return func(o *Offline) { o.summaryRunes = n } }

// Offline is the bot.LLM Chorus uses when no model is configured. It calls
// nothing: chat answers quote the most relevant sentences of the passages
// the engine found, naming their source, in the persona's words;
// greetings and thanks get a short reply; summaries and digests are
// extractive. Purposes that need a real model (moderation, sentiment,
// post drafting) fail with bot.ErrLLMUnavailable so callers use their own
// fallbacks. It is safe for concurrent use.
type Offline struct {
	tokens       bot.TokenCounter
	summaryRunes int
}

var _ bot.LLM = (*Offline)(nil)

// NewOffline returns the offline provider.
func NewOffline(opts ...OfflineOption) *Offline {
	o := &Offline{tokens: bot.TokenCounterFunc(bot.ApproxTokens), summaryRunes: DefaultSummaryRunes}
	for _, opt := range opts {
		opt(o)
	}
	if o.summaryRunes <= 0 {
		o.summaryRunes = DefaultSummaryRunes
	}
	return o
}

// purposeNames says in errors what the offline provider can't do.
var purposeNames = map[bot.Purpose]string{
	bot.PurposeModeration: "moderation",
	bot.PurposeSentiment:  "sentiment analysis",
	bot.PurposePost:       "post drafting",
}

// Complete implements bot.LLM.
func (o *Offline) Complete(ctx context.Context, req bot.Request) (bot.Response, error) {
	if err := ctx.Err(); err != nil {
		return bot.Response{}, fmt.Errorf("llm: offline: %w", err)
	}
	var text string
	switch req.Purpose {
	case bot.PurposeChat, "":
		text = o.chat(req)
	case bot.PurposeSummary:
		text = o.summary(req)
	case bot.PurposeDigest:
		text = o.digest(req)
	default:
		name := purposeNames[req.Purpose]
		if name == "" {
			name = string(req.Purpose)
		}
		return bot.Response{}, fmt.Errorf("llm: offline provider: no model for %s: %w", name, bot.ErrLLMUnavailable)
	}
	return bot.Response{Text: text, Model: OfflineModel, Usage: o.usage(req, text), Offline: true}, nil
}

func (o *Offline) usage(req bot.Request, text string) bot.Usage {
	var u bot.Usage
	if len(req.Messages) > 0 {
		for _, m := range req.Messages {
			u.PromptTokens += o.tokens.Count(m.Content)
		}
	} else {
		u.PromptTokens = o.tokens.Count(req.Query)
		for _, p := range req.Passages {
			u.PromptTokens += o.tokens.Count(p.Text)
		}
	}
	u.CompletionTokens = o.tokens.Count(text)
	return u
}

// Stream implements bot.LLM: the answer word by word (Chinese character by
// character), without pauses.
func (o *Offline) Stream(ctx context.Context, req bot.Request) (bot.Stream, error) {
	resp, err := o.Complete(ctx, req)
	if err != nil {
		return nil, err
	}
	return &offlineStream{pieces: splitWords(resp.Text), usage: resp.Usage}, nil
}

type offlineStream struct {
	pieces []string
	usage  bot.Usage
}

func (s *offlineStream) Recv() (string, error) {
	if len(s.pieces) == 0 {
		return "", io.EOF
	}
	p := s.pieces[0]
	s.pieces = s.pieces[1:]
	return p, nil
}

func (s *offlineStream) Usage() bot.Usage { return s.usage }
func (s *offlineStream) Close() error     { s.pieces = nil; return nil }

// Model is OfflineModel.
func (s *offlineStream) Model() string { return OfflineModel }

// splitWords cuts text into pieces that concatenate back to it: a word
// with its trailing space, or one Han character.
func splitWords(text string) []string {
	var out []string
	start := 0
	inSpace := false
	for i, r := range text {
		switch {
		case textkit.IsHan(r):
			if i > start {
				out = append(out, text[start:i])
			}
			start = i
			inSpace = true // the character ends at the next rune
		case unicode.IsSpace(r):
			inSpace = true
		default:
			if inSpace && i > start {
				out = append(out, text[start:i])
				start = i
			}
			inSpace = false
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// language picks the answer language: the request's, else the query's.
func language(req bot.Request, q string) string {
	if req.Lang != "" {
		if strings.HasPrefix(strings.ToLower(req.Lang), "zh") {
			return "zh"
		}
		return req.Lang
	}
	return textkit.Lang(q)
}

func query(req bot.Request) string {
	if req.Query != "" {
		return req.Query
	}
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == bot.RoleUser {
			return req.Messages[i].Content
		}
	}
	return ""
}

func names(p bot.Persona) (botName, brand string) {
	brand = p.Brand
	botName = p.BotName
	if botName == "" {
		botName = brand
	}
	return botName, brand
}

// phrasebook holds the offline provider's own sentences, by language.
// %[1]s is the bot's name, %[2]s the brand.
type phrasebook struct {
	thanks, bye, praise, insult, complaint, identity string
	unknown, unknownNext, help                       string
	// complaintNext follows a complaint the knowledge base says nothing
	// about: asking the follower to "ask another way" would read as
	// brushing them off.
	complaintNext, complaintHelp string
	from                         string // %s: the source's title
}

var phrases = map[string]phrasebook{
	"en": {
		thanks:        "You're welcome! If there's anything else about %[2]s, just ask.",
		bye:           "Bye for now! I'm here whenever you need me.",
		praise:        "Thank you, that's lovely to hear! I'll make sure the %[2]s team knows.",
		insult:        "I'm sorry I haven't been more help. I'm here for questions about %[2]s: try asking another way, or type /help.",
		complaint:     "I'm sorry to hear that, and thank you for telling us.",
		identity:      "I'm %[1]s, %[2]s's assistant: I answer questions about %[2]s from what the team has told me. I'm an AI, not a person.",
		unknown:       "Sorry, I don't know that one: it isn't in what %[2]s has told me.",
		unknownNext:   "You could ask another way, or reach the team:",
		help:          "You could ask another way, or type /help to see what I can do.",
		complaintNext: "Tell me what happened and I'll point you to the right help, or reach the team directly:",
		complaintHelp: "Tell me what happened (an order, a delivery, a product) and I'll point you to the right help.",
		from:          " (from %s)",
	},
	"zh": {
		thanks:        "不客气！还有关于%[2]s的问题，随时问我。",
		bye:           "再见！有需要随时找我。",
		praise:        "谢谢你的喜欢！我会转告%[2]s团队的。",
		insult:        "抱歉没能帮上忙。我可以回答关于%[2]s的问题，可以换个说法再问，或输入 /help 看看我能做什么。",
		complaint:     "很抱歉给你带来不好的体验，谢谢你告诉我们。",
		identity:      "我是%[1]s，%[2]s的助手，根据%[2]s提供的资料回答问题。我是 AI，不是真人。",
		unknown:       "抱歉，这个问题我不知道：%[2]s给我的资料里没有提到。",
		unknownNext:   "可以换个说法再问，或者联系团队：",
		help:          "可以换个说法再问，或输入 /help 看看我能做什么。",
		complaintNext: "告诉我发生了什么，我来帮你找到合适的帮助，也可以直接联系团队：",
		complaintHelp: "告诉我发生了什么（订单、配送还是产品），我来帮你找到合适的帮助。",
		from:          "（来源：%s）",
	},
}

func book(lang string) phrasebook {
	if p, ok := phrases[lang]; ok {
		return p
	}
	return phrases["en"]
}

// chat answers a chat message without a model: small talk gets a fitting
// reply; a question gets the sentences of the passages that answer it
// (bestSentences), with the source named briefly, or, when none does, an honest
// "I don't know" (marked with bot.NoAnswerMarker) with a next step.
func (o *Offline) chat(req bot.Request) string {
	q := query(req)
	lang := language(req, q)
	pb := book(lang)
	botName, brand := names(req.Persona)
	if brand == "" {
		brand = map[string]string{"zh": "我们"}[lang]
		if brand == "" {
			brand = "the team"
		}
	}
	say := strings.NewReplacer("%[1]s", botName, "%[2]s", brand).Replace
	switch textkit.SmallTalk(q) {
	case textkit.TalkGreeting:
		return greeting(lang, botName, req.Persona.Brand)
	case textkit.TalkThanks:
		return say(pb.thanks)
	case textkit.TalkBye:
		return say(pb.bye)
	case textkit.TalkPraise:
		return say(pb.praise)
	case textkit.TalkInsult:
		return say(pb.insult)
	case textkit.TalkIdentity:
		return say(pb.identity)
	case textkit.TalkComplaint:
		// Acknowledge it, then what the knowledge base says about it
		// (returns, damaged parcels), or how to reach a person.
		reply := say(pb.complaint)
		if picks := bestSentences(q, req.Passages); len(picks) > 0 {
			return reply + sep(lang) + render(lang, picks)
		}
		if c := contactSentence(req.Contact); c != "" {
			return reply + sep(lang) + say(pb.complaintNext) + sep(lang) + c
		}
		return reply + sep(lang) + say(pb.complaintHelp)
	}
	picks := bestSentences(q, req.Passages)
	if len(picks) == 0 {
		next := say(pb.help)
		if c := contactSentence(req.Contact); c != "" {
			next = say(pb.unknownNext) + sep(lang) + c
		}
		return bot.NoAnswerMarker + say(pb.unknown) + sep(lang) + next
	}
	return render(lang, picks)
}

// sep joins two sentences: a space in English, nothing in Chinese.
func sep(lang string) string {
	if lang == "zh" {
		return ""
	}
	return " "
}

// between joins two quoted sentences: nothing after a Chinese one
// followed by another, else a space (an English sentence quoted to a
// Chinese question keeps its space).
func between(a, b string) string {
	last, _ := utf8.DecodeLastRuneInString(a)
	first, _ := utf8.DecodeRuneInString(b)
	if (textkit.IsHan(last) || last > unicode.MaxLatin1 && unicode.IsPunct(last)) && textkit.IsHan(first) {
		return ""
	}
	return " "
}

// render writes the picked sentences and names their source once.
func render(lang string, picks []pick) string {
	var b strings.Builder
	for i, p := range picks {
		if i > 0 {
			b.WriteString(between(picks[i-1].text, p.text))
		}
		b.WriteString(p.text)
	}
	if t := briefTitle(picks[0].title); t != "" {
		b.WriteString(fmt.Sprintf(book(lang).from, t))
	}
	return b.String()
}

// briefTitle shortens a document title for a citation: "常见问题（中文）"
// is "常见问题".
func briefTitle(t string) string {
	if i := strings.IndexAny(t, "(（"); i > 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}

// contactSentence picks, from the contact passage, the sentence that says
// how to reach a person.
func contactSentence(ps []bot.Passage) string {
	for _, p := range ps {
		for _, s := range textkit.Sentences(p.Text) {
			l := strings.ToLower(s)
			if strings.Contains(l, "@") || strings.Contains(l, "email") || strings.Contains(s, "联系") {
				return clip(s, maxSentenceRunes)
			}
		}
	}
	return ""
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func greeting(lang, botName, brand string) string {
	if lang == "zh" {
		switch {
		case brand == "":
			return "你好！有什么可以帮你的？输入 /help 看看我能做什么。"
		case botName == brand:
			return "你好！这里是" + brand + "。有什么问题都可以问我，输入 /help 看看我能做什么。"
		}
		return "你好！我是" + botName + "，" + brand + "的助手。有什么关于" + brand + "的问题都可以问我，输入 /help 看看我能做什么。"
	}
	switch {
	case brand == "":
		return "Hi! How can I help? Type /help to see what I can do."
	case botName == brand:
		return "Hi! This is " + brand + ". Ask me anything, or type /help to see what I can do."
	}
	return "Hi! I'm " + botName + ", " + brand + "'s assistant. Ask me anything about " + brand + ", or type /help to see what I can do."
}

// pick is a sentence chosen for an answer.
type pick struct {
	text, source, title string
	passage, pos        int
	score               float64
}

// sentence is a candidate sentence of an answer, scored.
type sentence struct {
	pick
	unit textkit.Unit
	// answers is set when the sentence itself holds something of the
	// question; score is only meaningful then.
	answers bool
}

// rankSentences scores every sentence of the top passages against q as
// the knowledge base matches them (textkit.Query.Match): each of the
// question's concepts, in its own words, a synonym or (Chinese) its
// characters, weighs more the fewer candidate sentences hold it; the
// passage's heading and document title and the sentence before in the
// same paragraph are context; a sentence stating the kind of fact asked
// for (a duration for "how long") ranks higher; and higher-ranked
// passages win ties. A sentence that holds nothing of the question itself
// (only its context does) doesn't answer it.
func rankSentences(query textkit.Query, passages []bot.Passage) ([]sentence, []float64) {
	var cands []sentence
	for pi, p := range passages[:min(len(passages), offlinePassages)] {
		ctx := textkit.PassageContext(p.Heading, p.Title, p.Source)
		si := 0
		for _, para := range textkit.Paragraphs(p.Text) {
			for i, s := range para {
				var before textkit.SortedSet
				if i > 0 {
					before = cands[len(cands)-1].unit.Terms
				}
				u := ctx.Unit(textkit.IndexTermSet(s), textkit.Kinds(s), before)
				cands = append(cands, sentence{pick: pick{text: clip(s, maxSentenceRunes), source: orDefault(p.Source, "knowledge base"),
					title: orDefault(p.Title, strings.TrimSuffix(p.Source, path.Ext(p.Source))), passage: pi, pos: si}, unit: u})
				si++
			}
		}
	}
	// A concept weighs more the fewer candidates hold it in any form.
	weights := make([]float64, len(query.Concepts))
	for i, qc := range query.Concepts {
		df := 0
		for _, c := range cands {
			if qc.Credit(textkit.Unit{Terms: c.unit.Terms}) > 0 {
				df++
			}
		}
		weights[i] = math.Log(1 + float64(len(cands))/float64(1+df))
	}
	w := query.Weights(func(i int, _ textkit.Concept) float64 { return weights[i] })
	for i := range cands {
		c := &cands[i]
		own := holdsOne(query, textkit.Unit{Terms: c.unit.Terms, Kinds: c.unit.Kinds})
		// A sentence stating the kind of fact asked for, in a section
		// about the question ("2 to 5 business days" under "Shipping
		// times") or after a sentence about it ("From $15 per bag." after
		// the plan), answers it too.
		kind := query.Wants&c.unit.Kinds != 0 &&
			holdsOne(query, textkit.Unit{Heading: c.unit.Heading, Title: c.unit.Title, Before: c.unit.Before})
		if c.answers = own || kind; c.answers {
			c.score = query.Match(c.unit, w, nil).Rank - 0.05*float64(c.passage) - 0.01*float64(c.pos)
		}
	}
	return cands, w
}

// bestSentences picks the sentence of the top passages that answers q
// best (rankSentences), the one before it when it leans on it, and
// another when it says the rest of the answer or carries it on ("If it
// drains faster, grind finer."), in reading order.
func bestSentences(q string, passages []bot.Passage) []pick {
	query := textkit.ParseQuery(q)
	if len(query.Concepts) == 0 || len(passages) == 0 {
		return nil
	}
	cands, w := rankSentences(query, passages)
	best := -1
	for i, c := range cands {
		if c.answers && (best < 0 || c.score > cands[best].score) {
			best = i
		}
	}
	if best < 0 {
		// Only the heading matched: the section's first sentence.
		for i := range cands {
			if cands[i].passage == 0 && query.Match(textkit.Unit{Heading: cands[i].unit.Heading}, w, nil).Score > 0 {
				return []pick{cands[i].pick}
			}
		}
		return nil
	}
	out := []pick{cands[best].pick}
	used := utf8.RuneCountInString(cands[best].text)
	fits := func(i int) bool { return used+utf8.RuneCountInString(cands[i].text) < maxSentenceRunes }
	// A sentence that holds part of the question only through the one
	// before it ("From $17 per bag." after the plan it prices, "Change
	// one thing at a time." after "if it tastes sour, grind finer") is
	// read with it.
	prev := -1
	if best > 0 && leans(query, cands[best].unit) && fits(best-1) {
		prev = best - 1
		out = append(out, cands[prev].pick)
		used += utf8.RuneCountInString(cands[prev].text)
	}
	// A runner-up of the same passage nearly as good says the rest of
	// the answer ("Opened bags can be exchanged." after the refund rule).
	second := -1
	for i, c := range cands {
		if i != best && i != prev && c.answers && c.passage == cands[best].passage && c.score >= 0.75*cands[best].score &&
			(second < 0 || c.score > cands[second].score) {
			second = i
		}
	}
	switch n := best + 1; {
	case second >= 0 && fits(second):
		out = append(out, cands[second].pick)
	case n < len(cands) && cands[n].passage == cands[best].passage && continues(cands[n].text) && fits(n):
		out = append(out, cands[n].pick)
	}
	slices.SortFunc(out, func(a, b pick) int { return a.pos - b.pos })
	return out
}

// leans reports whether u holds one of q's content concepts only
// through the sentence before it.
func leans(q textkit.Query, u textkit.Unit) bool {
	if len(u.Before) == 0 {
		return false
	}
	for _, c := range q.Concepts {
		if !c.Filler && c.Credit(textkit.Unit{Terms: u.Terms, Heading: u.Heading, Title: u.Title}) == 0 &&
			c.Credit(textkit.Unit{Before: u.Before}) > 0 {
			return true
		}
	}
	return false
}

// holdsOne reports whether u holds one of q's content concepts at least
// half-way (a character or two of a Chinese word is not enough).
func holdsOne(q textkit.Query, u textkit.Unit) bool {
	for _, c := range q.Concepts {
		if !c.Filler && c.Credit(u) >= 0.5 {
			return true
		}
	}
	return false
}

// continues reports whether a sentence carries the one before it on: it
// opens with a pronoun or a condition that needs it.
func continues(s string) bool {
	first, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), " ")
	switch strings.Trim(first, ",;:") {
	case "if", "it", "this", "that", "they", "these", "those", "then", "otherwise", "after", "there", "so":
		return true
	}
	for _, p := range []string{"如果", "这", "之后", "否则", "然后"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}

// sentences splits chat text (not Markdown: a "#tag" line is text) into
// sentences.
func sentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, s := range textkit.SplitSentences(line) {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// terms are the content terms of s.
func terms(s string) map[string]bool { return textkit.TermSet(s) }

// line is one candidate sentence of an extractive summary.
type line struct {
	text  string
	body  string // text without the speaker, for scoring
	order int
	score float64
}

func (o *Offline) summary(req bot.Request) string {
	var cands []line
	for _, s := range sentences(req.Summary) {
		cands = append(cands, line{text: s})
	}
	cands = append(cands, turnLines(req.Turns)...)
	return extract(cands, o.summaryRunes)
}

func (o *Offline) digest(req bot.Request) string {
	cands := turnLines(req.Turns)
	if len(cands) == 0 {
		for _, s := range sentences(query(req)) {
			cands = append(cands, line{text: s})
		}
	}
	return extract(cands, o.summaryRunes)
}

// turnLines makes candidate sentences of turns, each with its speaker.
func turnLines(turns []bot.Turn) []line {
	var out []line
	for _, t := range turns {
		name := t.Name
		if name == "" {
			name = t.Role
		}
		for _, s := range sentences(t.Text) {
			s = clip(s, maxSentenceRunes/2)
			out = append(out, line{text: name + ": " + s, body: s})
		}
	}
	return out
}

// extract keeps the most informative candidates within limit runes, in
// their original order. A sentence is informative when it has many
// content terms, and more so when its terms recur elsewhere in the
// conversation (it is about the main topic); questions get a bonus.
func extract(cands []line, limit int) string {
	if len(cands) == 0 {
		return ""
	}
	df := map[string]int{}
	ts := make([]map[string]bool, len(cands))
	for i, c := range cands {
		if c.body == "" {
			c.body = c.text
		}
		ts[i] = terms(c.body)
		for k := range ts[i] {
			df[k]++
		}
	}
	for i := range cands {
		cands[i].order = i
		s := 0.0
		for k := range ts[i] {
			s += 1 + 0.5*float64(min(df[k]-1, 3))
		}
		if s > 0 && strings.ContainsAny(cands[i].text, "?？") {
			s += 2
		}
		cands[i].score = s
	}
	// Sentences without a content term ("ok", "thanks") say nothing.
	cands = slices.DeleteFunc(cands, func(c line) bool { return c.score == 0 })
	if len(cands) == 0 {
		return ""
	}
	ranked := slices.Clone(cands)
	slices.SortStableFunc(ranked, func(a, b line) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return a.order - b.order
	})
	var keep []line
	used := 0
	for _, c := range ranked {
		n := utf8.RuneCountInString(c.text) + 1
		if used+n > limit {
			continue
		}
		used += n
		keep = append(keep, c)
	}
	if len(keep) == 0 {
		return clip(ranked[0].text, limit)
	}
	slices.SortFunc(keep, func(a, b line) int { return a.order - b.order })
	parts := make([]string, len(keep))
	for i, c := range keep {
		parts[i] = c.text
	}
	return strings.Join(parts, " ")
}
