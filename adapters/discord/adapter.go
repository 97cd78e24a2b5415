// Package discord connects Chorus to Discord through discordgo: it turns
// gateway events (messages in guild channels, threads and DMs; slash command
// interactions) into bot.Message values for a bot.Handler, and implements
// bot.Platform so the engine can answer, stream by edits, moderate and
// register slash commands.
//
// The gateway needs the Guilds, GuildMessages, DirectMessages and
// MessageContent intents. MessageContent is privileged: switch it on for the
// application in the Discord developer portal, or message text arrives
// empty.
//
// discordgo keeps its REST endpoints in package variables, so one process
// talks to one Discord API base (Config.APIURL) at a time; Run returns
// ErrEndpointConflict when asked for a second one while the first runs.
//
// Every message the adapter sends or edits carries allowed_mentions with an
// empty parse list: whatever a reply says, it can't ping @everyone, @here or
// a role.
//
// The files are those of every adapter: config.go (the "discord" section,
// a bot.AdapterConfig), adapter.go (the gateway session and Run),
// convert.go (gateway events become bot.Message values, handed on by a
// bot.Dispatcher), platform.go (bot.Platform), commands.go (slash
// commands), and discordtest, a fake REST and gateway server for tests;
// beside them endpoints.go (discordgo's endpoint variables).
package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/chorusbot/chorus/bot"
)

// PlatformName is the platform key in bot.Message.Platform and user keys
// ("discord:1234").
const PlatformName = "discord"

// Option configures an Adapter.
type Option func(*Adapter)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(a *Adapter) {
		if l != nil {
			a.log = l
		}
	}
}

// WithObserver receives bot.EventAdapter events: bot.AdapterConnected,
// bot.AdapterDisconnected, bot.AdapterReconnect.
func WithObserver(o bot.Observer) Option { return func(a *Adapter) { a.obs = o } }

// WithCommands supplies the slash commands to register at start; the engine's
// Commands method fits. The adapter asks for the commands an owner may run
// and marks those needing a manager with default member permissions.
func WithCommands(f func(bot.Role) []bot.CommandSpec) Option {
	return func(a *Adapter) { a.commands = f }
}

// WithHTTPClient sets the client for REST calls (default: 20s timeout).
func WithHTTPClient(c *http.Client) Option {
	return func(a *Adapter) {
		if c != nil {
			a.client = c
		}
	}
}

// WithEditEvery overrides the pause between two edits of a streamed reply
// (default DefaultEditEvery).
func WithEditEvery(d time.Duration) Option { return func(a *Adapter) { a.editEvery = d } }

// WithDispatchers sets how many goroutines hand events to the handler
// (default 8). Events of one channel always go through the same one, so
// their order is kept.
func WithDispatchers(n int) Option {
	return func(a *Adapter) {
		if n > 0 {
			a.dispatchers = n
		}
	}
}

// Adapter is the Discord platform. Create it with New, register it with the
// engine (engine.AddPlatform), then Run it. Its bot.Platform methods may be
// called from any goroutine once Run has connected.
type Adapter struct {
	cfg         Config
	h           bot.Handler
	log         *slog.Logger
	obs         bot.Observer
	commands    func(bot.Role) []bot.CommandSpec
	client      *http.Client
	editEvery   time.Duration
	dispatchers int

	mu    sync.RWMutex
	s     *discordgo.Session
	botID string
	appID string
	disp  *bot.Dispatcher[job]
	dctx  context.Context

	connected atomic.Bool
	everUp    atomic.Bool
	stopped   atomic.Bool

	ixMu sync.Mutex
	ix   map[string]*ixState

	chMu    sync.Mutex
	chGuild map[string]string
}

var _ bot.Adapter = (*Adapter)(nil)

type job struct {
	m    bot.Message
	ix   *discordgo.Interaction // set for interactions: acknowledge first
	join *bot.Join              // set for a member joining instead of m
}

// New checks cfg and builds an adapter. It does no network I/O.
func New(cfg Config, h bot.Handler, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, errors.New("discord: New: nil handler")
	}
	if strings.TrimSpace(strings.TrimPrefix(cfg.Token, "Bot ")) == "" {
		return nil, errors.New("discord: config: token is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("discord: config: %w", err)
	}
	cfg = cfg.withDefaults()
	a := &Adapter{
		cfg:         cfg,
		h:           h,
		log:         slog.New(slog.DiscardHandler),
		client:      &http.Client{Timeout: 20 * time.Second},
		editEvery:   DefaultEditEvery,
		dispatchers: 8,
		ix:          map[string]*ixState{},
		chGuild:     map[string]string{},
	}
	for _, o := range opts {
		o(a)
	}
	a.log = a.log.With("adapter", PlatformName)
	return a, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Name implements bot.Platform.
func (a *Adapter) Name() string { return PlatformName }

// Limits implements bot.Platform.
func (a *Adapter) Limits() bot.Limits {
	return bot.Limits{MaxLen: MaxMessageLen, EditEvery: a.editEvery, Stream: true, Markup: bot.MarkupMarkdown}
}

// Ready implements bot.Adapter: the gateway connection is up.
func (a *Adapter) Ready() bool { return a.connected.Load() }

// Intents are the gateway intents the adapter asks for. MessageContent is
// privileged; Guilds brings the roles and channels that decide who is a
// manager and which channel belongs to which guild.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
	discordgo.IntentsDirectMessages | discordgo.IntentsMessageContent

// Run connects to the gateway, registers the slash commands, hands events
// to the handler until ctx ends, then disconnects. Reconnecting and
// resuming after a dropped connection are discordgo's; the adapter's
// handlers stay registered through them. Run may be called once.
func (a *Adapter) Run(ctx context.Context) error {
	if err := acquireEndpoints(a.cfg.APIURL); err != nil {
		return err
	}
	defer releaseEndpoints()

	s, err := discordgo.New(a.cfg.Token)
	if err != nil {
		return fmt.Errorf("discord: session: %w", err)
	}
	client := *a.client
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = &gatewayTransport{base: base, gateway: a.cfg.GatewayURL}
	s.Client = &client
	// A 429 comes back to us as an error (a *bot.RateLimitError for the
	// engine, which waits and retries the final text); discordgo would
	// otherwise retry it without bound.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 1
	s.ShardID, s.ShardCount = a.cfg.ShardID, a.cfg.ShardCount
	s.Identify.Intents = Intents
	if a.cfg.MemberEvents {
		s.Identify.Intents |= discordgo.IntentsGuildMembers
	}
	// Handlers run on the gateway's read goroutine and only queue work;
	// the dispatchers below do the rest with bounded concurrency.
	s.SyncEvents = true
	s.LogLevel = discordgo.LogError

	s.AddHandler(a.onReady)
	s.AddHandler(a.onConnect)
	s.AddHandler(a.onDisconnect)
	s.AddHandler(a.onResumed)
	s.AddHandler(a.onMessageCreate)
	s.AddHandler(a.onMessageUpdate)
	s.AddHandler(a.onInteractionCreate)
	s.AddHandler(a.onMemberAdd)

	dctx, stop := context.WithCancel(ctx)
	defer stop()
	disp := bot.NewDispatcher(a.dispatchers, 64, func(j job) { a.handle(dctx, j) })
	a.mu.Lock()
	a.s, a.disp, a.dctx = s, disp, dctx
	a.mu.Unlock()

	if err := s.Open(); err != nil {
		stop()
		disp.Stop()
		return fmt.Errorf("discord: open gateway: %w", err)
	}
	if err := a.registerCommands(ctx); err != nil {
		// Text commands still work; slash commands are a convenience.
		a.log.Warn("registering slash commands failed", "err", err)
	}
	<-ctx.Done()
	a.stopped.Store(true)
	// discordgo's heartbeat goroutine starts a reconnect loop when its
	// write fails on the connection Close just shut; turn reconnecting off
	// first, under the session lock that Close and that path take.
	s.Lock()
	s.ShouldReconnectOnError = false
	s.Unlock()
	err = s.Close()
	stop()
	disp.Stop()
	a.connected.Store(false)
	a.emit(bot.AdapterDisconnected)
	if err != nil {
		return fmt.Errorf("discord: close: %w", err)
	}
	return nil
}

// session returns the running session, nil before Run.
func (a *Adapter) session() (*discordgo.Session, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.s == nil {
		return nil, errors.New("discord: not running")
	}
	return a.s, nil
}

func (a *Adapter) ids() (botID, appID string) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.botID, a.appID
}

func (a *Adapter) emit(state bot.AdapterState) {
	if a.obs != nil {
		a.obs.Observe(bot.Event{Kind: bot.EventAdapter, Platform: PlatformName, State: state, Time: time.Now()})
	}
}

func (a *Adapter) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.User != nil {
		a.botID = r.User.ID
	}
	if r.Application != nil && r.Application.ID != "" {
		a.appID = r.Application.ID
	} else if a.appID == "" {
		a.appID = a.botID
	}
}

// onConnect runs inside discordgo's Open with the session locked: it must
// not call back into the session.
func (a *Adapter) onConnect(s *discordgo.Session, _ *discordgo.Connect) {
	if a.stopped.Load() {
		// A reconnect loop discordgo started before Run stopped has just
		// succeeded: close it (outside Open's lock) rather than leave a
		// connection nobody listens to.
		go func() { _ = s.Close() }()
		return
	}
	a.connected.Store(true)
	if a.everUp.Swap(true) {
		a.log.Info("gateway reconnected")
		a.emit(bot.AdapterReconnect)
		return
	}
	a.log.Info("gateway connected")
	a.emit(bot.AdapterConnected)
}

func (a *Adapter) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	a.connected.Store(false)
	if a.stopped.Load() {
		return
	}
	a.log.Info("gateway disconnected")
	a.emit(bot.AdapterDisconnected)
}

func (a *Adapter) onResumed(*discordgo.Session, *discordgo.Resumed) {
	a.log.Debug("gateway session resumed")
}

// gatewayTransport answers GET /gateway and /gateway/bot with the
// configured gateway URL, so that discordgo (whose gateway field is
// private) connects where the config says without asking Discord.
type gatewayTransport struct {
	base    http.RoundTripper
	gateway string
}

func (t *gatewayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := strings.TrimRight(req.URL.Path, "/")
	if req.Method == http.MethodGet && (strings.HasSuffix(p, "/gateway") || strings.HasSuffix(p, "/gateway/bot")) {
		body := fmt.Sprintf(`{"url":%q,"shards":1,"session_start_limit":{"total":1000,"remaining":1000,"reset_after":0,"max_concurrency":1}}`, t.gateway)
		return &http.Response{
			Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(body)),
			Request: req, ContentLength: int64(len(body)),
		}, nil
	}
	return t.base.RoundTrip(req)
}
