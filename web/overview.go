package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Overview is the community at a glance over a period: what the overview
// page shows. cmd/chorus fills it from analytics.
type Overview struct {
	// Messages scored in the period, from ActiveUsers distinct authors.
	Messages, ActiveUsers int
	// Replies the bot set out to give; RepliesOK those that were a real
	// answer; ReplyRate their share.
	Replies, RepliesOK int
	ReplyRate          float64
	// MedianFirstReply is the median time from receipt to the first
	// visible words of an answer (0 when none).
	MedianFirstReply time.Duration
	// Counts are the messages by sentiment: negative, neutral, positive.
	Counts [3]int
	// Series is the period step by step (Step: an hour up to two days, a
	// day beyond).
	Series []Point
	Step   time.Duration
}

// Point is one step of the overview's series.
type Point struct {
	Time time.Time
	// Counts are the messages by sentiment: negative, neutral, positive.
	Counts [3]int
	Users  int
}

// ChatInfo is a chat the overview may be narrowed to.
type ChatInfo struct {
	// Key is the chat's key, as bot.ChatKey gives it ("telegram/-100").
	Key      string
	Title    string
	Messages int
}

// Stats is what the overview reads: analytics, narrowed to what a page
// needs.
type Stats interface {
	// Overview computes the figures over the period ending now, in the
	// chats v covers.
	Overview(ctx context.Context, period time.Duration, v bot.View) (Overview, error)
	// Chats lists the group chats with messages in the period, busiest
	// first (private chats are never listed).
	Chats(ctx context.Context, period time.Duration) ([]ChatInfo, error)
}

// alertLog keeps the latest alerts the engine emitted (bot.EventAlert),
// newest last: the overview lists them. They live in memory; the
// managers' channel got each one when it happened.
type alertLog struct {
	mu sync.Mutex
	as []alert
}

type alert struct {
	Time     time.Time
	Platform string
	Chat     string
	Kind     string
}

const maxAlerts = 50

// Observe keeps alert events.
func (l *alertLog) Observe(e bot.Event) {
	if e.Kind != bot.EventAlert {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.as = append(l.as, alert{Time: e.Time, Platform: e.Platform, Chat: e.Chat, Kind: e.Category})
	if len(l.as) > maxAlerts {
		l.as = slices.Delete(l.as, 0, len(l.as)-maxAlerts)
	}
}

// since returns the alerts at or after t in the chats v covers, newest
// first.
func (l *alertLog) since(t time.Time, v bot.View) []alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []alert
	for i := len(l.as) - 1; i >= 0; i-- {
		a := l.as[i]
		if !a.Time.Before(t) && v.Covers(a.Chat) {
			out = append(out, a)
		}
	}
	return out
}

// periods are the overview's choices.
var periods = []struct {
	Key string
	D   time.Duration
}{{"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}, {"90d", 90 * 24 * time.Hour}}

func parsePeriod(s string) (string, time.Duration) {
	for _, p := range periods {
		if p.Key == s {
			return p.Key, p.D
		}
	}
	return periods[0].Key, periods[0].D
}

// viewOfChat is the view of one chat key ("telegram/-100"), or every
// chat for "".
func viewOfChat(key string) bot.View {
	if key == "" {
		return bot.ViewAll()
	}
	p, c, ok := strings.Cut(key, "/")
	if !ok {
		return bot.ViewAll()
	}
	return bot.ViewChat(p, c)
}

type overviewData struct {
	Period, Chat  string
	Periods       []string
	Chats         []ChatInfo
	ChatTitle     string
	O             Overview
	Share         [3]float64
	ShareChart    any
	ActivityChart any
	Alerts        []alert
	Unavailable   bool
}

func (c *Console) overview(w http.ResponseWriter, r *request) {
	pk, d := parsePeriod(r.URL.Query().Get("period"))
	data := overviewData{Period: pk}
	for _, p := range periods {
		data.Periods = append(data.Periods, p.Key)
	}
	if c.d.Stats == nil {
		data.Unavailable = true
		c.renderPage(w, r, http.StatusOK, "overview", data)
		return
	}
	ctx := r.Context()
	chats, err := c.d.Stats.Chats(ctx, d)
	if err != nil {
		c.log.Warn("console: chats", "err", err)
	}
	data.Chats = chats
	// Only a chat of the list may be chosen: the list holds no private
	// chat, so no URL narrows the overview to one person's DM.
	if ck := r.URL.Query().Get("chat"); ck != "" {
		for _, ch := range chats {
			if ch.Key == ck {
				data.Chat, data.ChatTitle = ck, ch.Title
			}
		}
	}
	v := viewOfChat(data.Chat)
	o, err := c.d.Stats.Overview(ctx, d, v)
	if err != nil {
		c.log.Warn("console: overview", "err", err)
		c.fail(w, r, http.StatusInternalServerError, r.T("overview.failed"))
		return
	}
	data.O = o
	if total := o.Counts[0] + o.Counts[1] + o.Counts[2]; total > 0 {
		for i := range o.Counts {
			data.Share[i] = float64(o.Counts[i]) / float64(total)
		}
	}
	names := [3]string{r.T("sentiment.negative"), r.T("sentiment.neutral"), r.T("sentiment.positive")}
	data.ShareChart = shareChart(r.T("overview.share_chart"), o.Series, o.Step, names)
	data.ActivityChart = lineChart(r.T("overview.activity_chart"), o.Series, o.Step, []lineSeries{
		{name: r.T("overview.messages"), colour: "#2f6fde", value: func(p Point) int { return p.Counts[0] + p.Counts[1] + p.Counts[2] }},
		{name: r.T("overview.active_users"), colour: "#e0a100", dash: true, value: func(p Point) int { return p.Users }},
	})
	data.Alerts = c.alerts.since(c.now().Add(-d), v)
	c.renderPage(w, r, http.StatusOK, "overview", data)
}

// T translates in the request's language.
func (r *request) T(key string, args ...any) string { return tr(r.lang, key, args...) }

// fmtDuration writes a reply time short: 850ms, 2.4s, 1m05s.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}
