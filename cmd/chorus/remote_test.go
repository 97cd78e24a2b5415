package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCommandsWhileServeRuns: with serve holding the bbolt file, kb
// ingest, list, search, remove, export and forget run in that serve over
// its admin listener (the address and token read from the data
// directory), instead of failing with "database in use"; a wrong token is
// refused; once serve stops the token is gone and the commands open the
// file themselves.
func TestCommandsWhileServeRuns(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, nil, "--data-dir", data)
	tokenFile := filepath.Join(data, adminTokenFile)
	waitFor(t, 30*time.Second, "the admin token", func() bool { _, err := os.Stat(tokenFile); return err == nil })
	fi, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", adminTokenFile, fi.Mode().Perm())
	}
	var tok adminToken
	b, _ := os.ReadFile(tokenFile)
	if err := json.Unmarshal(b, &tok); err != nil || tok.Addr != p.adminAddr() || len(tok.Token) != 64 {
		t.Fatalf("token file %s: %+v (%v), want the admin address %s and a 64-hex token", b, tok, err, p.adminAddr())
	}

	// No CHORUS_ADMIN_LISTEN here: the address comes from the data directory.
	env := []string{"CHORUS_DATA_DIR=" + data, "CHORUS_LOG_LEVEL=warn"}
	docs := t.TempDir()
	os.WriteFile(filepath.Join(docs, "loyalty.md"), []byte("# Loyalty card\n\nEvery tenth coffee is free with the Chorus loyalty card.\n"), 0o644)
	out, _ := chorus(t, env, "", "kb", "ingest", docs)
	if !strings.Contains(out, "1 added") || !strings.Contains(out, "added loyalty.md") {
		t.Errorf("ingest through serve: %q", out)
	}
	out, _ = chorus(t, env, "", "kb", "list")
	if !strings.Contains(out, "loyalty.md") || !strings.Contains(out, "source "+docs) {
		t.Errorf("list through serve:\n%s", out)
	}
	out, _ = chorus(t, env, "", "kb", "search", "tenth", "coffee", "free", "-k", "1")
	if !strings.HasPrefix(out, "1. [") || !strings.Contains(out, "loyalty card") {
		t.Errorf("search through serve: %q", out)
	}
	out, _ = chorus(t, env, "", "export", "--user", "telegram:42")
	var exp struct {
		User string `json:"user"`
	}
	if err := json.Unmarshal([]byte(out), &exp); err != nil || exp.User != "telegram:42" {
		t.Errorf("export through serve: %v\n%s", err, out)
	}
	out, _ = chorus(t, env, "", "forget", "--user", "telegram:42")
	if !strings.HasPrefix(out, "forgot telegram:42: ") {
		t.Errorf("forget through serve: %q", out)
	}
	// An error inside serve comes back as the command's error.
	cmd := exec.Command(binary, "kb", "remove", "no-such-source")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	res, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(res), "no-such-source") {
		t.Errorf("kb remove of nothing through serve: err %v, output %s", err, res)
	}

	// A wrong token and a wrong method are refused.
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.adminAddr()+pathCLI, strings.NewReader(`{"command":"kb","args":["list"]}`))
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", resp.StatusCode)
	}
	resp, err = http.Get("http://" + p.adminAddr() + pathCLI)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}

	p.term(t)
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Errorf("token file left after serve stopped: %v", err)
	}
	out, _ = chorus(t, env, "", "kb", "list")
	if !strings.Contains(out, "loyalty.md") {
		t.Errorf("list after serve stopped:\n%s", out)
	}
	// A token left by a serve that was killed names an address nobody
	// listens on: the command opens the file itself.
	stale, _ := json.Marshal(adminToken{Addr: freePort(t), Token: strings.Repeat("1", 64)})
	if err := os.WriteFile(tokenFile, stale, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ = chorus(t, env, "", "kb", "list")
	if !strings.Contains(out, "loyalty.md") {
		t.Errorf("list with a stale token:\n%s", out)
	}
}

// The command endpoint takes commands from loopback only, whatever the
// token.
func TestCLIHandlerLoopbackOnly(t *testing.T) {
	h := cliHandler(&app{cfg: &Config{}}, "tok")
	req := httptest.NewRequest(http.MethodPost, pathCLI, strings.NewReader(`{"command":"kb","args":["list"]}`))
	req.RemoteAddr = "192.0.2.7:4242"
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("from 192.0.2.7: %d, want 403", rec.Code)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:9464": "127.0.0.1:9464",
		"0.0.0.0:9464":   "127.0.0.1:9464",
		":9464":          "127.0.0.1:9464",
		"[::]:9464":      "[::1]:9464",
		"[::1]:9464":     "[::1]:9464",
	} {
		if got := loopbackAddr(in); got != want {
			t.Errorf("loopbackAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
