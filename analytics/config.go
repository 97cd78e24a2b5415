package analytics

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
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

// Config is how analytics behaves. Zero fields take the defaults named on
// them.
type Config struct {
	// SentimentMode is "offline" (default) or "llm".
	SentimentMode Mode
	// ManagersChannel maps a platform name to the chat id where alerts go.
	// An alert about a chat goes to its own platform's channel, or to the
	// first configured one when its platform has none.
	ManagersChannel map[string]string
	// Competitors are watched in every message.
	Competitors []Competitor
	// AlertMinMessages is the least number of messages in the window
	// before a chat can alert (default 12).
	AlertMinMessages int
	// AlertFactor is how many times its baseline the negative share must
	// reach (default 2).
	AlertFactor float64
	// AlertMinRise is the least absolute rise of the negative share over
	// the baseline (default 0.2), so that a quiet chat at 2% can't alert
	// at 5%.
	AlertMinRise float64
	// AlertWindow is the sliding window the current share is measured
	// over (default 1h).
	AlertWindow time.Duration
	// BaselineHalfLife is the half-life of the exponentially weighted
	// baseline built from messages that left the window (default 24h).
	BaselineHalfLife time.Duration
	// FlushEvery is how often Run writes rollups (default 30s).
	FlushEvery time.Duration
	// LLMBatch is the most messages per LLM call (default 16).
	LLMBatch int
	// LLMBatchWait is how long a message waits for others to fill a
	// batch (default 1s).
	LLMBatchWait time.Duration
	// LLMTimeout bounds one batch call (default 20s).
	LLMTimeout time.Duration
	// NeutralBand is the half-width around 0.5 of the Chinese two-class
	// probability that counts as neutral (default 0.15).
	NeutralBand float64
	// BrandAnswerWindow is how long after a manager's post a follower's
	// message in the same chat counts as an answer (default 1h).
	BrandAnswerWindow time.Duration
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

// Validate names the first bad field.
func (c Config) Validate() error {
	switch c.SentimentMode {
	case "", ModeOffline, ModeLLM:
	default:
		return fmt.Errorf("analytics: config: SentimentMode %q: want offline or llm", c.SentimentMode)
	}
	if c.AlertFactor != 0 && c.AlertFactor < 1 {
		return errors.New("analytics: config: AlertFactor must be at least 1")
	}
	if c.NeutralBand < 0 || c.NeutralBand >= 0.5 {
		return errors.New("analytics: config: NeutralBand must be in [0, 0.5)")
	}
	for i, comp := range c.Competitors {
		if comp.Name == "" {
			return fmt.Errorf("analytics: config: Competitors[%d].Name is empty", i)
		}
	}
	return nil
}

// Option configures Analytics.
type Option func(*Analytics)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(a *Analytics) { a.log = l } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(a *Analytics) { a.now = now } }

// WithPrompts sets the prompt of the LLM sentiment mode; without it the
// offline classifier scores every message.
func WithPrompts(p Prompts) Option { return func(a *Analytics) { a.prompts = p } }

// WithClassifier replaces the offline classifier (tests, other models).
func WithClassifier(c Classifier) Option { return func(a *Analytics) { a.offline = c } }
