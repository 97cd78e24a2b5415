package configs

import (
	"fmt"
	"strings"
)

// ModerationConfig is the "moderation" section. The moderation package
// owns its meaning and extends it here.
type ModerationConfig struct {
	Enabled bool `yaml:"enabled"`
	// DryRun decides and logs actions without taking them.
	DryRun bool `yaml:"dry_run"`
	// Words are blocked words and phrases, matched after normalisation.
	Words []string `yaml:"words"`
	// Regexes are blocked patterns (Go RE2 syntax).
	Regexes []string `yaml:"regexes"`
	// LLMSecondOpinion asks the LLM about messages the rules find
	// borderline.
	LLMSecondOpinion bool `yaml:"llm_second_opinion"`
	// ManagersChannel is where managers are notified, by platform
	// ("telegram": "-100123").
	ManagersChannel map[string]string `yaml:"managers_channel"`
}

func defaultModeration() ModerationConfig {
	return ModerationConfig{Enabled: true, LLMSecondOpinion: true}
}

func (c *ModerationConfig) validate(p *problems) {
	for i, w := range c.Words {
		if strings.TrimSpace(w) == "" {
			p.add(fmt.Sprintf("moderation.words[%d]", i), "must not be empty")
		}
	}
	checkRegexps(p, "moderation.regexes", c.Regexes)
	checkPlatformKeys(p, "moderation.managers_channel", c.ManagersChannel)
	for _, k := range sortedKeys(c.ManagersChannel) {
		if strings.TrimSpace(c.ManagersChannel[k]) == "" {
			p.add("moderation.managers_channel."+k, "must be a chat id, got an empty string")
		}
	}
}
