package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/chorusbot/chorus/bot"
)

// stream is a bot.Stream over a go-openai chat stream. The per-call
// timeout is an idle timer: it bounds the wait for the first chunk and
// every gap after it, not the length of the reply.
type stream struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
	st      *callState
	s       *openai.ChatCompletionStream
	unmask  *unmasker
	sent    []openai.ChatCompletionMessage

	pending  []string
	reply    []byte
	finished bool
	usage    bot.Usage
	model    string
	err      error
	close    sync.Once
}

var _ bot.Stream = (*stream)(nil)

func newStream(actx context.Context, timeout time.Duration, m *Masker, model string, sent []openai.ChatCompletionMessage) *stream {
	ctx, cancel := context.WithCancelCause(actx)
	s := &stream{ctx: ctx, cancel: cancel, timeout: timeout, model: model, sent: sent}
	s.st, _ = actx.Value(callKey{}).(*callState)
	if m != nil {
		s.unmask = &unmasker{m: m}
	}
	s.timer = time.AfterFunc(timeout, func() { cancel(errCallTimeout) })
	return s
}

// prime reads until the first piece of text (or the end of an empty
// reply), so that failures before anything was delivered can be retried.
func (s *stream) prime() error {
	for len(s.pending) == 0 && !s.finished {
		if err := s.next(); err != nil {
			if errors.Is(err, io.EOF) && s.completed() {
				s.end(io.EOF)
				return nil
			}
			return err
		}
	}
	return nil
}

// completed reports whether the server said the reply was over.
func (s *stream) completed() bool {
	return s.finished || (s.st != nil && s.st.done())
}

// next reads one chunk into pending.
func (s *stream) next() error {
	resp, err := s.s.Recv()
	if err != nil {
		return err
	}
	s.timer.Reset(s.timeout)
	if resp.Model != "" {
		s.model = resp.Model
	}
	if resp.Usage != nil {
		s.usage = bot.Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	}
	for _, ch := range resp.Choices {
		if ch.Index != 0 {
			continue
		}
		if d := ch.Delta.Content; d != "" {
			s.reply = append(s.reply, d...)
			if s.unmask != nil {
				d = s.unmask.push(d)
			}
			if d != "" {
				s.pending = append(s.pending, d)
			}
		}
		if ch.FinishReason != "" {
			s.finished = true
		}
	}
	return nil
}

// end makes err sticky, releasing any text held back for unmasking first.
func (s *stream) end(err error) {
	if s.unmask != nil {
		if d := s.unmask.flush(); d != "" {
			s.pending = append(s.pending, d)
		}
	}
	if err == io.EOF && s.usage.Total() == 0 {
		s.usage = estimateUsage(s.sent, string(s.reply))
	}
	s.err = err
}

// Recv implements bot.Stream. After a cut it first delivers the text
// received so far, then an error wrapping bot.ErrStreamCut.
func (s *stream) Recv() (string, error) {
	for {
		if len(s.pending) > 0 {
			d := s.pending[0]
			s.pending = s.pending[1:]
			return d, nil
		}
		if s.err != nil {
			return "", s.err
		}
		err := s.next()
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, io.EOF) && s.completed():
			s.end(io.EOF)
		case errors.Is(context.Cause(s.ctx), errCallTimeout):
			s.end(fmt.Errorf("llm: stream: %w: %w: no chunk for %v", bot.ErrStreamCut, bot.ErrLLMTimeout, s.timeout))
		case s.ctx.Err() != nil && context.Cause(s.ctx) != errStreamClosed:
			s.end(fmt.Errorf("llm: stream: %w: %w", bot.ErrStreamCut, s.ctx.Err()))
		default:
			s.end(fmt.Errorf("llm: stream: %w: %v", bot.ErrStreamCut, err))
		}
	}
}

// Usage implements bot.Stream: the usage the server reported at the end of
// the stream, or an estimate when it reported none.
func (s *stream) Usage() bot.Usage { return s.usage }

// Model is the model that answered, as the server named it.
func (s *stream) Model() string { return s.model }

// errStreamClosed is the cancellation cause after Close.
var errStreamClosed = errors.New("llm: stream closed")

// Close implements bot.Stream.
func (s *stream) Close() error {
	var err error
	s.close.Do(func() {
		s.timer.Stop()
		s.cancel(errStreamClosed)
		if s.s != nil {
			err = s.s.Close()
		}
	})
	return err
}
