package campaigns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/campaigns"
)

const (
	secret  = "0123456789abcdef-conversion"
	browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)

var shortRE = regexp.MustCompile(`https://go\.lumen\.example/l/([a-z0-9]+)`)

func linkOpts() runOpts {
	return runOpts{
		links: campaigns.LinksConfig{Domains: []string{"lumen.example"}, BaseURL: "https://go.lumen.example", ConversionSecret: secret},
		kb:    kb{{Source: "shop.md", Text: "Order the winter blend at https://shop.lumen.example/winter?size=250 or read https://blog.other.example/beans."}},
	}
}

// published publishes a draft with links and returns the channel's text.
func published(t *testing.T, w *world, r *run) string {
	t.Helper()
	w.keepDraft(t, "d1", "telegram", "Winter blend is back: https://shop.lumen.example/winter?size=250. Background: https://blog.other.example/beans")
	contains(t, r.say(managerID, "/post publish d1"), "Published")
	sent := w.fake.Messages(channelID)
	if len(sent) != 1 {
		t.Fatalf("channel got %+v", sent)
	}
	return sent[0].Text
}

// live starts Chorus with o, publishes a draft with a tracked link and
// serves the campaigns' handler: the world, the run, the link's code, the
// post's id and the handler's server.
func live(t *testing.T, o runOpts) (*world, *run, string, string, *httptest.Server) {
	t.Helper()
	w := newWorld(t)
	r := w.start(t, o)
	code := shortRE.FindStringSubmatch(published(t, w, r))[1]
	srv := httptest.NewServer(r.camp.Handler())
	t.Cleanup(srv.Close)
	return w, r, code, postID(t, w), srv
}

func postID(t *testing.T, w *world) string {
	t.Helper()
	ps := w.posts(t)
	if len(ps) == 0 {
		t.Fatal("no post")
	}
	return ps[len(ps)-1].ID
}

func TestLinksRewrittenOnlyForBrandDomains(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, linkOpts())
	text := published(t, w, r)
	m := shortRE.FindAllStringSubmatch(text, -1)
	if len(m) != 1 || !strings.Contains(text, "https://blog.other.example/beans") || strings.Contains(text, "shop.lumen.example") {
		t.Fatalf("published text = %q", text)
	}
	// The sentence's full stop stays outside the link.
	if !strings.Contains(text, m[0][0]+". Background") {
		t.Fatalf("punctuation lost: %q", text)
	}

	// An answer's link becomes a link of the "answer" campaign; the same
	// link again in the same chat keeps its code.
	w.llm.Reply = func(bot.Request) (string, error) {
		return "You can order it at https://www.lumen.example/shop today. See https://example.org too.", nil
	}
	a1 := r.say(followerID, "where can I order?")
	a2 := r.say(followerID, "where again?")
	c1, c2 := shortRE.FindStringSubmatch(a1), shortRE.FindStringSubmatch(a2)
	if c1 == nil || c2 == nil || c1[1] != c2[1] || !strings.Contains(a1, "https://example.org") {
		t.Fatalf("answers = %q, %q", a1, c2)
	}
	srv := httptest.NewServer(r.camp.Handler())
	defer srv.Close()
	res := get(t, srv.URL+"/l/"+c1[1], browser, "")
	loc, _ := url.Parse(res.Header.Get("Location"))
	if q := loc.Query(); loc.Host != "www.lumen.example" || q.Get("utm_campaign") != "answer" || q.Get("utm_source") != "telegram" {
		t.Fatalf("answer link goes to %s", loc)
	}
	// Clicks on links in private chats count for "dm", never for the
	// chat, whose id names the person.
	st, err := r.camp.Stats(context.Background(), "answer")
	if err != nil || st.Clicks != 1 || st.Chats["telegram/dm"] == nil || len(st.Chats) != 1 {
		t.Fatalf("answer stats = %+v, %v", st, err)
	}
}

func get(t *testing.T, u, agent, forwarded string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if agent != "" {
		req.Header.Set("User-Agent", agent)
	}
	if forwarded != "" {
		req.Header.Set("X-Forwarded-For", forwarded)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestRedirectCountsPeopleNotPreviews(t *testing.T) {
	w, r, code, pid, srv := live(t, linkOpts())

	// The preview fetchers of Telegram and Discord follow every link once.
	for _, ua := range []string{"TelegramBot (like TwitterBot)", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", ""} {
		res := get(t, srv.URL+"/l/"+code, ua, "")
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || loc.Host != "shop.lumen.example" || loc.Query().Get("chorus_click") != "" {
			t.Fatalf("%q: %d %s", ua, res.StatusCode, loc)
		}
	}
	// A person: 302 to the stored target, its own query kept, with UTM
	// and a click id; whatever the request adds is ignored.
	res := get(t, srv.URL+"/l/"+code+"?url=https://evil.example/&utm_campaign=x", browser, "")
	loc, _ := url.Parse(res.Header.Get("Location"))
	q := loc.Query()
	if res.StatusCode != http.StatusFound || loc.Scheme != "https" || loc.Host != "shop.lumen.example" || loc.Path != "/winter" ||
		q.Get("size") != "250" || q.Get("utm_source") != "telegram" || q.Get("utm_medium") != "community" ||
		q.Get("utm_campaign") != pid || q.Get("chorus_click") == "" || strings.Contains(loc.String(), "evil") {
		t.Fatalf("redirect: %d %s", res.StatusCode, loc)
	}
	// The same person twice more, then someone else.
	get(t, srv.URL+"/l/"+code, browser, "")
	get(t, srv.URL+"/l/"+code, browser, "203.0.113.9") // not trusted: still 127.0.0.1
	for _, bad := range []string{"/l/zzzzzzz", "/l/..%2f..%2fetc", "/l/" + strings.ToUpper(code), "/l/"} {
		if res := get(t, srv.URL+bad, browser, ""); res.StatusCode != http.StatusNotFound || res.Header.Get("Location") != "" {
			t.Fatalf("%s: %d %s", bad, res.StatusCode, res.Header.Get("Location"))
		}
	}
	st, err := r.camp.Stats(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	chat := "telegram/-1009001"
	if st.Clicks != 3 || st.Unique != 1 || st.Links[code] != 3 || st.Chats[chat] == nil || st.Chats[chat].Clicks != 3 || st.Days["2026-12-20"] != 3 {
		t.Fatalf("stats = %+v", st)
	}
	if n := len(w.events.Of(bot.EventClick)); n != 3 {
		t.Fatalf("%d click events, want 3", n)
	}
	// Nothing kept names the address: only salted hashes.
	assertNoAddress(t, w, "127.0.0.1", "203.0.113.9")
}

func TestUniqueClicksBehindTrustedProxyAndAcrossDays(t *testing.T) {
	o := linkOpts()
	o.links.TrustForwardedFor = true
	w, r, code, pid, srv := live(t, o)
	get(t, srv.URL+"/l/"+code, browser, "198.51.100.1")
	get(t, srv.URL+"/l/"+code, browser, "198.51.100.2")
	get(t, srv.URL+"/l/"+code, browser, "10.0.0.1, 198.51.100.2") // the proxy appends the client
	var salt1 []byte
	_ = w.kv.Scan(context.Background(), campaigns.BucketKeys, "salt/", "salt0", func(_ string, v []byte) error { salt1 = bytes.Clone(v); return nil })
	// The next day the same visitor counts as unique again, under a new salt;
	// the old salt and hashes are gone.
	w.clock.Add(24 * time.Hour)
	get(t, srv.URL+"/l/"+code, browser, "198.51.100.1")
	st, err := r.camp.Stats(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Clicks != 4 || st.Unique != 3 || st.UniqueDays["2026-12-20"] != 2 || st.UniqueDays["2026-12-21"] != 1 {
		t.Fatalf("stats = %+v", st)
	}
	var salts, seen []string
	_ = w.kv.Scan(context.Background(), campaigns.BucketKeys, "salt/", "salt0", func(k string, v []byte) error {
		salts = append(salts, k)
		if bytes.Equal(v, salt1) {
			t.Error("the first day's salt is still kept")
		}
		return nil
	})
	_ = w.kv.Scan(context.Background(), campaigns.BucketSeen, "", "", func(k string, _ []byte) error { seen = append(seen, k); return nil })
	if len(salts) != 1 || salts[0] != "salt/2026-12-21" || len(seen) != 1 || !strings.HasPrefix(seen[0], "2026-12-21/") {
		t.Fatalf("salts %v, seen %v", salts, seen)
	}
	assertNoAddress(t, w, "198.51.100.1", "198.51.100.2")
}

// assertNoAddress fails when any KV value holds one of the addresses.
func assertNoAddress(t *testing.T, w *world, addrs ...string) {
	t.Helper()
	for _, b := range []string{campaigns.BucketStats, campaigns.BucketSeen, campaigns.BucketKeys, campaigns.BucketLinks, campaigns.BucketConversions} {
		_ = w.kv.Scan(context.Background(), b, "", "", func(k string, v []byte) error {
			for _, a := range addrs {
				if strings.Contains(k+string(v), a) {
					t.Errorf("bucket %s key %s holds %s", b, k, a)
				}
			}
			return nil
		})
	}
}

func postConversion(t *testing.T, u string, body []byte, sig string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u+"/conversions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(campaigns.SignatureHeader, sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestConversions(t *testing.T) {
	w, r, code, pid, srv := live(t, linkOpts())
	loc, _ := url.Parse(get(t, srv.URL+"/l/"+code, browser, "").Header.Get("Location"))
	click := loc.Query().Get("chorus_click")

	body := []byte(`{"event_id":"order-1001","click_id":"` + click + `","event":"purchase","value":12.5,"currency":"eur"}`)
	if code, out := postConversion(t, srv.URL, body, campaigns.Sign(secret, body)); code != http.StatusOK || out["status"] != "counted" || out["campaign"] != pid {
		t.Fatalf("conversion: %d %v", code, out)
	}
	// The shop retries: counted once.
	if code, out := postConversion(t, srv.URL, body, campaigns.Sign(secret, body)); code != http.StatusOK || out["status"] != "duplicate" {
		t.Fatalf("replay: %d %v", code, out)
	}
	signup := []byte(`{"event_id":"signup-7","click_id":"` + click + `","event":"signup"}`)
	if code, _ := postConversion(t, srv.URL, signup, campaigns.Sign(secret, signup)); code != http.StatusOK {
		t.Fatalf("signup: %d", code)
	}
	// Refused: no signature, a wrong one, another secret's, a forged or
	// altered click id, a body that is not a conversion.
	if code, _ := postConversion(t, srv.URL, body, ""); code != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d", code)
	}
	if code, _ := postConversion(t, srv.URL, body, "sha256=00ff"); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d", code)
	}
	if code, _ := postConversion(t, srv.URL, body, campaigns.Sign("another-secret-0123456789", body)); code != http.StatusUnauthorized {
		t.Fatalf("other secret: %d", code)
	}
	tampered := strings.Replace(body2(click), click, click[:len(click)-2]+"xx", 1)
	if code, _ := postConversion(t, srv.URL, []byte(tampered), campaigns.Sign(secret, []byte(tampered))); code != http.StatusNotFound {
		t.Fatalf("tampered click: %d", code)
	}
	forged := `{"event_id":"e3","click_id":"` + code + `.AAAAAAAA.abc.AAAAAAAAAAAAAAAA","event":"signup"}`
	if code, _ := postConversion(t, srv.URL, []byte(forged), campaigns.Sign(secret, []byte(forged))); code != http.StatusNotFound {
		t.Fatalf("forged click: %d", code)
	}
	bad := []byte(`{"event_id":"","click_id":"x"}`)
	if code, _ := postConversion(t, srv.URL, bad, campaigns.Sign(secret, bad)); code != http.StatusBadRequest {
		t.Fatalf("bad body: %d", code)
	}
	st, err := r.camp.Stats(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	chat := st.Chats["telegram/-1009001"]
	if st.Conversions != 2 || st.Values["EUR"] != 12.5 || st.Events["purchase"] != 1 || st.Events["signup"] != 1 || chat == nil || chat.Conversions != 2 || chat.Value != 12.5 {
		t.Fatalf("stats = %+v", st)
	}
	if evs := w.events.Of(bot.EventConversion); len(evs) != 2 || evs[0].Platform != "telegram" || evs[0].Label != "post" || evs[0].Score != 12.5 {
		t.Fatalf("conversion events = %+v", evs)
	}
	// No secret configured: every conversion is refused.
	r.stop()
	o := linkOpts()
	o.links.ConversionSecret = ""
	r2 := w.start(t, o)
	srv2 := httptest.NewServer(r2.camp.Handler())
	defer srv2.Close()
	if code, _ := postConversion(t, srv2.URL, body, campaigns.Sign("", body)); code != http.StatusUnauthorized {
		t.Fatalf("no secret: %d", code)
	}
}

func body2(click string) string {
	return `{"event_id":"order-2","click_id":"` + click + `","event":"purchase"}`
}

// TestAnnouncementIsACampaign: a confirmed /announce goes out through the
// campaigns: its link tracked, its reach kept, in /campaigns.
func TestAnnouncementIsACampaign(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, linkOpts())
	preview := r.say(managerID, "/announce The winter blend is here: https://shop.lumen.example/winter?size=250")
	code := regexp.MustCompile(`/announce confirm (\d{6})`).FindStringSubmatch(preview)
	if code == nil {
		t.Fatalf("preview: %q", preview)
	}
	contains(t, r.say(managerID, "/announce confirm "+code[1]), "1")
	sent := w.fake.Messages(channelID)
	if len(sent) != 1 || !shortRE.MatchString(sent[0].Text) || strings.Contains(sent[0].Text, "shop.lumen.example") {
		t.Fatalf("channel got %+v", sent)
	}
	ps := w.posts(t)
	if len(ps) != 1 || ps[0].Kind != campaigns.KindAnnouncement || !strings.HasPrefix(ps[0].ID, "a") || ps[0].Reach != 1500 || ps[0].Author != "telegram:7" {
		t.Fatalf("posts = %+v", ps)
	}
	contains(t, r.say(managerID, "/campaigns"), ps[0].ID+" · announcement · telegram -1009001", "reach 1500 · clicks 0")
}
