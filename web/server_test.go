package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

func TestServerMountsPatternsAndShutsDown(t *testing.T) {
	s := NewServer("127.0.0.1:0")
	s.Handle("GET /l/{code}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "code="+r.PathValue("code"))
	}))
	s.HandleFunc("POST /conversions", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Listening():
	case err := <-done:
		t.Fatalf("Run = %v before listening", err)
	}
	base := "http://" + s.Addr()

	resp, err := http.Get(base + "/l/abc")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "code=abc" {
		t.Errorf("GET /l/abc = %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q", got)
	}
	resp, err = http.Post(base+"/conversions", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST /conversions = %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/conversions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /conversions = %d, want 405", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}

func TestServerListenTakenIsAnError(t *testing.T) {
	a := NewServer("127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.Run(ctx) }()
	<-a.Listening()
	b := NewServer(a.Addr())
	if err := b.Run(ctx); err == nil || !strings.Contains(err.Error(), "web: listen") {
		t.Errorf("Run on a taken address = %v", err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		base    string
		secure  bool
	}{
		{"default", DefaultConfig(), "", "http://127.0.0.1:8080", false},
		{"any host", Config{Listen: ":9000", SessionTTL: time.Hour}, "", "http://127.0.0.1:9000", false},
		{"https base", Config{Listen: DefaultListen, BaseURL: "https://chorus.example.com/", SessionTTL: time.Hour}, "", "https://chorus.example.com", true},
		{"bad listen", Config{Listen: "8080"}, "listen", "", false},
		{"bad base", Config{Listen: DefaultListen, BaseURL: "ftp://x"}, "base_url", "", false},
		{"base with query", Config{Listen: DefaultListen, BaseURL: "https://x/?a=1"}, "base_url", "", false},
		{"short secret", Config{Listen: DefaultListen, Secret: "short", SessionTTL: time.Hour}, "secret", "", false},
		{"short session", Config{Listen: DefaultListen, SessionTTL: time.Second}, "session_ttl", "", false},
		{"disabled", Config{SessionTTL: time.Hour}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr != "" {
				var fe *bot.FieldError
				if !errors.As(err, &fe) || fe.Path != tt.wantErr {
					t.Fatalf("Validate = %v, want a problem with %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if tt.base != "" && tt.cfg.Base() != tt.base {
				t.Errorf("Base = %q, want %q", tt.cfg.Base(), tt.base)
			}
			if tt.cfg.Secure() != tt.secure {
				t.Errorf("Secure = %v", tt.cfg.Secure())
			}
		})
	}
}
