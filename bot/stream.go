package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxRateWaits bounds how many rate-limit waits one final send or edit
// accepts before giving up.
const maxRateWaits = 8

// StreamWriter shows a reply growing: it sends the first piece, then edits
// the message as text arrives, no faster than the platform's EditEvery and
// only when the text changed, and starts a new message when the text passes
// the platform's length limit. A 429 while streaming postpones the next
// edit by its retry-after; Finish waits it out so the final text arrives.
// It is not safe for concurrent use.
type StreamWriter struct {
	p    Platform
	lim  Limits
	tmpl Out
	// Filter, when set, turns the accumulated text into what is shown
	// (output moderation, markup fixes). It must be pure.
	Filter func(string) string
	// OnFirst is called once, when the first piece becomes visible.
	OnFirst func()

	text     []byte
	override *string
	// memo caches Filter's result for the text it was last given: Text is
	// asked for at every flush and Filter (output moderation) is costly.
	memoIn, memoOut string
	ids             []string
	shown           []string
	next            time.Time
	// retryAt is when the platform's last retry-after ends; the final
	// flush waits for it (but not for the ordinary edit pace).
	retryAt time.Time
	first   sync.Once
	now     func() time.Time
}

// NewStreamWriter returns a writer posting to p with the chat and reply
// fields of tmpl.
func NewStreamWriter(p Platform, tmpl Out) *StreamWriter {
	return &StreamWriter{p: p, lim: p.Limits(), tmpl: tmpl, now: time.Now}
}

// Write adds delta and, when streaming and the pace allows, updates the
// visible message. Errors other than rate limits are kept for Finish.
func (w *StreamWriter) Write(ctx context.Context, delta string) {
	w.text = append(w.text, delta...)
	if w.OnFirst != nil && len(w.text) > 0 && !w.lim.Stream {
		w.first.Do(w.OnFirst)
	}
	if !w.lim.Stream || w.now().Before(w.next) {
		return
	}
	if err := w.flush(ctx, false); err != nil {
		var rl *RateLimitError
		if errors.As(err, &rl) {
			w.next = w.now().Add(rl.RetryAfter)
			w.retryAt = w.next
		}
		return
	}
	w.next = w.now().Add(w.lim.EditEvery)
}

// Set replaces the whole text (an apology, a cut marker).
func (w *StreamWriter) Set(text string) { w.override = &text }

// Text is the full text as shown (after Filter).
func (w *StreamWriter) Text() string {
	s := string(w.text)
	if w.override != nil {
		s = *w.override
	}
	if w.Filter != nil {
		if s != w.memoIn || w.memoOut == "" && s != "" {
			w.memoIn, w.memoOut = s, w.Filter(s)
		}
		s = w.memoOut
	}
	return s
}

// LastID is the id of the last message sent, empty before any.
func (w *StreamWriter) LastID() string {
	if len(w.ids) == 0 {
		return ""
	}
	return w.ids[len(w.ids)-1]
}

// IDs are the ids of every message the reply used.
func (w *StreamWriter) IDs() []string { return w.ids }

// Finish shows the final text, waiting out rate limits: first any
// retry-after a streamed edit was told, then any the final ones are.
func (w *StreamWriter) Finish(ctx context.Context) error {
	if w.Text() == "" {
		return nil
	}
	if d := w.retryAt.Sub(w.now()); d > 0 {
		if err := Sleep(ctx, d); err != nil {
			return err
		}
	}
	return w.flush(ctx, true)
}

func (w *StreamWriter) flush(ctx context.Context, final bool) error {
	text := w.Text()
	if text == "" {
		return nil
	}
	pieces := SplitText(text, w.lim.MaxLen)
	for i, piece := range pieces {
		out := w.tmpl
		out.Text = piece
		out.Final = final && i == len(pieces)-1
		if i > 0 {
			out.ReplyTo = ""
		}
		if i < len(w.ids) {
			if w.shown[i] == piece && !out.Final {
				continue
			}
			if w.shown[i] == piece && out.Final && !w.lim.Stream {
				continue
			}
			if err := w.retry(ctx, final, func() error { return w.p.Edit(ctx, out, w.ids[i]) }); err != nil {
				return fmt.Errorf("bot: edit reply: %w", err)
			}
			w.shown[i] = piece
			continue
		}
		var id string
		if err := w.retry(ctx, final, func() (err error) { id, err = w.p.Send(ctx, out); return err }); err != nil {
			return fmt.Errorf("bot: send reply: %w", err)
		}
		w.ids = append(w.ids, id)
		w.shown = append(w.shown, piece)
		if w.OnFirst != nil {
			w.first.Do(w.OnFirst)
		}
	}
	return nil
}

// retry runs op; on a rate limit it waits and tries again when final,
// otherwise returns the error so streaming can skip an edit.
func (w *StreamWriter) retry(ctx context.Context, final bool, op func() error) error {
	for i := 0; ; i++ {
		err := op()
		var rl *RateLimitError
		if err == nil || !errors.As(err, &rl) || !final || i >= maxRateWaits {
			return err
		}
		if err := Sleep(ctx, max(rl.RetryAfter, 50*time.Millisecond)); err != nil {
			return err
		}
	}
}

// Sleep waits d or until ctx ends, whichever is first, and returns ctx's
// error in the second case. Retry loops everywhere use it so that a
// shutdown never waits out a back-off.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SendSplit sends out as one or more messages split at the platform's
// length limit, waiting out rate limits, and returns the last id.
// Attachments go with the last piece.
func SendSplit(ctx context.Context, p Platform, out Out) (string, error) {
	pieces := SplitText(out.Text, p.Limits().MaxLen)
	var id string
	for i, piece := range pieces {
		o := out
		o.Text = piece
		if i > 0 {
			o.ReplyTo = ""
		}
		if i < len(pieces)-1 {
			o.Attachments = nil
		}
		err := func() error {
			for try := 0; ; try++ {
				var err error
				id, err = p.Send(ctx, o)
				var rl *RateLimitError
				if err == nil || !errors.As(err, &rl) || try >= maxRateWaits {
					return err
				}
				if err := Sleep(ctx, max(rl.RetryAfter, 50*time.Millisecond)); err != nil {
					return err
				}
			}
		}()
		if err != nil {
			return id, fmt.Errorf("bot: send: %w", err)
		}
	}
	return id, nil
}
