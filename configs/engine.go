package configs

import (
	"fmt"
	"strings"
	"time"
)

// EngineConfig is the "engine" section: the dialogue engine's pool,
// reply policy, limits and prompt budget. A zero number means the
// engine's own default where noted.
type EngineConfig struct {
	// Workers is the handler pool size; 0 means the engine's default (256).
	// It bounds replies being written at once: set it to about the message
	// rate times the model's answer time.
	Workers int `yaml:"workers"`
	// QueueSize bounds accepted but unhandled messages; 0 means 4096.
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
	// WindowTokens is the prompt budget for recent turns.
	WindowTokens int `yaml:"window_tokens"`
	// SummaryEvery folds turns into the summary once this many have
	// fallen out of the window.
	SummaryEvery int `yaml:"summary_every"`
	// KBPassages is how many knowledge-base passages go into a prompt.
	KBPassages int `yaml:"kb_passages"`
	// ReplyMaxTokens bounds one completion.
	ReplyMaxTokens int `yaml:"reply_max_tokens"`
	// LLMTimeout bounds one answer, streaming included.
	LLMTimeout time.Duration `yaml:"llm_timeout"`
	// DrainTimeout is how long shutdown waits for in-flight messages.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// ReplyMaxMessages caps one answer at this many platform messages; a
	// longer one ends with a short note.
	ReplyMaxMessages int `yaml:"reply_max_messages"`
}

func defaultEngine() EngineConfig {
	return EngineConfig{
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
	}
}

func (c *EngineConfig) validate(p *problems) {
	nonNegInt(p, "engine.workers", c.Workers)
	nonNegInt(p, "engine.queue_size", c.QueueSize)
	nonNegFloat(p, "engine.rate_per_minute", c.RatePerMinute)
	nonNegInt(p, "engine.rate_burst", c.RateBurst)
	if c.RatePerMinute > 0 && c.RateBurst < 1 {
		p.add("engine.rate_burst", "must be 1 or more when engine.rate_per_minute is set, got %d", c.RateBurst)
	}
	nonNegInt(p, "engine.user_daily_tokens", c.UserDailyTokens)
	nonNegInt(p, "engine.chat_daily_tokens", c.ChatDailyTokens)
	nonNegInt(p, "engine.window_tokens", c.WindowTokens)
	nonNegInt(p, "engine.summary_every", c.SummaryEvery)
	nonNegInt(p, "engine.kb_passages", c.KBPassages)
	nonNegInt(p, "engine.reply_max_tokens", c.ReplyMaxTokens)
	nonNegDuration(p, "engine.llm_timeout", c.LLMTimeout)
	nonNegDuration(p, "engine.drain_timeout", c.DrainTimeout)
	if c.ReplyMaxMessages < 1 {
		p.add("engine.reply_max_messages", "must be 1 or more, got %d", c.ReplyMaxMessages)
	}
	for i, k := range c.OpenChats {
		if strings.TrimSpace(k) == "" {
			p.add(fmt.Sprintf("engine.open_chats[%d]", i), "must be a conversation key such as \"telegram/-100123\" or a chat id, got an empty string")
		}
	}
}
