package configs

import "time"

// RetentionConfig is the "retention" section: how long messages are kept.
type RetentionConfig struct {
	// Days is how long messages are kept; 0 keeps them forever.
	Days int `yaml:"days"`
	// Interval is how often old messages are pruned.
	Interval time.Duration `yaml:"interval"`
}

func defaultRetention() RetentionConfig {
	return RetentionConfig{Days: 90, Interval: time.Hour}
}

func (c *RetentionConfig) validate(p *problems) {
	nonNegInt(p, "retention.days", c.Days)
	if c.Days > 0 {
		positiveDuration(p, "retention.interval", c.Interval)
	} else {
		nonNegDuration(p, "retention.interval", c.Interval)
	}
}

// Keep is Days as a duration, 0 when kept forever.
func (c RetentionConfig) Keep() time.Duration {
	return time.Duration(c.Days) * 24 * time.Hour
}
