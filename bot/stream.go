package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// maxRateWaits bounds how many rate-limit waits one final send or edit
// accepts before giving up.
const maxRateWaits = 8

// StreamWriter shows a reply growing, a checked sentence at a time: text
// from the model waits in a buffer until it makes a complete sentence (or
// a clause at HardSentenceRunes), the sentence goes through Gate, and only
// what passed is ever sent or edited in. The first sentence that fails
// stops the writer (Stopped, Blocked): nothing after it is shown, and the
// caller may Restart with another attempt or Append a fallback.
//
// Visible text is sent, then edited as sentences pass, no faster than the
// platform's EditEvery and only when it changed; past the platform's
// length limit it continues in a new message, and past MaxMessages
// messages the reply stops (Capped). A 429 while streaming postpones the
// next edit by its retry-after; Finish waits it out so the final text
// arrives. It is not safe for concurrent use.
type StreamWriter struct {
	p    Platform
	lim  Limits
	tmpl Out
	// Gate, when set, judges each complete sentence before it is shown:
	// it returns the sentence as it may be shown (pings removed) and a
	// violation that stops the reply.
	Gate func(ctx context.Context, sentence string) (string, Violation)
	// OnFirst is called once, when the first piece becomes visible.
	OnFirst func()
	// MaxMessages caps the reply at this many platform messages (0: no
	// cap); CapNote, which ends a capped reply, fits within them.
	MaxMessages int
	CapNote     string

	pending  string          // received, not yet a whole sentence
	approved strings.Builder // what passed, this attempt
	runes    int             // runes in approved
	prev     string          // what passed in the attempt before Restart
	blocked  Violation
	blockedS string
	capped   bool
	suffix   string
	override *string

	ids   []string
	shown []string
	next  time.Time
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

// Write adds delta; every sentence it completes is checked, and, when
// streaming and the pace allows, the visible message is updated. Once the
// writer has stopped, Write ignores its input. Errors other than rate
// limits are kept for Finish.
func (w *StreamWriter) Write(ctx context.Context, delta string) {
	if w.Stopped() {
		return
	}
	w.pending += delta
	w.drain(ctx, false)
	w.show(ctx)
}

// End tells the writer the model has finished: what is left in the
// buffer is checked as the last sentence.
func (w *StreamWriter) End(ctx context.Context) {
	if w.Stopped() {
		return
	}
	w.drain(ctx, true)
	w.show(ctx)
}

func (w *StreamWriter) show(ctx context.Context) {
	if w.OnFirst != nil && w.approved.Len() > 0 && !w.lim.Stream {
		w.first.Do(w.OnFirst)
	}
	if !w.lim.Stream || w.now().Before(w.next) || w.Text() == "" {
		return // nothing to show yet must not start the edit pace
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

// drain checks the complete sentences in the buffer, and with final the
// rest of it too.
func (w *StreamWriter) drain(ctx context.Context, final bool) {
	for w.pending != "" && !w.Stopped() {
		n := SentenceEnd(w.pending, HardSentenceRunes)
		if n <= 0 {
			if !final {
				return
			}
			n = len(w.pending)
		}
		s := w.pending[:n]
		w.pending = w.pending[n:]
		w.accept(ctx, s)
	}
}

// accept checks one sentence and adds it to what is shown, or stops.
func (w *StreamWriter) accept(ctx context.Context, s string) {
	shown := s
	if strings.TrimSpace(s) != "" && w.Gate != nil {
		var v Violation
		shown, v = w.Gate(ctx, s)
		if v.Blocked() {
			w.blocked, w.blockedS, w.pending = v, s, ""
			return
		}
	}
	if w.overCap(shown) {
		w.capped, w.pending = true, ""
		return
	}
	w.approved.WriteString(shown)
	w.runes += utf8.RuneCountInString(shown)
}

// capRunesPerMessage bounds a message where the platform sets no limit.
const capRunesPerMessage = 4000

// overCap reports whether adding add would take the reply, with its cap
// note, past MaxMessages messages.
func (w *StreamWriter) overCap(add string) bool {
	if w.MaxMessages <= 0 {
		return false
	}
	per := w.lim.MaxLen
	if per <= 0 {
		per = capRunesPerMessage
	}
	total := w.runes + utf8.RuneCountInString(add) + utf8.RuneCountInString(w.CapNote) + 2
	switch {
	case total > w.MaxMessages*per:
		return true
	case w.lim.MaxLen <= 0 || total <= w.MaxMessages*per/2:
		// SplitText cuts each piece in the second half of its window, so
		// this much always fits.
		return false
	}
	return len(SplitText(w.approved.String()+add+"\n\n"+w.CapNote, w.lim.MaxLen)) > w.MaxMessages
}

// Stopped reports whether a sentence was blocked or the cap reached:
// the caller stops reading the model.
func (w *StreamWriter) Stopped() bool { return w.blocked.Blocked() || w.capped }

// Blocked returns the violation that stopped this attempt and the
// sentence it was found in; ok is false when nothing was blocked.
func (w *StreamWriter) Blocked() (v Violation, sentence string, ok bool) {
	return w.blocked, w.blockedS, w.blocked.Blocked()
}

// Capped reports whether the reply reached MaxMessages.
func (w *StreamWriter) Capped() bool { return w.capped }

// Restart begins another attempt: what passed so far stays visible until
// the new attempt has text of its own, which then replaces it.
func (w *StreamWriter) Restart() {
	w.prev = w.body()
	w.approved.Reset()
	w.runes = 0
	w.pending, w.blocked, w.blockedS, w.capped = "", Violation{}, "", false
}

// NoFeedback drops the feedback buttons the template asked for: the
// reply is not an answer to rate.
func (w *StreamWriter) NoFeedback() { w.tmpl.Feedback = "" }

// Append ends the reply with note (a fallback, a cut marker, the cap
// note) after what passed.
func (w *StreamWriter) Append(note string) { w.suffix = note }

// Set replaces the whole text (an apology).
func (w *StreamWriter) Set(text string) { w.override = &text }

// body is what passed: this attempt's text, or the last attempt's while
// this one has none.
func (w *StreamWriter) body() string {
	if w.approved.Len() > 0 {
		return w.approved.String()
	}
	return w.prev
}

// Text is the full text as shown: only what passed the checks, then the
// appended note.
func (w *StreamWriter) Text() string {
	if w.override != nil {
		return *w.override
	}
	body := strings.TrimRight(w.body(), " \t\n")
	switch {
	case w.suffix == "":
		return body
	case strings.TrimSpace(body) == "":
		return w.suffix
	}
	return body + "\n\n" + w.suffix
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
	if w.Text() == "" && len(w.ids) == 0 {
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
	if text == "" && !final {
		return nil
	}
	var pieces []string
	if text != "" {
		pieces = SplitText(text, w.lim.MaxLen)
	}
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
	if final && len(w.ids) > len(pieces) {
		// A later attempt is shorter than what an earlier one showed:
		// the messages past its end go.
		for i := len(pieces); i < len(w.ids); i++ {
			if err := w.p.Delete(ctx, w.tmpl.Chat, w.ids[i]); err != nil {
				out := w.tmpl
				out.Text, out.ReplyTo, out.Final = "…", "", true
				if err := w.retry(ctx, true, func() error { return w.p.Edit(ctx, out, w.ids[i]) }); err != nil {
					return fmt.Errorf("bot: clear reply: %w", err)
				}
			}
		}
		w.ids, w.shown = w.ids[:len(pieces)], w.shown[:len(pieces)]
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
