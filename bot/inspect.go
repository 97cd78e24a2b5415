package bot

import "context"

// Verdict is what an inspector decided about a message.
type Verdict struct {
	// Stop means the message must not be answered or processed further
	// (it was deleted, its author banned).
	Stop bool
	// Category and Action describe a moderation outcome, for the audit
	// log and metrics; empty when nothing was done.
	Category string
	Action   string
	// Notice is text to send in the chat (a warning); empty for none.
	Notice string
}

// Inspector looks at every fresh message before the engine decides whether to
// answer it: moderation and sentiment scoring are inspectors. Inspect runs on
// the conversation's goroutine, in order; an error is logged and the message
// goes on as if the inspector had passed it.
type Inspector interface {
	Inspect(ctx context.Context, m *Message, env *Env) (Verdict, error)
}

// InspectorFunc adapts a function to Inspector.
type InspectorFunc func(ctx context.Context, m *Message, env *Env) (Verdict, error)

// Inspect calls f.
func (f InspectorFunc) Inspect(ctx context.Context, m *Message, env *Env) (Verdict, error) {
	return f(ctx, m, env)
}
