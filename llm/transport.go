package llm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// callState is what the transport learns about the HTTP exchange of one
// attempt. It travels in the request context, so concurrent calls on one
// Client never see each other's headers.
type callState struct {
	mu         sync.Mutex
	status     int
	retryAfter string
	sawDone    bool
}

type callKey struct{}

func withCallState(ctx context.Context) (context.Context, *callState) {
	st := &callState{}
	return context.WithValue(ctx, callKey{}, st), st
}

func (s *callState) record(resp *http.Response) {
	s.mu.Lock()
	s.status = resp.StatusCode
	s.retryAfter = resp.Header.Get("Retry-After")
	s.mu.Unlock()
}

func (s *callState) snapshot() (status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.retryAfter
}

func (s *callState) done() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sawDone
}

// transport records, for the attempt whose context carries a callState,
// the status and Retry-After of the response, and watches an event stream
// for its "data: [DONE]" terminator (go-openai reports both a terminator
// and a dropped connection as io.EOF).
type transport struct {
	base http.RoundTripper
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	st, _ := r.Context().Value(callKey{}).(*callState)
	if err != nil || st == nil {
		return resp, err
	}
	st.record(resp)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body = &doneWatcher{ReadCloser: resp.Body, st: st}
	}
	return resp, nil
}

// doneWatcher passes an SSE body through and notes a "data: [DONE]" line.
// A line longer than maxEventLine ends the body with errEventTooLong, so
// that a server streaming one endless event cannot grow the reader's
// buffer without bound.
type doneWatcher struct {
	io.ReadCloser
	st      *callState
	line    []byte
	long    bool
	lineLen int
}

const maxDoneLine = 32

// maxEventLine bounds one line of an event stream; a chunk of a chat
// completion is a few hundred bytes.
const maxEventLine = 1 << 20

// errEventTooLong ends a stream with a line longer than maxEventLine.
var errEventTooLong = errors.New("llm: stream: an event line longer than 1 MiB")

func (w *doneWatcher) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	for i, c := range p[:n] {
		if w.lineLen++; w.lineLen > maxEventLine {
			return i, errEventTooLong
		}
		if c == '\n' {
			w.lineLen = 0
			l := bytes.TrimSpace(w.line)
			if !w.long && (string(l) == "data: [DONE]" || string(l) == "data:[DONE]") {
				w.st.mu.Lock()
				w.st.sawDone = true
				w.st.mu.Unlock()
			}
			w.line, w.long = w.line[:0], false
			continue
		}
		if len(w.line) < maxDoneLine {
			w.line = append(w.line, c)
		} else {
			w.long = true
		}
	}
	return n, err
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
