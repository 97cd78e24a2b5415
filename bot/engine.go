package bot

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

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
	contacts   contactCache
	prompts    Prompts
	tokens     TokenCounter
	log        *slog.Logger
	auditor    Auditor
	kv         KV

	personas *Personas

	plugins    []Plugin
	inspectors []Inspector
	checker    OutputChecker
	rewriters  []OutputRewriter
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

	// voteMu makes a vote's check and record one step.
	voteMu sync.Mutex

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

	// folding holds the conversations whose summary is being folded:
	// the members of a group are answered in parallel, and only one of
	// them folds at a time.
	fmu     sync.Mutex
	folding map[string]bool

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
	// busy counts, per conversation, its messages queued or in flight;
	// intake is the store's one-commit intake (nil when it has none, or
	// works under leases), used once the replay is queued (replayed).
	busy     map[string]int
	intake   IntakeRecorder
	replayed bool

	// leases, when the store is a Leaser (replicas share it): see lease.go
	leaser Leaser
	lconvs map[string]*leasedConv
	lready chan *leasedConv
	lsweep time.Duration

	base   context.Context
	cancel context.CancelFunc
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
		busy:      map[string]int{},
		folding:   map[string]bool{},
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
	e.initLeases()
	if ir, ok := store.(IntakeRecorder); ok && e.leaser == nil {
		e.intake = ir
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
