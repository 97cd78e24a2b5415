package configs

import "strings"

// KBConfig is the "kb" section: the knowledge base the answers are
// grounded in.
type KBConfig struct {
	// Dir holds Markdown and plain-text documents.
	Dir string `yaml:"dir"`
	// IngestOnStart (re-)ingests Dir when serve or chat starts; unchanged
	// files are skipped.
	IngestOnStart bool `yaml:"ingest_on_start"`
	// MinRelevance is the relevance floor (0 to 1) under which a passage
	// is not used to answer: below it the answer is an honest "I don't
	// know" and the question a knowledge gap (default
	// bot.DefaultMinRelevance, calibrated with chorus eval answers on the
	// example knowledge base).
	MinRelevance float64 `yaml:"min_relevance"`
}

func defaultKB() KBConfig {
	return KBConfig{Dir: "configs/knowledge", IngestOnStart: true, MinRelevance: 0.48}
}

func (c *KBConfig) validate(p *problems) {
	if c.MinRelevance < 0 || c.MinRelevance > 1 {
		p.add("kb.min_relevance", "must be between 0 and 1")
	}
	if c.IngestOnStart && strings.TrimSpace(c.Dir) == "" {
		p.add("kb.dir", "must name a directory when kb.ingest_on_start is true")
	}
}
