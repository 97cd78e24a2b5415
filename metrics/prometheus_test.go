package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPrometheus runs a real Prometheus scraping target every second and
// returns its base URL. It is killed when the test ends.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := needTool(t, "prometheus")
	ver, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Skipf("prometheus --version failed (%v): %s", err, ver)
	}
	t.Logf("using %s", strings.SplitN(string(ver), "\n", 2)[0])

	dir := t.TempDir()
	rules, err := filepath.Abs(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: chorus
    static_configs:
      - targets: [%q]
`, rules, target)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	out := &bottest.Buffer{}
	cmd := exec.Command(bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	for range 100 {
		select {
		case <-exited:
			t.Fatalf("prometheus exited early:\n%s", out.String())
		default:
		}
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("prometheus not ready after 10s:\n%s", out.String())
	return ""
}

// query runs an instant query and returns the single sample's value;
// ok is false when the result is empty.
func query(t *testing.T, base, q string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query %q: decode: %v", q, err)
	}
	if r.Status != "success" {
		t.Fatalf("query %q: %s", q, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	if len(r.Data.Result) > 1 || len(r.Data.Result[0].Value) != 2 {
		t.Fatalf("query %q: want one sample, got %+v", q, r.Data.Result)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %q: value %q: %v", q, s, err)
	}
	return v, true
}

// waitFor polls Prometheus until every query has its wanted value.
func waitFor(t *testing.T, base string, want map[string]float64) {
	t.Helper()
	last := map[string]string{}
	for range 60 {
		done := true
		for q, w := range want {
			v, ok := query(t, base, q)
			last[q] = fmt.Sprintf("%v (present %v)", v, ok)
			if !ok || v != w {
				done = false
			}
		}
		if done {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("Prometheus never showed the expected values; want %v, last seen %v", want, last)
}

// TestPrometheusScrapesConversation runs a real Prometheus against the
// admin server while a real engine handles a scripted conversation, and
// checks what Prometheus stored.
func TestPrometheusScrapesConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	reg := NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	admin := startServer(t, NewServer("127.0.0.1:0", reg))
	prom := startPrometheus(t, strings.TrimPrefix(admin, "http://"))
	waitFor(t, prom, map[string]float64{`up{job="chorus"}`: 1})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eng, err := bot.New(bot.Config{Workers: 2}, bottest.NewMemStore(), &bottest.LLM{}, bot.WithObserver(m), bot.WithPrompts(prompts.Default()))
	if err != nil {
		t.Fatal(err)
	}
	p := bottest.NewPlatform("console", bot.Limits{MaxLen: 4000})
	eng.AddPlatform(p)
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })

	// Three followers ask twice each in DMs (6 replies); in the group two
	// messages are chatter (no reply) and one mentions the bot (1 reply).
	type line struct {
		user, chat string
		kind       bot.ChatKind
		mention    bool
		text       string
	}
	script := []line{
		{"1", "dm-1", bot.ChatDM, false, "hi, when does the spring drop ship?"},
		{"2", "dm-2", bot.ChatDM, false, "is there a student discount?"},
		{"3", "dm-3", bot.ChatDM, false, "my order arrived damaged"},
		{"1", "dm-1", bot.ChatDM, false, "and to Canada?"},
		{"2", "dm-2", bot.ChatDM, false, "thanks!"},
		{"3", "dm-3", bot.ChatDM, false, "order 1234"},
		{"4", "fans", bot.ChatGroup, false, "loving the new colours"},
		{"5", "fans", bot.ChatGroup, false, "same here"},
		{"4", "fans", bot.ChatGroup, true, "@chorus what sizes are there?"},
	}
	const wantReplies = 7
	for i, l := range script {
		msg := bot.Message{Platform: "console", Chat: bot.Chat{ID: l.chat, Kind: l.kind}, ID: strconv.Itoa(i + 1),
			Author: bot.User{ID: l.user, Name: "user" + l.user}, Text: l.text, Mentioned: l.mention}
		if err := eng.Handle(ctx, msg); err != nil {
			t.Fatalf("Handle %d: %v", i, err)
		}
	}
	if err := eng.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(p.Calls("send")); got != wantReplies {
		t.Fatalf("platform got %d sends, want %d", got, wantReplies)
	}

	waitFor(t, prom, map[string]float64{
		`sum(chorus_messages_received_total)`:                         float64(len(script)),
		`sum(chorus_messages_received_total{chat_kind="group"})`:      3,
		`sum(chorus_reply_duration_seconds_count)`:                    wantReplies,
		`sum(chorus_replies_sent_total{outcome="ok"})`:                wantReplies,
		`sum(chorus_reply_first_token_seconds_count)`:                 wantReplies,
		`sum(chorus_llm_requests_total{purpose="chat",outcome="ok"})`: wantReplies,
		`chorus_active_users{window="5m"}`:                            5,
	})
}
