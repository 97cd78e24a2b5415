package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/prometheus/client_golang/prometheus"
)

// startServer runs s until the test ends and returns its base URL.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Listening():
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("server did not start listening")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestServerHealthz(t *testing.T) {
	s := NewServer("127.0.0.1:0", prometheus.NewRegistry())
	if s.Addr() != "" {
		t.Errorf("Addr before Run = %q, want empty", s.Addr())
	}
	base := startServer(t, s)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || strings.HasSuffix(s.Addr(), ":0") {
		t.Errorf("Addr = %q, want 127.0.0.1 with a chosen port", s.Addr())
	}
	code, body, _ := get(t, base+PathHealthz)
	if code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	if code, _, _ := get(t, base+"/nope"); code != http.StatusNotFound {
		t.Errorf("/nope = %d, want 404", code)
	}
}

func TestServerReadyz(t *testing.T) {
	connected := false
	tests := []struct {
		name      string
		opts      []ServerOption
		wantCode  int
		wantReady bool
		want      map[string]string
	}{
		{"no checks", nil, http.StatusOK, true, map[string]string{}},
		{"all pass", []ServerOption{
			WithCheck("bbolt", func(context.Context) error { return nil }),
			WithCheck("llm", func(context.Context) error { return nil }),
		}, http.StatusOK, true, map[string]string{"bbolt": "ok", "llm": "ok"}},
		{"one fails", []ServerOption{
			WithCheck("bbolt", func(context.Context) error { return nil }),
			WithCheck("telegram", func(context.Context) error {
				if !connected {
					return errors.New("not connected")
				}
				return nil
			}),
		}, http.StatusServiceUnavailable, false, map[string]string{"bbolt": "ok", "telegram": "not connected"}},
		{"hangs and panics", []ServerOption{
			WithCheckTimeout(50 * time.Millisecond),
			WithCheck("slow", func(ctx context.Context) error { select {} }),
			WithCheck("broken", func(context.Context) error { panic("boom") }),
		}, http.StatusServiceUnavailable, false, map[string]string{
			"slow": "check timed out: context deadline exceeded", "broken": "check panicked: boom"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := startServer(t, NewServer("127.0.0.1:0", prometheus.NewRegistry(), tc.opts...))
			code, body, hdr := get(t, base+PathReadyz)
			if code != tc.wantCode {
				t.Errorf("status = %d, want %d; body %s", code, tc.wantCode, body)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var r Readiness
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if r.Ready != tc.wantReady {
				t.Errorf("ready = %v, want %v", r.Ready, tc.wantReady)
			}
			if len(r.Checks) != len(tc.want) {
				t.Errorf("checks = %v, want %v", r.Checks, tc.want)
			}
			for k, v := range tc.want {
				if r.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, r.Checks[k], v)
				}
			}
		})
	}
	t.Run("becomes ready", func(t *testing.T) {
		up := make(chan struct{})
		s := NewServer("127.0.0.1:0", prometheus.NewRegistry(), WithCheck("telegram", func(context.Context) error {
			select {
			case <-up:
				return nil
			default:
				return errors.New("not connected")
			}
		}))
		base := startServer(t, s)
		if code, _, _ := get(t, base+PathReadyz); code != http.StatusServiceUnavailable {
			t.Fatalf("before connect: %d, want 503", code)
		}
		close(up)
		if code, body, _ := get(t, base+PathReadyz); code != http.StatusOK || !strings.Contains(body, `"ready":true`) {
			t.Fatalf("after connect: %d %s", code, body)
		}
	})
}

func TestServerRunErrors(t *testing.T) {
	s := NewServer("127.0.0.1:0", prometheus.NewRegistry())
	startServer(t, s)
	if err := s.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	// The port is taken: a second server on it fails to listen.
	other := NewServer(s.Addr(), prometheus.NewRegistry())
	if err := other.Run(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "metrics: listen") {
		t.Errorf("Run on a busy port = %v, want a listen error", err)
	}
	if NewServer("", nil).addr != DefaultAddr {
		t.Error("empty addr does not default to DefaultAddr")
	}
}

// feedAll sends one event of every kind, so every collector has a series.
func feedAll(m *Metrics) {
	for _, e := range []bot.Event{
		{Kind: bot.EventMessageReceived, Platform: "telegram", ChatKind: bot.ChatDM, User: "telegram:1"},
		{Kind: bot.EventDuplicate, Platform: "telegram"},
		{Kind: bot.EventFirstToken, Platform: "telegram", Duration: 300 * time.Millisecond},
		{Kind: bot.EventReplySent, Platform: "telegram", Outcome: bot.OutcomeOK, Duration: 2 * time.Second},
		{Kind: bot.EventCommand, Command: "help", Outcome: bot.OutcomeOK},
		{Kind: bot.EventLLMCall, Model: "gpt-4o-mini", Purpose: bot.PurposeChat, Outcome: bot.OutcomeOK,
			Duration: time.Second, Usage: bot.Usage{PromptTokens: 120, CompletionTokens: 40}},
		{Kind: bot.EventModerated, Category: "spam", Action: "delete"},
		{Kind: bot.EventScored, Label: "negative"},
		{Kind: bot.EventAlert, Category: "negative_surge"},
		{Kind: bot.EventPanic, Platform: "telegram"},
		{Kind: bot.EventClick, Platform: "telegram", Label: "post"},
		{Kind: bot.EventConversion, Platform: "telegram", Label: "post", Score: 12.5},
		{Kind: bot.EventQueue, Queued: 1, InFlight: 1},
		{Kind: bot.EventRateLimited, Reason: bot.LimitRate},
		{Kind: bot.EventAdapter, Platform: "telegram", State: bot.AdapterConnected},
		{Kind: bot.EventAdapter, Platform: "telegram", State: bot.AdapterReconnect},
		{Kind: bot.EventAdapter, Platform: "telegram", State: bot.AdapterUnauthorized},
	} {
		m.Observe(e)
	}
}

func TestServerMetricsPassPromtool(t *testing.T) {
	reg := NewRegistry()
	m, err := New(reg, WithPrices(map[string]Price{"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.6}}),
		WithStoreSize(func() (int64, error) { return 1 << 20, nil }))
	if err != nil {
		t.Fatal(err)
	}
	m.Declare(declared)
	feedAll(m)
	base := startServer(t, NewServer("127.0.0.1:0", reg))
	code, body, _ := get(t, base+PathMetrics)
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`chorus_messages_received_total{chat_kind="dm",platform="telegram"} 1`,
		`chorus_llm_cost_usd_total{model="gpt-4o-mini"} 4.2e-05`,
		`chorus_store_size_bytes 1.048576e+06`,
		`chorus_active_users{window="5m"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}
