package moderation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Option configures a Moderator.
type Option func(*Moderator)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(m *Moderator) { m.log = l } }

// WithAuditReader lets /mod log read the audit log (the stores keep it).
func WithAuditReader(r bot.AuditLog) Option { return func(m *Moderator) { m.audit = r } }

// Prompts renders the prompt of the LLM's second opinion; package prompts
// implements it with the template Chorus ships.
type Prompts interface {
	Moderation(text string) ([]bot.ChatMessage, error)
}

// WithPrompts sets the prompts; without them the LLM is never asked.
func WithPrompts(p Prompts) Option { return func(m *Moderator) { m.prompts = p } }

// WithClock replaces time.Now, for tests of decay and windows.
func WithClock(now func() time.Time) Option { return func(m *Moderator) { m.now = now } }

// WithClassifier adds (or, for a task already present, replaces) an offline
// classifier: prob returns the probability that text belongs to the task's
// flagged class, flagged from threshold on. Tests use it to script scores.
func WithClassifier(task Task, prob func(text string) float64, threshold float64) Option {
	return func(m *Moderator) {
		m.extra = append(m.extra, classifier{task: task, score: func(s string) (float64, float64) { return prob(s), threshold }})
	}
}

// Moderator moderates incoming messages (bot.Inspector) and gives the
// checks of the bot's own replies its rules (ReplyRules). It keeps strikes, added words, the dry-run
// switch and appeals in a bot.KV. It is safe for concurrent use.
type Moderator struct {
	cfg      Config
	kv       bot.KV
	profiles bot.Profiles
	model    bot.LLM
	log      *slog.Logger
	audit    bot.AuditLog
	prompts  Prompts
	now      func() time.Time
	rules    *Rules
	cls      []classifier
	extra    []classifier

	stMu    sync.Mutex
	loaded  bool
	words   []string
	dryRun  bool
	strikes sync.Mutex // serialises strike updates (read-modify-write)

	epMu     sync.Mutex
	episodes map[string]*episode
	noticed  map[string]time.Time // last notice about a user in a chat
}

var (
	_ bot.Inspector = (*Moderator)(nil)
)

// Labels are the values moderation puts in bot.EventModerated: its
// categories and actions, for the metrics.
func Labels() bot.Labels {
	var l bot.Labels
	for _, c := range Categories {
		l.Categories = append(l.Categories, string(c))
	}
	for _, a := range Actions {
		l.Actions = append(l.Actions, string(a))
	}
	return l
}

// KV bucket and keys.
const (
	bucket     = "moderation"
	keyWords   = "words"
	keyDryRun  = "dryrun"
	keyStrikes = "strikes/"
	keyLast    = "last/"
	keyAppeal  = "appeal/"
)

// New builds a moderator. kv holds its state (read on first use: New
// does no I/O); profiles say when a user was first seen (the new
// member's link rule); model gives the second opinion on borderline
// messages (nil: none is asked).
func New(cfg Config, kv bot.KV, profiles bot.Profiles, model bot.LLM, opts ...Option) (*Moderator, error) {
	if kv == nil || profiles == nil {
		return nil, errors.New("moderation: New: nil kv or profiles")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("moderation: config: %w", err)
	}
	cfg = cfg.withDefaults()
	r, err := newRules(cfg)
	if err != nil {
		return nil, err
	}
	m := &Moderator{cfg: cfg, kv: kv, profiles: profiles, model: model, log: slog.New(slog.DiscardHandler), now: time.Now, rules: r, episodes: map[string]*episode{}, noticed: map[string]time.Time{}}
	for _, o := range opts {
		o(m)
	}
	if cfg.Classifiers {
		m.cls = shippedClassifiers()
	}
	for _, c := range m.extra {
		replaced := false
		for i := range m.cls {
			if m.cls[i].task == c.task {
				m.cls[i], replaced = c, true
			}
		}
		if !replaced {
			m.cls = append(m.cls, c)
		}
	}
	return m, nil
}

// load reads the words and dry-run switch from the KV once.
func (m *Moderator) load(ctx context.Context) error {
	m.stMu.Lock()
	defer m.stMu.Unlock()
	if m.loaded {
		return nil
	}
	m.words, m.dryRun = append([]string(nil), m.cfg.Words...), m.cfg.DryRun
	if b, err := m.kv.Get(ctx, bucket, keyWords); err == nil {
		var ws []string
		if err := json.Unmarshal(b, &ws); err != nil {
			return fmt.Errorf("moderation: load words: %w", err)
		}
		m.words = ws
		m.rules.setWords(ws)
	} else if !errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("moderation: load words: %w", err)
	}
	if b, err := m.kv.Get(ctx, bucket, keyDryRun); err == nil {
		m.dryRun = string(b) == "1"
	} else if !errors.Is(err, bot.ErrNotFound) {
		return fmt.Errorf("moderation: load dry-run: %w", err)
	}
	m.loaded = true
	return nil
}

func (m *Moderator) isDryRun() bool {
	m.stMu.Lock()
	defer m.stMu.Unlock()
	return m.dryRun
}

func (m *Moderator) override(msg *bot.Message) ChannelOverride {
	if o, ok := m.cfg.ChannelOverrides[msg.ConversationKey()]; ok {
		return o
	}
	if o, ok := m.cfg.ChannelOverrides[bot.ConversationKey(msg.Platform, msg.Chat.ID, "")]; ok {
		return o
	}
	return m.cfg.ChannelOverrides[msg.Chat.ID]
}

// Check runs the rules and classifiers (and, for borderline messages, the
// LLM through llm when not nil) on text and returns the findings, most
// severe first. It has no side effects beyond the repeat and flood
// history when user is set.
func (m *Moderator) Check(ctx context.Context, text string, llm bot.LLM) []Finding {
	return m.check(ctx, newInput(text), llm)
}

// check runs the rules, then the classifiers, then (for what the
// classifiers find borderline and the rules don't settle) the LLM.
//
// A classifier alone acts only from Config.ClassifierActAt. The shipped
// models were trained on tweets, YouTube comments and SMS: in a brand's
// chat they score ordinary questions ("can I pause my subscription" looks
// like spam to a model that learnt "subscribe to my channel") and plain
// complaints (offensive) well above their own thresholds, and a bot that
// deletes customers' questions does more harm than one that misses some
// abuse. Between ClassifierAskAt (or the model's threshold, if higher) and
// ClassifierActAt only the LLM can make a message a finding.
func (m *Moderator) check(ctx context.Context, in input, llm bot.LLM) []Finding {
	fs := m.rules.check(in)
	strong := len(fs) > 0 && fs[0].Severity >= m.cfg.Policy.LogBelow
	var border []Finding
	for _, c := range m.cls {
		// hasContact runs only here, where its answer is read: once,
		// for the spam classifier of a follower's message.
		if c.task == TaskSpam && (in.output || !hasContact(in.original)) {
			// The bot's own links and offers are not spam; and spam
			// carries a way to reach the spammer (a link, a handle, a
			// number): without one a message is not even borderline
			// spam, so the LLM isn't asked about every customer who
			// mentions their subscription.
			continue
		}
		p, threshold := c.score(in.norm)
		f := Finding{Category: taskCategory[c.task], Rule: "model:" + string(c.task), Severity: p, Decider: "model:" + string(c.task)}
		switch {
		case p >= max(threshold, m.cfg.ClassifierActAt):
			fs = append(fs, f)
		case p >= max(threshold, m.cfg.ClassifierAskAt):
			// Not sure enough to act on a follower alone: only the LLM
			// can make it a finding.
			border = append(border, f)
		}
	}
	if len(border) > 0 && !strong && !in.output && m.cfg.LLMSecondOpinion && llm != nil && m.prompts != nil {
		if f, ok := m.secondOpinion(ctx, llm, in.original); ok {
			if f.Category != "" {
				fs = append(fs, f)
			}
		}
	}
	return sortFindings(fs)
}

// contactRE finds, besides links (the link rules' urlRE), what else lets
// a spammer be reached: a handle, a phone number, a request to write.
var contactRE = regexp.MustCompile(`(?i)(@[a-z0-9_]{3,}|(\+?\d[\d\s().-]{6,}\d)|\b(whatsapp|telegram|dm me|text me|call now)\b)`)

// hasContact reports whether s carries a link or another way to reach its
// writer.
func hasContact(s string) bool { return urlRE.MatchString(s) || contactRE.MatchString(s) }

// LLMVerdict is the structured answer asked of the LLM.
type LLMVerdict struct {
	Category string  `json:"category"`
	Severity float64 `json:"severity"`
	Reason   string  `json:"reason"`
}

var llmCategories = map[string]Category{"ok": "", "spam": CatSpam, "offensive": CatOffensive, "hate": CatHate, "other": CatOther}

// ParseLLMVerdict parses the LLM's answer strictly: one JSON object with
// exactly the fields category (a known one), severity (0..1) and reason.
func ParseLLMVerdict(s string) (LLMVerdict, error) {
	s = strings.TrimSpace(s)
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var v struct {
		Category *string  `json:"category"`
		Severity *float64 `json:"severity"`
		Reason   *string  `json:"reason"`
	}
	if err := dec.Decode(&v); err != nil {
		return LLMVerdict{}, fmt.Errorf("moderation: llm verdict: %w", err)
	}
	if dec.More() {
		return LLMVerdict{}, errors.New("moderation: llm verdict: trailing data")
	}
	if v.Category == nil || v.Severity == nil || v.Reason == nil {
		return LLMVerdict{}, errors.New("moderation: llm verdict: missing field")
	}
	if _, ok := llmCategories[*v.Category]; !ok {
		return LLMVerdict{}, fmt.Errorf("moderation: llm verdict: unknown category %q", *v.Category)
	}
	if math.IsNaN(*v.Severity) || *v.Severity < 0 || *v.Severity > 1 {
		return LLMVerdict{}, fmt.Errorf("moderation: llm verdict: severity %v outside 0..1", *v.Severity)
	}
	return LLMVerdict{Category: *v.Category, Severity: *v.Severity, Reason: bot.Excerpt(*v.Reason, 160)}, nil
}

// secondOpinion asks the LLM; ok is false when it failed or answered
// badly, and the offline verdict stands.
func (m *Moderator) secondOpinion(ctx context.Context, llm bot.LLM, text string) (Finding, bool) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	msgs, err := m.prompts.Moderation(text)
	if err != nil {
		m.log.Warn("moderation: assemble the second opinion's prompt", "err", err)
		return Finding{}, false
	}
	resp, err := llm.Complete(cctx, bot.Request{Purpose: bot.PurposeModeration, JSON: true, MaxTokens: 120, Query: text, Messages: msgs})
	if err != nil {
		m.log.Debug("llm second opinion unavailable", "err", err)
		return Finding{}, false
	}
	v, err := ParseLLMVerdict(resp.Text)
	if err != nil {
		m.log.Debug("llm second opinion unparsable", "err", err)
		return Finding{}, false
	}
	return Finding{Category: llmCategories[v.Category], Rule: "llm", Severity: v.Severity, Decider: "llm", Reason: v.Reason}, true
}

// strikeRecord is a user's strikes at a time; they decay from there.
// Chats splits them by the chat they were earned in (a chat key), so that
// a manager of one home chat sees and pardons that chat's share only;
// every share decays at the same rate as the total.
type strikeRecord struct {
	Strikes float64            `json:"strikes"`
	At      time.Time          `json:"at"`
	Chats   map[string]float64 `json:"chats,omitempty"`
}

func (m *Moderator) decay(r strikeRecord, now time.Time) float64 {
	if r.Strikes <= 0 {
		return 0
	}
	dt := now.Sub(r.At)
	if dt <= 0 {
		return r.Strikes
	}
	return r.Strikes * math.Pow(0.5, dt.Hours()/m.cfg.StrikeHalfLife.Hours())
}

// Strikes returns user's current (decayed) strikes.
func (m *Moderator) Strikes(ctx context.Context, user string) (float64, error) {
	r, err := m.getStrikes(ctx, user)
	if err != nil {
		return 0, err
	}
	return m.decay(r, m.now()), nil
}

func (m *Moderator) getStrikes(ctx context.Context, user string) (strikeRecord, error) {
	var r strikeRecord
	b, err := m.kv.Get(ctx, bucket, keyStrikes+user)
	if errors.Is(err, bot.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("moderation: strikes: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("moderation: strikes: %w", err)
	}
	return r, nil
}

// decayed returns r as it stands at now: the total and every chat's share
// decayed alike.
func (m *Moderator) decayed(r strikeRecord, now time.Time) strikeRecord {
	total := m.decay(r, now)
	out := strikeRecord{Strikes: total, At: now}
	if len(r.Chats) > 0 && r.Strikes > 0 {
		f := total / r.Strikes
		out.Chats = make(map[string]float64, len(r.Chats))
		for c, v := range r.Chats {
			if v*f >= 0.005 {
				out.Chats[c] = v * f
			}
		}
	}
	return out
}

// addStrike adds one strike earned in chat (a chat key) (or, in dry run,
// only computes it) and returns the new total. The record is read and
// written in one step of the KV (bot.UpdateKV), so that replicas striking
// the same user in different chats at once both count.
func (m *Moderator) addStrike(ctx context.Context, user, chat string, persist bool) (float64, error) {
	m.strikes.Lock()
	defer m.strikes.Unlock()
	now := m.now()
	add := func(r strikeRecord) strikeRecord {
		nr := m.decayed(r, now)
		nr.Strikes++
		if nr.Chats == nil {
			nr.Chats = map[string]float64{}
		}
		nr.Chats[chat]++
		return nr
	}
	if !persist {
		r, err := m.getStrikes(ctx, user)
		if err != nil {
			return 0, err
		}
		return add(r).Strikes, nil
	}
	var n float64
	err := bot.UpdateKV(ctx, m.kv, bucket, keyStrikes+user, func(old []byte, found bool) ([]byte, error) {
		var r strikeRecord
		if found {
			if err := json.Unmarshal(old, &r); err != nil {
				return nil, err
			}
		}
		nr := add(r)
		n = nr.Strikes
		return json.Marshal(nr)
	})
	if err != nil {
		return 0, fmt.Errorf("moderation: strikes: %w", err)
	}
	return n, nil
}

// decide maps the top finding and the user's strikes to an action.
func (m *Moderator) decide(f Finding, strikes float64, o ChannelOverride) (Action, int) {
	p := m.cfg.Policy
	act, minutes := ActionLog, 0
	if f.Severity >= p.LogBelow {
		for _, s := range p.Ladder {
			if strikes+1e-9 >= s.Strikes {
				act, minutes = s.Action, s.Minutes
			}
		}
		if f.Severity >= p.DeleteFrom && act.rank() < ActionDelete.rank() {
			act = ActionDelete
		}
	}
	if o.MaxAction != "" && act.rank() > o.MaxAction.rank() {
		act = o.MaxAction
		if act == ActionTimeout && minutes == 0 {
			minutes = 10
		}
	}
	return act, minutes
}

// lastAction is what /appeal refers to.
type lastAction struct {
	Time     time.Time `json:"time"`
	Platform string    `json:"platform"`
	Chat     string    `json:"chat"`
	Category Category  `json:"category"`
	Action   Action    `json:"action"`
	Excerpt  string    `json:"excerpt"`
}

// Inspect implements bot.Inspector.
func (m *Moderator) Inspect(ctx context.Context, msg *bot.Message, env *bot.Env) (bot.Verdict, error) {
	if !m.cfg.Enabled || msg.Command != nil || msg.Author.IsBot {
		return bot.Verdict{}, nil
	}
	if env.Role >= bot.RoleManager && !m.cfg.ModerateManagers {
		return bot.Verdict{}, nil
	}
	o := m.override(msg)
	if o.Disabled {
		return bot.Verdict{}, nil
	}
	if err := m.load(ctx); err != nil {
		return bot.Verdict{}, err
	}
	uk := msg.UserKey()
	in := newInput(msg.Text)
	in.user, in.chat, in.at = uk, msg.ConversationKey(), msg.Time
	if in.at.IsZero() {
		in.at = m.now()
	}
	// Only the new-member link rule needs the profile: read it only for a
	// message with a link.
	// A user with no profile yet is seen for the first time now.
	in.group = msg.Chat.Kind == bot.ChatGroup
	if m.cfg.NewMemberMinutes > 0 && len(findLinks(msg.Text)) > 0 {
		switch p, err := m.profiles.Profile(ctx, uk); {
		case err == nil:
			in.firstSeen = p.FirstSeen
		case errors.Is(err, bot.ErrNotFound):
			in.firstSeen = in.at
		}
	}
	fs := m.check(ctx, in, m.model)
	var top *Finding
	for i := range fs {
		ignored := false
		for _, c := range o.Ignore {
			if c == fs[i].Category {
				ignored = true
			}
		}
		if !ignored {
			top = &fs[i]
			break
		}
	}
	if top == nil {
		return bot.Verdict{}, nil
	}
	dry := m.isDryRun() || o.DryRun
	strikes := 0.0
	if top.Severity >= m.cfg.Policy.LogBelow {
		var err error
		if strikes, err = m.addStrike(ctx, uk, bot.ChatKey(msg.Platform, msg.Chat.ID), !dry); err != nil {
			return bot.Verdict{}, err
		}
	}
	act, minutes := m.decide(*top, strikes, o)
	if m.cfg.SpamDelete && msg.Chat.Kind == bot.ChatGroup && spamLike[top.Category] && top.Severity >= m.cfg.Policy.LogBelow &&
		act.rank() < ActionDelete.rank() && (o.MaxAction == "" || o.MaxAction.rank() >= ActionDelete.rank()) {
		act = ActionDelete // spam stays up while only warned about
	}
	if act.rank() < ActionWarn.rank() {
		return m.enforce(ctx, env, msg, *top, act, minutes, strikes, dry, true), nil
	}
	escalate, notice, top2 := m.episode(uk, msg.ConversationKey(), top.Category, act)
	if !escalate {
		return m.repeat(ctx, env, msg, *top, act, top2, dry), nil
	}
	return m.enforce(ctx, env, msg, *top, act, minutes, strikes, dry, notice), nil
}

// spamLike are the categories of spam: the policy deletes them in groups
// from the first strike (Config.SpamDelete).
var spamLike = map[Category]bool{CatSpam: true, CatLink: true, CatInvite: true, CatShortener: true, CatNewLink: true}

// episode is what was done lately about one user's findings of one
// category in one chat: an action on a user is taken once per episode (a
// stronger one may follow as strikes climb).
type episode struct {
	last time.Time // the last finding
	top  Action    // the strongest action taken
}

// maxEpisodes bounds the episodes (and notice times) kept; past it, ended
// ones are dropped.
const maxEpisodes = 50000

// episode records an action of act on user for a finding of category cat
// in chat, and reports whether it escalates the episode (nothing as strong
// was done in it yet), whether a notice may be sent (notices about one
// user in one chat are spaced by Config.NoticeEvery, whatever the
// category), and the strongest action of the episode.
func (m *Moderator) episode(user, chat string, cat Category, act Action) (escalate, notice bool, top Action) {
	now := m.now()
	m.epMu.Lock()
	defer m.epMu.Unlock()
	key := user + "\x00" + chat + "\x00" + string(cat)
	ep := m.episodes[key]
	if ep == nil || now.Sub(ep.last) >= m.cfg.EpisodeGap {
		if len(m.episodes) >= maxEpisodes {
			for k, e := range m.episodes {
				if now.Sub(e.last) >= m.cfg.EpisodeGap {
					delete(m.episodes, k)
				}
			}
			if len(m.episodes) >= maxEpisodes {
				clear(m.episodes)
			}
		}
		ep = &episode{}
		m.episodes[key] = ep
	}
	ep.last = now
	if act.rank() <= ep.top.rank() {
		return false, false, ep.top
	}
	ep.top = act
	who := user + "\x00" + chat
	if last, ok := m.noticed[who]; !ok || now.Sub(last) >= m.cfg.NoticeEvery {
		if len(m.noticed) >= maxEpisodes {
			clear(m.noticed)
		}
		m.noticed[who] = now
		notice = true
	}
	return true, notice, ep.top
}

// endEpisodes ends user's episodes in the chat of chat key chat (its
// threads included), in every chat when chat is "": after a pardon, what
// they do next is judged afresh.
func (m *Moderator) endEpisodes(user, chat string) {
	v := bot.ViewOfKey(chat)
	m.epMu.Lock()
	defer m.epMu.Unlock()
	for k := range m.episodes {
		u, rest, _ := strings.Cut(k, "\x00")
		c, _, _ := strings.Cut(rest, "\x00")
		if u == user && (chat == "" || v.Covers(c)) {
			delete(m.episodes, k)
		}
	}
}

// repeat handles a finding on a user already acted on in this episode:
// no new action on the user, no notice; the message goes when the
// episode's action removes messages.
func (m *Moderator) repeat(ctx context.Context, env *bot.Env, msg *bot.Message, f Finding, act, top Action, dry bool) bot.Verdict {
	v := bot.Verdict{Category: string(f.Category), Action: string(ActionLog)}
	if act.rank() >= ActionDelete.rank() || top.rank() >= ActionDelete.rank() {
		v.Action = string(ActionDelete)
		if !dry {
			if err := env.Platform.Delete(ctx, msg.Chat, msg.ID); err != nil {
				m.log.Warn("moderation action failed", "op", "delete", "platform", msg.Platform, "err", err)
			} else {
				v.Stop = true
			}
		}
	}
	env.Emit(bot.Event{Kind: bot.EventModerated, Platform: msg.Platform, Chat: msg.ConversationKey(),
		User: msg.UserKey(), Category: string(f.Category), Action: v.Action, Severity: f.Severity})
	return v
}

// enforce carries an action out (unless dry), audits and announces it; a
// notice goes to the chat when notice is set.
func (m *Moderator) enforce(ctx context.Context, env *bot.Env, msg *bot.Message, f Finding, act Action, minutes int, strikes float64, dry, notice bool) bot.Verdict {
	v := bot.Verdict{Category: string(f.Category), Action: string(act)}
	var notes []string
	if dry {
		notes = append(notes, "dry-run: not done")
	} else {
		do := func(op string, err error) {
			if err != nil {
				notes = append(notes, op+" failed: "+env.Redact(err.Error()))
				m.log.Warn("moderation action failed", "op", op, "platform", msg.Platform, "err", err)
			}
		}
		p := env.Platform
		if act.rank() >= ActionDelete.rank() {
			err := p.Delete(ctx, msg.Chat, msg.ID)
			do("delete", err)
			v.Stop = err == nil
		}
		switch act {
		case ActionTimeout:
			err := p.Restrict(ctx, msg.Chat, msg.Author.ID, m.now().Add(time.Duration(minutes)*time.Minute))
			do("timeout", err)
			v.Stop = v.Stop || err == nil
		case ActionBan:
			err := p.Ban(ctx, msg.Chat, msg.Author.ID)
			do("ban", err)
			v.Stop = v.Stop || err == nil
		}
		if act.rank() >= ActionWarn.rank() && notice {
			key := "mod.notice." + string(act)
			v.Notice = env.T(key, "name", bot.OneLine(msg.Author.Name), "reason", string(f.Category), "minutes", minutes)
		}
	}
	excerpt := bot.Excerpt(bot.MaskPII(msg.Text), 80)
	note := fmt.Sprintf("strikes %.2f", strikes)
	if act == ActionTimeout {
		note += fmt.Sprintf("; %d min", minutes)
	}
	if f.Reason != "" {
		note += "; " + f.Reason
	}
	if len(notes) > 0 {
		note += "; " + strings.Join(notes, "; ")
	}
	env.Audit(ctx, bot.AuditEntry{Platform: msg.Platform, Chat: msg.ConversationKey(), User: msg.UserKey(), Name: msg.Author.Name,
		Actor: f.Decider, Kind: bot.AuditModeration, Rule: f.Rule, Severity: f.Severity, Action: string(act), Excerpt: excerpt, Note: note})
	env.Emit(bot.Event{Kind: bot.EventModerated, Platform: msg.Platform, Chat: msg.ConversationKey(),
		User: msg.UserKey(), Category: string(f.Category), Action: string(act), Severity: f.Severity})
	if act.rank() >= ActionWarn.rank() {
		if !dry {
			b, _ := json.Marshal(lastAction{Time: m.now(), Platform: msg.Platform, Chat: msg.ConversationKey(), Category: f.Category, Action: act, Excerpt: excerpt})
			if err := m.kv.Put(ctx, bucket, keyLast+msg.UserKey(), b); err != nil {
				m.log.Warn("moderation: store last action", "err", err)
			}
		}
		prefix := ""
		if dry {
			prefix = "[dry-run] "
		}
		m.announce(ctx, env, msg.Platform, fmt.Sprintf("%s%s %s (%s) in %s: %s by %s, severity %.2f, %s — %q",
			prefix, act, msg.Author.Name, msg.UserKey(), msg.ConversationKey(), f.Category, f.Decider, f.Severity, note, excerpt))
	}
	return v
}

// announce posts text in the platform's managers' channel, if configured.
func (m *Moderator) announce(ctx context.Context, env *bot.Env, platform, text string) {
	id := m.cfg.ManagersChannel[platform]
	if id == "" {
		return
	}
	p, ok := env.PlatformFor(platform)
	if !ok {
		return
	}
	// Every part of the note is data (names, what a user wrote): none of
	// it may become a link or a mention.
	text = bot.Escape(p.Limits().Markup, text)
	if _, err := bot.SendSplit(ctx, p, bot.Out{Chat: bot.Chat{ID: id, Kind: bot.ChatGroup}, Text: text}); err != nil {
		m.log.Warn("moderation: announce to managers failed", "platform", platform, "err", err)
	}
}

// ReplyRules runs the rules that apply to the bot's own words on text:
// the word lists (with the words /mod words added), the regexes and the
// link policy (blocked domains, invites, shorteners). It returns the
// category and rule of the most severe finding, empty when none. The
// replycheck package calls it on every sentence of the bot's answers.
func (m *Moderator) ReplyRules(ctx context.Context, text string) (category, rule string) {
	if !m.cfg.Enabled {
		return "", ""
	}
	if err := m.load(ctx); err != nil {
		m.log.Warn("moderation: load state for reply rules", "err", err)
	}
	in := newInput(text)
	in.output = true
	fs := m.rules.check(in)
	if len(fs) == 0 {
		return "", ""
	}
	return string(fs[0].Category), fs[0].Rule
}
