package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/web"
)

// TestConsoleLinkSignsIn prints a link with chorus console-link and signs
// in with it on the console serve would mount over the same data
// directory: the key is shared through the data directory, and the role
// comes from the engine.
func TestConsoleLinkSignsIn(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "chorus.yaml")
	yaml := "data_dir: " + data + "\nroles:\n  owners: [\"telegram:42\"]\nweb:\n  listen: 127.0.0.1:0\n  base_url: https://chorus.example.com\nkb:\n  ingest_on_start: false\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	err := runConsoleLink(context.Background(), env, []string{"--config", cfgPath, "--user", "telegram:7"})
	if err == nil || !strings.Contains(err.Error(), "not a manager or owner") {
		t.Errorf("console-link for a follower = %v", err)
	}
	if err := runConsoleLink(context.Background(), env, []string{"--config", cfgPath, "--user", "nonsense"}); err == nil {
		t.Error("console-link accepted a malformed user")
	}
	out.Reset()
	if err := runConsoleLink(context.Background(), env, []string{"--config", cfgPath, "--user", "telegram:42"}); err != nil {
		t.Fatalf("console-link: %v\n%s", err, errb.String())
	}
	link := strings.Fields(out.String())[0]
	if !strings.HasPrefix(link, "https://chorus.example.com/console/signin?t=") {
		t.Fatalf("link %q", link)
	}
	if fi, err := os.Stat(filepath.Join(data, web.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}

	cfg, err := loadConfigFile(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	st, err := openStore(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := newApp(cfg, log, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := newWebServer(cfg, log, a)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	u, _ := url.Parse(link)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(ts.URL+web.PathSignIn, url.Values{"t": {u.Query().Get("t")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Errorf("sign-in with the printed link = %d %v", resp.StatusCode, resp.Cookies())
	}
	if _, ok := a.engine.Command("console"); !ok {
		t.Error("/console is not registered")
	}
	// /console typed at the terminal (chorus chat) gives a link for the
	// person there, the owner; a Telegram identity no config names is
	// refused.
	for _, tc := range []struct {
		id   web.Identity
		want int
	}{{web.Identity{Platform: "console", ID: "owner"}, http.StatusSeeOther}, {web.Identity{Platform: "telegram", ID: "7"}, http.StatusUnauthorized}} {
		l, err := a.plug.web.Signer().Link(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		lu, _ := url.Parse(l)
		resp, err := c.PostForm(ts.URL+web.PathSignIn, url.Values{"t": {lu.Query().Get("t")}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("sign-in as %s = %d, want %d", tc.id.Key(), resp.StatusCode, tc.want)
		}
	}
}
