package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	leakTGToken = "9000:AAEleakyTokenThatMustNeverBeLogged0123"
	leakAPIKey  = "sk-test-leakykey-0123456789abcdefghij"
)

// leaks are the forms the secrets take that must appear in no output.
var leaks = []string{leakTGToken, "AAEleakyTokenThatMustNeverBeLogged", leakAPIKey, "leakykey-0123456789"}

func assertNoLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, l := range leaks {
		if strings.Contains(out, l) {
			t.Errorf("%s holds the secret %q:\n%s", what, l, out)
		}
	}
}

// TestTelegramTokenNeverLogged runs serve, at debug level in both log
// formats, against a Bot API address that answers with an error page
// echoing the request path (the token is in it) and then with errors
// whose description holds the token; every line logged is searched.
func TestTelegramTokenNeverLogged(t *testing.T) {
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1)%2 == 1 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "<html><body><pre>Cannot POST %s</pre></body></html>", r.URL.Path)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": 401,
			"description": "Unauthorized: the token " + leakTGToken + " was revoked (Authorization: Bot " + leakTGToken + ")"})
	}))
	defer api.Close()
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			before := calls.Load()
			p := startServe(t, []string{"CHORUS_TELEGRAM_TOKEN=" + leakTGToken, "CHORUS_TELEGRAM_API_URL=" + api.URL,
				"CHORUS_LOG_LEVEL=debug", "CHORUS_LOG_FORMAT=" + format})
			deadline := time.Now().Add(20 * time.Second)
			for calls.Load() < before+2 && time.Now().Before(deadline) && !p.exited() {
				time.Sleep(20 * time.Millisecond)
			}
			if !p.exited() {
				p.term(t)
			}
			out := p.stderr.String()
			if calls.Load() < before+2 {
				t.Fatalf("the Bot API was called %d times:\n%s", calls.Load()-before, out)
			}
			if !strings.Contains(out, "Cannot POST /bot[redacted]") && !strings.Contains(out, "[redacted]") {
				t.Errorf("the error page never reached the log, so the test proves nothing:\n%s", out)
			}
			assertNoLeak(t, "serve's log", out)
		})
	}
}

// TestLLMKeyNeverLogged chats through a model endpoint that rejects the
// key quoting it, then through a proxy that echoes the Authorization
// header; the key appears in no log line and no answer.
func TestLLMKeyNeverLogged(t *testing.T) {
	for name, respond := range map[string]func(w http.ResponseWriter, r *http.Request){
		"provider quotes the key": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"type": "invalid_request_error", "code": "invalid_api_key",
				"message": "Incorrect API key provided: " + leakAPIKey + ". You can find your API key at https://platform.openai.com/account/api-keys."}})
		},
		"proxy echoes the header": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "upstream refused the request; headers were: Authorization: %s; Host: %s", r.Header.Get("Authorization"), r.Host)
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(respond))
			defer srv.Close()
			out, errOut := chorus(t, []string{"CHORUS_LLM_BASE_URL=" + srv.URL + "/v1", "CHORUS_LLM_API_KEY=" + leakAPIKey,
				"CHORUS_LLM_MODEL=gpt-test", "CHORUS_LLM_MAX_RETRIES=1", "CHORUS_LOG_LEVEL=debug"}, "hello there\n", "chat")
			if !strings.Contains(errOut, "[redacted]") {
				t.Errorf("the model's error never reached the log, so the test proves nothing:\n%s", errOut)
			}
			assertNoLeak(t, "chat's log", errOut)
			assertNoLeak(t, "chat's answer", out)
		})
	}
}

// TestCheckConfigHidesSecrets prints the configuration with a key in the
// model's URL query and in the environment.
func TestCheckConfigHidesSecrets(t *testing.T) {
	out, errOut := chorus(t, []string{"CHORUS_LLM_BASE_URL=https://gw.example.com/openai/v1?api-version=2024-02-01&api-key=" + leakAPIKey,
		"CHORUS_TELEGRAM_TOKEN=" + leakTGToken}, "", "check-config")
	assertNoLeak(t, "check-config", out+errOut)
	if !strings.Contains(out, "api-version=2024-02-01") || !strings.Contains(out, "api-key=[redacted]") {
		t.Errorf("check-config output:\n%s", out)
	}
}
