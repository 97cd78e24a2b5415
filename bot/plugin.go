package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Plugin is a part that plugs into the engine (moderation, analytics, the
// managers' tools): a value that declares what it adds. It is installed
// once, when the engine is built (WithPlugin), in the order given; what it
// needs (a store, the model, the KV) comes through its own constructor,
// and while a message is handled it reaches the engine only through the
// narrow Env it is handed. Fields left zero add nothing.
type Plugin struct {
	// Name names the plug-in: its step in a forget, its key in an
	// export. Required.
	Name string
	// Inspector looks at every fresh message before the engine decides
	// whether to answer it; inspectors run in the order installed.
	Inspector Inspector
	// Checker judges every sentence of the bot's own words before it is
	// shown (the output checks). At most one plug-in sets it.
	Checker OutputChecker
	// Rewriter rewrites every sentence of the bot's answers that passed
	// the checks, before it is shown; rewriters run in the order
	// installed.
	Rewriter OutputRewriter
	// Observer receives the engine's events.
	Observer Observer
	// Commands are the commands it adds; a name already registered
	// (a built-in) is replaced.
	Commands []CommandSpec
	// Catalog holds its messages by language ("en", "zh") and key.
	Catalog map[string]map[string]string
	// Keeper keeps data about users: /export and /forget reach it.
	Keeper Keeper
	// Labels are the values it puts in the events it emits, for the
	// metrics (Engine.Labels).
	Labels Labels
	// Attach, when set, is called once when the plug-in is installed,
	// with the Host: what it may reach outside a message (its background
	// work, an HTTP handler it serves).
	Attach func(h *Host)
	// Start runs once when the engine starts, before any message is
	// replayed (the persona override is applied there).
	Start func(ctx context.Context) error
	// Run is background work (flushing rollups): started with the engine,
	// its context ends when the engine closes, and Close waits for it.
	Run func(ctx context.Context) error
}

// WithPlugin installs p when the engine is built.
func WithPlugin(p Plugin) Option { return func(e *Engine) { e.plugins = append(e.plugins, p) } }

// install adds what the plug-ins declare, in order.
func (e *Engine) install() error {
	for _, p := range e.plugins {
		if p.Name == "" {
			return errors.New("bot: New: a plug-in has no name")
		}
		if p.Inspector != nil {
			e.inspectors = append(e.inspectors, p.Inspector)
		}
		if p.Checker != nil {
			if e.checker != nil {
				return fmt.Errorf("bot: New: plug-in %s: the output checker is already set", p.Name)
			}
			e.checker = p.Checker
		}
		if p.Rewriter != nil {
			e.rewriters = append(e.rewriters, p.Rewriter)
		}
		if p.Observer != nil {
			e.events.Add(p.Observer)
		}
		for lang, msgs := range p.Catalog {
			e.catalog.Add(lang, msgs)
		}
		for _, c := range p.Commands {
			if err := e.Register(c); err != nil {
				return fmt.Errorf("bot: New: plug-in %s: %w", p.Name, err)
			}
		}
		if p.Keeper != nil {
			if err := e.addKeeper(p.Name, p.Keeper); err != nil {
				return err
			}
		}
		e.labels = e.labels.Merge(p.Labels)
		if p.Attach != nil {
			p.Attach(&Host{e: e})
		}
	}
	return nil
}

// Host is what a plug-in may reach of the engine outside a message: in
// its background work (a scheduled post) or an HTTP handler it serves (a
// click on a tracked link). Like Env it is narrow: the platforms, the
// audit log, the events, the persona and the catalogue; never the engine.
type Host struct{ e *Engine }

// PlatformFor returns a platform the engine speaks, by name. Platforms
// are added before the engine starts: look them up when needed, not at
// Attach.
func (h *Host) PlatformFor(name string) (Platform, bool) { return h.e.Platform(name) }

// Audit writes an entry to the audit log, as Env.Audit does.
func (h *Host) Audit(ctx context.Context, a AuditEntry) { h.e.audit(ctx, a) }

// Emit sends an event to the engine's observers (the metrics).
func (h *Host) Emit(ev Event) { h.e.events.Emit(ev) }

// Redact removes secrets from text (an error from a platform) before it
// is kept or shown; see Redactor.
func (h *Host) Redact(s string) string { return h.e.redactor.Redact(s) }

// Persona is the persona in force.
func (h *Host) Persona() Persona { return h.e.Persona() }

// Catalog is the bot's own messages, unescaped, in every language.
func (h *Host) Catalog() *Catalog { return h.e.catalog }

// startPlugins runs the plug-ins' Start hooks, then launches their
// background work under a context that Close ends.
func (e *Engine) startPlugins(ctx context.Context) error {
	for _, p := range e.plugins {
		if p.Start != nil {
			if err := p.Start(ctx); err != nil {
				return fmt.Errorf("bot: start %s: %w", p.Name, err)
			}
		}
	}
	for _, p := range e.plugins {
		if p.Run == nil {
			continue
		}
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			if err := p.Run(e.bgCtx); err != nil && !errors.Is(err, context.Canceled) {
				e.log.Warn("background work stopped", "plugin", p.Name, "err", err)
			}
		}()
	}
	return nil
}

// Personas holds the persona in force: the configured one, which a
// manager may replace at run time (/persona). The engine reads it for
// every answer; the managers' tools change it. It is safe for concurrent
// use.
type Personas struct {
	mu        sync.RWMutex
	base, cur Persona
}

// NewPersonas returns a holder of base, in force until Set.
func NewPersonas(base Persona) *Personas { return &Personas{base: base, cur: base} }

// Current is the persona in force.
func (p *Personas) Current() Persona {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cur
}

// Base is the configured persona, which Reset restores.
func (p *Personas) Base() Persona {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.base
}

// Set puts v in force for every later answer; an empty Brand or BotName
// keeps the current one.
func (p *Personas) Set(v Persona) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v.Brand == "" {
		v.Brand = p.cur.Brand
	}
	if v.BotName == "" {
		v.BotName = p.cur.BotName
	}
	p.cur = v
}

// Reset puts the configured persona back in force.
func (p *Personas) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur = p.base
}
