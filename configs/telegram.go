package configs

import (
	"regexp"
	"strings"
	"time"
)

// TelegramMode is how updates arrive from Telegram.
type TelegramMode string

// Telegram modes.
const (
	// TelegramPolling long-polls getUpdates: no public address needed.
	TelegramPolling TelegramMode = "polling"
	// TelegramWebhook has Telegram POST updates to Webhook.PublicURL.
	TelegramWebhook TelegramMode = "webhook"
)

// DefaultTelegramAPI is the Bot API server.
const DefaultTelegramAPI = "https://api.telegram.org"

// TelegramConfig is the "telegram" section. The adapter runs when Token is
// set (from CHORUS_TELEGRAM_TOKEN, TokenFile or here).
type TelegramConfig struct {
	// Token is the bot token from @BotFather; secret.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// APIURL is the Bot API server (a local telegram-bot-api works too).
	APIURL string       `yaml:"api_url"`
	Mode   TelegramMode `yaml:"mode"`
	// PollTimeout is the long-poll timeout of getUpdates.
	PollTimeout time.Duration `yaml:"poll_timeout"`
	Webhook     WebhookConfig `yaml:"webhook"`
	// ChannelPosts makes the bot read posts in channels it administers
	// (for moderation and analytics; it never replies in a channel).
	ChannelPosts bool `yaml:"channel_posts"`
	// ManagerIDs are Telegram user ids given the manager role.
	ManagerIDs []string `yaml:"manager_ids"`
}

// WebhookConfig is "telegram.webhook", used in webhook mode.
type WebhookConfig struct {
	// Listen is the local host:port the webhook server binds.
	Listen string `yaml:"listen"`
	// PublicURL is the https URL Telegram posts to (behind a proxy).
	PublicURL string `yaml:"public_url"`
	// Secret is checked against X-Telegram-Bot-Api-Secret-Token; secret.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

func defaultTelegram() TelegramConfig {
	return TelegramConfig{
		APIURL:      DefaultTelegramAPI,
		Mode:        TelegramPolling,
		PollTimeout: 30 * time.Second,
	}
}

func (c *TelegramConfig) fill() {
	d := defaultTelegram()
	if strings.TrimSpace(c.APIURL) == "" {
		c.APIURL = d.APIURL
	}
	if c.Mode == "" {
		c.Mode = d.Mode
	}
}

var (
	telegramToken  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	telegramSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

func (c *TelegramConfig) validate(p *problems) {
	if c.Token != "" && !telegramToken.MatchString(c.Token) {
		p.add("telegram.token", "must look like 123456:ABC-xyz as @BotFather gives it (value not shown)")
	}
	checkURL(p, "telegram.api_url", c.APIURL, "http", "https")
	oneOf(p, "telegram.mode", c.Mode, TelegramPolling, TelegramWebhook)
	nonNegDuration(p, "telegram.poll_timeout", c.PollTimeout)
	checkIDs(p, "telegram.manager_ids", c.ManagerIDs, "Telegram user id")
	w := c.Webhook
	if c.Mode == TelegramWebhook {
		if w.Listen == "" {
			p.add("telegram.webhook.listen", "is required in webhook mode (host:port to bind, such as \":8443\")")
		}
		if w.PublicURL == "" {
			p.add("telegram.webhook.public_url", "is required in webhook mode (the https URL Telegram posts to)")
		}
		if w.Secret == "" {
			p.add("telegram.webhook.secret", "is required in webhook mode so forged updates are refused (set CHORUS_TELEGRAM_WEBHOOK_SECRET or telegram.webhook.secret_file)")
		}
	}
	if w.Listen != "" {
		checkListen(p, "telegram.webhook.listen", w.Listen)
	}
	if w.PublicURL != "" {
		checkURL(p, "telegram.webhook.public_url", w.PublicURL, "https")
	}
	if w.Secret != "" && !telegramSecret.MatchString(w.Secret) {
		p.add("telegram.webhook.secret", "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (value not shown)")
	}
}

// Enabled reports whether the Telegram adapter should run.
func (c TelegramConfig) Enabled() bool { return c.Token != "" }
