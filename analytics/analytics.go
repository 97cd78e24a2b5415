package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
)

// Analytics scores messages, keeps rollups, warns about negative surges and
// answers the managers' reporting commands. Create it with New and install
// its Plugin on the engine, which runs Run for the periodic flushes. It is
// safe for concurrent use.
type Analytics struct {
	kv      bot.KV
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	offline Classifier
	model   bot.LLM
	prompts Prompts
	comps   []competitorMatcher
	members Members

	batchOnce sync.Once
	batcher   *llmBatcher

	flushMu sync.Mutex
	mu      sync.Mutex
	delta   *delta
	chats   map[string]*chatState
	names   map[string]bool
	brand   map[string]*brandPost
}

var (
	_ bot.Inspector = (*Analytics)(nil)
	_ bot.Observer  = (*Analytics)(nil)
)

// Labels are the values analytics puts in the events it emits: the
// sentiment labels of bot.EventScored and the alert kinds of
// bot.EventAlert, for the metrics.
func Labels() bot.Labels {
	l := bot.Labels{Alerts: AlertKinds}
	for _, s := range SentimentLabels {
		l.Sentiments = append(l.Sentiments, s.String())
	}
	return l
}

// New builds Analytics over a KV. It loads the embedded sentiment models
// (unless WithClassifier replaced them) and does no network I/O.
func New(kv bot.KV, cfg Config, opts ...Option) (*Analytics, error) {
	if kv == nil {
		return nil, errors.New("analytics: New: nil kv")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("analytics: config: %w", err)
	}
	cfg = cfg.withDefaults()
	a := &Analytics{
		kv:    kv,
		cfg:   cfg,
		log:   slog.New(slog.DiscardHandler),
		now:   time.Now,
		delta: newDelta(),
		chats: map[string]*chatState{},
		names: map[string]bool{},
		brand: map[string]*brandPost{},
	}
	for _, o := range opts {
		o(a)
	}
	if a.offline == nil {
		c, err := NewOfflineClassifier(cfg.NeutralBand)
		if err != nil {
			return nil, fmt.Errorf("analytics: load models: %w", err)
		}
		a.offline = c
	}
	a.comps = newCompetitorMatchers(cfg.Competitors)
	return a, nil
}

// Classifier is the offline sentiment classifier every message is scored
// with, for other parts that want the same labels (digests' mood).
func (a *Analytics) Classifier() Classifier { return a.offline }

// Run flushes rollups every Config.FlushEvery until ctx ends, then flushes
// once more.
func (a *Analytics) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return a.Flush(fctx)
		case <-t.C:
			if err := a.Flush(ctx); err != nil {
				a.log.Warn("analytics flush failed", "err", err)
			}
		}
	}
}

// Score classifies one text with the configured mode; the LLM mode falls
// back to the offline result.
func (a *Analytics) Score(ctx context.Context, llm bot.LLM, text string) Sentiment {
	off := a.offline.Classify(text)
	if a.cfg.SentimentMode != ModeLLM || llm == nil || a.prompts == nil {
		return off
	}
	a.batchOnce.Do(func() { a.batcher = newLLMBatcher(llm, a.prompts, a.cfg, a.log) })
	s, err := a.batcher.classify(ctx, text)
	if err != nil {
		a.log.Debug("llm sentiment failed, using offline", "err", err)
		return off
	}
	s.Lang = off.Lang
	return s
}

// Inspect scores m, records it and, when the chat turned negative, alerts
// the managers. It never stops a message.
func (a *Analytics) Inspect(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
	if m.Author.IsBot || m.Edited || m.Command != nil || strings.TrimSpace(m.Text) == "" {
		return bot.Verdict{}, nil
	}
	role := m.Author.Role
	if env != nil {
		role = env.Role
	}
	s := a.Score(ctx, a.model, m.Text)
	conv := m.ConversationKey()
	if env != nil {
		env.Emit(bot.Event{Kind: bot.EventScored, Platform: m.Platform, Chat: conv,
			User: m.UserKey(), Label: s.Label.String(), Score: s.Score, Lang: s.Lang})
	}
	al := a.record(m, s, role)
	if al != nil && env != nil {
		a.sendAlert(ctx, env, al)
	}
	return bot.Verdict{}, nil
}

// record adds a scored message to the rollups and the alert state and
// returns an alert when this message started a negative episode.
func (a *Analytics) record(m *bot.Message, s Sentiment, role bot.Role) *Alert {
	t := m.Time
	if t.IsZero() {
		t = a.now()
	}
	conv := m.ConversationKey()
	user := m.UserKey()
	ts := terms(m.Text, nil)
	mentions := a.competitorMentions(m.Text)

	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.delta.hour(t, conv)
	h.Platform = m.Platform
	if m.Chat.Kind == bot.ChatDM {
		h.DM = true
	} else if m.Chat.Title != "" {
		h.Title = m.Chat.Title
	}
	h.Messages++
	h.Counts[s.Label]++
	h.ScoreSum += s.Score
	h.addUser(user)
	uh := bot.UserHash(user)
	if s.Label == Negative {
		h.Samples = append(h.Samples, sampleRec{User: uh, Name: m.Author.Name, Text: sample(m.Text)})
		if len(h.Samples) > maxSamples {
			h.Samples = h.Samples[1:]
		}
	}
	for _, c := range mentions {
		if h.Competitors == nil {
			h.Competitors = map[string]*compCount{}
		}
		cc := h.Competitors[c.name]
		if cc == nil {
			cc = &compCount{}
			h.Competitors[c.name] = cc
		}
		cc.N++
		cc.Counts[c.s.Label]++
		cc.ScoreSum += c.s.Score
	}
	a.delta.touchUser(user, t)
	if len(ts) > 0 {
		tk := termsKey(t, conv)
		tm := a.delta.terms[tk]
		if tm == nil {
			tm = map[string]int{}
			a.delta.terms[tk] = tm
		}
		for _, x := range ts {
			tm[x]++
		}
	}
	if len(a.names) < maxNameWords {
		for _, w := range nameWords(m.Author.Name) {
			a.names[w] = true
		}
	}
	a.noteBrand(m, t, role)

	cs := a.chats[conv]
	if cs == nil {
		cs = &chatState{}
		a.chats[conv] = cs
	}
	al := cs.add(a.cfg, t, s.Label == Negative, winMsg{user: uh, name: m.Author.Name, text: m.Text, terms: ts})
	if al != nil {
		al.Platform, al.Chat, al.ChatTitle = m.Platform, conv, m.Chat.Title
		al.Themes = a.filterNames(al.Themes)
	}
	return al
}

func sample(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	// Masked before it is cut and stored: a quote can't mask half an address.
	return bot.Excerpt(bot.MaskPII(text), maxSampleRunes)
}

// Observe takes engine events: replies and first-token latency feed the
// engagement figures.
func (a *Analytics) Observe(e bot.Event) {
	switch e.Kind {
	case bot.EventReplySent, bot.EventFirstToken, bot.EventFeedback:
	default:
		return
	}
	t := e.Time
	if t.IsZero() {
		t = a.now()
	}
	// Replies count in the chat they were made in, so that a report asked
	// in a chat covers that chat's; events without a chat go to the
	// engine-wide figures.
	chat := e.Chat
	if chat == "" {
		chat = globalChat
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.delta.hour(t, chat)
	switch e.Kind {
	case bot.EventReplySent:
		h.Replies++
		if e.Outcome == bot.OutcomeOK || e.Outcome == bot.OutcomeCut {
			h.RepliesOK++
		}
	case bot.EventFirstToken:
		if len(h.FirstToken) == 0 {
			h.FirstToken = make([]int, latencyBuckets)
		}
		h.FirstToken[latencyBucket(e.Duration)]++
	case bot.EventFeedback:
		switch bot.Rating(e.Label) {
		case bot.RatingUp:
			h.VotesUp++
		case bot.RatingDown:
			h.VotesDown++
		}
	}
}

// brandPost is the last post a manager (or the bot, via BrandPost) made in
// a chat, waiting for a follower's answer.
type brandPost struct {
	id       string
	at       time.Time
	answered bool
}

// BrandPost records a conversation the brand started (a post the bot made
// for a manager, /post), so that answers to it count in /stats. It is safe
// to call from any goroutine.
func (a *Analytics) BrandPost(platform string, chat bot.Chat, id string, at time.Time) {
	if at.IsZero() {
		at = a.now()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.startBrand(bot.ConversationKey(platform, chat.ID, chat.Thread), id, at)
}

func (a *Analytics) startBrand(conv, id string, at time.Time) {
	if len(a.brand) >= maxBrandTracking {
		for k, p := range a.brand {
			if p.answered || at.Sub(p.at) > a.cfg.BrandAnswerWindow {
				delete(a.brand, k)
			}
		}
		if len(a.brand) >= maxBrandTracking {
			return
		}
	}
	a.brand[conv] = &brandPost{id: id, at: at}
	a.delta.hour(at, conv).BrandStarted++
}

// noteBrand tracks brand-started conversations: a manager's message in a
// group or channel starts one; a follower's reply to it, or message in the
// same chat within BrandAnswerWindow, answers it. Caller holds a.mu.
func (a *Analytics) noteBrand(m *bot.Message, t time.Time, role bot.Role) {
	conv := m.ConversationKey()
	if role >= bot.RoleManager {
		if m.Chat.Kind != bot.ChatDM {
			a.startBrand(conv, m.ID, t)
		}
		return
	}
	p := a.brand[conv]
	if p == nil || p.answered {
		return
	}
	if (m.ReplyTo != "" && m.ReplyTo == p.id) || (t.Sub(p.at) >= 0 && t.Sub(p.at) <= a.cfg.BrandAnswerWindow) {
		p.answered = true
		a.delta.hour(p.at, conv).BrandAnswered++
	}
}

// filterNames drops user-name words from terms. Caller holds a.mu.
func (a *Analytics) filterNames(ts []string) []string {
	out := ts[:0:0]
	for _, t := range ts {
		drop := false
		for _, w := range strings.Fields(t) {
			if a.names[w] {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// competitorMatcher finds one competitor by any of its names.
type competitorMatcher struct {
	name  string
	words []string // lower case
}

func newCompetitorMatchers(cs []Competitor) []competitorMatcher {
	out := make([]competitorMatcher, 0, len(cs))
	for _, c := range cs {
		m := competitorMatcher{name: c.Name}
		for _, w := range append([]string{c.Name}, c.Aliases...) {
			if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
				m.words = append(m.words, w)
			}
		}
		out = append(out, m)
	}
	return out
}

func containsWord(text, w string) bool {
	for off := 0; off < len(text); {
		i := strings.Index(text[off:], w)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(w)
		if boundary(text, i, true, w) && boundary(text, end, false, w) {
			return true
		}
		off = i + 1
	}
	return false
}

// boundary reports whether the match edge at byte i is a word edge; Han
// names need none.
func boundary(text string, i int, before bool, w string) bool {
	if first, _ := utf8.DecodeRuneInString(w); unicode.Is(unicode.Han, first) {
		return true
	}
	var r rune
	if before {
		if i == 0 {
			return true
		}
		r = lastRune(text[:i])
	} else {
		if i >= len(text) {
			return true
		}
		r = []rune(text[i:min(len(text), i+4)])[0]
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func lastRune(s string) rune {
	rs := []rune(s[max(0, len(s)-4):])
	return rs[len(rs)-1]
}
