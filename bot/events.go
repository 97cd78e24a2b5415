package bot

import (
	"sync"
	"time"
)

// EventKind says what happened.
type EventKind int

// Event kinds. Each names the Event fields it fills.
const (
	// EventMessageReceived: Platform, ChatKind, Chat, User, Lang, Time. One
	// per fresh delivery.
	EventMessageReceived EventKind = iota + 1
	// EventDuplicate: Platform. A redelivery was dropped.
	EventDuplicate
	// EventFirstToken: Platform, Chat, Duration (receipt to first visible
	// token).
	EventFirstToken
	// EventReplySent: Platform, Chat, User, Outcome, Duration (receipt to
	// complete reply).
	EventReplySent
	// EventCommand: Platform, Command, Outcome.
	EventCommand
	// EventLLMCall: Model, Purpose, Outcome, Duration, Usage.
	EventLLMCall
	// EventModerated: Platform, Chat, User, Category, Action, Severity.
	EventModerated
	// EventScored: Platform, Chat, User, Label, Score, Lang.
	EventScored
	// EventAlert: Platform, Chat, Category (alert kind).
	EventAlert
	// EventPanic: Platform. A handler panicked and was recovered.
	EventPanic
	// EventQueue: Queued, InFlight. Emitted when either changes.
	EventQueue
	// EventRateLimited: Platform, Reason.
	EventRateLimited
	// EventAdapter: Platform, State (and Category, for AdapterSkipped).
	EventAdapter
	// EventQuestion: Platform, ChatKind, Chat, User, Lang, Text (the
	// question), Outcome (OutcomeOK, or OutcomeUnanswered when the answer
	// was an honest "I don't know"), Label (the best knowledge-base
	// source, relevant or not, empty when none) and Score (its
	// Passage.Relevance). Emitted after each answer from the LLM, so that
	// knowledge gaps can be found.
	EventQuestion
	// EventOutputBlocked: Platform, Chat, User, Label (the bot.Check that
	// fired), Action ("reask" or "fallback"). A sentence of the bot's own
	// reply failed an output check and was never shown.
	EventOutputBlocked
	// EventFeedback: Platform, Chat, User (the voter), Label (the
	// Rating), Ref (the platform id of the question the rated answer
	// replies to). A follower rated an answer with its buttons; one per
	// follower per answer.
	EventFeedback
	// EventClick: Platform, Chat, Label (the campaign kind: post,
	// announcement, answer, welcome). A person (not a preview fetcher)
	// followed a tracked link.
	EventClick
	// EventConversion: Platform, Chat, Label (the campaign kind), Score
	// (the value, 0 when none). A signed conversion was attributed to a
	// click.
	EventConversion
	// EventMemberJoined: Platform, ChatKind, Chat (the conversation key of
	// the chat to greet in), User, Lang (the member's, where the platform
	// tells it), Text (the member's display name, for a greeting only),
	// Category (the server id on Discord, empty elsewhere). A member
	// joined a community chat (Engine.HandleJoin).
	EventMemberJoined
)

// Event is one thing the engine (or an adapter, or a plug-in) did. Fields not
// named for a kind are zero. Events carry ids for observers that keep
// per-chat state (analytics); metrics must not use ids or text as labels.
type Event struct {
	Kind     EventKind
	Time     time.Time
	Platform string
	ChatKind ChatKind
	Chat     string // conversation key
	User     string // user key
	Lang     string
	Text     string // message text, for analytics only
	Command  string
	Outcome  Outcome
	// State is an adapter's (EventAdapter).
	State AdapterState
	// Reason is why a limit refused an answer (EventRateLimited).
	Reason   LimitReason
	Duration time.Duration
	Model    string
	Purpose  Purpose
	Usage    Usage
	Category string
	Action   string
	Severity float64
	Label    string
	Score    float64
	Queued   int
	InFlight int
	// Ref is a platform message id the event is about (EventFeedback).
	Ref string
}

// Observer receives events. Observe is called synchronously from the engine's
// goroutines and must be quick and safe for concurrent use.
type Observer interface {
	Observe(e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }

// Observers fans events out. The zero value is ready; it is safe for
// concurrent use, and observers may be added while events flow.
type Observers struct {
	mu   sync.RWMutex
	list []Observer
}

// Add registers o.
func (os *Observers) Add(o Observer) {
	os.mu.Lock()
	os.list = append(os.list, o)
	os.mu.Unlock()
}

// Emit sends e to every observer, stamping the time if unset.
func (os *Observers) Emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	os.mu.RLock()
	list := os.list
	os.mu.RUnlock()
	for _, o := range list {
		o.Observe(e)
	}
}
