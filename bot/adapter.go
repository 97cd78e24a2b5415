package bot

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Adapter is one chat platform: a Platform the engine answers through,
// which also receives, handing every message to a Handler (the engine).
// Adapters check themselves with var _ bot.Adapter = (*Adapter)(nil).
type Adapter interface {
	Platform
	// Run receives until ctx ends, then returns nil. An error means it
	// stopped early (the gateway could not be reached): RunAdapter starts
	// it again after a pause, unless the error wraps ErrFatal.
	Run(ctx context.Context) error
	// Ready reports whether the platform answers now, for /readyz.
	Ready() bool
}

// ErrFatal is wrapped by an adapter's Run when trying again cannot help
// (the platform rejected the token): RunAdapter returns it instead of
// starting the adapter again.
var ErrFatal = errors.New("bot: adapter cannot run")

// AdapterConfig is a platform's section of the configuration, as the
// binary sees every platform: its name, whether it is turned on, the roles
// it grants, and how its adapter is built. cmd/chorus runs every section of
// its root configuration that is one.
type AdapterConfig interface {
	// Platform is the platform's name, in Message.Platform and user keys.
	Platform() string
	// Enabled reports whether the adapter should run (a token is set).
	Enabled() bool
	// Grants are the roles the section gives in every chat (Telegram
	// user ids, Discord role ids named as managers): the engine decides
	// authority with them beside the "roles" section (Engine.AuthorityOf).
	Grants() Roles
	// NewAdapter builds the adapter, handing messages to h. It does no
	// I/O.
	NewAdapter(h Handler, env AdapterEnv) (Adapter, error)
}

// AdapterEnv is what the binary gives every adapter it builds.
type AdapterEnv struct {
	// Log is the adapter's logger.
	Log *slog.Logger
	// Observer receives the adapter's events (EventAdapter, EventPanic).
	Observer Observer
	// Commands lists the commands a role may run, for the platform's
	// command menus (Engine.Commands).
	Commands func(Role) []CommandSpec
	// Roles are the roles in force (the "roles" section and every
	// platform's grants): the platform's menus follow them.
	Roles Roles
}

// Backoff is capped exponential back-off with jitter: each wait is drawn
// from the upper half of a window that doubles from Min up to Max. The
// zero value waits from one second up to two minutes. It is not safe for
// concurrent use.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the next wait and doubles the window.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = max(lo, 2*time.Minute)
	}
	if b.cur < lo {
		b.cur = lo
	}
	d := b.cur/2 + rand.N(b.cur/2+1)
	b.cur = min(2*b.cur, hi)
	return d
}

// Reset starts the window again from Min.
func (b *Backoff) Reset() { b.cur = 0 }

// RunAdapter hosts a: it runs it until ctx ends, starting it again after a
// pause that grows from b.Min to b.Max (Backoff) each time its Run fails,
// so that a platform unreachable at start, or a connection the platform's
// SDK gave up on, heals by itself. It returns nil when ctx ends or Run
// returns nil (its input ended), and the error when Run fails with
// ErrFatal.
func RunAdapter(ctx context.Context, a Adapter, log *slog.Logger, b Backoff) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		err := a.Run(ctx)
		switch {
		case ctx.Err() != nil || err == nil:
			return nil
		case errors.Is(err, ErrFatal):
			return err
		}
		wait := b.Next()
		log.Warn("adapter stopped; starting it again", "adapter", a.Name(), "err", err, "in", wait)
		if Sleep(ctx, wait) != nil {
			return nil
		}
	}
}

// Dispatcher hands a platform's incoming events to the engine by chat:
// one chat's events in the order they came, different chats in parallel
// on a fixed set of workers. The engine's Accept waits for a disk sync;
// with one worker an adapter could take no more events a second than the
// disk syncs, with several the store commits their Accepts together. A full
// queue blocks the sender (back-pressure), it does not grow.
type Dispatcher[T any] struct {
	queues []chan T
	done   chan struct{}
	wg     sync.WaitGroup
}

// NewDispatcher starts workers goroutines (at least one), each with a
// queue of depth events, handing every event to handle until Stop.
func NewDispatcher[T any](workers, depth int, handle func(T)) *Dispatcher[T] {
	d := &Dispatcher[T]{queues: make([]chan T, max(workers, 1)), done: make(chan struct{})}
	for i := range d.queues {
		q := make(chan T, max(depth, 0))
		d.queues[i] = q
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for {
				select {
				case v := <-q:
					handle(v)
				case <-d.done:
					for { // what was queued before Stop is still handled
						select {
						case v := <-q:
							handle(v)
						default:
							return
						}
					}
				}
			}
		}()
	}
	return d
}

// Send queues v on the worker of chat, blocking while that one is full,
// until ctx ends or Stop; it reports whether v was queued.
func (d *Dispatcher[T]) Send(ctx context.Context, chat string, v T) bool {
	select {
	case <-d.done:
		return false
	default:
	}
	h := fnv.New32a()
	h.Write([]byte(chat))
	select {
	case d.queues[h.Sum32()%uint32(len(d.queues))] <- v:
		return true
	case <-ctx.Done():
		return false
	case <-d.done:
		return false
	}
}

// Stop stops taking events and waits until the queued ones are handled.
func (d *Dispatcher[T]) Stop() {
	select {
	case <-d.done:
	default:
		close(d.done)
	}
	d.wg.Wait()
}
