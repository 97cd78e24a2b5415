package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promQuery asks Prometheus for one instant value; ok is false while the
// series doesn't exist yet.
func promQuery(base, q string) (float64, bool) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) == 0 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// TestPrometheusScrapesServe runs the built `chorus serve` (console
// adapter, offline model) and a real Prometheus scraping it, feeds a
// scripted conversation, and reads the counters back through Prometheus's
// query API.
func TestPrometheusScrapesServe(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus binary not found (Debian package prometheus; .ci/run installs it)")
	}
	adminAddr, promAddr := freePort(t), freePort(t)
	const lines = 5
	script := "hello\nhow long does shipping take?\ncan I pause my subscription?\nthanks!\n/help\n"

	serve := exec.Command(binary, "serve")
	serve.Dir = t.TempDir()
	serve.Env = []string{"PATH=" + os.Getenv("PATH"), "CHORUS_DATA_DIR=" + t.TempDir(),
		"CHORUS_ADMIN_LISTEN=" + adminAddr, "CHORUS_WEB_LISTEN=127.0.0.1:0", "CHORUS_LOG_LEVEL=warn"}
	serve.Stdin = strings.NewReader(script)
	var out strings.Builder
	serve.Stdout = &out
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	admin := "http://" + adminAddr
	waitFor(t, 20*time.Second, "chorus /healthz", func() bool {
		resp, err := http.Get(admin + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: chorus\n    static_configs:\n      - targets: ['%s']\n", adminAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	prom := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prom.Process.Kill(); prom.Wait() })
	base := "http://" + promAddr

	var received, replies, commands float64
	waitFor(t, 45*time.Second, "Prometheus to see the conversation", func() bool {
		received, _ = promQuery(base, `sum(chorus_messages_received_total{platform="console"})`)
		replies, _ = promQuery(base, `sum(chorus_reply_duration_seconds_count{platform="console"})`)
		commands, _ = promQuery(base, `sum(chorus_commands_total{command="help",outcome="ok"})`)
		return received == lines && replies == lines-1 && commands == 1
	})
	if up, ok := promQuery(base, `up{job="chorus"}`); !ok || up != 1 {
		t.Errorf("up = %v (%v)", up, ok)
	}
}
