package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Mode selects how messages are scored.
type Mode string

// Sentiment modes.
const (
	// ModeOffline scores with the classifier shipped in the binary.
	ModeOffline Mode = "offline"
	// ModeLLM asks the engine's LLM in batches and falls back to the
	// offline classifier when the call or its answer fails.
	ModeLLM Mode = "llm"
)

// Competitor is a brand to watch for, with the other names people use.
type Competitor struct {
	Name    string   `yaml:"name" json:"name"`
	Aliases []string `yaml:"aliases" json:"aliases,omitempty"`
}

// Config is how analytics behaves: the "analytics" section of the
// configuration (the fields with a yaml tag) and a few settings made in
// code. Zero fields take the defaults named on them; DefaultConfig is
// what Chorus ships.
type Config struct {
	// SentimentMode is "offline" (default) or "llm".
	SentimentMode Mode `yaml:"sentiment_mode" empty:"default"`
	// ManagersChannel maps a platform name to the chat id where alerts go.
	// An alert about a chat goes to its own platform's channel, or to the
	// first configured one when its platform has none.
	ManagersChannel map[string]string `yaml:"managers_channel" platform:"keys"`
	// Competitors are watched in every message.
	Competitors []Competitor `yaml:"competitors"`
	// AlertMinMessages is the least number of messages in the window
	// before a chat can alert (default 12).
	AlertMinMessages int `yaml:"alert_min_messages"`
	// AlertFactor is how many times its baseline the negative share must
	// reach (default 2).
	AlertFactor float64 `yaml:"alert_factor"`
	// AlertMinRise is the least absolute rise of the negative share over
	// the baseline (default 0.2), so that a quiet chat at 2% can't alert
	// at 5%.
	AlertMinRise float64 `yaml:"alert_min_rise"`
	// AlertWindow is the sliding window the current share is measured
	// over (default 1h).
	AlertWindow time.Duration `yaml:"alert_window"`
	// BaselineHalfLife is the half-life of the exponentially weighted
	// baseline built from messages that left the window (default 24h).
	BaselineHalfLife time.Duration `yaml:"baseline_half_life"`
	// FlushEvery is how often Run writes rollups (default 30s); a crash
	// loses at most this much.
	FlushEvery time.Duration `yaml:"flush_every"`
	// LLMBatch is the most messages per LLM call (default 16).
	LLMBatch int `yaml:"-"`
	// LLMBatchWait is how long a message waits for others to fill a
	// batch (default 1s).
	LLMBatchWait time.Duration `yaml:"-"`
	// LLMTimeout bounds one batch call (default 20s).
	LLMTimeout time.Duration `yaml:"-"`
	// NeutralBand is the half-width around 0.5 of the Chinese two-class
	// probability that counts as neutral (default 0.15).
	NeutralBand float64 `yaml:"-"`
	// BrandAnswerWindow is how long after a manager's post a follower's
	// message in the same chat counts as an answer (default 1h).
	BrandAnswerWindow time.Duration `yaml:"-"`
}

// DefaultConfig is the "analytics" section as Chorus ships it.
func DefaultConfig() Config {
	return Config{SentimentMode: ModeOffline, AlertMinMessages: 12, AlertFactor: 2, AlertMinRise: 0.2,
		AlertWindow: time.Hour, BaselineHalfLife: 24 * time.Hour, FlushEvery: 30 * time.Second}
}

func (c Config) withDefaults() Config {
	if c.SentimentMode == "" {
		c.SentimentMode = ModeOffline
	}
	if c.AlertMinMessages <= 0 {
		c.AlertMinMessages = 12
	}
	if c.AlertFactor <= 0 {
		c.AlertFactor = 2
	}
	if c.AlertMinRise <= 0 {
		c.AlertMinRise = 0.2
	}
	if c.AlertWindow <= 0 {
		c.AlertWindow = time.Hour
	}
	if c.BaselineHalfLife <= 0 {
		c.BaselineHalfLife = 24 * time.Hour
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = 30 * time.Second
	}
	if c.LLMBatch <= 0 {
		c.LLMBatch = 16
	}
	if c.LLMBatchWait <= 0 {
		c.LLMBatchWait = time.Second
	}
	if c.LLMTimeout <= 0 {
		c.LLMTimeout = 20 * time.Second
	}
	if c.NeutralBand <= 0 {
		c.NeutralBand = 0.15
	}
	if c.BrandAnswerWindow <= 0 {
		c.BrandAnswerWindow = time.Hour
	}
	return c
}

// Validate checks the config and names every bad field by its YAML path
// in the "analytics" section (by its Go name for the fields set in code).
func (c Config) Validate() error {
	var p bot.Problems
	if c.SentimentMode != "" {
		bot.OneOf(&p, "sentiment_mode", c.SentimentMode, ModeOffline, ModeLLM)
	}
	p.ChatIDs("managers_channel", c.ManagersChannel)
	if c.AlertMinMessages < 0 {
		p.Add("alert_min_messages", "must be at least 1, got %d", c.AlertMinMessages)
	}
	if c.AlertFactor != 0 && c.AlertFactor < 1 {
		p.Add("alert_factor", "must be at least 1, got %g", c.AlertFactor)
	}
	if c.AlertMinRise < 0 || c.AlertMinRise > 1 {
		p.Add("alert_min_rise", "must be between 0 and 1, got %g", c.AlertMinRise)
	}
	for _, d := range []struct {
		path string
		v    time.Duration
	}{{"alert_window", c.AlertWindow}, {"baseline_half_life", c.BaselineHalfLife}, {"flush_every", c.FlushEvery}} {
		if d.v < 0 {
			p.Add(d.path, "must be a positive duration such as \"1h\", got %s", d.v)
		}
	}
	seen := map[string]int{}
	for i, comp := range c.Competitors {
		path := fmt.Sprintf("competitors[%d]", i)
		name := strings.ToLower(strings.TrimSpace(comp.Name))
		if name == "" {
			p.Add(path+".name", "must not be empty")
			continue
		}
		if j, dup := seen[name]; dup {
			p.Add(path+".name", "%q is already analytics.competitors[%d]; merge their aliases", comp.Name, j)
		}
		seen[name] = i
		p.NotBlank(path+".aliases", comp.Aliases)
	}
	if c.NeutralBand < 0 || c.NeutralBand >= 0.5 {
		p.Add("NeutralBand", "must be in [0, 0.5), got %g", c.NeutralBand)
	}
	return p.Err()
}

// Option configures Analytics.
type Option func(*Analytics)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(a *Analytics) { a.log = l } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(a *Analytics) { a.now = now } }

// WithModel sets the model and the prompt of the LLM sentiment mode;
// without them the offline classifier scores every message.
func WithModel(m bot.LLM, p Prompts) Option { return func(a *Analytics) { a.model, a.prompts = m, p } }

// Activation is how many members joined chats in a period and how many
// of them wrote within seven days of joining (Waiting: joined less than
// seven days ago and silent so far).
type Activation struct {
	Joined, Active, Waiting int
}

// Members counts new members and their activation (package campaigns
// keeps the joins).
type Members interface {
	Activation(ctx context.Context, from, to time.Time, v bot.View) (Activation, error)
}

// MembersFunc adapts a function to Members.
type MembersFunc func(ctx context.Context, from, to time.Time, v bot.View) (Activation, error)

// Activation calls f.
func (f MembersFunc) Activation(ctx context.Context, from, to time.Time, v bot.View) (Activation, error) {
	return f(ctx, from, to, v)
}

// WithMembers makes /stats show the members who joined and their 7-day
// activation.
func WithMembers(m Members) Option { return func(a *Analytics) { a.members = m } }

// WithClassifier replaces the offline classifier (tests, other models).
func WithClassifier(c Classifier) Option { return func(a *Analytics) { a.offline = c } }
