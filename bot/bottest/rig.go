package bottest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/prompts"
)

// Clock is a settable clock for tests: pass its Now wherever a part takes
// a clock (bot.WithClock, the plug-ins' WithClock). It is safe for
// concurrent use.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now is the clock's reading.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// Rig is an engine over in-memory parts, started, for the tests of the
// engine and of what plugs into it: the parts are at hand to build
// plug-ins over and to look into after a message.
type Rig struct {
	Engine   *bot.Engine
	Store    *MemStore
	KV       *MemKV
	Platform *Platform
	LLM      *LLM
	Clock    *Clock
	Audit    *AuditLog
	Events   *EventLog
	n        atomic.Int64
}

// RigConfig says how a Rig is built.
type RigConfig struct {
	// Engine is the engine's config.
	Engine bot.Config
	// Platform names the rig's platform (default "tg") and Limits are
	// its limits (default 4096 runes, no streaming).
	Platform string
	Limits   bot.Limits
	// Start is the clock's first reading (default 2025-03-01 12:00 UTC).
	Start time.Time
	// Plugins builds the plug-ins over the rig's parts (store, KV, model,
	// clock), in the order the engine installs them.
	Plugins func(r *Rig) []bot.Plugin
	// Options are more engine options.
	Options []bot.Option
}

// NewRig builds the parts, the plug-ins over them and the engine (with the
// shipped prompts, the rig's audit log, event log and clock), starts it,
// and closes it when the test ends.
func NewRig(t testing.TB, rc RigConfig) *Rig {
	t.Helper()
	if rc.Platform == "" {
		rc.Platform = "tg"
	}
	if rc.Limits == (bot.Limits{}) {
		rc.Limits = bot.Limits{MaxLen: 4096}
	}
	if rc.Start.IsZero() {
		rc.Start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	}
	r := &Rig{Store: NewMemStore(), KV: NewMemKV(), Platform: NewPlatform(rc.Platform, rc.Limits), LLM: &LLM{},
		Clock: NewClock(rc.Start), Audit: &AuditLog{}, Events: &EventLog{}}
	opts := []bot.Option{bot.WithPrompts(prompts.Default()), bot.WithAuditor(r.Audit), bot.WithObserver(r.Events), bot.WithClock(r.Clock.Now)}
	if rc.Plugins != nil {
		for _, p := range rc.Plugins(r) {
			opts = append(opts, bot.WithPlugin(p))
		}
	}
	e, err := bot.New(rc.Engine, r.Store, r.LLM, append(opts, rc.Options...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.AddPlatform(r.Platform)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	r.Engine = e
	return r
}

// Send hands m to the engine (Handle) and waits until everything queued
// is handled (Idle).
func (r *Rig) Send(t testing.TB, m bot.Message) {
	t.Helper()
	r.Handle(t, m)
	r.Idle(t)
}

// Handle hands m to the engine without waiting for it to be handled. An
// empty platform, id or time is the rig's platform, a fresh id and the
// clock's reading.
func (r *Rig) Handle(t testing.TB, m bot.Message) {
	t.Helper()
	if m.Platform == "" {
		m.Platform = r.Platform.Name()
	}
	if m.ID == "" {
		m.ID = fmt.Sprint("in", r.n.Add(1))
	}
	if m.Time.IsZero() {
		m.Time = r.Clock.Now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Engine.Handle(ctx, m); err != nil {
		t.Fatal(err)
	}
}

// Idle waits until everything queued is handled.
func (r *Rig) Idle(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Engine.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// AuditLog implements bot.AuditLog: the entries q matches, newest first.
func (a *AuditLog) AuditLog(_ context.Context, q bot.AuditQuery) ([]bot.AuditEntry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []bot.AuditEntry
	for i := len(a.es) - 1; i >= 0 && len(out) < limit; i-- {
		e := a.es[i]
		if (q.User == "" || e.User == q.User) && (q.Kind == "" || e.Kind == q.Kind) && !e.Time.Before(q.Since) {
			out = append(out, e)
		}
	}
	return out, nil
}

var _ bot.AuditLog = (*AuditLog)(nil)
