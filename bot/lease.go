package bot

import (
	"context"
	"time"
)

// Leaser is implemented by a Store that several replicas share (package
// pgstore): each conversation is worked by one replica at a time, under a
// lease that lapses unless its holder keeps it alive. A replica that
// accepts a message of a conversation leased elsewhere leaves it in the
// shared inbox, and the holder takes it from there in the order accepted;
// when a holder dies its leases lapse and another replica takes its
// conversations over, replaying what was accepted but not answered. The
// store keeps the leases it holds alive while it is open and gives them
// up when it is closed. A Store that is not a Leaser (bbolt: one process)
// is worked as a whole by its one engine.
type Leaser interface {
	// Claim takes the lease on conv for this replica, or keeps it alive
	// when this replica holds it already. ok is false when another
	// replica holds a live lease; takeover is true when the lease taken
	// was another replica's, lapsed (it died, or lost touch): messages of
	// conv may have been answered without being marked done.
	Claim(ctx context.Context, conv string) (ok, takeover bool, err error)
	// Release gives the lease on conv up, unless messages of conv are
	// pending: then it keeps it and reports false (take them with
	// PendingOf). A lease this replica no longer holds counts as released.
	Release(ctx context.Context, conv string) (bool, error)
	// PendingOf returns up to max messages of conv accepted and not yet
	// done, by any replica, oldest first.
	PendingOf(ctx context.Context, conv string, max int) ([]Message, error)
	// Orphans returns up to max conversations with pending messages that
	// no other replica holds a live lease on, oldest message first: those
	// of a replica that died, and any whose hand-over raced.
	Orphans(ctx context.Context, max int) ([]string, error)
}

// leaseBatch is how many pending messages of one conversation a replica
// takes from the shared inbox at a time.
const leaseBatch = 16

// defaultLeaseSweep is how often a replica looks for conversations nobody
// works (a dead replica's); WithLeaseSweep changes it.
const defaultLeaseSweep = time.Second

// WithLeaseSweep sets how often the engine of a Leaser store looks for
// conversations with pending messages that no replica works (default 1s).
func WithLeaseSweep(d time.Duration) Option {
	return func(e *Engine) {
		if d > 0 {
			e.lsweep = d
		}
	}
}

// leasedConv is a conversation this replica holds the lease on: msgs is
// the batch taken from the shared inbox; dirty says a message of it was
// accepted here since, so it must not be let go before a look.
type leasedConv struct {
	key      string
	msgs     []Message
	dirty    bool
	takeover bool
	// worked is set while the batch taken last is being worked.
	worked bool
	// last is set once a batch was taken while draining: the next
	// refill lets the conversation go.
	last bool
}

// initLeases switches the queue to leases when the store is a Leaser.
func (e *Engine) initLeases() {
	l, ok := e.store.(Leaser)
	if !ok {
		return
	}
	e.leaser = l
	e.lconvs = map[string]*leasedConv{}
	e.lready = make(chan *leasedConv, e.cfg.QueueSize)
	if e.lsweep <= 0 {
		e.lsweep = defaultLeaseSweep
	}
}

// startLeased launches the workers and the sweeper of a Leaser store in
// place of replaying the whole inbox: a first sweep, before it returns,
// takes over what nobody works (this replica's own unanswered messages
// from before a crash included), as Start replays the inbox otherwise.
func (e *Engine) startLeased() {
	for i := 0; i < e.cfg.Workers; i++ {
		e.wg.Add(1)
		go e.leaseWorker()
	}
	e.sweepLeases()
	e.wg.Add(1)
	go e.leaseSweeper()
}

// handleLeased is Handle's end for a Leaser store, once m is accepted:
// the message waits in the shared inbox; this replica works its
// conversation when it holds, or can take, the lease.
func (e *Engine) handleLeased(ctx context.Context, m *Message) error {
	key := m.ConversationKey()
	e.qmu.Lock()
	if c := e.lconvs[key]; c != nil {
		c.dirty = true // its worker looks in the inbox before letting go
		e.qmu.Unlock()
		return nil
	}
	e.qmu.Unlock()
	ok, takeover, err := e.leaser.Claim(ctx, key)
	if err != nil {
		// Accepted durably: the sweeper finds it.
		e.log.Warn("claim conversation", "platform", m.Platform, "err", err)
		return nil
	}
	if !ok {
		return nil // another replica works it and takes it from the inbox
	}
	return e.activate(ctx, key, takeover, true)
}

// activate starts working a conversation this replica holds the lease
// on. Each active conversation holds one queue slot; wait says whether to
// wait for one (Handle: back-pressure) or give up (the sweeper, which
// comes back).
func (e *Engine) activate(ctx context.Context, key string, takeover, wait bool) error {
	if wait {
		select {
		case e.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	} else {
		select {
		case e.slots <- struct{}{}:
		default:
			return nil
		}
	}
	e.qmu.Lock()
	if e.stopping || e.closed {
		e.qmu.Unlock()
		<-e.slots
		return nil // accepted: another replica, or the next start, works it
	}
	if c := e.lconvs[key]; c != nil {
		c.dirty = true
		e.qmu.Unlock()
		<-e.slots
		return nil
	}
	c := &leasedConv{key: key, takeover: takeover}
	e.lconvs[key] = c
	e.lready <- c // room: one slot per active conversation
	queuedN, inflight := len(e.slots), e.inflight
	e.qmu.Unlock()
	e.events.Emit(Event{Kind: EventQueue, Queued: queuedN, InFlight: inflight})
	return nil
}

// deactivate forgets c unless a message of it was accepted here since its
// last look (then it reports false: look again).
func (e *Engine) deactivate(c *leasedConv, force bool) bool {
	e.qmu.Lock()
	if c.dirty && !force {
		c.dirty = false
		e.qmu.Unlock()
		return false
	}
	delete(e.lconvs, c.key)
	<-e.slots
	queuedN, inflight := len(e.slots), e.inflight
	e.idle.Broadcast()
	e.qmu.Unlock()
	e.events.Emit(Event{Kind: EventQueue, Queued: queuedN, InFlight: inflight})
	return true
}

func (e *Engine) leaseWorker() {
	defer e.wg.Done()
	for {
		select {
		case <-e.base.Done():
			e.abandonLeased()
			return
		case c := <-e.lready:
			if e.stepLeased(c) {
				e.lready <- c // back of the line: fairness between conversations
			}
		}
	}
}

// abandonLeased frees what is queued when the engine closes: the
// messages stay pending in the store, for another replica.
func (e *Engine) abandonLeased() {
	for {
		select {
		case c := <-e.lready:
			e.deactivate(c, true)
		default:
			return
		}
	}
}

// stepLeased handles c's next message, taking a batch from the inbox
// when the last is done, and reports whether c goes on.
func (e *Engine) stepLeased(c *leasedConv) bool {
	if len(c.msgs) == 0 && !e.refill(c) {
		return false
	}
	m := c.msgs[0]
	c.msgs[0] = Message{}
	c.msgs = c.msgs[1:]
	e.qmu.Lock()
	e.inflight++
	e.qmu.Unlock()
	// A taken-over conversation's messages may have been answered by the
	// replica that died: the replay check looks.
	e.process(queued{m: m, received: e.now(), replay: c.takeover})
	e.qmu.Lock()
	e.inflight--
	queuedN, inflight := len(e.slots), e.inflight
	e.idle.Broadcast()
	e.qmu.Unlock()
	e.events.Emit(Event{Kind: EventQueue, Queued: queuedN, InFlight: inflight})
	return true
}

// refill takes c's next batch from the shared inbox, and reports false
// when it let c go. After a batch it first tries to let go (one round
// trip when, as most often, nothing more is pending); the store refuses
// while a message is pending, which also closes the race with a replica
// that accepted one meanwhile, and then the pending ones are taken.
func (e *Engine) refill(c *leasedConv) bool {
	ctx := e.base
	for {
		e.qmu.Lock()
		closing := e.closed
		c.dirty = false
		e.qmu.Unlock()
		if c.last || ctx.Err() != nil {
			// Draining: what is pending now stays for another replica;
			// the store gives the lease up when it closes.
			e.deactivate(c, true)
			return false
		}
		if !c.worked {
			// Draining, the batch pending now is the conversation's
			// last here, so that a busy conversation can't hold a drain
			// up.
			c.last = closing
			msgs, err := e.leaser.PendingOf(ctx, c.key, leaseBatch)
			if err != nil {
				e.log.Warn("take pending messages", "err", err)
				e.deactivate(c, true) // the sweeper comes back to it
				return false
			}
			if len(msgs) > 0 {
				c.msgs, c.worked = msgs, true
				return true
			}
		}
		// A message in flight when a replica died is in the first batch
		// after a take-over; later ones are this replica's own.
		c.worked, c.takeover = false, false
		released, err := e.leaser.Release(ctx, c.key)
		if err != nil {
			e.log.Warn("release conversation", "err", err)
			e.deactivate(c, true)
			return false
		}
		if !released {
			continue // one is pending: take it
		}
		if e.deactivate(c, false) {
			return false
		}
		// One was accepted here while letting go: take the lease again,
		// unless another replica did.
		ok, takeover, err := e.leaser.Claim(ctx, c.key)
		if err != nil || !ok {
			e.deactivate(c, true)
			return false
		}
		c.takeover = takeover
	}
}

// leaseSweeper takes over, every lsweep, conversations with pending
// messages that no replica works.
func (e *Engine) leaseSweeper() {
	defer e.wg.Done()
	t := time.NewTicker(e.lsweep)
	defer t.Stop()
	for {
		select {
		case <-e.base.Done():
			return
		case <-t.C:
		}
		e.sweepLeases()
	}
}

func (e *Engine) sweepLeases() {
	ctx := e.base
	e.qmu.Lock()
	closing := e.closed
	e.qmu.Unlock()
	if closing {
		return
	}
	keys, err := e.leaser.Orphans(ctx, e.cfg.QueueSize)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("look for conversations nobody works", "err", err)
		}
		return
	}
	for _, key := range keys {
		e.qmu.Lock()
		active := e.lconvs[key] != nil
		e.qmu.Unlock()
		if active {
			continue
		}
		ok, takeover, err := e.leaser.Claim(ctx, key)
		if err != nil || !ok {
			continue
		}
		if takeover {
			e.log.Info("taking over a conversation of a replica that stopped answering")
		}
		// A conversation this replica held (its own crash) is a replay
		// too: answers may have been sent without being marked done.
		if err := e.activate(ctx, key, true, false); err != nil {
			return
		}
	}
}

// Elector runs work on one replica of a fleet at a time: retention,
// Telegram's long polling, a Discord shard. A store shared by replicas
// implements it (package pgstore); Solo serves one process.
type Elector interface {
	// Lead waits until this replica leads name, then runs fn under a
	// context that ends when the lead is lost (its holder could not keep
	// it alive) or ctx ends. After a lost lead it waits to lead again.
	// It returns fn's result when fn returns while leading (giving the
	// lead up), and nil once ctx ends.
	Lead(ctx context.Context, name string, fn func(ctx context.Context) error) error
}

// Solo is the Elector of a process that is the whole fleet: it always
// leads.
type Solo struct{}

// Lead runs fn under ctx.
func (Solo) Lead(ctx context.Context, _ string, fn func(ctx context.Context) error) error {
	if err := fn(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// Exclusive is implemented by an AdapterConfig whose adapter, as
// configured, must receive on one replica of a fleet at a time (Telegram's
// long polling: two pollers would take each other's updates). The binary
// runs such an adapter under the Elector, in the lead named lead; its
// Platform sends on every replica.
type Exclusive interface {
	// Exclusive reports whether the adapter receives on one replica at
	// a time, and the name of the lead it needs.
	Exclusive() (lead string, ok bool)
}

// Sharded is implemented by an AdapterConfig whose receiving is split in
// shards that replicas may claim from the shared store (Discord's
// shard_auto): the binary runs the adapter for each shard it leads.
type Sharded interface {
	// AutoShards is the number of shards to claim, 0 when the
	// configuration fixes the shard.
	AutoShards() int
	// WithShard returns the configuration receiving shard id.
	WithShard(id int) AdapterConfig
}
