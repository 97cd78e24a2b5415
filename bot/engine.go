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
	Actor    string    `json:"actor"`
	Kind     AuditKind `json:"kind"`
	Rule     string    `json:"rule,omitempty"`
	Severity float64   `json:"severity,omitempty"`
	Action   string    `json:"action,omitempty"`
	Excerpt  string    `json:"excerpt,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithKnowledge sets the knowledge base used to ground answers.
func WithKnowledge(k Knowledge) Option { return func(e *Engine) { e.kb = k } }

// WithPrompts sets the prompts (package prompts has the templates Chorus
// ships); New requires them.
func WithPrompts(p Prompts) Option { return func(e *Engine) { e.prompts = p } }

// WithTokenCounter sets the token counter (default: ApproxTokens).
func WithTokenCounter(t TokenCounter) Option { return func(e *Engine) { e.tokens = t } }

// WithObserver adds an event observer (the metrics, a health check); a
// plug-in declares its own (Plugin.Observer).
func WithObserver(o Observer) Option { return func(e *Engine) { e.events.Add(o) } }

// WithAuditor sets the audit log.
func WithAuditor(a Auditor) Option { return func(e *Engine) { e.auditor = a } }

// WithCatalog sets the message catalogue (default: NewCatalog()).
func WithCatalog(c *Catalog) Option { return func(e *Engine) { e.catalog = c } }

// WithKV sets the durable key-value space the forget journal is kept in
// (default: in memory, lost on a crash).
func WithKV(kv KV) Option { return func(e *Engine) { e.kv = kv } }

// WithPersonas sets the holder of the persona in force, which the
// managers' tools change at run time (default: one holding
// Config.Persona).
func WithPersonas(p *Personas) Option { return func(e *Engine) { e.personas = p } }

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
	prompts    Prompts
	tokens     TokenCounter
	log        *slog.Logger
	auditor    Auditor
	kv         KV

	personas *Personas

	plugins    []Plugin
	inspectors []Inspector
	checker    OutputChecker
	// bg is the plug-ins' background work, under bgCtx.
	bg     sync.WaitGroup
	bgCtx  context.Context
	bgStop context.CancelFunc

	// events fans engine events out to observers.
	events Observers
	// catalog holds the bot's own messages.
	catalog *Catalog

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
	labels  Labels
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
		cfg:       cfg,
		store:     store,
		llm:       llm,
		log:       slog.New(slog.DiscardHandler),
		now:       time.Now,
		platforms: map[string]Platform{},
		commands:  map[string]CommandSpec{},
		rate:      newRateLimiter(cfg.RatePerMinute, cfg.RateBurst),
		convs:     map[string]*convQueue{},
		ready:     make(chan *convQueue, cfg.QueueSize),
		slots:     make(chan struct{}, cfg.QueueSize),
		tokens:    TokenCounterFunc(ApproxTokens),
		jobs:      NewMemKV(),
	}
	e.idle = sync.NewCond(&e.qmu)
	e.owners, e.managers = set(cfg.Owners), set(cfg.Managers)
	e.ownerRoles, e.managerRoles = set(cfg.OwnerRoles), set(cfg.ManagerRoles)
	e.homes, e.managersChats, e.trusted = set(cfg.HomeChats), set(cfg.ManagersChats), set(cfg.TrustedPlatforms)
	e.open = set(cfg.OpenChats)
	for _, o := range opts {
		o(e)
	}
	if e.prompts == nil {
		return nil, errors.New("bot: New: no prompts (WithPrompts; package prompts has the templates Chorus ships)")
	}
	if e.catalog == nil {
		e.catalog = NewCatalog()
	}
	if e.personas == nil {
		e.personas = NewPersonas(cfg.Persona)
	}
	e.base, e.cancel = context.WithCancel(context.Background())
	e.bgCtx, e.bgStop = context.WithCancel(context.Background())
	e.registerBuiltins()
	if err := e.install(); err != nil {
		return nil, err
	}
	return e, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Persona returns the persona in force: the config's, or the one a
// manager set at run time (Personas).
func (e *Engine) Persona() Persona { return e.personas.Current() }

// Catalog returns the bot's own messages, the plug-ins' included.
func (e *Engine) Catalog() *Catalog { return e.catalog }

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

// audit writes an audit entry if an auditor is set.
func (e *Engine) audit(ctx context.Context, a AuditEntry) {
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
	// A forget a crash interrupted finishes before anything is replayed,
	// and so does what the plug-ins do at start (the persona override).
	if err := e.resumeForgets(ctx); err != nil {
		return err
	}
	if err := e.startPlugins(ctx); err != nil {
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
		e.events.Emit(Event{Kind: EventDuplicate, Platform: m.Platform})
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
	e.events.Emit(Event{Kind: EventQueue, Queued: queuedN, InFlight: inflight})
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
		e.events.Emit(Event{Kind: EventQueue, Queued: queuedN, InFlight: inflight})
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
	e.bgStop() // the plug-ins' background work ends (a last flush)
	e.bg.Wait()
	return nil
}
