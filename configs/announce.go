package configs

import "fmt"

// AnnounceConfig is the "announce" section: where /post publishes an
// approved draft.
type AnnounceConfig struct {
	// Channels are chat ids by platform ("discord": ["1234", "5678"]).
	Channels map[string][]string `yaml:"channels"`
}

func defaultAnnounce() AnnounceConfig { return AnnounceConfig{} }

func (c *AnnounceConfig) validate(p *problems) {
	checkPlatformKeys(p, "announce.channels", c.Channels)
	for _, k := range sortedKeys(c.Channels) {
		for i, id := range c.Channels[k] {
			if id == "" {
				p.add(fmt.Sprintf("announce.channels.%s[%d]", k, i), "must be a chat id, got an empty string")
			}
		}
	}
}
