package bot

import (
	"context"
	"time"
)

// Env is what a command or an inspector may reach while one message is
// handled: the message and where it came from, who wrote it and what the
// room may see, and a few narrow ways to act (reply, audit, emit an event,
// reach another platform, read the persona). A plug-in never holds the
// engine.
type Env struct {
	e        *Engine
	Platform Platform
	// Lang is the language chosen for the bot's words to this user.
	Lang string
	// Role is the author's effective role here (Auth.Role).
	Role Role
	// Auth is what the author may do, and where (Engine.AuthorityOf).
	Auth Authority
	// View is what the room the message was written in may see
	// (Engine.ViewOf): reports keep to it.
	View View
	// Received is when the message arrived.
	Received time.Time
	msg      *Message
	// done is set once the store has marked msg done (Store.Outgoing).
	done bool
	// replay is set when msg is replayed after a stop (a crash).
	replay bool
}

// T translates a catalogue key into the user's language. The values of
// args are data (names, counts, what a user wrote): they are escaped for
// the platform's markup, so that a display name like
// "[Claim refund](https://evil.example)" shows as written and links
// nowhere. A caller that means to pass markup uses Catalog().T.
func (env *Env) T(key string, args ...any) string {
	if m := env.markup(); m != MarkupPlain {
		esc := make([]any, len(args))
		for i, a := range args {
			esc[i] = a
			if s, ok := a.(string); ok && i%2 == 1 {
				esc[i] = Escape(m, s)
			}
		}
		args = esc
	}
	return env.e.catalog.T(env.Lang, key, args...)
}

// Esc escapes s (a name, a quote of what a user wrote) for the markup of
// the platform the message came from.
func (env *Env) Esc(s string) string { return Escape(env.markup(), s) }

func (env *Env) markup() Markup {
	if env.Platform == nil {
		return MarkupPlain
	}
	return env.Platform.Limits().Markup
}

// Reply sends text in the message's chat (in its thread), as a reply to it.
func (env *Env) Reply(ctx context.Context, text string) error {
	_, err := env.Send(ctx, Out{Text: text})
	return err
}

// Send sends out in the message's chat, filling Chat, ReplyTo and
// Interaction when unset, splitting it at the platform's length limit and
// waiting out rate limits. It returns the id of the last message sent.
func (env *Env) Send(ctx context.Context, out Out) (string, error) {
	if out.Chat.ID == "" {
		out.Chat = env.msg.Chat
		if out.ReplyTo == "" {
			out.ReplyTo = env.msg.ID
		}
		if out.Interaction == "" {
			out.Interaction = env.msg.Interaction
		}
	}
	out.Final = true
	return SendSplit(ctx, env.Platform, out)
}

// Message returns the message being handled.
func (env *Env) Message() *Message { return env.msg }

// Audit writes an entry to the audit log (its time, redaction of secrets
// and masking of personal data are the engine's).
func (env *Env) Audit(ctx context.Context, a AuditEntry) { env.e.audit(ctx, a) }

// Emit sends an event to the engine's observers (the metrics, analytics).
func (env *Env) Emit(ev Event) { env.e.events.Emit(ev) }

// PlatformFor returns another platform the engine speaks, by name: to
// notify the managers' channel, to post an announcement.
func (env *Env) PlatformFor(name string) (Platform, bool) { return env.e.Platform(name) }

// Persona is the persona in force.
func (env *Env) Persona() Persona { return env.e.Persona() }

// Redact removes secrets from text shown to a person (an error in a
// managers' notice); see Redactor.
func (env *Env) Redact(s string) string { return env.e.redactor.Redact(s) }

// Catalog is the bot's own messages, unescaped, in every language (for
// text that goes elsewhere than the message's chat: an alert to the
// managers).
func (env *Env) Catalog() *Catalog { return env.e.catalog }
