package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the chorus binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chorus-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "chorus")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build chorus: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeOpenAI is an OpenAI-compatible server that streams a canned reply as
// real SSE chunks and records every request body.
type fakeOpenAI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []chatRequest
	reply    func(req chatRequest) string
}

type chatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func (r chatRequest) text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Role + ": " + m.Content + "\n")
	}
	return b.String()
}

func newFakeOpenAI(t *testing.T, reply func(chatRequest) string) *fakeOpenAI {
	f := &fakeOpenAI{reply: reply}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req chatRequest
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.mu.Unlock()
		text := f.reply(req)
		if !req.Stream {
			json.NewEncoder(w).Encode(map[string]any{
				"id": "c1", "object": "chat.completion", "model": req.Model,
				"choices": []map[string]any{{"index": 0, "message": map[string]string{"role": "assistant", "content": text}, "finish_reason": "stop"}},
				"usage":   map[string]int{"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
			})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		words := strings.SplitAfter(text, " ")
		for _, wd := range words {
			chunk, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": req.Model,
				"choices": []map[string]any{{"index": 0, "delta": map[string]string{"content": wd}}}})
			fmt.Fprintf(w, "data: %s\n\n", chunk)
			fl.Flush()
		}
		end, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": req.Model,
			"choices": []map[string]any{{"index": 0, "delta": map[string]string{}, "finish_reason": "stop"}}})
		fmt.Fprintf(w, "data: %s\n\n", end)
		usage, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion.chunk", "model": req.Model,
			"choices": []any{}, "usage": map[string]int{"prompt_tokens": 50, "completion_tokens": len(words), "total_tokens": 50 + len(words)}})
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", usage)
		fl.Flush()
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOpenAI) chatRequests() []chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []chatRequest
	for _, r := range f.requests {
		if r.Stream {
			out = append(out, r)
		}
	}
	return out
}

// chorus runs the binary with piped stdin and returns stdout and stderr.
func chorus(t *testing.T, env []string, stdin string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chorus %v: %v\nstderr:\n%s", args, err, errb.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("chorus %v did not finish\nstderr:\n%s", args, errb.String())
	}
	return out.String(), errb.String()
}

func repoKnowledge(t *testing.T) string {
	dir, err := filepath.Abs("../../configs/knowledge")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("example knowledge base missing: %v", err)
	}
	return dir
}

func TestChatRemembersAcrossRestartAndGroundsInKB(t *testing.T) {
	fake := newFakeOpenAI(t, func(req chatRequest) string {
		last := req.Messages[len(req.Messages)-1].Content
		return "Reply to: " + last
	})
	data := t.TempDir()
	env := []string{"CHORUS_LLM_BASE_URL=" + fake.URL + "/v1", "CHORUS_LLM_MODEL=test-model",
		"CHORUS_DATA_DIR=" + data, "CHORUS_KB_DIR=" + repoKnowledge(t), "CHORUS_LOG_LEVEL=warn"}

	out, errOut := chorus(t, env, "My name is Zephyrine and I love pour-over.\nWhat is my favourite brew method?\n", "chat", "--user", "zeph")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "Reply to: My name is Zephyrine and I love pour-over." {
		t.Fatalf("first run stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if strings.Contains(out, "level=") {
		t.Errorf("diagnostics leaked to stdout: %q", out)
	}

	// A new process on the same data dir: the prompt carries the first
	// run's conversation.
	out, _ = chorus(t, env, "Do you remember my name?\n", "chat", "--user", "zeph")
	if strings.TrimSpace(out) != "Reply to: Do you remember my name?" {
		t.Fatalf("second run stdout: %q", out)
	}
	reqs := fake.chatRequests()
	if len(reqs) != 3 {
		t.Fatalf("%d chat requests, want 3", len(reqs))
	}
	if p := reqs[2].text(); !strings.Contains(p, "Zephyrine") || !strings.Contains(p, "pour-over") {
		t.Errorf("restarted prompt lacks the first run's conversation:\n%s", p)
	}

	// A knowledge-base question: the prompt holds the right passage.
	chorus(t, env, "How do I pause my subscription?\n", "chat", "--user", "zeph")
	reqs = fake.chatRequests()
	p := reqs[len(reqs)-1].text()
	if !strings.Contains(p, "subscriptions.md") || !strings.Contains(strings.ToLower(p), "pause") {
		t.Errorf("prompt lacks the subscriptions passage:\n%s", p)
	}
}

func TestChatOfflineDefaults(t *testing.T) {
	data := t.TempDir()
	env := []string{"CHORUS_DATA_DIR=" + data, "CHORUS_KB_DIR=" + repoKnowledge(t), "CHORUS_LOG_LEVEL=warn"}
	out, errOut := chorus(t, env, "hello\nHow long does shipping take?\n\n/help\n", "chat")
	if first, _, _ := strings.Cut(out, "Here is what I can do"); !strings.Contains(first, "(from Shipping)") || strings.Contains(first, "|") {
		t.Errorf("offline answer does not cite Shipping in plain text:\n%s\nstderr:\n%s", out, errOut)
	}
	if !strings.Contains(out, "/forget") {
		t.Errorf("/help missing:\n%s", out)
	}
}

func TestChatBadInput(t *testing.T) {
	data := t.TempDir()
	env := []string{"CHORUS_DATA_DIR=" + data, "CHORUS_LOG_LEVEL=warn"}
	in := "caf\xc3\x28 \xff\n" + strings.Repeat("x", 100<<10) + "\n\x00\x07\x1b[2J\n\nstill alive?\n"
	out, _ := chorus(t, env, in, "chat", "--user", "fuzzy")
	if !strings.Contains(out, "help") {
		t.Errorf("no answer after bad input:\n%.500s", out)
	}
	exp, _ := chorus(t, env, "", "export", "--user", "console:fuzzy")
	var dump struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(exp), &dump); err != nil {
		t.Fatalf("export is not JSON: %v\n%.300s", err, exp)
	}
	if len(dump.Messages) < 4 {
		t.Errorf("export holds %d messages, want the 4 inputs and their replies", len(dump.Messages))
	}
	out, _ = chorus(t, env, "", "forget", "--user", "console:fuzzy")
	if !strings.Contains(out, "records deleted") {
		t.Errorf("forget: %q", out)
	}
	exp, _ = chorus(t, env, "", "export", "--user", "console:fuzzy")
	if strings.Contains(exp, "still alive") {
		t.Errorf("forget left messages behind:\n%.300s", exp)
	}
}

func TestUsageAndConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  []string
		code int
		want string
	}{
		{"no args", nil, nil, 2, "Usage"},
		{"unknown", []string{"fly"}, nil, 2, "unknown command"},
		{"bad env", []string{"check-config"}, []string{"CHORUS_ENGINE_WORKERS=lots"}, 1, "CHORUS_ENGINE_WORKERS"},
		{"bad user", []string{"export", "--user", "nobody"}, nil, 2, "PLATFORM:ID"},
		{"version", []string{"version"}, nil, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(binary, c.args...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "CHORUS_DATA_DIR=" + t.TempDir()}, c.env...)
			cmd.Dir = t.TempDir()
			var errb bytes.Buffer
			cmd.Stderr = &errb
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != c.code || !strings.Contains(errb.String(), c.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, c.code, errb.String(), c.want)
			}
		})
	}
	// A malformed config file names the field.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "chorus.yaml"), []byte("telegram:\n  mode: carrier-pigeon\n"), 0o600)
	cmd := exec.Command(binary, "check-config")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "telegram.mode") {
		t.Errorf("bad config error does not name the field: %s", out)
	}
}

func TestSecondProcessOnSameDataDir(t *testing.T) {
	data := t.TempDir()
	env := []string{"CHORUS_DATA_DIR=" + data, "CHORUS_LOG_LEVEL=warn"}
	// Hold the database with a chat whose stdin stays open.
	cmd := exec.Command(binary, "chat")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Dir = t.TempDir()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	stdin.Write([]byte("hello\n"))
	// The first reply means the database is open and held.
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	second := exec.Command(binary, "kb", "list")
	second.Env = cmd.Env
	second.Dir = t.TempDir()
	res, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(res), "in use") {
		t.Errorf("second process: err=%v output=%s", err, res)
	}
}

func TestEvalCommand(t *testing.T) {
	// A tiny SMS-layout dataset the test writes itself: the command must
	// recognise the layout and print the report.
	dir := t.TempDir()
	data := "ham\tsee you at the cafe at 5\nspam\tWINNER!! claim your FREE prize now, text WIN to 80086\nham\tthanks for the beans\nspam\tURGENT: your account won £1000 cash, call 09061701461 to claim\n"
	path := filepath.Join(dir, "SMSSpamCollection.tsv")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := chorus(t, nil, "", "eval", "spam", "--dataset", path, "--json")
	var rep struct {
		N        int     `json:"n"`
		Accuracy float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval --json is not JSON: %v\n%s", err, out)
	}
	if rep.N != 4 || rep.Accuracy < 0.75 {
		t.Errorf("eval report n=%d accuracy=%.2f, want 4 rows mostly right", rep.N, rep.Accuracy)
	}
}

// TestSummaryUsesTheTemplate: when turns fall out of a small window, the
// summary request the model receives is the prompts package's
// summary.tmpl, and the next chat prompt carries the summary it wrote.
func TestSummaryUsesTheTemplate(t *testing.T) {
	fake := newFakeOpenAI(t, func(req chatRequest) string {
		if !req.Stream {
			return "Zed asked about beans."
		}
		return "noted"
	})
	env := []string{"CHORUS_LLM_BASE_URL=" + fake.URL + "/v1", "CHORUS_LLM_MODEL=m", "CHORUS_DATA_DIR=" + t.TempDir(),
		"CHORUS_ENGINE_WINDOW_TOKENS=40", "CHORUS_ENGINE_SUMMARY_EVERY=2", "CHORUS_LOG_LEVEL=warn"}
	var in strings.Builder
	for i := range 8 {
		fmt.Fprintf(&in, "question number %d about roasting beans at home\n", i)
	}
	chorus(t, env, in.String(), "chat", "--user", "zed")
	fake.mu.Lock()
	var summaries []string
	for _, r := range fake.requests {
		// Questions the knowledge base has nothing on are also translated
		// (translate.tmpl), not streamed either.
		if !r.Stream && !strings.Contains(r.text(), "You translate a customer's question") {
			summaries = append(summaries, r.text())
		}
	}
	fake.mu.Unlock()
	if len(summaries) == 0 {
		t.Fatal("no summary request reached the model")
	}
	if !strings.Contains(summaries[0], "running summary") || !strings.Contains(summaries[0], "question number 0") {
		t.Errorf("summary request is not summary.tmpl over the old turns:\n%s", summaries[0])
	}
	chats := fake.chatRequests()
	if last := chats[len(chats)-1].text(); !strings.Contains(last, "Zed asked about beans.") {
		t.Errorf("the last chat prompt lacks the summary:\n%s", last)
	}
}

// TestKBCommands: ingest, search and list through the binary, as the README
// shows them.
func TestKBCommands(t *testing.T) {
	env := []string{"CHORUS_DATA_DIR=" + t.TempDir(), "CHORUS_LOG_LEVEL=warn"}
	// Before anything is ingested, search says the knowledge base is
	// empty, not that it holds nothing on the question.
	out, _ := chorus(t, env, "", "kb", "search", "pause", "my", "subscription")
	if !strings.HasPrefix(out, "the knowledge base is empty") {
		t.Errorf("search of an empty knowledge base: %q", out)
	}
	out, _ = chorus(t, env, "", "kb", "ingest", repoKnowledge(t))
	if !strings.Contains(out, "7 added") {
		t.Errorf("ingest: %q", out)
	}
	out, _ = chorus(t, env, "", "kb", "ingest", repoKnowledge(t))
	if !strings.Contains(out, "0 added") || !strings.Contains(out, "7 unchanged") {
		t.Errorf("second ingest: %q", out)
	}
	out, _ = chorus(t, env, "", "kb", "search", "pause", "my", "subscription", "-k", "1")
	if !strings.HasPrefix(out, "1. [") || !strings.Contains(out, "subscription") {
		t.Errorf("search: %q", out)
	}
	out, _ = chorus(t, env, "", "kb", "list")
	if n := strings.Count(out, ".md"); n != 7 || !strings.Contains(out, "faq-zh.md") {
		t.Errorf("list shows %d documents:\n%s", n, out)
	}
}

// TestCheckConfigRedactsSecrets: check-config prints the configuration it
// would run with, and no secret.
func TestCheckConfigRedactsSecrets(t *testing.T) {
	const token, key = "123456:ABCdefSecretToken", "sk-secretkey-123"
	out, errOut := chorus(t, []string{"CHORUS_TELEGRAM_TOKEN=" + token, "CHORUS_LLM_API_KEY=" + key, "CHORUS_DATA_DIR=" + t.TempDir()}, "", "check-config")
	if strings.Contains(out+errOut, token) || strings.Contains(out+errOut, key) {
		t.Fatalf("a secret reached the output:\n%s%s", out, errOut)
	}
	if !strings.Contains(out, "[redacted]") || !strings.Contains(out, "configuration is valid") {
		t.Errorf("check-config output:\n%s", out)
	}
}

// TestCLIConventions: help that is asked for goes to stdout with status 0,
// a bad flag is reported once, --version works, a mistyped CHORUS_*
// variable is named with the closest real one, and a secret file from the
// environment is read without a config file.
func TestCLIConventions(t *testing.T) {
	runBin := func(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "CHORUS_DATA_DIR=" + t.TempDir()}, env...)
		cmd.Dir = t.TempDir()
		var outb, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &outb, &errb
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return outb.String(), errb.String(), code
	}
	for _, args := range [][]string{{"help", "serve"}, {"serve", "-h"}, {"serve", "--help"}} {
		out, errOut, code := runBin(t, nil, args...)
		if code != 0 || !strings.Contains(out, "Usage: chorus serve") || !strings.Contains(out, "-data-dir") || errOut != "" {
			t.Errorf("chorus %v: exit %d, stdout %q, stderr %q; want serve's flags on stdout", args, code, out, errOut)
		}
	}
	if out, _, code := runBin(t, nil, "help"); code != 0 || !strings.Contains(out, "Commands:") {
		t.Errorf("chorus help: exit %d, stdout %q", code, out)
	}
	if out, _, code := runBin(t, nil, "--version"); code != 0 || !strings.HasPrefix(out, "chorus ") {
		t.Errorf("chorus --version: exit %d, stdout %q", code, out)
	}
	_, errOut, code := runBin(t, nil, "serve", "--bogus")
	if code != 2 || strings.Count(errOut, "-bogus") != 1 || strings.Contains(errOut, "-data-dir") {
		t.Errorf("bad flag: exit %d, stderr %q; want the error once and no flag list", code, errOut)
	}
	_, errOut, _ = runBin(t, []string{"CHORUS_ENGIN_WORKERS=4"}, "check-config")
	if !strings.Contains(errOut, "CHORUS_ENGIN_WORKERS") || !strings.Contains(errOut, "did you mean CHORUS_ENGINE_WORKERS?") {
		t.Errorf("mistyped variable not warned about: %q", errOut)
	}
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("123456:ABCdef-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runBin(t, []string{"CHORUS_TELEGRAM_TOKEN_FILE=" + secret}, "check-config")
	if code != 0 || !strings.Contains(out, "token: '[redacted]'") {
		t.Errorf("CHORUS_TELEGRAM_TOKEN_FILE without a config file: exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "ABCdef-from-a-file") {
		t.Errorf("the token itself was printed")
	}
}
