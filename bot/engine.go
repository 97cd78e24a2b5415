package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors returned by Engine.Handle.
var (
	// ErrClosed is returned by Handle after Drain or Close began.
	ErrClosed = errors.New("bot: engine closed")
	// ErrUnknownPlatform is returned by Handle for a message whose
	// Platform was never added with AddPlatform.
	ErrUnknownPlatform = errors.New("bot: unknown platform")
)

// Config is the engine's behaviour. The zero value of a field takes the
// default named on it (see Defaults).
type Config struct {
	// BotName is the bot's handle, for /cmd@botname.
	BotName string
	// Persona is the brand's voice.
	Persona Persona
	// Workers is the size of the handler pool (default 256). Handlers
	// mostly wait on the model and the disk, not the CPU: the pool must
	// hold every reply being streamed, about the message rate times the
	// model's answer time (100 msgs/s × 2.5 s = 250).
	// Messages of one conversation never run concurrently.
	Workers int
	// QueueSize bounds messages accepted but not yet handled, across all
	// conversations (default 4096). Handle blocks when it is full.
	QueueSize int
	// OpenChats are conversation keys ("telegram/-100123") or chat ids
	// where the bot answers every message, not only when addressed.
	OpenChats []string
	// Owners and Managers are user keys ("telegram:42") given that role.
	Owners   []string
	Managers []string
	// ManagerRoles and OwnerRoles are platform role ids (Discord) given
	// that role.
	ManagerRoles []string
	OwnerRoles   []string
	// HomeChats are the brand's own chats and servers, as HomeKey names
	// them ("telegram:-100123", "discord:GUILD_ID"). A role the platform
	// gives (chat administrator, Manage Server) counts only in these, and
	// only there; empty means it counts nowhere.
	HomeChats []string
	// ManagersChats are the managers' channels, as chat keys
	// ("telegram/-100999"): a report asked there may cover every chat.
	ManagersChats []string
	// TrustedPlatforms are platforms whose user is whoever runs the
	// process (the console): the role the adapter reports holds
	// everywhere.
	TrustedPlatforms []string
	// RatePerMinute and RateBurst are the per-user token bucket for LLM
	// answers; RatePerMinute 0 disables it.
	RatePerMinute float64
	RateBurst     int
	// UserDailyTokens and ChatDailyTokens cap LLM tokens per UTC day;
	// 0 disables the cap.
	UserDailyTokens int
	ChatDailyTokens int
	// WindowTokens is the prompt budget for recent turns (default 1500).
	WindowTokens int
	// SummaryEvery folds turns into the summary once this many have fallen
	// out of the window (default 8).
	SummaryEvery int
	// KBPassages is how many knowledge-base passages go into a prompt
	// (default 3).
	KBPassages int
	// MinRelevance is the floor of Passage.Relevance under which a
	// passage is not used: below it the answer is an honest "I don't
	// know" and the question a knowledge gap (default
	// DefaultMinRelevance; negative keeps every passage).
	MinRelevance float64
	// LLMTimeout bounds one answer, streaming included (default 60s).
	LLMTimeout time.Duration
	// ReplyMaxTokens bounds the completion (default 800).
	ReplyMaxTokens int
	// HandlerTimeout bounds the handling of one message, LLM included
	// (default 2×LLMTimeout).
	HandlerTimeout time.Duration
	// ReplyMaxMessages caps an answer at this many platform messages
	// (default 4); a longer one ends with a short note.
	ReplyMaxMessages int
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
	if c.Persona.Brand == "" {
		c.Persona.Brand = "Chorus"
	}
	if c.Persona.BotName == "" {
		c.Persona.BotName = "Chorus"
	}
	return c
}

// PromptInput is what a prompt is assembled from.
type PromptInput struct {
	Persona  Persona
	Lang     string
	Query    string
	UserName string
	Passages []Passage
	// Contact is, when no passage was relevant, the passage saying how to
	// reach a person.
	Contact []Passage
	Summary string
	Window  []Turn
	Profile *Profile
	Now     time.Time
}

// Prompter assembles the LLM messages for an answer.
type Prompter func(in PromptInput) ([]ChatMessage, error)

// Auditor records what managers and moderators did, and refused attempts.
type Auditor interface {
	Audit(ctx context.Context, e AuditEntry) error
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time     time.Time `json:"time"`
	Platform string    `json:"platform"`
	Chat     string    `json:"chat"`
	// User is the user key the entry is about.
	User string `json:"user"`
	// Name is User's display name at the time, so that a report can name
	// them as the room sees them, never by id.
	Name string `json:"name,omitempty"`
	// Actor is who or what decided: a user key, "rules", "model:NAME".
	Actor    string  `json:"actor"`
	Kind     string  `json:"kind"` // "moderation", "command", "refused", ...
	Rule     string  `json:"rule,omitempty"`
	Severity float64 `json:"severity,omitempty"`
	Action   string  `json:"action,omitempty"`
	Excerpt  string  `json:"excerpt,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithKnowledge sets the knowledge base used to ground answers.
func WithKnowledge(k Knowledge) Option { return func(e *Engine) { e.kb = k } }

// WithPrompter sets the prompt assembler (default: DefaultPrompter).
func WithPrompter(p Prompter) Option { return func(e *Engine) { e.prompter = p } }

// WithSummaryPrompter sets the summary prompt assembler (default:
// DefaultSummaryPrompter).
func WithSummaryPrompter(p SummaryPrompter) Option { return func(e *Engine) { e.summaryPrompter = p } }

// WithTokenCounter sets the token counter (default: ApproxTokens).
func WithTokenCounter(t TokenCounter) Option { return func(e *Engine) { e.tokens = t } }

// WithInspector adds an inspector; inspectors run in the order added.
func WithInspector(i Inspector) Option {
	return func(e *Engine) { e.inspectors = append(e.inspectors, i) }
}

// WithOutputChecker sets the checks every sentence of the bot's answers
// passes before it is shown (see StreamWriter).
func WithOutputChecker(c OutputChecker) Option { return func(e *Engine) { e.checker = c } }

// WithObserver adds an event observer.
func WithObserver(o Observer) Option { return func(e *Engine) { e.Events.Add(o) } }

// WithAuditor sets the audit log.
func WithAuditor(a Auditor) Option { return func(e *Engine) { e.auditor = a } }

// WithCatalog sets the message catalogue (default: NewCatalog()).
func WithCatalog(c *Catalog) Option { return func(e *Engine) { e.Catalog = c } }

// WithKV sets the key-value space the plug-ins keep their state in.
func WithKV(kv KV) Option { return func(e *Engine) { e.kv = kv } }

// WithRedactor sets the redaction applied to error texts the engine
// shows or records (audit notes); the default redacts the shapes of
// secrets only.
func WithRedactor(r *Redactor) Option { return func(e *Engine) { e.redactor = r } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// Engine is the dialogue engine. Create it with New, add platforms and
// commands, then Start it. Handle may be called from any goroutine.
type Engine struct {
	cfg   Config
	store Store
	llm   LLM
	kb    Knowledge
	// translator, when set, translates questions for a second search.
	translator Translator
	prompter   Prompter
	// summaryPrompter assembles summary-folding prompts.
	summaryPrompter SummaryPrompter
	tokens          TokenCounter
	log             *slog.Logger
	auditor         Auditor
	kv              KV

	personaMu sync.RWMutex
	persona   Persona

	inspectors []Inspector
	checker    OutputChecker

	// Events fans engine events out to observers.
	Events Observers
	// Catalog holds the bot's own messages.
	Catalog *Catalog

	now func() time.Time

	pmu       sync.RWMutex
	platforms map[string]Platform

	cmu      sync.RWMutex
	commands map[string]CommandSpec

	rate    *rateLimiter
	budgets budgets

	owners, managers         map[string]bool
	ownerRoles, managerRoles map[string]bool
	homes, managersChats     map[string]bool
	trusted                  map[string]bool
	open                     map[string]bool

	keepers []namedKeeper
	// jobs holds the forget journal when the engine has no KV (not
	// durable: nothing is, then).
	jobs *MemKV
	// forgetMu serialises forget jobs, so that a resumed job and a new one
	// for the same user don't interleave.
	forgetMu sync.Mutex
	redactor *Redactor

	// queue
	qmu      sync.Mutex
	convs    map[string]*convQueue
	ready    chan *convQueue
	slots    chan struct{}
	closed   bool
	stopping bool
	inflight int
	idle     *sync.Cond
	wg       sync.WaitGroup
	started  bool

	base   context.Context
	cancel context.CancelFunc
}

type convQueue struct {
	key  string
	msgs []queued
}

type queued struct {
	m        Message
	received time.Time
	replay   bool
}

// New builds an engine over a store and an LLM. It does no I/O.
func New(cfg Config, store Store, llm LLM, opts ...Option) (*Engine, error) {
	if store == nil {
		return nil, errors.New("bot: New: nil store")
	}
	if llm == nil {
		return nil, errors.New("bot: New: nil llm")
	}
	cfg = cfg.Defaults()
	e := &Engine{
		cfg:             cfg,
		store:           store,
		llm:             llm,
		log:             slog.New(slog.DiscardHandler),
		now:             time.Now,
		platforms:       map[string]Platform{},
		commands:        map[string]CommandSpec{},
		rate:            newRateLimiter(cfg.RatePerMinute, cfg.RateBurst),
		convs:           map[string]*convQueue{},
		ready:           make(chan *convQueue, cfg.QueueSize),
		slots:           make(chan struct{}, cfg.QueueSize),
		prompter:        DefaultPrompter,
		summaryPrompter: DefaultSummaryPrompter,
		tokens:          TokenCounterFunc(ApproxTokens),
		jobs:            NewMemKV(),
	}
	e.idle = sync.NewCond(&e.qmu)
	e.owners, e.managers = set(cfg.Owners), set(cfg.Managers)
	e.ownerRoles, e.managerRoles = set(cfg.OwnerRoles), set(cfg.ManagerRoles)
	e.homes, e.managersChats, e.trusted = set(cfg.HomeChats), set(cfg.ManagersChats), set(cfg.TrustedPlatforms)
	e.open = set(cfg.OpenChats)
	for _, o := range opts {
		o(e)
	}
	if e.Catalog == nil {
		e.Catalog = NewCatalog()
	}
	e.persona = cfg.Persona
	e.base, e.cancel = context.WithCancel(context.Background())
	e.registerBuiltins()
	return e, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// KV returns the plug-ins' key-value space, nil when none was set.
func (e *Engine) KV() KV { return e.kv }

// Persona returns the persona in force: the config's, or the one set at run
// time with SetPersona.
func (e *Engine) Persona() Persona {
	e.personaMu.RLock()
	defer e.personaMu.RUnlock()
	return e.persona
}

// SetPersona replaces the persona for every later answer. Empty Brand or
// BotName keep the current ones.
func (e *Engine) SetPersona(p Persona) {
	e.personaMu.Lock()
	defer e.personaMu.Unlock()
	if p.Brand == "" {
		p.Brand = e.persona.Brand
	}
	if p.BotName == "" {
		p.BotName = e.persona.BotName
	}
	e.persona = p
}

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// LLM returns the engine's model.
func (e *Engine) LLM() LLM { return e.llm }

// Knowledge returns the knowledge base, nil when none.
func (e *Engine) Knowledge() Knowledge { return e.kb }

// Tokens returns the token counter.
func (e *Engine) Tokens() TokenCounter { return e.tokens }

// Redact removes secrets from text shown to a person (an error in a
// managers' notice); see Redactor.
func (e *Engine) Redact(s string) string { return e.redactor.Redact(s) }

// Logger returns the engine's logger.
func (e *Engine) Logger() *slog.Logger { return e.log }

// Now returns the engine's clock reading.
func (e *Engine) Now() time.Time { return e.now() }

// AddPlatform registers a platform so that messages naming it can be
// answered. Adding a platform with a name already added replaces it.
func (e *Engine) AddPlatform(p Platform) {
	e.pmu.Lock()
	e.platforms[p.Name()] = p
	e.pmu.Unlock()
}

// Platform returns a registered platform.
func (e *Engine) Platform(name string) (Platform, bool) {
	e.pmu.RLock()
	defer e.pmu.RUnlock()
	p, ok := e.platforms[name]
	return p, ok
}

// Platforms lists registered platforms, sorted by name.
func (e *Engine) Platforms() []Platform {
	e.pmu.RLock()
	defer e.pmu.RUnlock()
	out := make([]Platform, 0, len(e.platforms))
	for _, p := range e.platforms {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Platform) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// Audit writes an audit entry if an auditor is set.
func (e *Engine) Audit(ctx context.Context, a AuditEntry) {
	if e.auditor == nil {
		return
	}
	if a.Time.IsZero() {
		a.Time = e.now()
	}
	a.Note = e.redactor.Redact(a.Note)
	a.Excerpt = MaskPII(e.redactor.Redact(a.Excerpt))
	if err := e.auditor.Audit(ctx, a); err != nil {
		e.log.Warn("audit failed", "err", err)
	}
}

// Start launches the worker pool and replays messages that were accepted
// but not handled before the last stop (a crash).
func (e *Engine) Start(ctx context.Context) error {
	e.qmu.Lock()
	if e.started {
		e.qmu.Unlock()
		return nil
	}
	e.started = true
	e.qmu.Unlock()
	for i := 0; i < e.cfg.Workers; i++ {
		e.wg.Add(1)
		go e.worker()
	}
	// A forget a crash interrupted finishes before anything is replayed.
	if err := e.resumeForgets(ctx); err != nil {
		return err
	}
	pending, err := e.store.Pending(ctx)
	if err != nil {
		return fmt.Errorf("bot: replay pending: %w", err)
	}
	for _, m := range pending {
		if err := e.enqueue(ctx, queued{m: m, received: e.now(), replay: true}); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		e.log.Info("replaying messages accepted before the last stop", "count", len(pending))
	}
	return nil
}

// Run starts the engine, waits for ctx to end, then drains within drain.
func (e *Engine) Run(ctx context.Context, drain time.Duration) error {
	if err := e.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	return e.Drain(dctx)
}

// Handle accepts a message: it drops a redelivery, records the message
// durably, and queues it on its conversation. It returns once the message
// is queued, blocking while the queue is full (back-pressure) until ctx
// ends.
func (e *Engine) Handle(ctx context.Context, m Message) error {
	if _, ok := e.Platform(m.Platform); !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPlatform, m.Platform)
	}
	e.qmu.Lock()
	closed := e.closed
	e.qmu.Unlock()
	if closed {
		return ErrClosed
	}
	received := e.now()
	if m.Time.IsZero() {
		m.Time = received
	}
	var cut bool
	m.Text, cut = SanitizeText(m.Text)
	m.Author.Name, _ = SanitizeText(m.Author.Name)
	if m.Command == nil && !cut {
		if c, ok := ParseCommand(m.Text, e.cfg.BotName); ok {
			m.Command = c
		}
	}
	fresh, err := e.store.Accept(ctx, &m)
	if err != nil {
		return fmt.Errorf("bot: accept: %w", err)
	}
	if !fresh {
		e.Events.Emit(Event{Kind: EventDuplicate, Platform: m.Platform})
		return nil
	}
	return e.enqueue(ctx, queued{m: m, received: received})
}

func (e *Engine) enqueue(ctx context.Context, q queued) error {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	key := q.m.ConversationKey()
	e.qmu.Lock()
	if e.stopping || (e.closed && !q.replay) {
		e.qmu.Unlock()
		<-e.slots
		return ErrClosed
	}
	c := e.convs[key]
	if c == nil {
		c = &convQueue{key: key}
		e.convs[key] = c
	}
	c.msgs = append(c.msgs, q)
	if len(c.msgs) == 1 {
		// No worker owns c: hand it to the pool. ready has room for
		// every conversation with a queued message (<= QueueSize).
		e.ready <- c
	}
	queuedN := len(e.slots)
	inflight := e.inflight
	e.qmu.Unlock()
	e.Events.Emit(Event{Kind: EventQueue, Queued: queuedN, InFlight: inflight})
	return nil
}

func (e *Engine) worker() {
	defer e.wg.Done()
	for c := range e.ready {
		e.qmu.Lock()
		if e.stopping {
			// Abandoned: the messages stay pending in the store.
			for range c.msgs {
				<-e.slots
			}
			c.msgs = nil
			delete(e.convs, c.key)
			e.idle.Broadcast()
			e.qmu.Unlock()
			continue
		}
		q := c.msgs[0]
		e.inflight++
		e.qmu.Unlock()

		e.process(q)

		e.qmu.Lock()
		e.inflight--
		c.msgs[0] = queued{}
		c.msgs = c.msgs[1:]
		<-e.slots
		switch {
		case len(c.msgs) > 0 && !e.stopping:
			e.ready <- c // more in this conversation: back of the line
		case len(c.msgs) > 0:
			for range c.msgs {
				<-e.slots
			}
			c.msgs = nil
			delete(e.convs, c.key)
		default:
			delete(e.convs, c.key)
		}
		queuedN, inflight := len(e.slots), e.inflight
		e.idle.Broadcast()
		e.qmu.Unlock()
		e.Events.Emit(Event{Kind: EventQueue, Queued: queuedN, InFlight: inflight})
	}
}

// Drain stops accepting messages and waits until every queued message has
// been handled, or ctx ends.
func (e *Engine) Drain(ctx context.Context) error {
	e.qmu.Lock()
	e.closed = true
	e.qmu.Unlock()
	if err := e.WaitIdle(ctx); err != nil {
		e.cancel() // abandon in-flight work; it stays pending for replay
		return fmt.Errorf("bot: drain: %w", err)
	}
	return nil
}

// WaitIdle blocks until no message is queued or in flight, or ctx ends;
// unlike Drain it keeps accepting.
func (e *Engine) WaitIdle(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		e.qmu.Lock()
		for len(e.slots) > 0 || e.inflight > 0 {
			e.idle.Wait()
		}
		e.qmu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// QueueDepth reports messages queued (including in flight) and in flight.
func (e *Engine) QueueDepth() (queued, inflight int) {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	return len(e.slots), e.inflight
}

// Close stops the workers, abandoning queued work (it stays pending in the
// store and is replayed on the next Start). Call Drain first to finish it.
func (e *Engine) Close() error {
	e.qmu.Lock()
	if e.stopping {
		e.qmu.Unlock()
		return nil
	}
	e.closed, e.stopping = true, true
	e.qmu.Unlock()
	e.cancel()
	e.qmu.Lock()
	close(e.ready) // no sender remains: enqueue and workers check stopping
	e.qmu.Unlock()
	e.wg.Wait()
	return nil
}
