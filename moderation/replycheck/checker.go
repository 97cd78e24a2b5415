package replycheck

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/textclass"
)

// Rules are the community's own rules that also bind the bot's words: the
// word lists, regexes and link policy. *moderation.Moderator implements
// it; category is empty when nothing fired.
type Rules interface {
	ReplyRules(ctx context.Context, text string) (category, rule string)
}

// Polarity scores the sentiment of a sentence from -1 (negative) to 1
// (positive). The analytics classifier provides it.
type Polarity interface {
	Polarity(text string) float64
}

// PolarityFunc adapts a function to Polarity.
type PolarityFunc func(text string) float64

// Polarity calls f.
func (f PolarityFunc) Polarity(text string) float64 { return f(text) }

// Competitor is a brand the bot must not run down, by name and aliases.
type Competitor struct {
	Name    string
	Aliases []string
}

// Config is how the checks behave: the "moderation.replies" section,
// declared by package moderation. Zero thresholds take the defaults named
// on them (withDefaults).
type Config = moderation.ReplyChecks

// withDefaults fills zero thresholds: offensive 0.9, hate 0.8, a group
// named 0.5, a competitor negative at -0.4.
func withDefaults(c Config) Config {
	if c.OffensiveAt <= 0 {
		c.OffensiveAt = 0.9
	}
	if c.HateAt <= 0 {
		c.HateAt = 0.8
	}
	if c.GroupHateAt <= 0 {
		c.GroupHateAt = 0.5
	}
	if c.CompetitorNegativeAt == 0 {
		c.CompetitorNegativeAt = -0.4
	}
	return c
}

// WithCompetitors names the brands analytics watches (analytics.competitors):
// a sentence naming one is blocked when negative, or always when the
// persona's "don't" rules forbid discussing competitors.
func WithCompetitors(cs ...Competitor) Option {
	return func(c *Checker) { c.competitors = append(c.competitors, cs...) }
}

// Option configures a Checker.
type Option func(*Checker)

// WithRules adds the community's rules (the moderator's word lists,
// regexes and link policy) to the abuse check.
func WithRules(r Rules) Option { return func(c *Checker) { c.rules = r } }

// WithPolarity sets the sentence sentiment scorer of the competitor
// check; without one, only the list of judging words makes a sentence
// about a competitor negative.
func WithPolarity(p Polarity) Option { return func(c *Checker) { c.polarity = p } }

// WithClassifier replaces the shipped model of task (offensive or hate)
// with prob, the probability of its flagged class; a nil prob turns the
// task off. Tests use it to script scores.
func WithClassifier(task moderation.Task, prob func(text string) float64) Option {
	return func(c *Checker) { c.cls[task] = prob }
}

// Checker runs the output checks on each sentence of the bot's words:
// abuse, generalisations about protected groups, competitors, and
// ungrounded specifics (see Specifics). It implements bot.OutputChecker
// and is safe for concurrent use.
type Checker struct {
	cfg         Config
	competitors []Competitor
	rules       Rules
	polarity    Polarity
	cls         map[moderation.Task]func(string) float64
	abuse       *moderation.WordList
	dehuman     *moderation.WordList
	// groups and frameNouns find, in one pass, whether the slower
	// patterns can match at all.
	groups     *moderation.WordList
	frameNouns *moderation.WordList
	// comps finds the competitors' names and aliases (moderation's word
	// matching: whole words in Latin scripts, anywhere in Chinese);
	// compName maps each to the competitor's name.
	comps    *moderation.WordList
	compName map[string]string
	allow    grounded
	cache    specificsCache
}

var _ bot.OutputChecker = (*Checker)(nil)

// New builds the checks. The offensive and hate classifiers are the ones
// moderation ships (moderation.Model), loaded on the first sentence
// checked; a build without them runs the other checks. It does no I/O.
func New(cfg Config, opts ...Option) (*Checker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("replycheck: config: %w", err)
	}
	c := &Checker{cfg: withDefaults(cfg), cls: map[moderation.Task]func(string) float64{}}
	for _, task := range []moderation.Task{moderation.TaskOffensive, moderation.TaskHate} {
		if !moderation.HasModel(task) {
			continue
		}
		// Loaded on the first sentence checked (moderation.LazyModel).
		c.cls[task] = lazyScore(moderation.LazyModel(task))
	}
	for _, o := range opts {
		o(c)
	}
	for i, comp := range c.competitors {
		if strings.TrimSpace(comp.Name) == "" {
			return nil, fmt.Errorf("replycheck: competitor %d has no name", i)
		}
	}
	c.abuse = moderation.NewWordList(abuseWords)
	c.dehuman = moderation.NewWordList(dehumanisingWords)
	c.groups = moderation.NewWordList(append(append(append([]string(nil), groupNouns...), groupAdjectives...), groupZH...))
	c.frameNouns = moderation.NewWordList(dehumanisingFrameNouns)
	var names []string
	c.compName = map[string]string{}
	for _, comp := range c.competitors {
		for _, n := range append([]string{comp.Name}, comp.Aliases...) {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
				c.compName[n] = comp.Name
			}
		}
	}
	c.comps = moderation.NewWordList(names)
	c.allow = newGrounded()
	for _, a := range cfg.Allow {
		c.allow.addAllowed(a)
	}
	c.cache.m = map[string][]Specific{}
	return c, nil
}

// CheckSentence implements bot.OutputChecker: the checks in order abuse,
// generalisation, competitor, ungrounded; the first that fires decides.
func (c *Checker) CheckSentence(ctx context.Context, s string, g *bot.Grounding) bot.Violation {
	if strings.TrimSpace(s) == "" {
		return bot.Violation{}
	}
	if g == nil {
		g = &bot.Grounding{}
	}
	norm := moderation.Normalize(s)
	for _, check := range []func() bot.Violation{
		func() bot.Violation { return c.checkAbuse(ctx, s, norm) },
		func() bot.Violation { return c.checkGeneralisation(s, norm) },
		func() bot.Violation { return c.checkCompetitor(s, norm, g) },
		func() bot.Violation { return c.checkGrounded(s, g) },
	} {
		if v := check(); v.Blocked() {
			return v
		}
	}
	return bot.Violation{}
}

// Reasons said to the model when it is asked again.
const (
	reasonAbuse          = "your draft used offensive or hateful language; answer again politely and respectfully"
	reasonGeneralisation = "your draft made a generalisation about a group of people; answer again without any statement about what a group of people is like"
	reasonUngrounded     = "your draft stated a %s (%s) that the facts don't give; answer again using only the facts given"
	reasonLink           = "your draft held a link this chat does not allow; answer again without it, using only the facts given"
	reasonCompetitorBad  = "your draft spoke badly of another brand (%s); answer again without judging or comparing other brands"
	reasonCompetitorAny  = "your draft talked about another brand (%s), which this brand does not discuss; answer again without naming other brands"
)

func (c *Checker) checkAbuse(ctx context.Context, s, norm string) bot.Violation {
	key := moderation.Squeeze(norm)
	if w, ok := c.abuse.Match(key); ok {
		return bot.Violation{Check: bot.CheckAbuse, Reason: reasonAbuse, Detail: "word list: " + maskWord(w), Masked: maskIn(s, w)}
	}
	if w, ok := c.dehuman.Match(key); ok {
		return bot.Violation{Check: bot.CheckAbuse, Reason: reasonAbuse, Detail: "dehumanising: " + w, Masked: maskIn(s, w)}
	}
	if _, ok := c.frameNouns.Match(key); ok {
		if m := dehumanisingFrame.FindString(norm); m != "" {
			return bot.Violation{Check: bot.CheckAbuse, Reason: reasonAbuse, Detail: "dehumanising: " + strings.TrimSpace(m), Masked: bot.MaskPII(s)}
		}
	}
	if c.rules != nil {
		if cat, rule := c.rules.ReplyRules(ctx, s); cat != "" {
			check, reason := bot.CheckAbuse, reasonAbuse
			switch moderation.Category(cat) {
			case moderation.CatLink, moderation.CatInvite, moderation.CatShortener, moderation.CatNewLink:
				check, reason = bot.CheckUngrounded, reasonLink
			}
			return bot.Violation{Check: check, Reason: reason, Detail: "moderation rule " + cat + ": " + maskWord(rule), Masked: maskIn(s, rule)}
		}
	}
	if p := c.prob(moderation.TaskHate, norm); p >= c.cfg.HateAt {
		return bot.Violation{Check: bot.CheckAbuse, Reason: reasonAbuse, Detail: fmt.Sprintf("hate classifier %.2f", p), Masked: bot.MaskPII(s)}
	}
	if p := c.prob(moderation.TaskOffensive, norm); p >= c.cfg.OffensiveAt {
		return bot.Violation{Check: bot.CheckAbuse, Reason: reasonAbuse, Detail: fmt.Sprintf("offensive classifier %.2f", p), Masked: bot.MaskPII(s)}
	}
	return bot.Violation{}
}

// prob is a classifier's probability for norm; 0 for a sentence too
// short for the classifiers to say anything (under four words, or six
// Chinese characters).
func (c *Checker) prob(task moderation.Task, norm string) float64 {
	f := c.cls[task]
	if f == nil || !long(norm) {
		return 0
	}
	return f(norm)
}

func long(s string) bool {
	han := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	return han >= 6 || len(strings.Fields(s)) >= 4
}

func (c *Checker) checkGeneralisation(s, norm string) bot.Violation {
	if _, ok := c.groups.Match(moderation.Squeeze(norm)); !ok {
		return bot.Violation{} // no group named
	}
	text := benignRE.ReplaceAllString(norm, "")
	if m := generalisationRE.FindString(text); m != "" {
		return bot.Violation{Check: bot.CheckGeneralisation, Reason: reasonGeneralisation,
			Detail: "pattern: " + strings.TrimSpace(strings.TrimFunc(m, func(r rune) bool { return !unicode.IsLetter(r) })), Masked: bot.MaskPII(s)}
	}
	if groupMentionRE.MatchString(text) {
		if p := c.prob(moderation.TaskHate, norm); p >= c.cfg.GroupHateAt {
			return bot.Violation{Check: bot.CheckGeneralisation, Reason: reasonGeneralisation,
				Detail: fmt.Sprintf("group named, hate classifier %.2f", p), Masked: bot.MaskPII(s)}
		}
	}
	return bot.Violation{}
}

func (c *Checker) checkCompetitor(s, norm string, g *bot.Grounding) bot.Violation {
	w, ok := c.comps.Match(moderation.Squeeze(norm))
	if !ok {
		return bot.Violation{}
	}
	name := c.compName[w]
	if personaForbids(g.Persona) {
		return bot.Violation{Check: bot.CheckCompetitor, Reason: fmt.Sprintf(reasonCompetitorAny, name),
			Detail: name + " named; the persona forbids discussing competitors", Masked: bot.MaskPII(s)}
	}
	if m := negativeAbout.FindString(s); m != "" {
		return bot.Violation{Check: bot.CheckCompetitor, Reason: fmt.Sprintf(reasonCompetitorBad, name),
			Detail: name + " named with " + strconvQuote(m), Masked: bot.MaskPII(s)}
	}
	if c.polarity != nil {
		if p := c.polarity.Polarity(s); p <= c.cfg.CompetitorNegativeAt {
			return bot.Violation{Check: bot.CheckCompetitor, Reason: fmt.Sprintf(reasonCompetitorBad, name),
				Detail: fmt.Sprintf("%s named, sentiment %.2f", name, p), Masked: bot.MaskPII(s)}
		}
	}
	return bot.Violation{}
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// personaForbids reports whether the persona's "don't" rules forbid
// discussing competitors.
func personaForbids(p bot.Persona) bool {
	for _, d := range p.Dont {
		l := strings.ToLower(d)
		for _, t := range competitorTopics {
			if strings.Contains(l, t) {
				return true
			}
		}
	}
	return false
}

func (c *Checker) checkGrounded(s string, g *bot.Grounding) bot.Violation {
	sp := Specifics(s)
	if len(sp) == 0 {
		return bot.Violation{}
	}
	gr := g.Memo(groundKey{c}, func() any { return c.ground(g) }).(grounded)
	for _, x := range sp {
		if gr.has(x) || c.allow.has(x) {
			continue
		}
		return bot.Violation{Check: bot.CheckUngrounded, Reason: fmt.Sprintf(reasonUngrounded, x.Kind, x.Text),
			Detail: fmt.Sprintf("%s %q not in the knowledge base, persona, conversation or question", x.Kind, bot.MaskPII(x.Text)),
			Masked: bot.MaskPII(s)}
	}
	return bot.Violation{}
}

// groundKey keys a checker's grounded set in a bot.Grounding's memo.
type groundKey struct{ c *Checker }

// ground collects the specifics of everything the model was given.
func (c *Checker) ground(g *bot.Grounding) grounded {
	gr := newGrounded()
	for _, t := range g.Texts() {
		for _, x := range c.cache.specifics(t) {
			gr.add(x)
		}
	}
	return gr
}

// grounded is a set of specifics: their keys, and the domains links and
// e-mail addresses point to.
type grounded struct {
	keys    map[string]bool
	domains map[string]bool
}

func newGrounded() grounded { return grounded{keys: map[string]bool{}, domains: map[string]bool{}} }

func (gr grounded) add(x Specific) {
	gr.keys[x.Key] = true
	if d := x.Domain(); d != "" {
		gr.domains[d] = true
	}
}

// addAllowed adds one allow-list entry: whatever specifics it holds, and
// itself as a domain, handle or code.
func (gr grounded) addAllowed(a string) {
	a = strings.TrimSpace(a)
	for _, x := range Specifics(a) {
		gr.add(x)
	}
	switch {
	case strings.HasPrefix(a, "@"):
		gr.keys[string(KindHandle)+":"+strings.ToLower(a[1:])] = true
	case strings.Contains(a, "."):
		if h := hostOf(a); h != "" {
			gr.domains[h] = true
		}
	default:
		gr.keys[string(KindCode)+":"+strings.ToUpper(a)] = true
	}
}

// has reports whether x is in the set: a link when its host or a parent
// domain is.
func (gr grounded) has(x Specific) bool {
	if gr.keys[x.Key] {
		return true
	}
	if x.Kind != KindURL {
		return false
	}
	for h := x.Domain(); h != ""; {
		if gr.domains[h] {
			return true
		}
		_, rest, ok := strings.Cut(h, ".")
		if !ok || !strings.Contains(rest, ".") {
			return false
		}
		h = rest
	}
	return false
}

// specificsCache keeps the specifics of texts seen recently: the same
// passages ground many answers.
type specificsCache struct {
	mu sync.Mutex
	m  map[string][]Specific
}

const maxCached = 4096

func (sc *specificsCache) specifics(t string) []Specific {
	if strings.TrimSpace(t) == "" {
		return nil
	}
	sc.mu.Lock()
	x, ok := sc.m[t]
	sc.mu.Unlock()
	if ok {
		return x
	}
	x = Specifics(t)
	sc.mu.Lock()
	if len(sc.m) >= maxCached {
		clear(sc.m)
	}
	sc.m[t] = x
	sc.mu.Unlock()
	return x
}

// maskWord keeps a word's first and last letters: "i***t".
func maskWord(w string) string {
	rs := []rune(w)
	if len(rs) <= 2 {
		return strings.Repeat("*", len(rs))
	}
	return string(rs[0]) + strings.Repeat("*", len(rs)-2) + string(rs[len(rs)-1])
}

// maskIn masks w in s wherever it appears as written (any case), and
// personal data, for the copy kept for review.
func maskIn(s, w string) string {
	s = bot.MaskPII(s)
	if w == "" {
		return s
	}
	lower := strings.ToLower(s)
	lw := strings.ToLower(w)
	var b strings.Builder
	for {
		i := strings.Index(lower, lw)
		if i < 0 || len(lower) != len(s) {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i] + maskWord(s[i:i+len(lw)]))
		s, lower = s[i+len(lw):], lower[i+len(lw):]
	}
	return b.String()
}

// Plugin is what the checks add to the engine: the output checker every
// sentence of the bot's words passes before it is shown.
func (c *Checker) Plugin() bot.Plugin { return bot.Plugin{Name: "replycheck", Checker: c} }

// lazyScore scores a sentence with the model load returns. A model that
// fails to load (a damaged build: the shipped models are embedded and
// tested) fails closed: every sentence scores 1 and is blocked, so that
// no reply goes out unchecked; the blocked count shows it.
func lazyScore(load func() (*textclass.Model, error)) func(string) float64 {
	return func(s string) float64 {
		m, err := load()
		if err != nil {
			return 1
		}
		return m.Probs(s)[1]
	}
}
