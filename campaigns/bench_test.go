package campaigns_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"

	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/campaigns"
)

// BenchmarkRedirect measures GET /l/{code} through the handler (no
// network): "preview" is a link-preview fetcher (redirected, not counted),
// "click" a person (counted: click id signed, visitor hashed with the
// day's salt, figures added in memory). The difference is what counting a
// click adds. Run with -cpu 1 for redirects per second on one core.
func BenchmarkRedirect(b *testing.B) {
	kv := bottest.NewMemKV()
	c, err := campaigns.New(campaigns.DefaultConfig(), campaigns.LinksConfig{Domains: []string{"lumen.example"}, BaseURL: "https://go.lumen.example"},
		campaigns.Deps{KV: kv})
	if err != nil {
		b.Fatal(err)
	}
	text := c.Rewrite(context.Background(), "See https://shop.lumen.example/winter?size=250", campaigns.Campaign{ID: "p1", Kind: campaigns.KindPost, Platform: "telegram", Chat: "-100"})
	m := shortRE.FindStringSubmatch(text)
	if m == nil {
		b.Fatalf("not rewritten: %q", text)
	}
	h := c.Handler()
	for _, bc := range []struct{ name, agent string }{{"preview", "TelegramBot (like TwitterBot)"}, {"click", browser}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/l/"+m[1], nil)
			req.Header.Set("User-Agent", bc.agent)
			b.ReportAllocs()
			cpu0 := cpuTime()
			i := 0
			for b.Loop() {
				req.RemoteAddr = "198.51." + strconv.Itoa(i%200) + "." + strconv.Itoa(i/200%250) + ":4242"
				i++
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusFound {
					b.Fatalf("status %d", w.Code)
				}
			}
			// CPU time per redirect: on a shared machine wall time per op
			// includes waiting for a core, CPU time does not.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(i), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
