package telegram

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Mode says how updates arrive.
type Mode string

// Modes.
const (
	ModePolling Mode = "polling"
	ModeWebhook Mode = "webhook"
)

// Defaults for Config fields left zero.
const (
	DefaultAPIURL        = "https://api.telegram.org"
	DefaultPollTimeout   = 30 * time.Second
	DefaultAdminCacheTTL = 10 * time.Minute
	// minPollTimeout keeps the long poll long: Telegram's timeout is
	// PollTimeout-1s in whole seconds, and 0 would poll in a hot loop.
	minPollTimeout = 2 * time.Second
	// maxLen is what Limits reports: Telegram's limit on a message's text
	// after entities parsing, in UTF-16 code units (Limits.UTF16). The
	// engine splits the model's Markdown, which FormatHTML only shortens
	// as it becomes tags.
	maxLen = 4096
	// maxCaption is Telegram's caption limit.
	maxCaption = 1024
	// maxWebhookInFlight bounds webhook requests handled at once.
	maxWebhookInFlight = 64
	// maxWebhookBody bounds a webhook request body.
	maxWebhookBody = 1 << 20
)

// Webhook configures webhook mode: "telegram.webhook".
type Webhook struct {
	// Listen is the address the webhook server binds ("127.0.0.1:8443").
	Listen string `yaml:"listen"`
	// PublicURL is the HTTPS URL Telegram posts to; its path is the path
	// served. Run registers it with setWebhook.
	PublicURL string `yaml:"public_url" redact:"url"`
	// Secret is the secret_token given to setWebhook; requests without it
	// in X-Telegram-Bot-Api-Secret-Token get 401. Required; secret.
	Secret     string `yaml:"secret" secret:"secret_file"`
	SecretFile string `yaml:"secret_file"`
}

// Config is the "telegram" section of the configuration. The adapter runs
// when Token is set (from CHORUS_TELEGRAM_TOKEN, TokenFile or the file).
type Config struct {
	// Token is the bot token from @BotFather; secret.
	Token     string `yaml:"token" secret:"token_file"`
	TokenFile string `yaml:"token_file"`
	// APIURL is the Bot API base URL (default DefaultAPIURL), for a
	// self-hosted Bot API server and for tests.
	APIURL string `yaml:"api_url" empty:"default" redact:"url"`
	// Mode is polling (default) or webhook.
	Mode Mode `yaml:"mode" empty:"default"`
	// PollTimeout is the long-poll wait (default 30s, at least 2s).
	PollTimeout time.Duration `yaml:"poll_timeout"`
	// Webhook configures webhook mode.
	Webhook Webhook `yaml:"webhook"`
	// ChannelPosts makes channel posts messages (ChatChannel); they are
	// ignored otherwise.
	ChannelPosts bool `yaml:"channel_posts"`
	// ManagerIDs are Telegram user ids given the manager role in every
	// chat; their private chats get the managers' command menu.
	ManagerIDs []string `yaml:"manager_ids"`
	// HomeChatIDs are the brand's home chats (roles.home_chats): their
	// administrators get the managers' command menu there. The
	// administrators of other chats are followers, and see the
	// followers' menu.
	HomeChatIDs []string `yaml:"-"`
	// AdminCacheTTL is how long a chat's administrator list is kept
	// (default 10m).
	AdminCacheTTL time.Duration `yaml:"-"`
}

// DefaultConfig is the "telegram" section as Chorus ships it: no token
// (the adapter off), long polling of the public Bot API.
func DefaultConfig() Config {
	return Config{APIURL: DefaultAPIURL, Mode: ModePolling, PollTimeout: DefaultPollTimeout}
}

// Enabled reports whether the adapter should run: a token is set.
func (c Config) Enabled() bool { return c.Token != "" }

func (c Config) withDefaults() Config {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.Mode == "" {
		c.Mode = ModePolling
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = DefaultPollTimeout
	}
	c.PollTimeout = max(c.PollTimeout, minPollTimeout)
	if c.AdminCacheTTL <= 0 {
		c.AdminCacheTTL = DefaultAdminCacheTTL
	}
	return c
}

var tokenRE = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)

// validSecret reports whether s is a webhook secret Telegram accepts: 1 to
// 256 characters of A-Z, a-z, 0-9, _ and -. (As the regular expression
// ^[A-Za-z0-9_-]{1,256}$ it cost 1 MB of heap for its one-pass program, in
// every process that links the adapter.)
func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Validate checks the "telegram" section: a zero field means its default,
// an empty token that the adapter is off.
func (c Config) Validate() error {
	var p bot.Problems
	if c.Token != "" && !tokenRE.MatchString(c.Token) {
		p.Add("token", "must look like 123456:ABC-xyz as @BotFather gives it (value not shown)")
	}
	if c.APIURL != "" {
		p.URL("api_url", c.APIURL, "http", "https")
	}
	if c.Mode != "" {
		bot.OneOf(&p, "mode", c.Mode, ModePolling, ModeWebhook)
	}
	p.NonNegative("poll_timeout", c.PollTimeout)
	p.IDs("manager_ids", c.ManagerIDs, "Telegram user id")
	p.IDs("HomeChatIDs", c.HomeChatIDs, "Telegram chat id")
	w := c.Webhook
	if c.Mode == ModeWebhook {
		if w.Listen == "" {
			p.Add("webhook.listen", "is required in webhook mode (host:port to bind, such as \":8443\")")
		}
		if w.PublicURL == "" {
			p.Add("webhook.public_url", "is required in webhook mode (the https URL Telegram posts to)")
		}
		if w.Secret == "" {
			p.Add("webhook.secret", "is required in webhook mode so forged updates are refused (set CHORUS_TELEGRAM_WEBHOOK_SECRET or telegram.webhook.secret_file)")
		}
	}
	if w.Listen != "" {
		p.Listen("webhook.listen", w.Listen)
	}
	if w.PublicURL != "" {
		p.URL("webhook.public_url", w.PublicURL, "https")
	}
	if w.Secret != "" && !validSecret(w.Secret) {
		p.Add("webhook.secret", "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (value not shown)")
	}
	return p.Err()
}

var (
	_ bot.AdapterConfig = Config{}
	_ bot.Exclusive     = Config{}
)

// Exclusive implements bot.Exclusive: in polling mode one replica at a
// time polls (two getUpdates loops of one bot take each other's updates
// and Telegram answers the second with 409 Conflict); in webhook mode
// every replica receives what the load balancer sends it. The lead is
// the bot's: its numeric id, the part of the token before the colon,
// which is not secret.
func (c Config) Exclusive() (string, bool) {
	id, _, _ := strings.Cut(c.Token, ":")
	return "telegram-polling/" + id, c.withDefaults().Mode == ModePolling
}

// Platform implements bot.AdapterConfig.
func (c Config) Platform() string { return PlatformName }

// Grants implements bot.AdapterConfig: the users of ManagerIDs manage the
// community in every chat.
func (c Config) Grants() bot.Roles {
	var r bot.Roles
	for _, id := range c.ManagerIDs {
		r.Managers = append(r.Managers, bot.UserKey(PlatformName, id))
	}
	return r
}

// NewAdapter implements bot.AdapterConfig. The command menus follow the
// roles in force: the managers' commands for the administrators of the
// home chats and in the private chats of the managers and owners named in
// config.
func (c Config) NewAdapter(h bot.Handler, env bot.AdapterEnv) (bot.Adapter, error) {
	for _, k := range append(append([]string(nil), env.Roles.Managers...), env.Roles.Owners...) {
		if id, ok := strings.CutPrefix(k, PlatformName+":"); ok && !slices.Contains(c.ManagerIDs, id) {
			c.ManagerIDs = append(c.ManagerIDs, id)
		}
	}
	for _, k := range env.Roles.HomeChats {
		if id, ok := strings.CutPrefix(k, PlatformName+":"); ok {
			c.HomeChatIDs = append(c.HomeChatIDs, id)
		}
	}
	opts := []Option{WithCommands(env.Commands)}
	if env.Log != nil {
		opts = append(opts, WithLogger(env.Log))
	}
	if env.Observer != nil {
		opts = append(opts, WithObserver(env.Observer))
	}
	return New(c, h, opts...)
}
