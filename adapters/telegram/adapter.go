// Package telegram connects Chorus to Telegram through the Bot API
// (github.com/go-telegram/bot). The Adapter turns updates (private chats,
// groups, supergroups and forum topics, optionally channel posts) into
// bot.Message values for a bot.Handler (the engine), and implements
// bot.Platform so the engine can answer, stream by edits, and moderate:
// sendMessage, editMessageText, deleteMessage, sendChatAction,
// restrictChatMember and banChatMember.
//
// Updates arrive by long polling (the library's poller, which backs off on
// errors and never stops while its context lives) or by webhook (an
// http.Server that checks X-Telegram-Bot-Api-Secret-Token). Replies are
// rendered from the LLM's Markdown to Telegram HTML by FormatHTML; a
// message Telegram still refuses to parse is resent as plain text.
//
// Concurrency: updates are converted and handed to the Handler by one
// goroutine in polling mode, so one chat's messages reach the engine in
// order and a blocking Handle (a full engine queue) slows the poller
// instead of piling up goroutines. In webhook mode at most maxWebhookInFlight
// requests are handled at once. Platform methods are safe for concurrent use.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chorusbot/chorus/bot"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// PlatformName is the platform key in bot.Message.Platform and user keys.
const PlatformName = "telegram"

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
	// maxLen is what Limits reports: Telegram's 4096 less a margin, since
	// Telegram counts UTF-16 code units and the engine counts runes.
	maxLen = 4000
	// maxCaption is Telegram's caption limit.
	maxCaption = 1024
	// maxWebhookInFlight bounds webhook requests handled at once.
	maxWebhookInFlight = 64
	// maxWebhookBody bounds a webhook request body.
	maxWebhookBody = 1 << 20
)

// Skip categories: the Category of a bot.AdapterSkipped event (an update
// carried nothing Chorus reads: a photo or sticker without caption, a
// command for another bot, a channel post when channel posts are off).
const (
	SkipNoText   = "no_text"
	SkipOtherBot = "other_bot"
	SkipChannel  = "channel"
	SkipOther    = "other"
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

var (
	tokenRE  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

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
	if w.Secret != "" && !secretRE.MatchString(w.Secret) {
		p.Add("webhook.secret", "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (value not shown)")
	}
	return p.Err()
}

// Option configures an Adapter.
type Option func(*Adapter)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(a *Adapter) { a.log = l } }

// WithObserver adds an observer for bot.EventAdapter events.
func WithObserver(o bot.Observer) Option { return func(a *Adapter) { a.events.Add(o) } }

// WithCommands gives the commands to register with setMyCommands at start
// (pass engine.Commands): follower commands for everyone, manager commands
// for chat administrators and configured managers.
func WithCommands(f func(bot.Role) []bot.CommandSpec) Option {
	return func(a *Adapter) { a.commands = f }
}

// WithHTTPClient sets the HTTP client for the Bot API. Its Timeout must be
// longer than the poll timeout.
func WithHTTPClient(c *http.Client) Option { return func(a *Adapter) { a.httpClient = c } }

// withRetryBase shortens back-off in tests.
func withRetryBase(d time.Duration) Option { return func(a *Adapter) { a.retryBase = d } }

// Adapter is the Telegram platform. Create it with New, add it to the
// engine, then Run it.
type Adapter struct {
	cfg        Config
	h          bot.Handler
	log        *slog.Logger
	events     bot.Observers
	commands   func(bot.Role) []bot.CommandSpec
	httpClient *http.Client
	retryBase  time.Duration
	api        *tg.Bot
	managers   map[int64]bool

	// me is the bot's own identity, learnt by getMe in Run.
	meMu     sync.RWMutex
	meID     int64
	meName   string
	started  chan struct{} // closed once getMe succeeded
	startOne sync.Once

	connected atomic.Bool
	everUp    atomic.Bool
	polling   atomic.Bool

	admins adminCache

	whMu   sync.Mutex
	whAddr string
	whSem  chan struct{}

	// disp hands polled updates to the engine by chat.
	disp dispatch

	// handleCtx is the context updates are handled under; set by Run.
	ctxMu     sync.RWMutex
	handleCtx context.Context
}

var _ bot.Platform = (*Adapter)(nil)

// New builds an adapter that passes messages to h. It does no network I/O.
func New(cfg Config, h bot.Handler, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("telegram: New: nil handler")
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("telegram: config: token is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("telegram: config: %w", err)
	}
	cfg = cfg.withDefaults()
	a := &Adapter{
		cfg:       cfg,
		h:         h,
		log:       slog.New(slog.DiscardHandler),
		retryBase: 500 * time.Millisecond,
		managers:  map[int64]bool{},
		started:   make(chan struct{}),
		whSem:     make(chan struct{}, maxWebhookInFlight),
		handleCtx: context.Background(),
	}
	a.admins.ttl = cfg.AdminCacheTTL
	a.admins.m = map[int64]adminEntry{}
	for _, o := range opts {
		o(a)
	}
	a.log = a.log.With("adapter", PlatformName)
	for _, id := range cfg.ManagerIDs {
		n, _ := strconv.ParseInt(id, 10, 64)
		a.managers[n] = true
	}
	client := a.httpClient
	if client == nil {
		client = &http.Client{Timeout: cfg.PollTimeout + 15*time.Second}
	}
	api, err := tg.New(cfg.Token,
		tg.WithSkipGetMe(),
		tg.WithServerURL(cfg.APIURL),
		tg.WithHTTPClient(cfg.PollTimeout, &trackingClient{inner: client, a: a}),
		tg.WithDefaultHandler(a.onUpdate),
		tg.WithErrorsHandler(a.onLibError),
		tg.WithDebugHandler(func(string, ...any) {}),
		tg.WithNotAsyncHandlers(),
		tg.WithWorkers(1),
		tg.WithUpdatesChannelCap(16),
		tg.WithAllowedUpdates(tg.AllowedUpdates{models.AllowedUpdateMessage, models.AllowedUpdateEditedMessage,
			models.AllowedUpdateChannelPost, models.AllowedUpdateEditedChannelPost}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: new client: %w", err)
	}
	a.api = api
	return a, nil
}

// Name implements bot.Platform.
func (a *Adapter) Name() string { return PlatformName }

// Limits implements bot.Platform: edits at most once a second per message,
// HTML markup.
func (a *Adapter) Limits() bot.Limits {
	return bot.Limits{MaxLen: maxLen, EditEvery: time.Second, Stream: true, Markup: bot.MarkupHTML}
}

// Connected reports whether the last Bot API request reached Telegram and
// the bot knows who it is; for /readyz.
func (a *Adapter) Connected() bool {
	select {
	case <-a.started:
		return a.connected.Load()
	default:
		return false
	}
}

// BotUsername is the bot's @username (without '@') once Run has called
// getMe, empty before.
func (a *Adapter) BotUsername() string {
	a.meMu.RLock()
	defer a.meMu.RUnlock()
	return a.meName
}

func (a *Adapter) me() (int64, string) {
	a.meMu.RLock()
	defer a.meMu.RUnlock()
	return a.meID, a.meName
}

// WebhookAddr is the address the webhook server listens on once it is up
// (useful with port 0), empty before.
func (a *Adapter) WebhookAddr() string {
	a.whMu.Lock()
	defer a.whMu.Unlock()
	return a.whAddr
}

// Run connects and receives updates until ctx ends, then returns nil. It
// learns the bot's identity with getMe (retrying with back-off while
// Telegram is unreachable; a rejected token is an error), registers the
// commands, and then long-polls or serves the webhook.
func (a *Adapter) Run(ctx context.Context) error {
	a.ctxMu.Lock()
	a.handleCtx = ctx
	a.ctxMu.Unlock()
	if err := a.identify(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a.registerCommands(ctx)
	if a.cfg.Mode == ModeWebhook {
		return a.runWebhook(ctx)
	}
	if err := a.do(ctx, "deleteWebhook", 2, func(ctx context.Context) error {
		_, err := a.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{})
		return err
	}); err != nil && ctx.Err() == nil {
		a.log.Warn("deleteWebhook failed; polling may conflict with a webhook", "err", err)
	}
	a.log.Info("polling for updates", "bot", a.BotUsername())
	a.disp.start(func(upd *models.Update) { _ = a.handleUpdate(ctx, upd) })
	a.polling.Store(true)
	a.api.Start(ctx) // backs off on errors, returns when ctx ends
	a.polling.Store(false)
	a.disp.stop()
	a.setConnected(false)
	return nil
}

// identify calls getMe until it succeeds, ctx ends, or Telegram rejects
// the token.
func (a *Adapter) identify(ctx context.Context) error {
	delay := a.retryBase
	for {
		u, err := a.api.GetMe(ctx)
		if err == nil {
			a.meMu.Lock()
			a.meID, a.meName = u.ID, u.Username
			a.meMu.Unlock()
			a.startOne.Do(func() { close(a.started) })
			a.log.Info("connected to Telegram", "bot", u.Username)
			return nil
		}
		if errors.Is(err, tg.ErrorUnauthorized) || errors.Is(err, tg.ErrorNotFound) {
			return fmt.Errorf("telegram: getMe: token rejected: %w", err)
		}
		a.log.Warn("getMe failed, retrying", "err", err, "in", delay)
		if err := bot.Sleep(ctx, jitter(delay)); err != nil {
			return err
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// validCommand is Telegram's rule for command names: [a-z0-9_]{1,32}.
func validCommand(name string) bool {
	if len(name) == 0 || len(name) > bot.MaxCommandName {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func botCommands(specs []bot.CommandSpec, lang string) []models.BotCommand {
	var out []models.BotCommand
	for _, c := range specs {
		if c.Hidden || !validCommand(c.Name) {
			continue
		}
		d := strings.TrimSpace(c.HelpIn(lang))
		if d == "" {
			d = c.Name
		}
		if r := []rune(d); len(r) > 256 {
			d = string(r[:255]) + "…"
		}
		out = append(out, models.BotCommand{Command: c.Name, Description: d})
	}
	return out
}

// registerCommands calls setMyCommands for followers (default scope) and
// managers (the administrators of the home chats, and the private chats of
// configured managers), in English and Chinese. Failures are logged: the
// bot works without a command menu.
func (a *Adapter) registerCommands(ctx context.Context) {
	if a.commands == nil {
		return
	}
	type reg struct {
		scope models.BotCommandScope
		role  bot.Role
	}
	regs := []reg{{&models.BotCommandScopeDefault{}, bot.RoleFollower}}
	for _, id := range a.cfg.HomeChatIDs {
		n, _ := strconv.ParseInt(id, 10, 64)
		regs = append(regs, reg{&models.BotCommandScopeChatAdministrators{ChatID: n}, bot.RoleManager})
	}
	n := 0
	for id := range a.managers {
		if n >= 20 {
			break
		}
		regs = append(regs, reg{&models.BotCommandScopeChat{ChatID: id}, bot.RoleManager})
		n++
	}
	for _, r := range regs {
		specs := a.commands(r.role)
		for _, lang := range []string{"", "zh"} {
			l := lang
			if l == "" {
				l = bot.DefaultLang
			}
			cmds := botCommands(specs, l)
			if len(cmds) == 0 {
				continue
			}
			p := &tg.SetMyCommandsParams{Commands: cmds, Scope: r.scope, LanguageCode: lang}
			if err := a.do(ctx, "setMyCommands", 3, func(ctx context.Context) error {
				_, err := a.api.SetMyCommands(ctx, p)
				return err
			}); err != nil {
				a.log.Warn("setMyCommands failed", "err", err)
				return
			}
		}
	}
}

// setConnected records reachability and emits an event on each change.
func (a *Adapter) setConnected(up bool) {
	if a.connected.Swap(up) == up {
		return
	}
	state := bot.AdapterDisconnected
	if up {
		state = bot.AdapterConnected
		if a.everUp.Swap(true) {
			state = bot.AdapterReconnect
		}
		a.log.Info("Bot API reachable")
	} else {
		a.log.Warn("Bot API unreachable")
	}
	a.events.Emit(bot.Event{Kind: bot.EventAdapter, Platform: PlatformName, State: state})
}

// trackingClient watches every Bot API round trip to know whether Telegram
// is reachable.
type trackingClient struct {
	inner *http.Client
	a     *Adapter
}

func (c *trackingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(req)
	switch {
	case err != nil && req.Context().Err() == nil:
		c.a.setConnected(false)
	case err == nil && resp.StatusCode >= 500:
		c.a.setConnected(false)
	case err == nil:
		c.a.setConnected(true)
	}
	return resp, err
}

// onLibError receives the library's errors (mostly failed polls, which it
// retries with back-off itself).
func (a *Adapter) onLibError(err error) {
	msg := err.Error()
	a.ctxMu.RLock()
	stopping := a.handleCtx.Err() != nil
	a.ctxMu.RUnlock()
	if stopping {
		a.log.Debug("telegram client error while stopping", "err", msg)
		return
	}
	if strings.Contains(msg, "decode") {
		// A decode error quotes the response body: user text.
		a.log.Debug("telegram client error", "err", msg)
		a.log.Warn("telegram client error: undecodable response")
		return
	}
	a.log.Warn("telegram client error", "err", msg)
}

func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
