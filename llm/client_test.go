package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// fakeOpenAI is an OpenAI chat-completions server on 127.0.0.1. Each
// request is handled by the step of its index (the last step repeats).
type fakeOpenAI struct {
	srv   *httptest.Server
	steps []func(w http.ResponseWriter, r *http.Request, body []byte)

	mu     sync.Mutex
	bodies []string
	auth   []string
}

func newFake(t *testing.T, steps ...func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{steps: steps}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
			http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.bodies)
		f.bodies = append(f.bodies, string(body))
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		f.steps[min(n, len(f.steps)-1)](w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func (f *fakeOpenAI) body(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[i]
}

// sleeps records the client's waits instead of sleeping.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

func newTestClient(t *testing.T, f *fakeOpenAI, cfg Config, opts ...Option) (*Client, *sleeps) {
	t.Helper()
	s := &sleeps{}
	cfg.BaseURL = f.srv.URL + "/v1"
	if cfg.Model == "" {
		cfg.Model = "gpt-test"
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 4 // retried unless a test says otherwise (-1: never)
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 10 * time.Millisecond
		cfg.MaxBackoff = 40 * time.Millisecond
	}
	opts = append([]Option{WithHTTPClient(f.srv.Client()), WithSleep(s.sleep)}, opts...)
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// completion answers with a complete chat completion.
func completion(text string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-test-0613","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}`, text)
	}
}

// apiError answers with an OpenAI error body and status.
func apiError(status int, header map[string]string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"status %d","type":"server_error","param":null,"code":null}}`, status)
	}
}

// sseOpts shapes a streamed reply.
type sseOpts struct {
	noFinish bool // omit the finish_reason chunk
	noUsage  bool
	noDone   bool // omit data: [DONE]
	drop     bool // hang up the connection abruptly after the deltas
}

// sse streams deltas as real chat.completion.chunk events.
func sse(deltas []string, o sseOpts) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		event := func(v any) {
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "data: %s\n\n", b)
			_ = rc.Flush()
		}
		chunk := func(delta map[string]any, finish any) map[string]any {
			return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test-0613",
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		}
		event(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
		for _, d := range deltas {
			event(chunk(map[string]any{"content": d}, nil))
		}
		if o.drop {
			conn, _, err := rc.Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if !o.noFinish {
			event(chunk(map[string]any{}, "stop"))
		}
		if !o.noUsage {
			event(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test-0613",
				"choices": []any{}, "usage": map[string]any{"prompt_tokens": 21, "completion_tokens": len(deltas), "total_tokens": 21 + len(deltas)}})
		}
		if !o.noDone {
			fmt.Fprint(w, "data: [DONE]\n\n")
			_ = rc.Flush()
		}
	}
}

// hang waits until the client gives up.
func hang(w http.ResponseWriter, r *http.Request, _ []byte) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

func chatReq(text string) bot.Request {
	return bot.Request{Purpose: bot.PurposeChat, Query: text, Messages: []bot.ChatMessage{
		{Role: bot.RoleSystem, Content: "You are Chorus."},
		{Role: bot.RoleUser, Content: text},
	}}
}

// drain reads a stream to its end, returning the text and the final error
// (nil for io.EOF).
func drain(t *testing.T, s bot.Stream) (string, error) {
	t.Helper()
	var b strings.Builder
	for range 10000 {
		d, err := s.Recv()
		b.WriteString(d)
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
	}
	t.Fatal("stream never ended")
	return "", nil
}

func TestComplete(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		steps    []func(http.ResponseWriter, *http.Request, []byte)
		want     string
		wantErr  error
		requests int
		status   int
		check    func(t *testing.T, waits []time.Duration)
	}{
		{
			name:     "ok",
			steps:    []func(http.ResponseWriter, *http.Request, []byte){completion("Hello there")},
			want:     "Hello there",
			requests: 1,
		},
		{
			name:     "429 with Retry-After seconds then ok",
			steps:    []func(http.ResponseWriter, *http.Request, []byte){apiError(429, map[string]string{"Retry-After": "1"}), completion("late but fine")},
			want:     "late but fine",
			requests: 2,
			check: func(t *testing.T, waits []time.Duration) {
				if len(waits) != 1 || waits[0] != time.Second {
					t.Errorf("waits = %v, want [1s] from Retry-After", waits)
				}
			},
		},
		{
			name: "503 with Retry-After date then ok",
			steps: []func(http.ResponseWriter, *http.Request, []byte){
				apiError(503, map[string]string{"Retry-After": testNow.Add(3 * time.Second).Format(http.TimeFormat)}), completion("ok")},
			want:     "ok",
			requests: 2,
			check: func(t *testing.T, waits []time.Duration) {
				if len(waits) != 1 || waits[0] != 3*time.Second {
					t.Errorf("waits = %v, want [3s] from the Retry-After date", waits)
				}
			},
		},
		{
			name:     "500s then ok",
			steps:    []func(http.ResponseWriter, *http.Request, []byte){apiError(500, nil), apiError(502, nil), completion("recovered")},
			want:     "recovered",
			requests: 3,
			check: func(t *testing.T, waits []time.Duration) {
				if len(waits) != 2 {
					t.Fatalf("waits = %v, want 2", waits)
				}
				// Full jitter under an exponential ceiling: 10ms, then 20ms.
				for i, ceil := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond} {
					if waits[i] < 0 || waits[i] > ceil {
						t.Errorf("wait %d = %v, want within [0, %v]", i, waits[i], ceil)
					}
				}
			},
		},
		{
			name:     "persistent 500 is unavailable after MaxRetries",
			cfg:      Config{MaxRetries: 2},
			steps:    []func(http.ResponseWriter, *http.Request, []byte){apiError(500, nil)},
			wantErr:  bot.ErrLLMUnavailable,
			requests: 3,
			status:   500,
		},
		{
			name:     "401 is rejected without retry",
			steps:    []func(http.ResponseWriter, *http.Request, []byte){apiError(401, nil), completion("never")},
			wantErr:  bot.ErrLLMRejected,
			requests: 1,
			status:   401,
			check: func(t *testing.T, waits []time.Duration) {
				if len(waits) != 0 {
					t.Errorf("waits = %v, want none", waits)
				}
			},
		},
		{
			name:     "hanging server times out",
			cfg:      Config{Timeout: 200 * time.Millisecond, MaxRetries: 1},
			steps:    []func(http.ResponseWriter, *http.Request, []byte){hang},
			wantErr:  bot.ErrLLMTimeout,
			requests: 2,
		},
		{
			name:     "Retry-After beyond the cap gives up",
			steps:    []func(http.ResponseWriter, *http.Request, []byte){apiError(429, map[string]string{"Retry-After": "3600"}), completion("never")},
			wantErr:  bot.ErrLLMUnavailable,
			requests: 1,
			status:   429,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.steps...)
			c, s := newTestClient(t, f, tt.cfg, WithClock(func() time.Time { return testNow }))
			resp, err := c.Complete(context.Background(), chatReq("hello"))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				var le *Error
				if !errors.As(err, &le) {
					t.Fatalf("err %T is not *llm.Error", err)
				}
				if le.Attempts != tt.requests || le.Status != tt.status {
					t.Errorf("Error{Attempts: %d, Status: %d}, want {%d, %d}", le.Attempts, le.Status, tt.requests, tt.status)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if resp.Text != tt.want || resp.Model != "gpt-test-0613" || resp.Usage != (bot.Usage{PromptTokens: 12, CompletionTokens: 7}) {
					t.Errorf("resp = %+v", resp)
				}
			}
			if got := f.requests(); got != tt.requests {
				t.Errorf("requests = %d, want %d", got, tt.requests)
			}
			if tt.check != nil {
				tt.check(t, s.got())
			}
		})
	}
}

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestStream(t *testing.T) {
	deltas := []string{"Free ", "shipping ", "over ", "$50", "."}
	tests := []struct {
		name     string
		cfg      Config
		steps    []func(http.ResponseWriter, *http.Request, []byte)
		want     string
		wantErr  []error
		usage    bot.Usage
		requests int
	}{
		{name: "assembled with usage", steps: []func(http.ResponseWriter, *http.Request, []byte){sse(deltas, sseOpts{})},
			want: "Free shipping over $50.", usage: bot.Usage{PromptTokens: 21, CompletionTokens: 5}, requests: 1},
		{name: "finish reason without DONE is complete", steps: []func(http.ResponseWriter, *http.Request, []byte){sse(deltas, sseOpts{noDone: true})},
			want: "Free shipping over $50.", usage: bot.Usage{PromptTokens: 21, CompletionTokens: 5}, requests: 1},
		{name: "DONE without finish reason is complete", steps: []func(http.ResponseWriter, *http.Request, []byte){sse(deltas, sseOpts{noFinish: true})},
			want: "Free shipping over $50.", usage: bot.Usage{PromptTokens: 21, CompletionTokens: 5}, requests: 1},
		{name: "429 before the first chunk is retried", steps: []func(http.ResponseWriter, *http.Request, []byte){apiError(429, map[string]string{"Retry-After": "1"}), sse(deltas, sseOpts{})},
			want: "Free shipping over $50.", usage: bot.Usage{PromptTokens: 21, CompletionTokens: 5}, requests: 2},
		{name: "cut mid-reply by a dropped connection", steps: []func(http.ResponseWriter, *http.Request, []byte){sse(deltas[:3], sseOpts{drop: true}), sse(deltas, sseOpts{})},
			want: "Free shipping over ", wantErr: []error{bot.ErrStreamCut}, requests: 1},
		{name: "cut mid-reply by a clean close without finish", steps: []func(http.ResponseWriter, *http.Request, []byte){sse(deltas[:2], sseOpts{noFinish: true, noUsage: true, noDone: true}), sse(deltas, sseOpts{})},
			want: "Free shipping ", wantErr: []error{bot.ErrStreamCut}, requests: 1},
		{name: "server going quiet mid-reply", cfg: Config{Timeout: 200 * time.Millisecond}, steps: []func(http.ResponseWriter, *http.Request, []byte){stall(deltas[:2])},
			want: "Free shipping ", wantErr: []error{bot.ErrStreamCut, bot.ErrLLMTimeout}, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.steps...)
			c, _ := newTestClient(t, f, tt.cfg)
			s, err := c.Stream(context.Background(), chatReq("shipping?"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			text, err := drain(t, s)
			if text != tt.want {
				t.Errorf("text = %q, want %q", text, tt.want)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if s.Usage() != tt.usage {
					t.Errorf("usage = %+v, want %+v", s.Usage(), tt.usage)
				}
				if m := s.(interface{ Model() string }).Model(); m != "gpt-test-0613" {
					t.Errorf("model = %q", m)
				}
			}
			if got := f.requests(); got != tt.requests {
				t.Errorf("requests = %d, want %d", got, tt.requests)
			}
			var req struct {
				Stream        bool `json:"stream"`
				StreamOptions struct {
					IncludeUsage bool `json:"include_usage"`
				} `json:"stream_options"`
			}
			if err := json.Unmarshal([]byte(f.body(0)), &req); err != nil || !req.Stream || !req.StreamOptions.IncludeUsage {
				t.Errorf("request %s: stream/include_usage not set", f.body(0))
			}
		})
	}
}

// stall sends deltas then goes quiet until the client leaves.
func stall(deltas []string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for _, d := range deltas {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", d)
			_ = rc.Flush()
		}
		hang(w, r, nil)
	}
}

func TestStreamErrorsBeforeFirstChunk(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		steps    []func(http.ResponseWriter, *http.Request, []byte)
		wantErr  error
		requests int
	}{
		{name: "401", steps: []func(http.ResponseWriter, *http.Request, []byte){apiError(401, nil)}, wantErr: bot.ErrLLMRejected, requests: 1},
		{name: "persistent 503", cfg: Config{MaxRetries: 2}, steps: []func(http.ResponseWriter, *http.Request, []byte){apiError(503, nil)}, wantErr: bot.ErrLLMUnavailable, requests: 3},
		{name: "hang", cfg: Config{Timeout: 200 * time.Millisecond, MaxRetries: -1}, steps: []func(http.ResponseWriter, *http.Request, []byte){hang}, wantErr: bot.ErrLLMTimeout, requests: 1},
		{name: "empty stream is retried", cfg: Config{MaxRetries: 1}, steps: []func(http.ResponseWriter, *http.Request, []byte){sse(nil, sseOpts{drop: true})}, wantErr: bot.ErrLLMUnavailable, requests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.steps...)
			c, _ := newTestClient(t, f, tt.cfg)
			s, err := c.Stream(context.Background(), chatReq("hi"))
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.wantErr) || errors.Is(err, io.EOF) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := f.requests(); got != tt.requests {
				t.Errorf("requests = %d, want %d", got, tt.requests)
			}
		})
	}
}

func TestNoAPIKey(t *testing.T) {
	f := newFake(t, completion("local model here"))
	c, _ := newTestClient(t, f, Config{APIKey: ""})
	resp, err := c.Complete(context.Background(), chatReq("hi"))
	if err != nil || resp.Text != "local model here" {
		t.Fatalf("resp = %+v, err = %v", resp, err)
	}
	if f.auth[0] != "" {
		t.Errorf("Authorization = %q, want none", f.auth[0])
	}

	f2 := newFake(t, completion("with key"))
	c2, _ := newTestClient(t, f2, Config{APIKey: "sk-test"})
	if _, err := c2.Complete(context.Background(), chatReq("hi")); err != nil {
		t.Fatal(err)
	}
	if f2.auth[0] != "Bearer sk-test" {
		t.Errorf("Authorization = %q", f2.auth[0])
	}
}

func TestCallerCancel(t *testing.T) {
	f := newFake(t, hang)
	c, _ := newTestClient(t, f, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.requests() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Complete(ctx, chatReq("hi"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f.requests() != 1 {
		t.Errorf("requests = %d, want 1 (no retry after the caller gave up)", f.requests())
	}
}

// rePlaceholder matches a placeholder of the masker.
var rePlaceholder = regexp.MustCompile(`\[[A-Z][A-Z0-9_]*_[0-9]+\]`)

// echoPlaceholders replies quoting every placeholder of the request, the
// way a model refers back to what the user wrote.
func echoPlaceholders(stream bool) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		phs := rePlaceholder.FindAllString(string(body), -1)
		reply := "Noted: " + strings.Join(phs, " and ") + "."
		if !stream {
			completion(reply)(w, r, body)
			return
		}
		// Cut every placeholder in two across chunks.
		var deltas []string
		for len(reply) > 0 {
			n := min(len(reply), 5)
			deltas = append(deltas, reply[:n])
			reply = reply[n:]
		}
		sse(deltas, sseOpts{})(w, r, body)
	}
}

func TestMaskingOnTheWire(t *testing.T) {
	const (
		email = "jane.doe@example.com"
		card  = "4111 1111 1111 1111"
	)
	user := "I'm " + email + ", card " + card + ", again " + email
	want := "Noted: " + email + " and " + card + " and " + email + "."
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			f := newFake(t, echoPlaceholders(stream))
			c, _ := newTestClient(t, f, Config{MaskPII: true, MaskLoopback: true})
			var got string
			if stream {
				s, err := c.Stream(context.Background(), chatReq(user))
				if err != nil {
					t.Fatal(err)
				}
				got, err = drain(t, s)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				resp, err := c.Complete(context.Background(), chatReq(user))
				if err != nil {
					t.Fatal(err)
				}
				got = resp.Text
			}
			body := f.body(0)
			if strings.Contains(body, email) || strings.Contains(body, "4111") {
				t.Errorf("personal data reached the server: %s", body)
			}
			if !strings.Contains(body, "[EMAIL_1]") || !strings.Contains(body, "[CARD_1]") || strings.Contains(body, "[EMAIL_2]") {
				t.Errorf("placeholders not stable: %s", body)
			}
			if got != want {
				t.Errorf("reply = %q, want %q", got, want)
			}
		})
	}
	t.Run("loopback opt-out", func(t *testing.T) {
		f := newFake(t, completion("ok"))
		c, _ := newTestClient(t, f, Config{MaskPII: true, MaskLoopback: false})
		if c.Masking() {
			t.Error("masking on against 127.0.0.1 without MaskLoopback")
		}
		if _, err := c.Complete(context.Background(), chatReq(user)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(f.body(0), email) {
			t.Error("text was masked despite the loopback opt-out")
		}
	})
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no model", Config{BaseURL: "http://127.0.0.1:1/v1"}},
		{"bad scheme", Config{BaseURL: "ftp://x/v1", Model: "m"}},
		{"bad pattern", Config{BaseURL: "http://127.0.0.1:1/v1", Model: "m", MaskPII: true, MaskLoopback: true, MaskPatterns: map[string]string{"order": "("}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.HasPrefix(err.Error(), "llm: ") {
				t.Errorf("err = %v, want an llm: error", err)
			}
		})
	}
}

func BenchmarkStream(b *testing.B) {
	deltas := strings.Fields("Standard shipping takes three to five business days and orders over fifty dollars ship free")
	for i := range deltas {
		deltas[i] += " "
	}
	f := newFake(&testing.T{}, sse(deltas, sseOpts{}))
	defer f.srv.Close()
	for _, mask := range []bool{false, true} {
		b.Run(fmt.Sprintf("mask=%v", mask), func(b *testing.B) {
			c, err := New(Config{BaseURL: f.srv.URL + "/v1", Model: "m", MaskPII: mask, MaskLoopback: true}, WithHTTPClient(f.srv.Client()))
			if err != nil {
				b.Fatal(err)
			}
			req := chatReq("my mail is jane@example.com, how long does shipping take?")
			b.ReportAllocs()
			for b.Loop() {
				s, err := c.Stream(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := s.Recv(); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
				}
				s.Close()
			}
		})
	}
}

func TestReasoningModelRequest(t *testing.T) {
	f := newFake(t, completion("thought about it"))
	c, _ := newTestClient(t, f, Config{Model: "o3-mini", Temperature: 0.7})
	req := chatReq("hi")
	req.MaxTokens = 200
	if _, err := c.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(f.body(0)), &body); err != nil {
		t.Fatal(err)
	}
	if body["max_completion_tokens"] != 200.0 || body["max_tokens"] != nil || body["temperature"] != nil {
		t.Errorf("request for a reasoning model: %s", f.body(0))
	}
}

func TestStreamWithoutUsageEstimates(t *testing.T) {
	f := newFake(t, sse([]string{"one ", "two ", "three"}, sseOpts{noUsage: true}))
	c, _ := newTestClient(t, f, Config{})
	s, err := c.Stream(context.Background(), chatReq("count to three"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if text, err := drain(t, s); err != nil || text != "one two three" {
		t.Fatalf("text %q, err %v", text, err)
	}
	if u := s.Usage(); u.PromptTokens == 0 || u.CompletionTokens != bot.ApproxTokens("one two three") {
		t.Errorf("usage %+v, want an estimate", u)
	}
}

// TestConcurrentMasking shows that requests in flight together keep their
// own placeholders: each user gets their own address back.
func TestConcurrentMasking(t *testing.T) {
	f := newFake(t, echoPlaceholders(false))
	c, _ := newTestClient(t, f, Config{MaskPII: true, MaskLoopback: true})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("user%d@example.com", i)
			resp, err := c.Complete(context.Background(), chatReq("I am "+email))
			if err != nil {
				t.Error(err)
				return
			}
			if resp.Text != "Noted: "+email+"." {
				t.Errorf("user %d got %q", i, resp.Text)
			}
		}()
	}
	wg.Wait()
	for i := range f.requests() {
		if strings.Contains(f.body(i), "@example.com") {
			t.Errorf("request %d leaked an address: %s", i, f.body(i))
		}
	}
}

// TestConfigHelpers (moved from configs with the "llm" section): which
// provider answers, where, and whether text is masked.
func TestConfigHelpers(t *testing.T) {
	tests := []struct {
		base, key         string
		offline, loopback bool
		maskPII, maskLoop bool
		shouldMask        bool
		endpoint          string
	}{
		{"", "", true, false, true, true, true, DefaultBaseURL},
		{"", "sk-1", false, false, true, true, true, DefaultBaseURL},
		{"http://localhost:11434/v1", "", false, true, true, false, false, "http://localhost:11434/v1"},
		{"http://127.0.0.1:8080/v1", "", false, true, true, true, true, "http://127.0.0.1:8080/v1"},
		{"http://[::1]:8080/v1", "", false, true, true, false, false, "http://[::1]:8080/v1"},
		{"https://llm.example.com/v1", "", false, false, true, false, true, "https://llm.example.com/v1"},
		{"https://llm.example.com/v1", "k", false, false, false, true, false, "https://llm.example.com/v1"},
	}
	for _, tt := range tests {
		c := Config{BaseURL: tt.base, APIKey: tt.key, MaskPII: tt.maskPII, MaskLoopback: tt.maskLoop}
		if c.Offline() != tt.offline || c.Loopback() != tt.loopback || c.ShouldMask() != tt.shouldMask || c.Endpoint() != tt.endpoint {
			t.Errorf("%+v: Offline=%v Loopback=%v ShouldMask=%v Endpoint=%q", tt, c.Offline(), c.Loopback(), c.ShouldMask(), c.Endpoint())
		}
	}
}
