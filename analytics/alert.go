package analytics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// AlertNegativeSurge is the Category of the bot.EventAlert emitted when a
// chat's negative share rises well above its baseline.
const AlertNegativeSurge = "negative_surge"

// AlertKinds lists the Category values of the bot.EventAlert analytics
// emits.
var AlertKinds = []string{AlertNegativeSurge}

// maxWindow bounds the messages one chat keeps in its alert window; older
// ones are moved into the baseline early.
const maxWindow = 2000

// Alert is one early warning about a chat.
type Alert struct {
	Platform  string
	Chat      string // conversation key
	ChatTitle string
	At        time.Time
	// Share is the negative share in the window; Baseline the chat's own
	// exponentially weighted share before it.
	Share, Baseline float64
	Messages        int
	Themes          []string
	// Samples are recent negative messages, to be quoted.
	Samples []SampleMessage
}

type winMsg struct {
	at    time.Time
	neg   bool
	user  string   // negatives only: bot.UserHash of the author
	name  string   // negatives only: the author's display name
	text  string   // negatives only
	terms []string // negatives only
}

// chatState is one chat's sliding window and baseline. The baseline is
// built only from messages that have left the window, each weighted by
// exp(-age·ln2/halfLife), so a burst can't raise its own yardstick.
type chatState struct {
	win      []winMsg
	negW     float64
	totW     float64
	baseAt   time.Time
	alerting bool
}

func (c *chatState) decayTo(t time.Time, halfLife time.Duration) {
	if c.baseAt.IsZero() {
		c.baseAt = t
		return
	}
	if dt := t.Sub(c.baseAt); dt > 0 {
		f := math.Exp(-math.Ln2 * float64(dt) / float64(halfLife))
		c.negW *= f
		c.totW *= f
		c.baseAt = t
	}
}

func (c *chatState) evict(m winMsg, halfLife time.Duration) {
	c.decayTo(m.at, halfLife)
	c.totW++
	if m.neg {
		c.negW++
	}
}

// add takes one message at t (m carries its author, text and terms) and
// returns an alert when it opens a negative episode.
func (c *chatState) add(cfg Config, t time.Time, neg bool, m winMsg) *Alert {
	if n := len(c.win); n > 0 && t.Before(c.win[n-1].at) {
		t = c.win[n-1].at // out-of-order delivery: keep the window sorted
	}
	cut := t.Add(-cfg.AlertWindow)
	i := 0
	for i < len(c.win) && (!c.win[i].at.After(cut) || len(c.win)-i >= maxWindow) {
		c.evict(c.win[i], cfg.BaselineHalfLife)
		i++
	}
	emptied := i == len(c.win) && i > 0
	c.win = append(c.win[:0], c.win[i:]...)
	wm := winMsg{at: t, neg: neg}
	if neg {
		wm.user, wm.name, wm.text, wm.terms = m.user, m.name, sample(m.text), m.terms
	}
	c.win = append(c.win, wm)

	negs := 0
	for _, w := range c.win {
		if w.neg {
			negs++
		}
	}
	n := len(c.win)
	share := float64(negs) / float64(n)
	c.decayTo(t, cfg.BaselineHalfLife)
	warm := c.totW >= float64(cfg.AlertMinMessages)
	base := 0.0
	if c.totW > 0 {
		base = c.negW / c.totW
	}
	threshold := max(base*cfg.AlertFactor, base+cfg.AlertMinRise)
	if c.alerting {
		// Re-arm when the share is back near the baseline, or after a
		// whole window of silence.
		if emptied && n == 1 || (n >= cfg.AlertMinMessages/2 && share <= base+(threshold-base)/3) {
			c.alerting = false
		}
		return nil
	}
	if !warm || n < cfg.AlertMinMessages || share < threshold {
		return nil
	}
	c.alerting = true
	return &Alert{At: t, Share: share, Baseline: base, Messages: n, Themes: c.themes(5), Samples: c.samples(3)}
}

// themes are the terms most frequent among the window's negative messages.
func (c *chatState) themes(k int) []string {
	cnt := map[string]int{}
	for _, w := range c.win {
		for _, t := range w.terms {
			cnt[t]++
		}
	}
	type tc struct {
		t string
		n int
	}
	all := make([]tc, 0, len(cnt))
	for t, n := range cnt {
		if n >= 2 {
			all = append(all, tc{t, n})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		// Prefer the phrase to its words at equal counts.
		if li, lj := strings.Count(all[i].t, " "), strings.Count(all[j].t, " "); li != lj {
			return li > lj
		}
		return all[i].t < all[j].t
	})
	var out []string
	for _, x := range all {
		if len(out) == k {
			break
		}
		out = append(out, termLabel(x.t))
	}
	return out
}

func (c *chatState) samples(k int) []SampleMessage {
	var out []SampleMessage
	for i := len(c.win) - 1; i >= 0 && len(out) < k; i-- {
		w := c.win[i]
		if w.neg && w.text != "" && !slices.ContainsFunc(out, func(s SampleMessage) bool { return s.Text == w.text }) {
			out = append(out, SampleMessage{Name: w.name, Text: w.text})
		}
	}
	return out
}

// forget drops the text, terms and name of the window's messages by the
// user with hash uh, and reports how many there were.
func (c *chatState) forget(uh string) int {
	n := 0
	for i := range c.win {
		if c.win[i].user == uh {
			c.win[i].user, c.win[i].name, c.win[i].text, c.win[i].terms = "", "", "", nil
			n++
		}
	}
	return n
}

// managersChat picks where an alert about platform goes.
func (a *Analytics) managersChat(env *bot.Env, platform string) (bot.Platform, string, bool) {
	if id, ok := a.cfg.ManagersChannel[platform]; ok && id != "" {
		if p, ok := env.PlatformFor(platform); ok {
			return p, id, true
		}
	}
	names := make([]string, 0, len(a.cfg.ManagersChannel))
	for n := range a.cfg.ManagersChannel {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if p, ok := env.PlatformFor(n); ok && a.cfg.ManagersChannel[n] != "" {
			return p, a.cfg.ManagersChannel[n], true
		}
	}
	return nil, "", false
}

// sendAlert posts al to the managers' channel and emits bot.EventAlert.
func (a *Analytics) sendAlert(ctx context.Context, env *bot.Env, al *Alert) {
	env.Emit(bot.Event{Kind: bot.EventAlert, Platform: al.Platform, Chat: al.Chat, Category: AlertNegativeSurge})
	a.log.Info("negative surge", "platform", al.Platform, "chat", al.Chat, "share", al.Share, "baseline", al.Baseline)
	p, chatID, ok := a.managersChat(env, al.Platform)
	if !ok {
		return
	}
	text := a.alertText(env.Catalog(), bot.DefaultLang, al)
	if _, err := bot.SendSplit(ctx, p, bot.Out{Chat: bot.Chat{ID: chatID, Kind: bot.ChatGroup}, Text: text, Final: true}); err != nil {
		a.log.Warn("send alert failed", "platform", p.Name(), "err", err)
	}
}

func (a *Analytics) alertText(c *bot.Catalog, lang string, al *Alert) string {
	where := al.ChatTitle
	if where == "" {
		where = al.Chat
	}
	var b strings.Builder
	b.WriteString(c.T(lang, "analytics.alert", "chat", where,
		"share", pct(al.Share), "baseline", pct(al.Baseline), "count", al.Messages))
	if len(al.Themes) > 0 {
		b.WriteString("\n" + c.T(lang, "analytics.alert_themes", "themes", strings.Join(al.Themes, ", ")))
	}
	for _, s := range al.Samples {
		fmt.Fprintf(&b, "\n• %s", bot.Quote(s.Name, s.Text, maxSampleRunes, c.T(lang, "someone")))
	}
	return b.String()
}

func pct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }
