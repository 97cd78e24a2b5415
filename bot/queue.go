package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
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

type convQueue struct {
	key  string
	msgs []queued
}

type queued struct {
	m        Message
	received time.Time
	replay   bool
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

var _ JoinHandler = (*Engine)(nil)

// HandleJoin tells the plug-ins (EventMemberJoined) that a member joined a
// chat: the welcome, the activation of new members. Bots joining are
// ignored; nothing is stored by the engine. The event's time is the
// engine's clock at receipt, like a message's.
func (e *Engine) HandleJoin(ctx context.Context, j Join) error {
	if _, ok := e.Platform(j.Platform); !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPlatform, j.Platform)
	}
	if j.User.IsBot || j.User.ID == "" || j.Chat.ID == "" && j.Chat.Server == "" {
		return nil
	}
	// Stamped on receipt, as messages are, so that a member's first
	// message is compared with their join on one clock.
	name, _ := SanitizeText(j.User.Name)
	e.events.Emit(Event{Kind: EventMemberJoined, Time: e.now(), Platform: j.Platform, ChatKind: j.Chat.Kind,
		Chat: ConversationKey(j.Platform, j.Chat.ID, ""), User: UserKey(j.Platform, j.User.ID), Lang: j.User.Lang, Text: name, Category: j.Chat.Server})
	return nil
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

// process handles one message on its conversation's turn. It never panics.
func (e *Engine) process(q queued) {
	m := q.m
	if e.base.Err() != nil {
		return // closing: leave it pending for the next start
	}
	ctx, cancel := context.WithTimeout(e.base, e.cfg.HandlerTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("panic handling message", "platform", m.Platform, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			e.events.Emit(Event{Kind: EventPanic, Platform: m.Platform})
			// Mark it done: a message that panics would panic again on replay.
			if err := e.store.Done(context.Background(), &m); err != nil {
				e.log.Error("mark done after panic", "err", err)
			}
		}
	}()
	done, err := e.handle(ctx, &m, q)
	if err != nil {
		e.log.Warn("handling message failed", "platform", m.Platform, "err", err)
	}
	if ctx.Err() != nil && e.base.Err() != nil {
		return // cancelled by Close: replay later
	}
	if done {
		return
	}
	if err := e.store.Done(context.Background(), &m); err != nil {
		e.log.Error("mark message done", "platform", m.Platform, "err", err)
	}
}
