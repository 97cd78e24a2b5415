package main

import (
	"context"
	"errors"
	"log/slog"
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

// TestLinksOnTheWebListener: as the binary wires it, a link to the brand's
// domain becomes a short link at web.base_url (links.base_url left
// empty), served on the public listener with a 302 carrying the UTM
// parameters; conversions are refused without the signature.
func TestLinksOnTheWebListener(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.KB.IngestOnStart = false
	cfg.Web.BaseURL = "https://go.lumen.example"
	cfg.Links.Domains = []string{"lumen.example"}
	cfg.Links.ConversionSecret = "0123456789abcdef-secret"
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := newApp(cfg, slog.New(slog.DiscardHandler), st)
	if err != nil {
		t.Fatal(err)
	}
	text := a.plug.camp.Rewrite(context.Background(), "Order at https://shop.lumen.example/winter.", campaigns.Campaign{ID: "p1", Kind: campaigns.KindPost, Platform: "telegram", Chat: "-100"})
	m := regexp.MustCompile(`^Order at https://go\.lumen\.example/l/([a-z0-9]+)\.$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("rewritten: %q", text)
	}
	ws := newWebServer(cfg, slog.New(slog.DiscardHandler), a)
	srv := httptest.NewServer(ws.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/l/"+m[1], nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc.Host != "shop.lumen.example" || loc.Query().Get("utm_campaign") != "p1" || loc.Query().Get("chorus_click") == "" {
		t.Fatalf("redirect: %d %s", res.StatusCode, loc)
	}
	// The console's Campaigns page reads the same figures.
	rep, err := consoleCampaigns{a.plug.camp}.CampaignReport(context.Background(), 24*time.Hour)
	if err != nil || len(rep.Rows) != 1 || rep.Rows[0].ID != "p1" || rep.Rows[0].Clicks != 1 || rep.Rows[0].CTR != -1 || rep.Total.Clicks != 1 {
		t.Fatalf("console report = %+v, %v", rep, err)
	}
	res, err = http.Post(srv.URL+"/conversions", "application/json", strings.NewReader(`{"event_id":"1","click_id":"x","event":"signup"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned conversion: %d", res.StatusCode)
	}
}

// TestLinksNeedAPublicAddress: tracked links are refused at start without
// a public address said in so many words (web.base_url's http://LISTEN
// fallback is loopback) or without the listener.
func TestLinksNeedAPublicAddress(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no base url", func(c *Config) {}, "links.base_url"},
		{"no listener", func(c *Config) { c.Web.Listen, c.Links.BaseURL = "", "https://go.lumen.example" }, "links.domains"},
		{"bad domain", func(c *Config) {
			c.Links.BaseURL, c.Links.Domains = "https://go.lumen.example", []string{"https://lumen.example/"}
		}, "links.domains[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.Links.Domains = []string{"lumen.example"}
			c.edit(cfg)
			err := cfg.validate()
			var fe *bot.FieldError
			if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("validate = %v, want an error naming %s", err, c.field)
			}
		})
	}
	cfg := defaultConfig()
	cfg.Links.Domains, cfg.Web.BaseURL = []string{"lumen.example"}, "https://chorus.lumen.example/"
	if err := cfg.validate(); err != nil || cfg.links().BaseURL != "https://chorus.lumen.example/" {
		t.Fatalf("web.base_url as the default: %v, %q", err, cfg.links().BaseURL)
	}
}
