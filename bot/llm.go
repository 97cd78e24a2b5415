package bot

import (
	"context"
	"errors"
)

// LLM roles for ChatMessage.Role.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// ChatMessage is one message of an LLM prompt.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Purpose says why the engine calls the LLM; it labels metrics and lets the
// offline provider choose how to answer without an LLM.
type Purpose string

// Purposes.
const (
	PurposeChat       Purpose = "chat"
	PurposeSummary    Purpose = "summary"
	PurposeModeration Purpose = "moderation"
	PurposeSentiment  Purpose = "sentiment"
	PurposeDigest     Purpose = "digest"
	PurposePost       Purpose = "post"
	// PurposeTranslate translates a question for a knowledge search in
	// the other language.
	PurposeTranslate Purpose = "translate"
)

// Request is one LLM call.
type Request struct {
	Purpose  Purpose       `json:"purpose"`
	Messages []ChatMessage `json:"messages"`
	// MaxTokens bounds the completion; zero means the provider's default.
	MaxTokens   int     `json:"max_tokens,omitempty"`
	Temperature float32 `json:"temperature,omitempty"`
	// JSON asks for a JSON object reply (structured verdicts).
	JSON bool `json:"json,omitempty"`

	// The fields below are structured context for providers that don't read
	// prose: the offline provider answers from them. Remote providers see
	// them only as rendered into Messages.

	// Query is the user's question or the text to work on.
	Query string `json:"query,omitempty"`
	// Lang is the language to answer in ("en", "zh").
	Lang string `json:"lang,omitempty"`
	// Passages are the knowledge-base passages placed in the prompt:
	// only those at or above the relevance floor.
	Passages []Passage `json:"passages,omitempty"`
	// Contact is, when no passage was relevant, the passage that says how
	// to reach a person, for the next step of an "I don't know".
	Contact []Passage `json:"contact,omitempty"`
	// Turns are conversation turns to summarise (PurposeSummary, digests).
	Turns []Turn `json:"turns,omitempty"`
	// Summary is the conversation's summary so far, which a PurposeSummary
	// request folds Turns into.
	Summary string `json:"summary,omitempty"`
	// Persona is the brand's persona for phrasing.
	Persona Persona `json:"persona,omitempty"`
	// Reask, when set, says why the model's previous draft of this answer
	// was not shown (see Reask); Messages carry it too.
	Reask string `json:"reask,omitempty"`
}

// Usage is token accounting for one call.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Total is prompt plus completion tokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// Response is a complete LLM answer.
type Response struct {
	Text  string `json:"text"`
	Model string `json:"model"`
	Usage Usage  `json:"usage"`
	// Offline is set when the offline provider answered.
	Offline bool `json:"offline,omitempty"`
}

// Stream yields a reply piece by piece. Recv returns io.EOF after the last
// piece; Usage is meaningful after that. Close releases the connection and
// may be called at any time.
type Stream interface {
	Recv() (delta string, err error)
	Usage() Usage
	Close() error
}

// LLM is a language model. Implementations retry transient failures
// themselves; an error from them is final for this call.
type LLM interface {
	Complete(ctx context.Context, req Request) (Response, error)
	Stream(ctx context.Context, req Request) (Stream, error)
}

// Sentinel LLM errors, wrapped by implementations so callers can tell them
// apart with errors.Is.
var (
	// ErrLLMUnavailable is returned when the model could not be reached or
	// kept failing after retries (5xx, 429, network).
	ErrLLMUnavailable = errors.New("bot: llm unavailable")
	// ErrLLMTimeout is returned when a call exceeded its time limit.
	ErrLLMTimeout = errors.New("bot: llm timeout")
	// ErrLLMRejected is returned when the model refused the request for
	// good (4xx other than 429: bad key, unknown model, context too long).
	ErrLLMRejected = errors.New("bot: llm rejected request")
	// ErrStreamCut is returned by Stream.Recv when a stream ended before the
	// model said it was done.
	ErrStreamCut = errors.New("bot: llm stream cut")
)

// TokenCounter counts tokens the way the model will.
type TokenCounter interface {
	Count(text string) int
}

// TokenCounterFunc adapts a function to TokenCounter.
type TokenCounterFunc func(string) int

// Count calls f.
func (f TokenCounterFunc) Count(s string) int { return f(s) }
