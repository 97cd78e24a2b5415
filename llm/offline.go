package llm

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
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
		case isHan(r):
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

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// language picks the answer language: the request's, else Chinese when
// the query has Han characters.
func language(req bot.Request, q string) string {
	if req.Lang != "" {
		if strings.HasPrefix(strings.ToLower(req.Lang), "zh") {
			return "zh"
		}
		return req.Lang
	}
	for _, r := range q {
		if isHan(r) {
			return "zh"
		}
	}
	return "en"
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

var (
	greetingsEN = []string{"hi", "hello", "hey", "hiya", "howdy", "yo", "greetings", "good morning", "good afternoon", "good evening", "morning", "hallo", "hola"}
	greetingsZH = []string{"你好", "您好", "嗨", "哈喽", "哈啰", "早上好", "上午好", "下午好", "晚上好", "大家好", "早安", "晚安"}
	thanksEN    = []string{"thanks", "thank you", "thx", "ty", "cheers", "many thanks", "thank u", "much appreciated", "appreciate it"}
	thanksZH    = []string{"谢谢", "多谢", "感谢", "谢了", "谢啦", "非常感谢", "太感谢了"}
)

// shortPhrase reports whether text is one of phrases, optionally followed
// by a few words ("hi there", "thanks a lot") but not by a question.
func shortPhrase(text string, en, zh []string) bool {
	t := strings.ToLower(strings.TrimSpace(text))
	if t == "" || strings.ContainsAny(t, "?？") {
		return false
	}
	t = strings.TrimRightFunc(t, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) })
	for _, p := range zh {
		if rest, ok := strings.CutPrefix(t, p); ok && utf8.RuneCountInString(strings.TrimSpace(rest)) <= 4 {
			return true
		}
	}
	words := strings.FieldsFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	for _, p := range en {
		pw := strings.Fields(p)
		if len(words) >= len(pw) && len(words) <= len(pw)+3 && slices.Equal(words[:len(pw)], pw) {
			return true
		}
	}
	return false
}

func names(p bot.Persona) (botName, brand string) {
	brand = p.Brand
	botName = p.BotName
	if botName == "" {
		botName = brand
	}
	return botName, brand
}

func (o *Offline) chat(req bot.Request) string {
	q := query(req)
	lang := language(req, q)
	botName, brand := names(req.Persona)
	switch {
	case shortPhrase(q, greetingsEN, greetingsZH):
		return greeting(lang, botName, brand)
	case shortPhrase(q, thanksEN, thanksZH):
		if lang == "zh" {
			if brand != "" {
				return "不客气！还有关于" + brand + "的问题，随时问我。"
			}
			return "不客气！还有问题随时问我。"
		}
		if brand != "" {
			return "You're welcome! If there's anything else about " + brand + ", just ask."
		}
		return "You're welcome! If there's anything else, just ask."
	}
	picks := bestSentences(q, req.Passages)
	if len(picks) == 0 {
		if lang == "zh" {
			return "抱歉，这个问题我不知道：我在" + orDefault(brand, "现有") + "的资料里没有找到答案。可以换个说法再问，或输入 /help 看看我能做什么。"
		}
		return "Sorry, I don't know that one: I couldn't find it in what " + orDefault(brand, "I've been given") + " has told me. Try asking another way, or type /help to see what I can do."
	}
	var b strings.Builder
	if lang == "zh" {
		if brand != "" {
			b.WriteString(brand + "的资料里是这样说的：")
		} else {
			b.WriteString("资料里是这样说的：")
		}
	} else {
		if brand != "" {
			b.WriteString("Here's what " + brand + " says: ")
		} else {
			b.WriteString("Here's what I found: ")
		}
	}
	for i, p := range picks {
		if i > 0 && lang != "zh" {
			b.WriteByte(' ')
		}
		b.WriteString(p.text)
		last := i == len(picks)-1 || picks[i+1].source != p.source
		if last {
			if lang == "zh" {
				b.WriteString("（来源：" + p.source + "）")
			} else {
				b.WriteString(" (source: " + p.source + ")")
			}
		}
	}
	return b.String()
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
	text, source string
	passage, pos int
	score        float64
}

// bestSentences picks the one or two sentences of the top passages that
// share the most terms with q, in reading order.
func bestSentences(q string, passages []bot.Passage) []pick {
	qt := terms(q)
	if len(qt) == 0 {
		return nil
	}
	var cands []pick
	for pi, p := range passages[:min(len(passages), offlinePassages)] {
		head := overlap(qt, terms(p.Heading))
		for si, s := range sentences(p.Text) {
			ov := overlap(qt, terms(s))
			if ov == 0 && head == 0 {
				continue
			}
			// Sentence matches count most; a matching heading lends
			// weight to its section; earlier passages (ranked higher)
			// and earlier sentences win ties.
			score := float64(ov) + 0.5*float64(head) - 0.01*float64(pi) - 0.001*float64(si)
			cands = append(cands, pick{text: clip(s, maxSentenceRunes), source: orDefault(p.Source, "knowledge base"), passage: pi, pos: si, score: score})
		}
	}
	if len(cands) == 0 {
		return nil
	}
	slices.SortStableFunc(cands, func(a, b pick) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	best := cands[0]
	if best.score < 0.9 {
		return nil // only a weak heading match
	}
	out := []pick{best}
	for _, c := range cands[1:] {
		if c.score >= best.score/2 && c.text != best.text {
			out = append(out, c)
			break
		}
	}
	slices.SortFunc(out, func(a, b pick) int {
		if a.passage != b.passage {
			return a.passage - b.passage
		}
		return a.pos - b.pos
	})
	return out
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}

// sentences splits text into sentences and lines, dropping Markdown
// markers (headings, bullets) and empty pieces.
func sentences(text string) []string {
	var out []string
	for _, line := range unwrap(text) {
		line = strings.TrimSpace(line)
		line = strings.TrimLeft(line, "#>*-+ \t")
		if line == "" {
			continue
		}
		start := 0
		rs := []rune(line)
		for i, r := range rs {
			end := false
			switch r {
			case '。', '！', '？', '；':
				end = true
			case '.', '!', '?':
				end = i+1 == len(rs) || unicode.IsSpace(rs[i+1])
			}
			if end {
				if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
					out = append(out, s)
				}
				start = i + 1
			}
		}
		if s := strings.TrimSpace(string(rs[start:])); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// unwrap joins the hard-wrapped lines of a Markdown paragraph, so that a
// sentence broken across lines stays one sentence; headings, list items
// and table rows start lines of their own.
func unwrap(text string) []string {
	var out []string
	joinable := false
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(emphasis.Replace(line))
		if t == "" {
			joinable = false
			continue
		}
		starts := strings.HasPrefix(t, "#") || strings.HasPrefix(t, "|") || strings.HasPrefix(t, ">") ||
			strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "+ ") || orderedItem(t)
		if joinable && !starts && len(out) > 0 {
			out[len(out)-1] += " " + t
		} else {
			out = append(out, t)
		}
		joinable = !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "|")
	}
	return out
}

// emphasis drops Markdown bold and code markers, which read as noise in a
// plain-text answer.
var emphasis = strings.NewReplacer("**", "", "__", "", "`", "")

// orderedItem reports whether t starts like "12. " or "3) ".
func orderedItem(t string) bool {
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(t) && (t[i] == '.' || t[i] == ')') && t[i+1] == ' '
}

var stopEN = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the is are was were be been being am do does did doing have has had
		i me my we our us you your he she it its they them their this that these those there here
		what which who whom whose when where why how can could would should will shall may might must
		to of in on at by for from with about as into over under and or but if then so than too very
		not no yes just also any some all please tell know want need get got hi hello hey thanks thank
		ok okay yeah yep yup sure cool great nice lol haha thx`) {
		stopEN[w] = true
	}
}

// Han characters too common to mean anything in a bigram: particles spoil
// any bigram they are in, the others only bigrams of two of them.
const (
	particlesHan = "的了吗呢吧啊么呀哦嗯哈"
	stopHan      = particlesHan + "我你他她它们是在有和与这那个就都也还好谢"
)

// terms are the content terms of s: stemmed English words of two letters
// or more without stop words, and Han character bigrams (a lone Han
// character between non-Han text counts as itself).
func terms(s string) map[string]bool {
	t := map[string]bool{}
	var word []rune
	var han []rune
	flushWord := func() {
		if len(word) >= 2 {
			w := strings.ToLower(string(word))
			if !stopEN[w] {
				t[stem(w)] = true
			}
		}
		word = word[:0]
	}
	flushHan := func() {
		if len(han) == 1 && !strings.ContainsRune(stopHan, han[0]) && !strings.ContainsRune(particlesHan, han[0]) {
			t[string(han)] = true
		}
		for i := 0; i+1 < len(han); i++ {
			a, b := han[i], han[i+1]
			if strings.ContainsRune(particlesHan, a) || strings.ContainsRune(particlesHan, b) ||
				strings.ContainsRune(stopHan, a) && strings.ContainsRune(stopHan, b) {
				continue
			}
			t[string(han[i:i+2])] = true
		}
		han = han[:0]
	}
	for _, r := range s {
		switch {
		case isHan(r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushHan()
			word = append(word, unicode.ToLower(r))
		default:
			flushWord()
			flushHan()
		}
	}
	flushWord()
	flushHan()
	return t
}

// stem strips the commonest English suffixes so "returns" meets "return"
// and "shipping" meets "shipped".
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			w = strings.TrimSuffix(w, suf)
			break
		}
	}
	if n := len(w); n >= 4 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiou", rune(w[n-1])) {
		w = w[:n-1] // shipp -> ship
	}
	return w
}

func overlap(q, s map[string]bool) int {
	n := 0
	for k := range q {
		if s[k] {
			n++
		}
	}
	return n
}

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
