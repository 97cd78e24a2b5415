// Package telegram connects Chorus to Telegram through the Bot API
// (github.com/go-telegram/bot). The Adapter (a bot.Adapter) turns updates
// (private chats, groups, supergroups and forum topics, optionally channel
// posts) into bot.Message values for a bot.Handler (the engine), and
// implements bot.Platform so the engine can answer, stream by edits, and
// moderate: sendMessage, editMessageText, deleteMessage, sendChatAction,
// restrictChatMember and banChatMember.
//
// The files are those of every adapter: config.go (the "telegram" section,
// a bot.AdapterConfig), adapter.go (the connection and Run), convert.go
// (an update becomes a bot.Message), platform.go (bot.Platform),
// commands.go (the command menus), and telegramtest, a fake Bot API server
// for tests; beside them format.go (Markdown to Telegram HTML) and
// webhook.go.
//
// Updates arrive by long polling (poll.go: Chorus's own getUpdates loop,
// which confirms an update to Telegram only once the engine has stored it,
// and backs off on errors without ever stopping while its context lives)
// or by webhook (an http.Server that checks X-Telegram-Bot-Api-Secret-Token
// and answers 503, so that Telegram delivers again, when the engine could
// not take the update). Replies are
// rendered from the LLM's Markdown to Telegram HTML by FormatHTML; a
// message Telegram still refuses to parse is resent as plain text.
//
// Concurrency: in polling mode each batch of updates is handed to the
// Handler in lanes (a chat, or a member of a group), each in order, and the
// next batch is asked for once the Handler returned for all of them, so a
// blocking Handle (a full engine queue) slows the poller instead of piling
// up updates in memory. In webhook mode at most maxWebhookInFlight
// requests are handled at once. Platform methods are safe for concurrent use.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chorusbot/chorus/bot"
	tg "github.com/go-telegram/bot"
)

// maxIdleConns is how many idle connections to the Bot API are kept.
const maxIdleConns = 64

// PlatformName is the platform key in bot.Message.Platform and user keys.
const PlatformName = "telegram"

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

	admins adminCache

	whMu   sync.Mutex
	whAddr string
	whSem  chan struct{}
	// whRefused rate-limits the log lines of refused webhook requests.
	whRefused refusedLog

	// client makes the Bot API requests (the library's and getUpdates),
	// noting whether Telegram answers.
	client *trackingClient

	// handleCtx is the context updates are handled under; set by Run.
	ctxMu     sync.RWMutex
	handleCtx context.Context
}

var _ bot.Adapter = (*Adapter)(nil)

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
		// Many replies stream at once: keep their connections for
		// reuse instead of opening (and leaving in TIME_WAIT) one per
		// request beyond the default two.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = maxIdleConns
		client = &http.Client{Timeout: cfg.PollTimeout + 15*time.Second, Transport: tr}
	}
	a.client = &trackingClient{inner: client, a: a}
	// The library sends; updates are received by poll (or the webhook),
	// never by the library's poller, which confirms an update to
	// Telegram before the engine has it.
	api, err := tg.New(cfg.Token,
		tg.WithSkipGetMe(),
		tg.WithServerURL(cfg.APIURL),
		tg.WithHTTPClient(cfg.PollTimeout, a.client),
		tg.WithErrorsHandler(a.onLibError),
		tg.WithDebugHandler(func(string, ...any) {}),
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
	return bot.Limits{MaxLen: maxLen, UTF16: true, EditEvery: time.Second, Stream: true, Markup: bot.MarkupHTML}
}

// Ready implements bot.Adapter: the last Bot API request reached Telegram
// and the bot knows who it is.
func (a *Adapter) Ready() bool {
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

// Run implements bot.Adapter: it connects and receives updates until ctx
// ends, then returns nil. It learns the bot's identity with getMe (an
// error while Telegram is unreachable, for bot.RunAdapter to try again; a
// rejected token wraps bot.ErrFatal), registers the commands, and then
// long-polls or serves the webhook.
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
	err := a.poll(ctx) // backs off on errors, returns when ctx ends
	a.setConnected(false)
	return err
}

// identify calls getMe: an error is Run's (bot.RunAdapter runs it again
// after a pause), one wrapping bot.ErrFatal when Telegram rejects the
// token.
func (a *Adapter) identify(ctx context.Context) error {
	u, err := a.api.GetMe(ctx)
	if errors.Is(err, tg.ErrorUnauthorized) || errors.Is(err, tg.ErrorNotFound) {
		return fmt.Errorf("telegram: getMe: token rejected: %w: %w", bot.ErrFatal, err)
	}
	if err != nil {
		return fmt.Errorf("telegram: getMe: %w", err)
	}
	a.meMu.Lock()
	a.meID, a.meName = u.ID, u.Username
	a.meMu.Unlock()
	a.startOne.Do(func() { close(a.started) })
	a.log.Info("connected to Telegram", "bot", u.Username)
	return nil
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
