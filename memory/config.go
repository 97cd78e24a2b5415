package memory

import (
	"time"

	"github.com/chorusbot/chorus/bot"
)

// RetentionConfig is the "retention" section of the configuration: how
// long messages are kept (WithRetention) and how often the old ones are
// pruned (Store.RunRetention).
type RetentionConfig struct {
	// Days is how long messages are kept; 0 keeps them forever.
	Days int `yaml:"days"`
	// Interval is how often old messages are pruned.
	Interval time.Duration `yaml:"interval"`
}

// DefaultRetention is the "retention" section as Chorus ships it: 90
// days, pruned every hour.
func DefaultRetention() RetentionConfig { return RetentionConfig{Days: 90, Interval: time.Hour} }

// Validate checks the "retention" section.
func (c RetentionConfig) Validate() error {
	var p bot.Problems
	p.NonNegative("days", c.Days)
	if c.Days > 0 {
		p.Positive("interval", c.Interval)
	} else {
		p.NonNegative("interval", c.Interval)
	}
	return p.Err()
}

// Keep is Days as a duration, 0 when kept forever.
func (c RetentionConfig) Keep() time.Duration { return time.Duration(c.Days) * 24 * time.Hour }
