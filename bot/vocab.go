package bot

import "slices"

// The vocabulary of events and records: every value an event or an audit
// entry may carry is a typed constant declared here (or, for the domain
// lists of a plug-in, declared by the plug-in and announced in its Labels).
// Metrics label by these values, and create each series at zero at start
// from the lists below, so the label sets are never written twice.

// Outcome says how something the engine did ended: a reply, a command, a
// model call, a question.
type Outcome string

// Outcomes.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeError   Outcome = "error"
	OutcomeApology Outcome = "apology"
	OutcomeRefused Outcome = "refused"
	OutcomeLimited Outcome = "limited"
	OutcomeCut     Outcome = "cut"
	OutcomeTimeout Outcome = "timeout"
	// OutcomeNotFound: a command nobody registered.
	OutcomeNotFound Outcome = "unknown"
	// OutcomeBlocked: a reply whose sentence failed the output checks
	// twice ended with the catalogue's fallback.
	OutcomeBlocked Outcome = "blocked"
	// OutcomeUnanswered is EventQuestion's Outcome when the question got
	// an honest "I don't know": no passage was relevant enough, or the
	// model said the facts didn't cover it.
	OutcomeUnanswered Outcome = "unanswered"
)

// The outcomes each kind of event carries.
var (
	// ReplyOutcomes are the outcomes of EventReplySent.
	ReplyOutcomes = []Outcome{OutcomeOK, OutcomeCut, OutcomeApology, OutcomeLimited, OutcomeError, OutcomeBlocked}
	// CommandOutcomes are the outcomes of EventCommand.
	CommandOutcomes = []Outcome{OutcomeOK, OutcomeError, OutcomeRefused, OutcomeNotFound}
	// LLMOutcomes are the outcomes of EventLLMCall.
	LLMOutcomes = []Outcome{OutcomeOK, OutcomeCut, OutcomeTimeout, OutcomeError}
	// QuestionOutcomes are the outcomes of EventQuestion.
	QuestionOutcomes = []Outcome{OutcomeOK, OutcomeUnanswered}
)

// AdapterState is what an adapter reports of its connection to the
// platform, in EventAdapter's State.
type AdapterState string

// Adapter states.
const (
	// AdapterConnected: the platform answers, for the first time since
	// the start.
	AdapterConnected AdapterState = "connected"
	// AdapterDisconnected: the platform stopped answering.
	AdapterDisconnected AdapterState = "disconnected"
	// AdapterReconnect: the platform answers again after a disconnection.
	AdapterReconnect AdapterState = "reconnect"
	// AdapterSkipped: an update carried nothing Chorus reads (a sticker,
	// a command for another bot); the connection is unchanged. Category
	// says why.
	AdapterSkipped AdapterState = "skipped"
	// AdapterBadUpdate: an update could not be read (a panic was
	// recovered, a body was malformed); the connection is unchanged.
	AdapterBadUpdate AdapterState = "bad_update"
	// AdapterUnauthorized: a request to the adapter's webhook was refused
	// for want of the right secret; nothing of it was read.
	AdapterUnauthorized AdapterState = "unauthorized"
)

// LimitReason says why an answer was refused by a limit, in
// EventRateLimited's Reason.
type LimitReason string

// Limit reasons.
const (
	// LimitRate: the user's token bucket is empty.
	LimitRate LimitReason = "rate"
	// LimitBudget: the user's or the chat's daily token budget is spent.
	LimitBudget LimitReason = "budget"
)

// LimitReasons lists every LimitReason.
var LimitReasons = []LimitReason{LimitRate, LimitBudget}

// AuditKind says what an audit entry records.
type AuditKind string

// Audit kinds.
const (
	// AuditModeration: a moderation action (or, in dry run, what would
	// have been done).
	AuditModeration AuditKind = "moderation"
	// AuditAppeal: a user appealed a moderation action.
	AuditAppeal AuditKind = "appeal"
	// AuditCommand: a manager's command changed something (word lists,
	// dry run, a pardon).
	AuditCommand AuditKind = "command"
	// AuditRefused: a command or part of one was refused for the asker's
	// role or scope.
	AuditRefused AuditKind = "refused"
	// AuditForget: everything about a user was forgotten.
	AuditForget AuditKind = "forget"
	// AuditOutputBlocked: a sentence of the bot's own reply failed an
	// output check and was never shown.
	AuditOutputBlocked AuditKind = "output-blocked"
	// AuditPersona: the persona was changed or reset at run time.
	AuditPersona AuditKind = "persona"
	// AuditAnnounce: an announcement was sent to the channels.
	AuditAnnounce AuditKind = "announce"
	// AuditPublish: a post was published to a brand channel, scheduled
	// or cancelled (package campaigns).
	AuditPublish AuditKind = "publish"
)

// ChatKinds lists every ChatKind.
var ChatKinds = []ChatKind{ChatDM, ChatGroup, ChatChannel}

// Purposes lists every Purpose.
var Purposes = []Purpose{PurposeChat, PurposeSummary, PurposeModeration, PurposeSentiment, PurposeDigest, PurposePost, PurposeTranslate}

// Labels are the values the parts of a running Chorus may put in the
// events they emit: the platforms added, the commands registered, and
// what the plug-ins declare of their own domain (moderation's categories
// and actions, sentiment labels, alert kinds). Metrics label by them
// (anything else becomes "other") and create their series at zero at
// start. Engine.Labels gathers them.
type Labels struct {
	// Platforms are the platform names of the adapters added.
	Platforms []string
	// Commands are the registered command names, aliases included.
	Commands []string
	// Categories are the values of EventModerated's Category.
	Categories []string
	// Actions are the values of EventModerated's Action.
	Actions []string
	// Sentiments are the values of EventScored's Label.
	Sentiments []string
	// Alerts are the values of EventAlert's Category.
	Alerts []string
	// Campaigns are the values of EventClick's and EventConversion's
	// Label (campaign kinds).
	Campaigns []string
}

// Merge returns l with the values of o added.
func (l Labels) Merge(o Labels) Labels {
	return Labels{Platforms: concat(l.Platforms, o.Platforms), Commands: concat(l.Commands, o.Commands),
		Categories: concat(l.Categories, o.Categories), Actions: concat(l.Actions, o.Actions),
		Sentiments: concat(l.Sentiments, o.Sentiments), Alerts: concat(l.Alerts, o.Alerts), Campaigns: concat(l.Campaigns, o.Campaigns)}
}

// concat returns a new slice holding a then b.
func concat[T any](a, b []T) []T { return append(append(make([]T, 0, len(a)+len(b)), a...), b...) }

// Labels returns what the engine's parts may put in the events they emit:
// the platforms added, every command name registered (aliases included),
// and what the plug-ins declare (Plugin.Labels). Metrics label by these values and
// create their series at zero.
func (e *Engine) Labels() Labels {
	var l Labels
	for _, p := range e.Platforms() {
		l.Platforms = append(l.Platforms, p.Name())
	}
	e.cmu.RLock()
	for name := range e.commands {
		l.Commands = append(l.Commands, name)
	}
	e.cmu.RUnlock()
	slices.Sort(l.Commands)
	return l.Merge(e.labels)
}
