package bot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

const (
	testTGToken   = "123456789:AAEhBP0av28hGq3HFpRQ3z2T0m6mC1e-y0o"
	testAPIKey    = "sk-test-0123456789abcdefghijklmnop"
	testHookToken = "hook-secret-42xyz"
)

func TestRedact(t *testing.T) {
	r := NewRedactor(testTGToken, testAPIKey, testHookToken, "abc")
	tests := []struct {
		name, in string
		leaks    []string
		keep     string
	}{
		{"telegram error page echoing the path", "Cannot POST /bot" + testTGToken + "/getMe", []string{testTGToken, "AAEhBP0av28"}, "Cannot POST /bot"},
		{"unconfigured telegram token", "Cannot POST /bot987654321:ZZEhBP0av28hGq3HFpRQ3z2T0m6mC1e-y0o/getUpdates", []string{"ZZEhBP0av28"}, "/getUpdates"},
		{"bot api description", `{"ok":false,"description":"Bad Request: token ` + testTGToken + ` is invalid"}`, []string{"AAEhBP0av28"}, "Bad Request"},
		{"openai error body", `{"error":{"message":"Incorrect API key provided: ` + testAPIKey + `. You can find your API key at https://platform.openai.com"}}`, []string{testAPIKey, "0123456789abcdef"}, "Incorrect API key provided"},
		{"openai half-masked key", "Incorrect API key provided: sk-proj-ab**************************wxyz", []string{"sk-proj-ab"}, "Incorrect API key"},
		{"proxy echoing the authorization header", "upstream said: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", []string{"eyJhbGci"}, "Authorization: Bearer"},
		{"authorization in json", `{"headers":{"Authorization":"Bot NzkyNzE1NDU0MTk2MDg4ODQy.X-hvzA.Ovy4MCQywSkoMRRclStW4xAYK7I"}}`, []string{"NzkyNzE1NDU0"}, `"Authorization":"Bot `},
		{"authorization in a go map", "map[Authorization:[Bearer sk-live-abcdefghijklmnop]]", []string{"abcdefghijklmnop"}, "Authorization"},
		{"discord token alone", "token NzkyNzE1NDU0MTk2MDg4ODQy.X-hvzA.Ovy4MCQywSkoMRRclStW4xAYK7I rejected", []string{"Ovy4MCQ"}, "rejected"},
		{"api key in a url query", "GET https://gw.example.com/v1/chat?api-version=2024-02-01&api-key=verysecretvalue123", []string{"verysecretvalue123"}, "api-version=2024-02-01"},
		{"configured webhook secret", "X-Telegram-Bot-Api-Secret-Token mismatch: got " + testHookToken, []string{testHookToken}, "mismatch"},
		{"url-escaped token", "https://api.telegram.org/bot123456789%3AAAEhBP0av28hGq3HFpRQ3z2T0m6mC1e-y0o/getMe", []string{"AAEhBP0av28"}, "api.telegram.org"},
		{"short secrets are not redacted everywhere", "abc is a word", nil, "abc is a word"},
		{"plain text stays", "shipping takes 3 days: see https://example.com/faq?page=2", nil, "shipping takes 3 days: see https://example.com/faq?page=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Redact(tt.in)
			for _, l := range tt.leaks {
				if strings.Contains(got, l) {
					t.Errorf("Redact(%q) = %q still holds %q", tt.in, got, l)
				}
			}
			if !strings.Contains(got, tt.keep) {
				t.Errorf("Redact(%q) = %q lost %q", tt.in, got, tt.keep)
			}
		})
	}
	var zero *Redactor
	if got := zero.Redact("Cannot POST /bot" + testTGToken + "/getMe"); strings.Contains(got, "AAEhBP0av28") {
		t.Errorf("nil Redactor kept the token shape: %q", got)
	}
}

type secretStruct struct{ Header string }

// TestRedactHandler logs secrets every way slog allows, at every level,
// through both built-in handlers, and greps every line.
func TestRedactHandler(t *testing.T) {
	r := NewRedactor(testTGToken, testAPIKey)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			opts := &slog.HandlerOptions{Level: slog.LevelDebug}
			var h slog.Handler = slog.NewTextHandler(&buf, opts)
			if format == "json" {
				h = slog.NewJSONHandler(&buf, opts)
			}
			log := slog.New(r.Handler(h)).With("token", testTGToken)
			err := fmt.Errorf("telegram: getMe: %w", errors.New("Cannot POST /bot"+testTGToken+"/getMe"))
			for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
				log.Log(t.Context(), l, "retrying "+testAPIKey, "err", err, "body", []byte(testAPIKey),
					slog.Group("req", "auth", "Authorization: Bearer "+testAPIKey, "v", secretStruct{Header: "Bearer " + testAPIKey}))
				log.WithGroup("g").Log(t.Context(), l, "x", "key", testAPIKey)
			}
			out := buf.String()
			if n := strings.Count(out, "\n"); n != 8 {
				t.Errorf("%d lines logged, want 8:\n%s", n, out)
			}
			for _, leak := range []string{testTGToken, "AAEhBP0av28", testAPIKey, "0123456789abcdef"} {
				if strings.Contains(out, leak) {
					t.Errorf("log holds %q:\n%s", leak, out)
				}
			}
			if !strings.Contains(out, Redacted) {
				t.Errorf("nothing marked redacted:\n%s", out)
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	r := NewRedactor(testTGToken, testAPIKey, testHookToken)
	for _, c := range []struct{ name, line string }{
		{"plain", "handling message failed platform=telegram err=\"bot: send reply: telegram: sendMessage: Bad Request: message is too long\""},
		{"secret", "getMe failed err=\"Cannot POST /bot" + testTGToken + "/getMe\""},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.line)))
			b.ReportAllocs()
			for b.Loop() {
				r.Redact(c.line)
			}
		})
	}
}

func BenchmarkRedactHandler(b *testing.B) {
	log := slog.New(NewRedactor(testTGToken, testAPIKey).Handler(slog.NewTextHandler(io.Discard, nil)))
	plain := slog.New(slog.NewTextHandler(io.Discard, nil))
	err := errors.New("telegram: sendMessage: Bad Request: chat not found")
	for name, l := range map[string]*slog.Logger{"redacted": log, "bare": plain} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Warn("send reply failed", "platform", "telegram", "chat", "-1001234", "err", err)
			}
		})
	}
}
