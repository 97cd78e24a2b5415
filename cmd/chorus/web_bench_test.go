package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/web"
)

// BenchmarkConsoleOverview100k renders the console's overview over 30
// days holding 100,000 scored messages (2,000 followers in 20 chats), as
// serve wires it over bbolt, through HTTP with a signed-in session. It
// reports the page's weight too.
func BenchmarkConsoleOverview100k(b *testing.B) {
	const msgs, users, chats = 100_000, 2000, 20
	dir := b.TempDir()
	cfgPath := filepath.Join(dir, "chorus.yaml")
	yaml := "data_dir: " + filepath.Join(dir, "data") + "\nroles:\n  owners: [\"telegram:1\"]\nweb:\n  listen: 127.0.0.1:0\nkb:\n  ingest_on_start: false\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := loadConfigFile(cfgPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	st, err := openStore(cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a, err := newApp(cfg, log, st)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	texts := []string{"love the new oat latte", "my order is late again, terrible", "what time do you open?",
		"the beans arrived, thanks", "refund please, the grinder broke", "咖啡很好喝", "配送太慢了", "hello everyone"}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	for i := range msgs {
		at := now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
		c := rng.IntN(chats)
		m := bot.Message{Platform: "telegram", ID: fmt.Sprint(i), Time: at, Text: texts[rng.IntN(len(texts))],
			Chat:   bot.Chat{ID: fmt.Sprint(-1000 - c), Kind: bot.ChatGroup, Title: fmt.Sprintf("Lumen chat %d", c)},
			Author: bot.User{ID: fmt.Sprint(rng.IntN(users)), Name: "fan"}}
		if _, err := a.plug.ana.Inspect(ctx, &m, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.plug.ana.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	srv := newWebServer(cfg, log, a)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	link, err := a.plug.web.Signer().Link(web.Identity{Platform: "telegram", ID: "1"})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(link)
	resp, err := client.PostForm(ts.URL+web.PathSignIn, url.Values{"t": {u.Query().Get("t")}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	var size int
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Get(ts.URL + "/console/?period=30d")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("overview = %d", resp.StatusCode)
		}
		size = int(n)
	}
	b.ReportMetric(float64(size), "page_bytes")
}
