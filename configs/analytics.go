package configs

import (
	"fmt"
	"strings"
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
}

// Competitor is a brand tracked in mentions, by name and aliases.
type Competitor struct {
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases"`
}

func defaultAnalytics() AnalyticsConfig {
	return AnalyticsConfig{SentimentMode: SentimentOffline}
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
