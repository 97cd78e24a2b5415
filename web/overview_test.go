package web

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// fakeStats answers the overview from fixed figures and records the
// view it was asked for.
type fakeStats struct {
	mu    sync.Mutex
	views []bot.View
}

func (f *fakeStats) Overview(_ context.Context, period time.Duration, v bot.View) (Overview, error) {
	f.mu.Lock()
	f.views = append(f.views, v)
	f.mu.Unlock()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	o := Overview{Messages: 120, ActiveUsers: 17, Replies: 40, RepliesOK: 30, ReplyRate: 0.75,
		MedianFirstReply: 1800 * time.Millisecond, Step: time.Hour}
	for i := range 24 {
		p := Point{Time: t0.Add(time.Duration(i) * time.Hour), Counts: [3]int{i % 3, 2, 1 + i%2}, Users: i % 5}
		o.Series = append(o.Series, p)
		for k := range p.Counts {
			o.Counts[k] += p.Counts[k]
		}
	}
	return o, nil
}

func (f *fakeStats) Chats(context.Context, time.Duration) ([]ChatInfo, error) {
	return []ChatInfo{{Key: "tg/g1", Title: "Lumen <script>alert(1)</script> fans", Messages: 80}, {Key: "tg/g2", Messages: 40}}, nil
}

func (f *fakeStats) lastView() bot.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.views[len(f.views)-1]
}

func TestOverviewPage(t *testing.T) {
	fs := &fakeStats{}
	cr := newConsoleRig(t, Config{}, func(_ *bottest.Rig, d *Deps) { d.Stats = fs })
	b, _ := cr.signIn(t, "2")
	cr.con.alerts.Observe(bot.Event{Kind: bot.EventAlert, Time: cr.Clock.Now(), Platform: "tg", Chat: "tg/g1", Category: "negative_surge"})
	resp, body := get(t, b, cr.srv.URL+PathConsole)
	if resp.StatusCode != 200 {
		t.Fatalf("overview = %d", resp.StatusCode)
	}
	for _, want := range []string{"<b>120</b>", "<b>17</b>", "75%", "1.8s", "<svg", "Negative surge",
		"Lumen &lt;script&gt;alert(1)&lt;/script&gt; fans", `value="tg/g2"`} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("a chat title reached the page as markup")
	}
	if !fs.lastView().All() {
		t.Error("the default overview is not of the whole community")
	}
	// One chat; a chat not in the list (a DM's key) is not honoured.
	get(t, b, cr.srv.URL+PathConsole+"?chat=tg/g2&period=7d")
	if v := fs.lastView(); v.All() || !v.Covers("tg/g2") || v.Covers("tg/g1") {
		t.Errorf("view for chat g2: %+v", v)
	}
	_, body = get(t, b, cr.srv.URL+PathConsole+"?chat=tg/42&period=7d")
	if !fs.lastView().All() {
		t.Error("a chat key outside the list narrowed the overview")
	}
	if !strings.Contains(body, `value="7d" selected`) {
		t.Error("the period is not kept")
	}
}

func TestMessagesHaveBothLanguages(t *testing.T) {
	for k := range messages["en"] {
		if _, ok := messages["zh"][k]; !ok {
			t.Errorf("zh lacks %q", k)
		}
	}
	for k := range messages["zh"] {
		if _, ok := messages["en"][k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, 4}, {3, 4}, {7, 8}, {9, 10}, {11, 20}, {95, 100}, {130, 200}, {4100, 5000}} {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSignedInPageHeaders(t *testing.T) {
	cr := newConsoleRig(t, Config{}, nil)
	b, _ := cr.signIn(t, "1")
	resp, _ := get(t, b, cr.srv.URL+PathConsole)
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.Header)
	}
	resp, _ = get(t, b, cr.srv.URL+"/console/static/console.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("css = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
