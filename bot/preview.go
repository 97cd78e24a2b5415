package bot

import (
	"context"
	"strings"
	"time"
)

// Preview is what the bot would answer a question: the passages the
// knowledge base gave and the answer, checked as a real one. Nothing is
// sent, stored or counted but the model call.
type Preview struct {
	Lang     string
	Passages []Passage
	Answer   string
	// Unanswered marks an honest "I don't know": no passage relevant
	// enough, or the model said the facts didn't cover it.
	Unanswered bool
	// Blocked marks an answer the output checks stopped: Answer is the
	// fallback a follower would have got.
	Blocked bool
}

// previewPlatform collects a preview's answer; it sends nothing.
type previewPlatform struct{}

func (previewPlatform) Name() string                               { return "preview" }
func (previewPlatform) Send(context.Context, Out) (string, error)  { return "preview", nil }
func (previewPlatform) Edit(context.Context, Out, string) error    { return nil }
func (previewPlatform) Delete(context.Context, Chat, string) error { return nil }
func (previewPlatform) Typing(context.Context, Chat) error         { return nil }
func (previewPlatform) Restrict(context.Context, Chat, string, time.Time) error {
	return ErrUnsupported
}
func (previewPlatform) Ban(context.Context, Chat, string) error { return ErrUnsupported }
func (previewPlatform) Limits() Limits                          { return Limits{MaxLen: 1 << 20} }

// Preview answers question as the bot would answer a follower asking it
// in a private message with no history, for a manager checking the
// knowledge base ("what would the bot answer?").
func (e *Engine) Preview(ctx context.Context, question string) (Preview, error) {
	question = strings.TrimSpace(question)
	lang := DetectLang(question, "", e.catalog)
	m := &Message{Platform: "preview", Chat: Chat{ID: "preview", Kind: ChatDM}, ID: "preview",
		Author: User{ID: "preview", Name: "preview"}, Text: question, Time: e.now()}
	p := previewPlatform{}
	env := &Env{e: e, Platform: p, Lang: lang, Role: RoleFollower, Received: e.now(), msg: m}
	req, g, ret, err := e.buildRequest(ctx, env, question)
	if err != nil {
		return Preview{}, err
	}
	out := Preview{Lang: lang, Passages: req.Passages}
	lctx, cancel := context.WithTimeout(ctx, e.cfg.LLMTimeout)
	defer cancel()
	w := NewStreamWriter(p, Out{Chat: m.Chat})
	// No message: a preview's links are not rewritten into tracked ones.
	w.Gate = e.gate(g, nil)
	start := e.now()
	_, usage, model, outcome, said, _ := e.stream(lctx, req, w)
	e.events.Emit(Event{Kind: EventLLMCall, Model: model, Purpose: PurposeChat, Outcome: outcome, Duration: e.now().Sub(start), Usage: usage})
	if outcome == OutcomeOK || outcome == OutcomeCut {
		w.End(lctx)
	}
	switch _, _, blocked := w.Blocked(); {
	case blocked:
		out.Blocked = true
		w.Append(env.T("output_fallback"))
	case outcome != OutcomeOK && outcome != OutcomeCut && strings.TrimSpace(w.Text()) == "":
		w.Set(env.T("apology"))
	}
	out.Answer = w.Text()
	out.Unanswered = e.kb != nil && (!ret.relevant || said)
	return out, nil
}

// AnswerRef is the MsgID the engine stores on its answer to the message
// with id question (Turn.MsgID), so that the answer a vote is about can be
// found in the conversation.
func AnswerRef(question string) string { return replyID(question) }
