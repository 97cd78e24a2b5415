package bot

import (
	"fmt"
	"strings"
	"time"
)

// Config is the engine's behaviour. The fields with a yaml tag are the
// "engine" section of the configuration; the others the binary sets from
// other sections (persona, roles, kb, the managers' channels). The zero
// value of a field takes the default named on it (see Defaults);
// DefaultConfig is what Chorus ships.
type Config struct {
	// Workers is the size of the handler pool (default 256). Handlers
	// mostly wait on the model and the disk, not the CPU: the pool must
	// hold every reply being streamed, about the message rate times the
	// model's answer time (100 msgs/s × 2.5 s = 250).
	// Messages of one conversation never run concurrently.
	Workers int `yaml:"workers"`
	// QueueSize bounds messages accepted but not yet handled, across all
	// conversations (default 4096). Handle blocks when it is full.
	QueueSize int `yaml:"queue_size"`
	// OpenChats are conversation keys ("telegram/-100123") or chat ids
	// where the bot answers every message, not only when addressed.
	OpenChats []string `yaml:"open_chats"`
	// RatePerMinute and RateBurst are the per-user token bucket for LLM
	// answers; RatePerMinute 0 disables it.
	RatePerMinute float64 `yaml:"rate_per_minute"`
	RateBurst     int     `yaml:"rate_burst"`
	// UserDailyTokens and ChatDailyTokens cap LLM tokens per UTC day;
	// 0 disables the cap.
	UserDailyTokens int `yaml:"user_daily_tokens"`
	ChatDailyTokens int `yaml:"chat_daily_tokens"`
	// WindowTokens is the prompt budget for recent turns (default 1500).
	WindowTokens int `yaml:"window_tokens"`
	// SummaryEvery folds turns into the summary once this many have fallen
	// out of the window (default 8).
	SummaryEvery int `yaml:"summary_every"`
	// KBPassages is how many knowledge-base passages go into a prompt
	// (default 3).
	KBPassages int `yaml:"kb_passages"`
	// ReplyMaxTokens bounds the completion (default 800).
	ReplyMaxTokens int `yaml:"reply_max_tokens"`
	// LLMTimeout bounds one answer, streaming included (default 60s).
	LLMTimeout time.Duration `yaml:"llm_timeout"`
	// DrainTimeout is how long a shutdown waits for the messages being
	// handled (Run; the binary's serve and chat).
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// ReplyMaxMessages caps an answer at this many platform messages
	// (default 4); a longer one ends with a short note.
	ReplyMaxMessages int `yaml:"reply_max_messages"`
	// ReplyMaxBytes bounds what is read from the model for one answer
	// (default 64 KiB): a model that streams on and on is cut there, the
	// reply ending with the same note, so that memory stays bounded.
	// LLMTimeout bounds it in time.
	ReplyMaxBytes int `yaml:"reply_max_bytes"`

	// BotName is the bot's handle, for /cmd@botname.
	BotName string `yaml:"-"`
	// Persona is the brand's voice.
	Persona Persona `yaml:"-"`
	// Roles are who manages the community, from config.
	Roles `yaml:"-"`
	// ManagersChats are the managers' channels, as chat keys
	// ("telegram/-100999"): a report asked there may cover every chat.
	ManagersChats []string `yaml:"-"`
	// TrustedPlatforms are platforms whose user is whoever runs the
	// process (the console): the role the adapter reports holds
	// everywhere.
	TrustedPlatforms []string `yaml:"-"`
	// MinRelevance is the floor of Passage.Relevance under which a
	// passage is not used: below it the answer is an honest "I don't
	// know" and the question a knowledge gap (default
	// DefaultMinRelevance; negative keeps every passage).
	MinRelevance float64 `yaml:"-"`
	// HandlerTimeout bounds the handling of one message, LLM included
	// (default 2×LLMTimeout).
	HandlerTimeout time.Duration `yaml:"-"`
}

// DefaultConfig is the "engine" section as Chorus ships it: the pool and
// queue at their defaults, 20 answers a minute per user in bursts of 5,
// daily token budgets of 50,000 per user and 500,000 per chat.
func DefaultConfig() Config {
	return Config{
		Workers:          0,
		QueueSize:        4096,
		RatePerMinute:    20,
		RateBurst:        5,
		UserDailyTokens:  50000,
		ChatDailyTokens:  500000,
		WindowTokens:     1500,
		SummaryEvery:     8,
		KBPassages:       3,
		ReplyMaxTokens:   800,
		LLMTimeout:       60 * time.Second,
		DrainTimeout:     15 * time.Second,
		ReplyMaxMessages: 4,
		ReplyMaxBytes:    DefaultReplyMaxBytes,
	}
}

// DefaultReplyMaxBytes is engine.reply_max_bytes when unset: four
// messages of Telegram's 4,096 characters at up to four bytes each.
const DefaultReplyMaxBytes = 64 << 10

// Validate checks the "engine" section.
func (c Config) Validate() error {
	var p Problems
	p.NonNegative("workers", c.Workers)
	p.NonNegative("queue_size", c.QueueSize)
	p.NonNegative("rate_per_minute", c.RatePerMinute)
	p.NonNegative("rate_burst", c.RateBurst)
	if c.RatePerMinute > 0 && c.RateBurst < 1 {
		p.Add("rate_burst", "must be 1 or more when engine.rate_per_minute is set, got %d", c.RateBurst)
	}
	p.NonNegative("user_daily_tokens", c.UserDailyTokens)
	p.NonNegative("chat_daily_tokens", c.ChatDailyTokens)
	p.NonNegative("window_tokens", c.WindowTokens)
	p.NonNegative("summary_every", c.SummaryEvery)
	p.NonNegative("kb_passages", c.KBPassages)
	p.NonNegative("reply_max_tokens", c.ReplyMaxTokens)
	p.NonNegative("reply_max_bytes", c.ReplyMaxBytes)
	p.NonNegative("llm_timeout", c.LLMTimeout)
	p.NonNegative("drain_timeout", c.DrainTimeout)
	if c.ReplyMaxMessages < 1 {
		p.Add("reply_max_messages", "must be 1 or more, got %d", c.ReplyMaxMessages)
	}
	for i, k := range c.OpenChats {
		if strings.TrimSpace(k) == "" {
			p.Add(fmt.Sprintf("open_chats[%d]", i), "must be a conversation key such as \"telegram/-100123\" or a chat id, got an empty string")
		}
	}
	return p.Err()
}

// Defaults fills unset fields.
func (c Config) Defaults() Config {
	if c.Workers <= 0 {
		c.Workers = 256
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
	if c.WindowTokens <= 0 {
		c.WindowTokens = 1500
	}
	if c.SummaryEvery <= 0 {
		c.SummaryEvery = 8
	}
	if c.KBPassages <= 0 {
		c.KBPassages = 3
	}
	if c.MinRelevance == 0 {
		c.MinRelevance = DefaultMinRelevance
	}
	if c.LLMTimeout <= 0 {
		c.LLMTimeout = 60 * time.Second
	}
	if c.ReplyMaxTokens <= 0 {
		c.ReplyMaxTokens = 800
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 2 * c.LLMTimeout
	}
	if c.ReplyMaxMessages <= 0 {
		c.ReplyMaxMessages = 4
	}
	if c.ReplyMaxBytes <= 0 {
		c.ReplyMaxBytes = DefaultReplyMaxBytes
	}
	if c.Persona.Brand == "" {
		c.Persona.Brand = "Chorus"
	}
	if c.Persona.BotName == "" {
		c.Persona.BotName = "Chorus"
	}
	return c
}

// Roles is the "roles" section: who may run manager and owner commands.
// Roles named here hold in every chat. What a platform says (Telegram chat
// administrators, Discord members with Manage Server or Moderate Members)
// counts only in the home chats, and only there (Engine.AuthorityOf).
type Roles struct {
	// Owners and Managers are user keys ("telegram:42") given that role.
	Owners   []string `yaml:"owners" platform:"users"`
	Managers []string `yaml:"managers" platform:"users"`
	// OwnerRoles and ManagerRoles are platform role ids (Discord) given
	// that role.
	OwnerRoles   []string `yaml:"owner_roles"`
	ManagerRoles []string `yaml:"manager_roles"`
	// HomeChats are the brand's own chats and servers, as HomeKey names
	// them ("telegram:-100123", "discord:GUILD_ID"). A role the platform
	// gives (chat administrator, Manage Server) counts only in these, and
	// only there; empty means it counts nowhere (anyone can create a group
	// and add the bot).
	HomeChats []string `yaml:"home_chats" platform:"homes"`
}

// Validate checks the "roles" section; the platforms of the user keys
// and home chats are checked by package configs against the binary's.
func (r Roles) Validate() error {
	var p Problems
	p.IDs("owner_roles", r.OwnerRoles, "Discord role id")
	p.IDs("manager_roles", r.ManagerRoles, "Discord role id")
	return p.Err()
}

// Merge returns r with the roles of o added.
func (r Roles) Merge(o Roles) Roles {
	return Roles{Owners: concat(r.Owners, o.Owners), Managers: concat(r.Managers, o.Managers),
		OwnerRoles: concat(r.OwnerRoles, o.OwnerRoles), ManagerRoles: concat(r.ManagerRoles, o.ManagerRoles),
		HomeChats: concat(r.HomeChats, o.HomeChats)}
}

// Validate checks the "persona" section.
func (p Persona) Validate() error {
	var ps Problems
	if strings.ContainsAny(p.BotName, " \t\n") {
		ps.Add("bot_name", "must be one word (it is also the command handle), got %q", p.BotName)
	}
	ps.NotBlank("do", p.Do)
	ps.NotBlank("dont", p.Dont)
	return ps.Err()
}
