package main

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"

	"github.com/chorusbot/chorus/adapters/console"
	"github.com/chorusbot/chorus/adapters/discord"
	"github.com/chorusbot/chorus/adapters/telegram"
	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/campaigns"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/llm"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
	"github.com/chorusbot/chorus/metrics"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/prompts"
	"github.com/chorusbot/chorus/web"
)

// defaultDataDir is where state lives when nothing else is said.
const defaultDataDir = "./chorus-data"

// Config is the configuration of the chorus binary: one field per section,
// each declared once (its yaml tags, defaults and Validate) by the package
// that uses it. Package configs decodes it (strictly, with line numbers),
// applies the CHORUS_* environment and secret files, validates and
// redacts it; configs/chorus.example.yaml documents every field and holds
// exactly defaultConfig.
type Config struct {
	// DataDir holds the bbolt file and other state.
	DataDir string    `yaml:"data_dir" empty:"default"`
	Log     logConfig `yaml:"log"`
	// MemoryLimit is the Go runtime's soft memory limit for serve and
	// chat ("48MiB", "1GiB"; "off" for none); GOMEMLIMIT, when set,
	// wins. See memlimit.go.
	MemoryLimit string                 `yaml:"memory_limit" empty:"default"`
	Persona     bot.Persona            `yaml:"persona"`
	Engine      bot.Config             `yaml:"engine"`
	Roles       bot.Roles              `yaml:"roles"`
	LLM         llm.Config             `yaml:"llm"`
	KB          kbConfig               `yaml:"kb"`
	Prompts     prompts.Config         `yaml:"prompts"`
	Retention   memory.RetentionConfig `yaml:"retention"`
	Telegram    telegram.Config        `yaml:"telegram"`
	Discord     discord.Config         `yaml:"discord"`
	Admin       metrics.AdminConfig    `yaml:"admin"`
	Web         web.Config             `yaml:"web"`
	Moderation  moderation.Config      `yaml:"moderation"`
	Analytics   analytics.Config       `yaml:"analytics"`
	Announce    manage.Config          `yaml:"announce"`
	Campaigns   campaigns.Config       `yaml:"campaigns"`
	Links       campaigns.LinksConfig  `yaml:"links"`
	// Store is where state lives: bbolt in DataDir, or PostgreSQL.
	Store pgstore.Config `yaml:"store"`
}

// defaultConfig is the built-in configuration: offline model, console
// only, state under ./chorus-data, the example brand (whose knowledge base
// ships in configs/knowledge). It is valid as it is.
func defaultConfig() *Config {
	return &Config{
		DataDir:     defaultDataDir,
		Log:         logConfig{Level: logInfo, Format: logText},
		MemoryLimit: defaultMemoryLimit,
		Persona:     examplePersona(),
		Engine:      bot.DefaultConfig(),
		LLM:         llm.DefaultConfig(),
		KB:          kbConfig{Dir: "configs/knowledge", IngestOnStart: true, MinRelevance: bot.DefaultMinRelevance},
		Retention:   memory.DefaultRetention(),
		Telegram:    telegram.DefaultConfig(),
		Discord:     discord.DefaultConfig(),
		Admin:       metrics.DefaultAdmin(),
		Web:         web.DefaultConfig(),
		Moderation:  moderation.DefaultConfig(),
		Analytics:   analytics.DefaultConfig(),
		Campaigns:   campaigns.DefaultConfig(),
		Store:       pgstore.DefaultConfig(),
	}
}

// examplePersona is the example brand's voice.
func examplePersona() bot.Persona {
	return bot.Persona{
		Brand:   "Lumen Coffee",
		BotName: "Lumi",
		Voice:   "warm, upbeat and concise; plain words, no jargon",
		Do: []string{
			"greet people by name when you know it",
			"suggest a drink or a bean when someone asks for a recommendation",
		},
		Dont: []string{
			"promise discounts, refunds or delivery dates that the knowledge base does not state",
			"discuss competitors' products",
		},
	}
}

// loadConfigFile reads the config file at path (the defaults when path is
// empty) with environ applied; the caller validates it.
func loadConfigFile(path string, environ []string) (*Config, error) {
	return configs.Load(path, environ, defaultConfig)
}

// validate checks every section and the fields that name platforms
// against the platforms this binary speaks; every problem is a
// *bot.FieldError naming the field by its YAML path.
func (c *Config) validate() error {
	var p bot.Problems
	if strings.TrimSpace(c.DataDir) == "" {
		p.Add("data_dir", "must not be empty")
	}
	if _, err := parseMemoryLimit(c.MemoryLimit); err != nil {
		p.Add("memory_limit", "%v", err)
	}
	// Short links are served on the public listener, at a public address
	// said in so many words: http://LISTEN (web.base_url's fallback) is
	// loopback by default, and links to it in a public post would lead
	// nowhere.
	if len(c.Links.Domains) > 0 {
		switch {
		case c.Web.Listen == "":
			p.Add("links.domains", "tracked links are served on the public listener: set web.listen, or leave links.domains empty")
		case c.links().BaseURL == "":
			p.Add("links.base_url", "set the public address short links point to (or web.base_url), such as \"https://go.brand.example\"")
		}
	}
	return errors.Join(p.Err(), configs.Validate(c, c.platformNames()))
}

// links is the "links" section with base_url defaulting to web.base_url
// (when that is set: never the http://LISTEN fallback).
func (c *Config) links() campaigns.LinksConfig {
	l := c.Links
	if l.BaseURL == "" {
		l.BaseURL = c.Web.BaseURL
	}
	return l
}

// secrets are the values the redaction in front of the logs replaces: the
// tagged secrets, and the password inside a key=value store DSN.
func (c *Config) secrets() []string { return append(configs.Secrets(c), c.Store.Secrets()...) }

// Log levels and formats of the "log" section.
const (
	logDebug = "debug"
	logInfo  = "info"
	logWarn  = "warn"
	logError = "error"
	logText  = "text"
	logJSON  = "json"
)

// logConfig is the "log" section. Message bodies and secrets are logged
// only at debug level and never, respectively.
type logConfig struct {
	// Level is the least level logged: debug, info, warn or error.
	Level string `yaml:"level" empty:"default"`
	// Format is text (for people) or json (for log collectors).
	Format string `yaml:"format" empty:"default"`
}

// Validate checks the "log" section.
func (c logConfig) Validate() error {
	var p bot.Problems
	bot.OneOf(&p, "level", c.Level, logDebug, logInfo, logWarn, logError)
	bot.OneOf(&p, "format", c.Format, logText, logJSON)
	return p.Err()
}

// slogLevel is Level as a slog.Level (info when unknown).
func (c logConfig) slogLevel() slog.Level {
	switch c.Level {
	case logDebug:
		return slog.LevelDebug
	case logWarn:
		return slog.LevelWarn
	case logError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// kbConfig is the "kb" section: the knowledge base the answers are
// grounded in, synced from a folder at start.
type kbConfig struct {
	// Dir holds documents (Markdown, text, HTML, PDF, CSV question,answer
	// pairs): one source among those added with chorus kb ingest.
	Dir string `yaml:"dir"`
	// IngestOnStart syncs Dir when serve or chat starts; unchanged files
	// are skipped.
	IngestOnStart bool `yaml:"ingest_on_start"`
	// MinRelevance is the relevance floor (0 to 1) under which a passage
	// is not used to answer: below it the answer is an honest "I don't
	// know" and the question a knowledge gap (bot.DefaultMinRelevance,
	// calibrated with chorus eval answers on the example knowledge base).
	// 0 keeps every passage.
	MinRelevance float64 `yaml:"min_relevance"`
}

// Validate checks the "kb" section.
func (c kbConfig) Validate() error {
	var p bot.Problems
	if c.MinRelevance < 0 || c.MinRelevance > 1 {
		p.Add("min_relevance", "must be between 0 and 1")
	}
	if c.IngestOnStart && strings.TrimSpace(c.Dir) == "" {
		p.Add("dir", "must name a directory when kb.ingest_on_start is true")
	}
	return p.Err()
}

// engineFloor maps the kb section's floor to the engine's, where 0 means
// the default: a configured 0 keeps every passage.
func (c kbConfig) engineFloor() float64 {
	if c.MinRelevance == 0 {
		return -1
	}
	return c.MinRelevance
}

// platforms are the chat platforms this binary speaks: every section of
// Config that is a platform's (a bot.AdapterConfig). A new platform is a
// folder under adapters/ and one field of Config; serve runs it when its
// section enables it, and its name is accepted wherever the configuration
// names a platform.
func (c *Config) platforms() []bot.AdapterConfig {
	var out []bot.AdapterConfig
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		if pc, ok := v.Field(i).Interface().(bot.AdapterConfig); ok {
			out = append(out, pc)
		}
	}
	return out
}

// platformNames are the names of the platforms, the console's included,
// for the fields that name one (managers_channel, announce.channels,
// roles).
func (c *Config) platformNames() []string {
	var out []string
	for _, pc := range c.platforms() {
		out = append(out, pc.Platform())
	}
	return append(out, console.Name)
}

// roles are the roles in force: the "roles" section and what every
// platform's section grants (telegram.manager_ids,
// discord.manager_role_ids). The engine decides authority with them.
func (c *Config) roles() bot.Roles {
	r := c.Roles
	for _, pc := range c.platforms() {
		r = r.Merge(pc.Grants())
	}
	return r
}
