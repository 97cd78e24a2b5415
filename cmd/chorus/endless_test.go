package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
)

// endlessAI is an OpenAI-compatible server whose streams never end: the
// question names how ("sentences": text with sentence ends, "word": one
// endless word, "empty": chunks without content, "line": one SSE line
// that never ends). It counts the bytes it wrote.
type endlessAI struct {
	*httptest.Server
	written atomic.Int64
}

func newEndlessAI(t *testing.T) *endlessAI {
	a := &endlessAI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req chatRequest
		json.NewDecoder(r.Body).Decode(&req)
		q := req.Messages[len(req.Messages)-1].Content
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(text string) []byte {
			b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": "test-model",
				"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"content": text}}}})
			return []byte("data: " + string(b) + "\n\n")
		}
		var piece []byte
		switch {
		case strings.Contains(q, "sentences"):
			piece = chunk(strings.Repeat("This goes on and on. ", 20))
		case strings.Contains(q, "word"):
			piece = chunk(strings.Repeat("x", 400))
		case strings.Contains(q, "empty"):
			piece = chunk("")
		default: // "line"
			w.Write([]byte(`data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"`))
			piece = []byte(strings.Repeat("y", 4096))
		}
		for r.Context().Err() == nil {
			n, err := w.Write(piece)
			a.written.Add(int64(n))
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(a.Close)
	return a
}

// peakRSS is the process's peak resident memory in bytes (VmHWM).
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to read the peak memory from: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestEndlessModelStream: against a model whose stream never ends, in four
// ways, each reply is cut within engine.llm_timeout and
// engine.reply_max_bytes, ends with a note or the apology, and the
// process's peak memory stays bounded.
func TestEndlessModelStream(t *testing.T) {
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := newEndlessAI(t)
	p := startServe(t, telegramEnv(tg, ai.URL, t.TempDir(), "CHORUS_ENGINE_LLM_TIMEOUT=4s"))
	waitFor(t, 20*time.Second, "ready", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	for i, kind := range []string{"sentences", "word", "empty", "line"} {
		user := int64(7000 + i)
		tg.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(user), telegramtest.User(user, "U", "en"), 1, "endless "+kind)))
		// The bound covers engine.llm_timeout and the final send.
		waitFor(t, 30*time.Second, "the "+kind+" reply ended", func() bool {
			for _, m := range tg.Messages(user) {
				if strings.Contains(m.Text, "(reply") || strings.HasPrefix(m.Text, "Sorry") {
					return true
				}
			}
			return false
		})
		var last string
		for _, m := range tg.Messages(user) {
			last = m.Text
		}
		t.Logf("%s: the model wrote %d MB so far; the reply ends %q", kind, ai.written.Load()>>20, last[max(0, len(last)-60):])
	}
	peak := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("peak resident memory of serve: %d MB", peak>>20)
	if peak > 250<<20 {
		t.Errorf("serve's peak memory %d MB: an endless stream must not grow the process", peak>>20)
	}
	p.term(t)
}
