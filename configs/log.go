package configs

import "log/slog"

// LogLevel is the minimum level logged.
type LogLevel string

// Log levels.
const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

// LogFormat is how log lines are written.
type LogFormat string

// Log formats.
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// LogConfig is the "log" section. Message bodies and secrets are logged
// only at debug level and never, respectively.
type LogConfig struct {
	Level  LogLevel  `yaml:"level"`
	Format LogFormat `yaml:"format"`
}

func defaultLog() LogConfig { return LogConfig{Level: LogInfo, Format: LogText} }

func (c *LogConfig) fill() {
	d := defaultLog()
	if c.Level == "" {
		c.Level = d.Level
	}
	if c.Format == "" {
		c.Format = d.Format
	}
}

func (c *LogConfig) validate(p *problems) {
	oneOf(p, "log.level", c.Level, LogDebug, LogInfo, LogWarn, LogError)
	oneOf(p, "log.format", c.Format, LogText, LogJSON)
}

// SlogLevel is Level as a slog.Level (info when unknown).
func (c LogConfig) SlogLevel() slog.Level {
	switch c.Level {
	case LogDebug:
		return slog.LevelDebug
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
