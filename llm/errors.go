package llm

import (
	"errors"
	"fmt"
)

// Error is a final LLM failure after retries. It wraps one of the bot
// sentinels (bot.ErrLLMUnavailable, bot.ErrLLMTimeout, bot.ErrLLMRejected)
// and the last underlying error, so both errors.Is and errors.As work.
type Error struct {
	// Op is the operation: "complete" or "stream".
	Op string
	// Status is the HTTP status of the last attempt, zero when there was
	// no HTTP response (network error, timeout).
	Status int
	// Attempts is how many requests were made.
	Attempts int
	// Kind is the bot sentinel this error wraps.
	Kind error
	// Err is the last underlying error.
	Err error
}

// Error describes the failure without any message text.
func (e *Error) Error() string {
	s := fmt.Sprintf("llm: %s: %v after %d attempt(s)", e.Op, e.Kind, e.Attempts)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the sentinel and the underlying error.
func (e *Error) Unwrap() []error {
	out := []error{e.Kind}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// errCallTimeout is the cancellation cause of a context whose per-call
// timeout fired, telling it apart from the caller's own cancellation.
var errCallTimeout = errors.New("llm: per-call timeout")

var _ error = (*Error)(nil)
