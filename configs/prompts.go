package configs

import "strings"

// PromptsConfig is the "prompts" section.
type PromptsConfig struct {
	// Dir, when set, holds templates that replace the built-in ones of the
	// same file name (system.tmpl, summary.tmpl, ...: prompts/templates).
	Dir string `yaml:"dir"`
}

func defaultPrompts() PromptsConfig { return PromptsConfig{} }

func (c *PromptsConfig) validate(p *problems) {
	if c.Dir != "" && strings.TrimSpace(c.Dir) == "" {
		p.add("prompts.dir", "must be a directory path or empty, got only spaces")
	}
}
