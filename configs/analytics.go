package configs

import (
	"fmt"
	"strings"
	"time"
)

// SentimentMode chooses the sentiment classifier.
type SentimentMode string

// Sentiment modes.
const (
	// SentimentOffline scores on this machine (lexicons for English and
	// Chinese): free and private.
	SentimentOffline SentimentMode = "offline"
	// SentimentLLM asks the LLM in batches: better on sarcasm, costs tokens.
	SentimentLLM SentimentMode = "llm"
)

// AnalyticsConfig is the "analytics" section. The analytics package owns
// its meaning and extends it here.
type AnalyticsConfig struct {
	SentimentMode SentimentMode `yaml:"sentiment_mode"`
	// ManagersChannel is where alerts and digests go, by platform.
	ManagersChannel map[string]string `yaml:"managers_channel"`
	// Competitors are brands whose mentions are counted.
	Competitors []Competitor `yaml:"competitors"`
	// AlertMinMessages is the least number of messages in the window
	// before a chat can raise a negative-sentiment alert.
	AlertMinMessages int `yaml:"alert_min_messages"`
	// AlertFactor and AlertMinRise: an alert needs the negative share to
	// be at least AlertFactor times the chat's baseline and AlertMinRise
	// above it.
	AlertFactor  float64 `yaml:"alert_factor"`
	AlertMinRise float64 `yaml:"alert_min_rise"`
	// AlertWindow is the window the current negative share is measured
	// over.
	AlertWindow time.Duration `yaml:"alert_window"`
	// BaselineHalfLife is how fast the chat's baseline forgets.
	BaselineHalfLife time.Duration `yaml:"baseline_half_life"`
	// FlushEvery is how often rollups are written to the store; a crash
	// loses at most this much.
	FlushEvery time.Duration `yaml:"flush_every"`
}

// Competitor is a brand tracked in mentions, by name and aliases.
type Competitor struct {
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases"`
}

func defaultAnalytics() AnalyticsConfig {
	return AnalyticsConfig{SentimentMode: SentimentOffline, AlertMinMessages: 12, AlertFactor: 2, AlertMinRise: 0.2,
		AlertWindow: time.Hour, BaselineHalfLife: 24 * time.Hour, FlushEvery: 30 * time.Second}
}

func (c *AnalyticsConfig) fill() {
	if c.SentimentMode == "" {
		c.SentimentMode = defaultAnalytics().SentimentMode
	}
}

func (c *AnalyticsConfig) validate(p *problems) {
	oneOf(p, "analytics.sentiment_mode", c.SentimentMode, SentimentOffline, SentimentLLM)
	checkPlatformKeys(p, "analytics.managers_channel", c.ManagersChannel)
	for _, k := range sortedKeys(c.ManagersChannel) {
		if strings.TrimSpace(c.ManagersChannel[k]) == "" {
			p.add("analytics.managers_channel."+k, "must be a chat id, got an empty string")
		}
	}
	if c.AlertMinMessages < 1 {
		p.add("analytics.alert_min_messages", "must be at least 1, got %d", c.AlertMinMessages)
	}
	if c.AlertFactor < 1 {
		p.add("analytics.alert_factor", "must be at least 1, got %g", c.AlertFactor)
	}
	if c.AlertMinRise < 0 || c.AlertMinRise > 1 {
		p.add("analytics.alert_min_rise", "must be between 0 and 1, got %g", c.AlertMinRise)
	}
	for _, d := range []struct {
		path string
		v    time.Duration
	}{{"analytics.alert_window", c.AlertWindow}, {"analytics.baseline_half_life", c.BaselineHalfLife}, {"analytics.flush_every", c.FlushEvery}} {
		if d.v <= 0 {
			p.add(d.path, "must be a positive duration such as \"1h\", got %s", d.v)
		}
	}
	seen := map[string]int{}
	for i, comp := range c.Competitors {
		path := fmt.Sprintf("analytics.competitors[%d]", i)
		name := strings.ToLower(strings.TrimSpace(comp.Name))
		if name == "" {
			p.add(path+".name", "must not be empty")
			continue
		}
		if j, dup := seen[name]; dup {
			p.add(path+".name", "%q is already analytics.competitors[%d]; merge their aliases", comp.Name, j)
		}
		seen[name] = i
		for k, a := range comp.Aliases {
			if strings.TrimSpace(a) == "" {
				p.add(fmt.Sprintf("%s.aliases[%d]", path, k), "must not be empty")
			}
		}
	}
}
