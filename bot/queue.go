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

// convQueue is one lane of the queue: the messages that must be handled
// in order, one at a time (LaneKey).
type convQueue struct {
	key  string
	msgs []queued
}

type queued struct {
	m        Message
	received time.Time
	replay   bool
	// recorded is set when m's turn and its author's profile were
	// stored with its intake (IntakeRecorder); its conversation was
	// counted busy then (reserved).
	recorded bool
	// lang is m's language, when judged at intake.
	lang string
	// tries counts the times the store failed to record m.
	tries int
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
	if done, err := e.handleRecorded(ctx, &m, received); done {
		return err
	}
	fresh, err := e.store.Accept(ctx, &m)
	if err != nil {
		return fmt.Errorf("bot: accept: %w", err)
	}
	if !fresh {
		e.events.Emit(Event{Kind: EventDuplicate, Platform: m.Platform})
		return nil
	}
	if e.leaser != nil {
		return e.handleLeased(ctx, &m)
	}
	return e.enqueue(ctx, queued{m: m, received: received})
}

// handleRecorded is Handle's one-commit intake: when nothing of m's
// conversation is queued or in flight and a worker is free, m is
// accepted and recorded (its author's profile, its turn) in one
// transaction (IntakeRecorder) and queued; the worker then skips
// Incoming. Writing the turn at intake never puts it before a turn
// answered earlier, since the conversation is idle. It reports false
// when m takes the ordinary path (Accept, then Incoming in the worker):
// a store without it, a busy conversation or pool, an edit (an inspector
// that stops an edit must leave the original turn), a bot's message
// (never stored), before the replay is queued.
func (e *Engine) handleRecorded(ctx context.Context, m *Message, received time.Time) (bool, error) {
	if e.intake == nil || m.Edited || m.Author.IsBot {
		return false, nil
	}
	conv := m.ConversationKey()
	e.qmu.Lock()
	ok := e.replayed && !e.closed && e.busy[conv] == 0 && len(e.slots) < e.cfg.Workers
	if ok {
		e.busy[conv]++ // reserved: a message arriving meanwhile takes the ordinary path
	}
	e.qmu.Unlock()
	if !ok {
		return false, nil
	}
	lang := e.langOf(m)
	fresh, err := e.intake.AcceptIncoming(ctx, m, lang, conv, e.userTurn(m))
	if err != nil || !fresh {
		e.qmu.Lock()
		e.release(conv)
		e.qmu.Unlock()
		if err != nil {
			return true, fmt.Errorf("bot: accept: %w", err)
		}
		e.events.Emit(Event{Kind: EventDuplicate, Platform: m.Platform})
		return true, nil
	}
	return true, e.enqueue(ctx, queued{m: *m, received: received, recorded: true, lang: lang})
}

// release uncounts one message of conv (Engine.busy). e.qmu is held.
func (e *Engine) release(conv string) {
	if e.busy[conv]--; e.busy[conv] <= 0 {
		delete(e.busy, conv)
	}
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
	conv := q.m.ConversationKey()
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		if q.recorded {
			e.qmu.Lock()
			e.release(conv)
			e.qmu.Unlock()
		}
		return ctx.Err()
	}
	key := LaneKey(&q.m)
	e.qmu.Lock()
	if e.stopping || (e.closed && !q.replay) {
		if q.recorded {
			e.release(conv)
		}
		e.qmu.Unlock()
		<-e.slots
		return ErrClosed
	}
	if !q.recorded {
		e.busy[conv]++
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

// LaneKey is the lane a message is handled in. Order matters within a
// conversation (a DM, a channel, a forum topic or thread: the chat's
// thread is part of the conversation key) for each author, not across
// the members of a group: in a group each member's messages are a lane of
// their own, so that a burst from a big group is answered by the whole
// pool instead of one worker, while each member's messages (their edits
// included) keep their order. The members' turns share one history; the
// store orders them as they are written. Adapters that hand messages over
// in parallel keep to the same lanes.
func LaneKey(m *Message) string {
	k := m.ConversationKey()
	if m.Chat.Kind == ChatGroup {
		k += "\x00" + m.Author.ID
	}
	return k
}

func (e *Engine) worker() {
	defer e.wg.Done()
	for c := range e.ready {
		e.qmu.Lock()
		if e.stopping {
			// Abandoned: the messages stay pending in the store.
			for i := range c.msgs {
				e.release(c.msgs[i].m.ConversationKey())
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
		e.release(q.m.ConversationKey())
		c.msgs[0] = queued{}
		c.msgs = c.msgs[1:]
		<-e.slots
		switch {
		case len(c.msgs) > 0 && !e.stopping:
			e.ready <- c // more in this conversation: back of the line
		case len(c.msgs) > 0:
			for i := range c.msgs {
				e.release(c.msgs[i].m.ConversationKey())
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

// A message (or a reply) the store could not record is tried again after
// a pause growing from storeRetryMin to storeRetryMax, holding its lane
// for at most storeRetryFor; it then stays pending for the next start.
const (
	storeRetryMin = 500 * time.Millisecond
	storeRetryMax = time.Minute
	storeRetryFor = 15 * time.Minute
)

// process handles one message on its lane's turn. When the store could
// not record it (a full disk) it is handled again after a growing pause,
// holding its lane, until the store writes again, storeRetryFor passes or
// the engine closes (it then stays pending for the next start). It never
// panics.
func (e *Engine) process(q queued) {
	b := Backoff{Min: storeRetryMin, Max: storeRetryMax}
	until := time.Now().Add(storeRetryFor)
	for e.processOnce(q) {
		q.tries++
		if time.Now().After(until) {
			e.log.Error("message left pending for the next start: the store cannot record it", "platform", q.m.Platform)
			return
		}
		if Sleep(e.base, b.Next()) != nil {
			return // closing: pending for the next start
		}
	}
}

// processOnce handles q once and reports whether the store failed to
// record it.
func (e *Engine) processOnce(q queued) (storeFailed bool) {
	m := q.m
	if e.base.Err() != nil {
		return false // closing: leave it pending for the next start
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
	var serr *storeError
	if errors.As(err, &serr) {
		e.log.Error("message accepted but not recorded; trying again", "platform", m.Platform, "tries", q.tries+1, "err", err)
		return true
	}
	if err != nil {
		e.log.Warn("handling message failed", "platform", m.Platform, "err", err)
	}
	if ctx.Err() != nil && e.base.Err() != nil {
		return false // cancelled by Close: replay later
	}
	if done {
		return false
	}
	if err := e.store.Done(context.Background(), &m); err != nil {
		e.log.Error("mark message done", "platform", m.Platform, "err", err)
	}
	return false
}
