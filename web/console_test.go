package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// consoleRig is an engine with the console plugged in, served by an
// httptest server: tg:1 is an owner, tg:2 a manager, anyone else a
// follower.
type consoleRig struct {
	*bottest.Rig
	con *Console
	srv *httptest.Server
	// demoted makes the authority say tg:2 is a follower.
	demoted atomic.Bool
}

func newConsoleRig(t *testing.T, cfg Config, deps func(r *bottest.Rig, d *Deps)) *consoleRig {
	t.Helper()
	cr := &consoleRig{}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = time.Hour
	}
	cr.Rig = bottest.NewRig(t, bottest.RigConfig{
		Engine: bot.Config{Roles: bot.Roles{Owners: []string{"tg:1"}, Managers: []string{"tg:2"}}},
		Plugins: func(r *bottest.Rig) []bot.Plugin {
			d := Deps{KV: r.KV, Auditor: r.Audit, Key: []byte("0123456789abcdef0123456789abcdef"),
				Authority: func(id Identity) bot.Authority {
					if id.Key() == "tg:2" && cr.demoted.Load() {
						return bot.Authority{Role: bot.RoleFollower}
					}
					return cr.Engine.AuthorityOf(&bot.Message{Platform: id.Platform, Author: bot.User{ID: id.ID, Roles: id.Roles},
						Chat: bot.Chat{ID: id.ID, Kind: bot.ChatDM}})
				}}
			if deps != nil {
				deps(r, &d)
			}
			c, err := NewConsole(cfg, d, WithClock(r.Clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			cr.con = c
			return []bot.Plugin{c.Plugin()}
		},
	})
	s := NewServer("127.0.0.1:0")
	cr.con.Mount(s)
	cr.srv = httptest.NewServer(s.Handler())
	t.Cleanup(cr.srv.Close)
	cr.con.signer.base = cr.srv.URL
	return cr
}

var linkRE = regexp.MustCompile(`https?://\S+/console/signin\?t=\S+`)

// askLink sends /console from user in chat kind and returns the link in
// the reply, "" when there is none, and the reply.
func (cr *consoleRig) askLink(t *testing.T, user string, kind bot.ChatKind) (string, string) {
	t.Helper()
	chat := "dm-" + user
	if kind != bot.ChatDM {
		chat = "group"
	}
	before := len(cr.Platform.Replies(chat))
	cr.Send(t, bot.Message{Chat: bot.Chat{ID: chat, Kind: kind}, Author: bot.User{ID: user, Name: "User " + user}, Text: "/console"})
	rs := cr.Platform.Replies(chat)
	if len(rs) <= before {
		t.Fatalf("no reply to /console from %s", user)
	}
	reply := rs[len(rs)-1]
	return strings.ReplaceAll(linkRE.FindString(reply), "&amp;", "&"), reply
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func token(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("t")
}

// signIn asks for a link as user and signs in with it; it returns the
// browser and the CSRF token of the session.
func (cr *consoleRig) signIn(t *testing.T, user string) (*http.Client, string) {
	t.Helper()
	link, reply := cr.askLink(t, user, bot.ChatDM)
	if link == "" {
		t.Fatalf("no link for %s: %q", user, reply)
	}
	b := browser(t)
	resp, body := get(t, b, link)
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/console/signin"`) {
		t.Fatalf("GET link = %d\n%s", resp.StatusCode, body)
	}
	resp, _ = post(t, b, cr.srv.URL+PathSignIn, url.Values{"t": {token(t, link)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != PathConsole {
		t.Fatalf("POST sign-in = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = get(t, b, cr.srv.URL+PathConsole)
	if resp.StatusCode != 200 {
		t.Fatalf("GET console after sign-in = %d\n%s", resp.StatusCode, body)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return b, m[1]
}

func TestNoSessionIsSentToSignIn(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	for _, p := range []string{PathConsole} {
		resp, body := get(t, browser(t), cr.srv.URL+p)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Send /console to the bot") {
			t.Errorf("GET %s without a session = %d\n%s", p, resp.StatusCode, body)
		}
	}
	resp, _ := get(t, browser(t), cr.srv.URL+"/console")
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("GET /console = %d", resp.StatusCode)
	}
}

func TestFollowerGetsNoLink(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	link, reply := cr.askLink(t, "99", bot.ChatDM)
	if link != "" || strings.Contains(reply, "signin") {
		t.Errorf("a follower got a link: %q", reply)
	}
	// A manager asking in a group gets no link there either.
	link, reply = cr.askLink(t, "2", bot.ChatGroup)
	if link != "" || !strings.Contains(reply, "private message") {
		t.Errorf("/console in a group: %q", reply)
	}
	// A link forged for a follower by someone who has the key's output
	// for another user does not verify, and a follower's own link (made
	// with the key) does not sign in.
	flink, err := cr.con.signer.Link(Identity{Platform: "tg", ID: "99"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := post(t, browser(t), cr.srv.URL+PathSignIn, url.Values{"t": {token(t, flink)}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("a follower's link signed in: %d %v\n%s", resp.StatusCode, resp.Cookies(), body)
	}
}

func TestSignInOnceAndCookie(t *testing.T) {
	cr := newConsoleRig(t, Config{BaseURL: "https://chorus.example.com"}, nil)
	link, _ := cr.askLink(t, "2", bot.ChatDM)
	if !strings.HasPrefix(link, cr.srv.URL+PathSignIn) {
		t.Fatalf("link %q", link)
	}
	b := browser(t)
	// Opening the link (a chat app's preview does) consumes nothing.
	for range 2 {
		if resp, _ := get(t, b, link); resp.StatusCode != 200 {
			t.Fatalf("GET link = %d", resp.StatusCode)
		}
	}
	resp, _ := post(t, b, cr.srv.URL+PathSignIn, url.Values{"t": {token(t, link)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || !ck.Secure || ck.Path != PathConsole {
		t.Fatalf("session cookie %+v", ck)
	}
	// The same link again: refused.
	resp, body := post(t, browser(t), cr.srv.URL+PathSignIn, url.Values{"t": {token(t, link)}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "already used") {
		t.Errorf("second use = %d\n%s", resp.StatusCode, body)
	}
	// The sign-in is audited under the manager's platform identity.
	var found bool
	for _, e := range cr.Audit.Entries(bot.AuditCommand) {
		if e.Actor == "tg:2" && e.Platform == "tg" && e.Rule == "console sign-in" {
			found = true
		}
	}
	if !found {
		t.Errorf("sign-in not audited: %+v", cr.Audit.Entries(""))
	}
}

func TestHTTPBaseCookieNotSecure(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	link, _ := cr.askLink(t, "1", bot.ChatDM)
	resp, _ := post(t, browser(t), cr.srv.URL+PathSignIn, url.Values{"t": {token(t, link)}})
	if cs := resp.Cookies(); len(cs) != 1 || cs[0].Secure {
		t.Errorf("cookies over http %+v", cs)
	}
}

func TestExpiredOrForgedLinkRefused(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	link, _ := cr.askLink(t, "2", bot.ChatDM)
	cr.Clock.Add(LinkTTL + time.Second)
	resp, body := get(t, browser(t), link)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "expired") {
		t.Errorf("GET expired link = %d\n%s", resp.StatusCode, body)
	}
	resp, _ = post(t, browser(t), cr.srv.URL+PathSignIn, url.Values{"t": {token(t, link)}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("POST expired link = %d", resp.StatusCode)
	}
	// A link signed with another key.
	other := NewSigner([]byte("another key another key another k"), cr.srv.URL)
	forged, _ := other.Link(Identity{Platform: "tg", ID: "1"})
	resp, body = post(t, browser(t), cr.srv.URL+PathSignIn, url.Values{"t": {token(t, forged)}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
		t.Errorf("forged link = %d\n%s", resp.StatusCode, body)
	}
}

func TestPostWithoutCSRFRefused(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	b, csrf := cr.signIn(t, "2")
	resp, body := post(t, b, cr.srv.URL+PathSignOut, url.Values{})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
		t.Errorf("sign-out without CSRF = %d\n%s", resp.StatusCode, body)
	}
	resp, _ = post(t, b, cr.srv.URL+PathSignOut, url.Values{"csrf": {csrf + "x"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out with a wrong CSRF = %d", resp.StatusCode)
	}
	if resp, _ := get(t, b, cr.srv.URL+PathConsole); resp.StatusCode != 200 {
		t.Fatalf("session ended by a refused POST: %d", resp.StatusCode)
	}
	resp, _ = post(t, b, cr.srv.URL+PathSignOut, url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != PathSignedOut {
		t.Errorf("sign-out = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, b, cr.srv.URL+PathConsole); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after sign-out = %d", resp.StatusCode)
	}
}

func TestRoleRecheckedEveryRequest(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	b, _ := cr.signIn(t, "2")
	cr.demoted.Store(true)
	resp, body := get(t, b, cr.srv.URL+PathConsole)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "no longer has a manager") {
		t.Errorf("demoted manager = %d\n%s", resp.StatusCode, body)
	}
	cr.demoted.Store(false)
	if resp, _ := get(t, b, cr.srv.URL+PathConsole); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the demotion did not end the session: %d", resp.StatusCode)
	}
}

func TestSessionExpires(t *testing.T) {
	cr := newConsoleRig(t, Config{SessionTTL: time.Hour}, nil)
	b, _ := cr.signIn(t, "1")
	cr.Clock.Add(time.Hour + time.Second)
	if resp, _ := get(t, b, cr.srv.URL+PathConsole); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired session = %d", resp.StatusCode)
	}
	if err := cr.con.ss.sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = cr.KV.Scan(context.Background(), bucketSessions, "", "", func(string, []byte) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d sessions left after the sweep", n)
	}
}

func TestChineseByAcceptLanguage(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	req, _ := http.NewRequest("GET", cr.srv.URL+PathConsole, nil)
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "你尚未登录") || resp.Header.Get("Content-Language") != "zh" {
		t.Errorf("zh page:\n%s", b)
	}
}
