package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
)

// llmMode is how scriptedAI answers.
type llmMode string

const (
	modeOK       llmMode = "ok"
	mode429      llmMode = "429"
	mode500      llmMode = "500"
	modeHang     llmMode = "hang"
	modeCut      llmMode = "cut"
	cutText              = "Half of the answer"
	recoveredTxt         = "All good again."
)

// scriptedAI is an OpenAI-compatible server whose failure mode the test
// sets: 429 with Retry-After, 500, a request that never answers, a stream
// cut after a few chunks, or a normal streamed answer.
type scriptedAI struct {
	*httptest.Server
	mu      sync.Mutex
	mode    llmMode
	hits    map[llmMode]int
	release chan struct{}
}

func newScriptedAI(t *testing.T) *scriptedAI {
	s := &scriptedAI{mode: modeOK, hits: map[llmMode]int{}, release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() { close(s.release); s.Close() })
	return s
}

func (s *scriptedAI) set(m llmMode) {
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
}

func (s *scriptedAI) count(m llmMode) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[m]
}

func (s *scriptedAI) serve(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	mode := s.mode
	s.hits[mode]++
	s.mu.Unlock()
	chunk := func(text string, finish bool) {
		ch := map[string]any{"index": 0, "delta": map[string]string{"content": text}}
		if finish {
			ch["finish_reason"] = "stop"
		}
		b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": "test-model", "choices": []any{ch}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	switch mode {
	case mode429:
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`)
	case mode500:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"The server had an error","type":"server_error"}}`)
	case modeHang:
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
	case modeCut:
		w.Header().Set("Content-Type", "text/event-stream")
		for _, word := range strings.SplitAfter(cutText, " ") {
			chunk(word, false)
		}
		// The connection ends without finish_reason or [DONE].
	default:
		if !req.Stream {
			json.NewEncoder(w).Encode(map[string]any{"id": "c1", "object": "chat.completion", "model": "test-model",
				"choices": []map[string]any{{"index": 0, "message": map[string]string{"role": "assistant", "content": "a summary"}, "finish_reason": "stop"}}})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		chunk(recoveredTxt, true)
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

// TestFaultLLM runs serve against a model that returns 429s, 500s, hangs
// and cuts its stream, then recovers: each question gets the apology or
// the partial reply marked as cut within the timeouts, /readyz reports the
// model failing, and answers and readiness come back with the model.
func TestFaultLLM(t *testing.T) {
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := newScriptedAI(t)
	env := telegramEnv(tg, ai.URL, t.TempDir(), "CHORUS_LLM_MAX_RETRIES=1", "CHORUS_LLM_TIMEOUT=1s", "CHORUS_ENGINE_LLM_TIMEOUT=3s")
	p := startServe(t, env)
	waitFor(t, 20*time.Second, "ready", func() bool { code, _ := p.readyz(); return code == http.StatusOK })

	const apology = "Sorry, I can't answer right now"
	const user = int64(4242)
	msgID := 0
	ask := func(mode llmMode, want func(string) bool, what string) {
		t.Helper()
		ai.set(mode)
		msgID++
		tg.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(user), telegramtest.User(user, "Ann", "en"), msgID, fmt.Sprintf("question %d", msgID))))
		// The bound covers the engine's LLM timeout and the retry.
		waitFor(t, 15*time.Second, what, func() bool {
			for _, m := range tg.Messages(user) {
				if m.ReplyTo == msgID && want(m.Text) {
					return true
				}
			}
			return false
		})
	}
	isApology := func(s string) bool { return strings.HasPrefix(s, apology) }
	ask(mode429, isApology, "the apology after 429s")
	if n := ai.count(mode429); n != 2 {
		t.Errorf("%d requests for a 429 with one retry allowed, want 2", n)
	}
	ask(mode500, isApology, "the apology after 500s")
	ask(modeHang, isApology, "the apology after the model hung")
	if code, body := p.readyz(); code != http.StatusServiceUnavailable || !strings.Contains(body, "llm") {
		t.Errorf("readyz while the model fails: %d %s", code, body)
	}
	ask(modeCut, func(s string) bool {
		return strings.HasPrefix(s, strings.TrimSpace(cutText)) && strings.Contains(s, "(reply cut short")
	}, "the partial reply marked as cut")
	ask(modeOK, func(s string) bool { return s == recoveredTxt }, "a normal answer once the model recovers")
	waitFor(t, 10*time.Second, "ready again", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	// No question was answered twice, and nothing else was sent.
	for id, n := range repliesTo(tg, user, "") {
		if n != 1 {
			t.Errorf("message %d answered %d times", id, n)
		}
	}
	if p.exited() {
		t.Fatalf("serve exited: %v", p.err)
	}
	p.term(t)
}

// TestFaultPlatformStorm makes the Bot API answer sends and edits with
// 429s (retry_after 1s) and 5xx: the wait Telegram asked for is kept, every
// message is answered exactly once, and the number of requests stays
// bounded (no tight retry loop).
func TestFaultPlatformStorm(t *testing.T) {
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := newFakeOpenAI(t, func(req chatRequest) string {
		return "Answer to: " + req.Messages[len(req.Messages)-1].Content + " with a few more words to stream"
	})
	p := startServe(t, telegramEnv(tg, ai.URL, t.TempDir()))
	waitFor(t, 20*time.Second, "ready", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	push := func(user int64, text string) {
		tg.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(user), telegramtest.User(user, "U", "en"), 1, text)))
	}
	answered := func(user int64, prefix string) func() bool {
		return func() bool { return repliesTo(tg, user, prefix)[1] == 1 }
	}

	// One chat: the streamed first piece and the final send both get a
	// 429 asking for 1s.
	tg.Fail(telegramtest.MethodSendMessage, 2, http.StatusTooManyRequests, "Too Many Requests: retry after 1", 1)
	const solo = int64(5999)
	push(solo, "rate limited question")
	waitFor(t, 30*time.Second, "the rate-limited answer", answered(solo, "Answer to: rate limited question"))
	sends := tg.Calls(telegramtest.MethodSendMessage)
	if len(sends) != 3 {
		t.Fatalf("%d sendMessage calls for one answer after two 429s, want 3", len(sends))
	}
	// The final send's own retry waits as asked (less a little for clocks).
	if gap := sends[2].At.Sub(sends[1].At); gap < 900*time.Millisecond {
		t.Errorf("retried the final send %v after a 429 asking for 1s", gap)
	}
	t.Run("final send after a streaming 429", func(t *testing.T) {
		if gap := sends[1].At.Sub(sends[0].At); gap < 900*time.Millisecond {
			// bot.StreamWriter.Finish waits out a streaming 429's
			// retry-after before the final send.
			t.Errorf("the final send came %v after a streaming 429 asking for 1s", gap)
		}
	})

	// A storm over five chats: 429s and 5xx on sends and edits.
	tg.Fail(telegramtest.MethodSendMessage, 3, http.StatusTooManyRequests, "Too Many Requests: retry after 1", 1)
	tg.Fail(telegramtest.MethodSendMessage, 2, http.StatusBadGateway, "Bad Gateway", 0)
	tg.Fail(telegramtest.MethodEditMessageText, 4, http.StatusTooManyRequests, "Too Many Requests: retry after 1", 1)
	tg.Fail(telegramtest.MethodEditMessageText, 2, http.StatusInternalServerError, "Internal Server Error", 0)
	before := len(tg.Calls(telegramtest.MethodSendMessage, telegramtest.MethodEditMessageText))
	const users = 5
	for u := range users {
		push(int64(6000+u), fmt.Sprintf("storm question %d", u))
	}
	for u := range users {
		waitFor(t, 45*time.Second, "every message answered", answered(int64(6000+u), "Answer to: storm question"))
	}
	for _, id := range []int64{solo, 6000, 6001, 6002, 6003, 6004} {
		if n := repliesTo(tg, id, "")[1]; n != 1 {
			t.Errorf("chat %d answered %d times", id, n)
		}
	}
	// Bounded: each answer is one send and a few edits; each of the 11
	// failures may cost one more request, never a loop.
	calls := len(tg.Calls(telegramtest.MethodSendMessage, telegramtest.MethodEditMessageText)) - before
	if max := users*6 + 11; calls > max {
		t.Errorf("%d send and edit requests for %d answers, want at most %d", calls, users, max)
	}
	p.term(t)
}

// TestFaultReadOnlyDatabase starts serve on a bbolt file it may not write:
// it fails at once with an error naming the file, and the file is
// unchanged.
func TestFaultReadOnlyDatabase(t *testing.T) {
	// A directory anyone may enter, as the data directory of a service
	// user is.
	data, err := os.MkdirTemp("", "chorus-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	// Create a real database first.
	chorus(t, []string{"CHORUS_DATA_DIR=" + data, "CHORUS_LOG_LEVEL=warn"}, "hello\n", "chat")
	db := filepath.Join(data, dbFile)
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o400); err != nil {
		t.Fatal(err)
	}
	bin := binary
	if os.Geteuid() == 0 {
		// nobody must be able to run it.
		bin = filepath.Join(data, "chorus")
		exe, err := os.ReadFile(binary)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, exe, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CHORUS_DATA_DIR=" + data, "CHORUS_ADMIN_LISTEN=" + freePort(t), "CHORUS_WEB_LISTEN=127.0.0.1:0"}
	cmd.Dir = data
	cmd.Stdin = strings.NewReader("")
	if os.Geteuid() == 0 {
		// root writes anything: run as nobody, who may read nothing here.
		if err := os.Chmod(db, 0o444); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve on a read-only database did not exit\n%s", stderr.String())
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\n%s", err, stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, db) || !strings.Contains(msg, "permission denied") {
		t.Errorf("error does not name the file and the cause:\n%s", msg)
	}
	if strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine ") {
		t.Errorf("serve crashed:\n%s", msg)
	}
	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(before) != sha256.Sum256(after) {
		t.Error("the read-only database changed")
	}
}

// TestBenchCommand runs `chorus bench` in process (runBench) on each path
// with a short, bounded load and reads its JSON report.
func TestBenchCommand(t *testing.T) {
	for _, tc := range []struct {
		path, llm string
		flags     []string
	}{
		{"in-process", "client, masking", nil},
		{"telegram", "client, masking", nil},
		// --mem-store changes only the store: the wiring stays the binary's.
		{"in-process", "client", []string{"--mem-store", "--no-mask"}},
		{"in-process", "direct", []string{"--direct-llm"}},
	} {
		t.Run(tc.path+" "+strings.Join(tc.flags, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			env := &cliEnv{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			err := runBench(context.Background(), env, append([]string{"--path", tc.path, "--users", "5", "--messages", "30", "--duration", "3m",
				"--ttft", "1ms", "--tps", "1000", "--error-rate", "0.2", "--json", "--data-dir", t.TempDir()}, tc.flags...))
			if err != nil {
				t.Fatalf("bench: %v\n%s", err, errb.String())
			}
			var rep struct {
				Sent     int            `json:"sent"`
				Answered int            `json:"answered"`
				Outcomes map[string]int `json:"outcomes"`
				Errors   int            `json:"errors"`
				Reply    struct {
					Count int     `json:"count"`
					P99   float64 `json:"p99_ms"`
				} `json:"reply"`
				DBBytes int64  `json:"db_bytes"`
				Wiring  string `json:"wiring"`
				LLM     string `json:"llm"`
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("report is not JSON: %v\n%s", err, out.String())
			}
			// The command measures the engine as serve builds it.
			if rep.Sent != 30 || rep.Answered != 30 || rep.Reply.Count != 30 || rep.DBBytes == 0 || rep.Wiring != "binary" || rep.LLM != tc.llm {
				t.Errorf("report: %s", out.String())
			}
			// A failed model call is an apology, counted as an error.
			if rep.Outcomes["apology"] == 0 || rep.Errors != rep.Outcomes["apology"] {
				t.Errorf("error rate 0.2 gave outcomes %v, errors %d", rep.Outcomes, rep.Errors)
			}
		})
	}
	var errb bytes.Buffer
	env := &cliEnv{stdout: &bytes.Buffer{}, stderr: &errb}
	if err := runBench(context.Background(), env, []string{"--path", "carrier-pigeon"}); err == nil || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Errorf("bad path: %v", err)
	}
	if err := runBench(context.Background(), env, []string{"--serve-binary", binary}); err == nil || !strings.Contains(err.Error(), "telegram path") {
		t.Errorf("--serve-binary on the in-process path: %v", err)
	}
}

// TestBenchServeBinary runs `chorus bench --serve-binary` with the built
// binary: a real serve process answers every message through the fake Bot
// API and the fake model, and the report gives its own CPU and memory
// apart from the bench process's, and the latencies read at the fake Bot
// API.
func TestBenchServeBinary(t *testing.T) {
	var out, errb bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	// The profiles asked for are serve's (--cpuprofile and --memprofile
	// passed on), written when it stops.
	profiles := t.TempDir()
	cpuProf, heapProf := filepath.Join(profiles, "cpu.pprof"), filepath.Join(profiles, "heap.pprof")
	err := runBench(context.Background(), env, []string{"--path", "telegram", "--serve-binary", binary, "--users", "5", "--messages", "30",
		"--duration", "3m", "--ttft", "1ms", "--tps", "1000", "--error-rate", "0.2", "--json", "--cpuprofile", cpuProf, "--memprofile", heapProf})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errb.String())
	}
	var rep struct {
		Sent     int            `json:"sent"`
		Answered int            `json:"answered"`
		Outcomes map[string]int `json:"outcomes"`
		Errors   int            `json:"errors"`
		Reply    struct {
			Count int     `json:"count"`
			P50   float64 `json:"p50_ms"`
		} `json:"reply"`
		CPU   float64 `json:"cpu_s"`
		Serve *struct {
			PID       int     `json:"pid"`
			CPU       float64 `json:"cpu_s"`
			PeakRSS   int64   `json:"peak_rss_bytes"`
			ReadyRSS  int64   `json:"ready_rss_bytes"`
			HeapInUse uint64  `json:"heap_inuse_bytes"`
		} `json:"serve"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if rep.Sent != 30 || rep.Answered != 30 || rep.Reply.Count != 30 || rep.Reply.P50 <= 0 {
		t.Errorf("report: %s", out.String())
	}
	if s := rep.Serve; s == nil || s.PID == os.Getpid() || s.PID == 0 || s.PeakRSS < s.ReadyRSS || s.ReadyRSS == 0 || s.HeapInUse == 0 {
		t.Errorf("serve process figures: %s", out.String())
	}
	// A failed model call is an apology, counted by serve's metrics.
	if rep.Outcomes["apology"] == 0 || rep.Errors != rep.Outcomes["apology"] {
		t.Errorf("error rate 0.2 gave outcomes %v, errors %d", rep.Outcomes, rep.Errors)
	}
	for _, f := range []string{cpuProf, heapProf} {
		// pprof's format is gzipped protobuf.
		if b, err := os.ReadFile(f); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("serve's profile %s: %d bytes, %v", filepath.Base(f), len(b), err)
		}
	}
}

// TestServeDrainsOnSIGTERM: a message being answered when the orchestrator
// sends SIGTERM is still answered before the process exits, and the exit
// is clean.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	asked := make(chan struct{}, 1)
	ai := newFakeOpenAI(t, func(req chatRequest) string {
		select {
		case asked <- struct{}{}:
		default:
		}
		time.Sleep(1500 * time.Millisecond) // a slow model: still answering at SIGTERM
		return "Answer to: " + req.Messages[len(req.Messages)-1].Content
	})
	p := startServe(t, telegramEnv(tg, ai.URL, t.TempDir()))
	waitFor(t, 20*time.Second, "ready", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	const user = int64(4321)
	tg.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(user), telegramtest.User(user, "U", "en"), 1, "slow question")))
	select {
	case <-asked:
	case <-time.After(20 * time.Second):
		t.Fatal("the model was never asked")
	}
	p.term(t)
	if p.err != nil {
		t.Errorf("serve exited with %v after SIGTERM", p.err)
	}
	if n := repliesTo(tg, user, "Answer to: slow question")[1]; n != 1 {
		t.Errorf("the in-flight message was answered %d times before exit, want 1", n)
	}
}
