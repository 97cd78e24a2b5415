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
}

func defaultKB() KBConfig { return KBConfig{Dir: "configs/knowledge", IngestOnStart: true} }

func (c *KBConfig) validate(p *problems) {
	if c.IngestOnStart && strings.TrimSpace(c.Dir) == "" {
		p.add("kb.dir", "must name a directory when kb.ingest_on_start is true")
	}
}
