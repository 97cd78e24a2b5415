package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
)

// DefaultPeriod is what /campaigns covers without an argument.
const DefaultPeriod = 30 * 24 * time.Hour

// maxChartDays bounds the days /campaign charts.
const maxChartDays = 90

// Row is one campaign's figures in a report.
type Row struct {
	ID       string
	Kind     Kind
	Platform string
	Chat     string
	// Sent is when a post or announcement went out (zero for answers and
	// welcomes, which run all the time).
	Sent time.Time
	Late bool
	// Reach is the member count when it went out; -1 unknown or none.
	Reach       int
	Clicks      int
	Unique      int
	Conversions int
	// Values are the conversions' values by currency.
	Values map[string]float64
}

// CTR is the click-through rate: unique clicks over reach; ok is false
// without a reach.
func (r Row) CTR() (float64, bool) {
	if r.Reach <= 0 {
		return 0, false
	}
	return float64(r.Unique) / float64(r.Reach), true
}

// ConversionRate is conversions over unique clicks; ok is false without
// a click.
func (r Row) ConversionRate() (float64, bool) {
	if r.Unique <= 0 {
		return 0, false
	}
	return float64(r.Conversions) / float64(r.Unique), true
}

func (r *Row) add(o Row) {
	r.Clicks += o.Clicks
	r.Unique += o.Unique
	r.Conversions += o.Conversions
	if o.Reach > 0 {
		r.Reach = max(r.Reach, 0) + o.Reach
	}
	for k, v := range o.Values {
		if r.Values == nil {
			r.Values = map[string]float64{}
		}
		r.Values[k] += v
	}
}

// Report is what /campaigns shows: the campaigns sent or clicked within
// [From, To), their figures within it, and clicks per day.
type Report struct {
	From, To time.Time
	Rows     []Row
	// Total sums the rows (reach: of the posts and announcements).
	Total Row
	// Days are the days of the period (midnight in the configured zone)
	// and Clicks the clicks on each.
	Days   []time.Time
	Clicks []int
}

// days lists the days (YYYY-MM-DD in loc) from from to to, inclusive.
func days(from, to time.Time, loc *time.Location) []time.Time {
	f, t := from.In(loc), to.In(loc)
	d := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	var out []time.Time
	for !d.After(t) {
		out = append(out, d)
		d = d.AddDate(0, 0, 1)
	}
	return out
}

// within returns the figures of s on the given days.
func within(s Stats, ds []time.Time) Row {
	out := Row{Reach: -1}
	for _, d := range ds {
		k := d.Format(time.DateOnly)
		out.Clicks += s.Days[k]
		out.Unique += s.UniqueDays[k]
		out.Conversions += s.ConversionDays[k]
		for kc, v := range s.ValueDays {
			if day, cur, _ := strings.Cut(kc, " "); day == k {
				if out.Values == nil {
					out.Values = map[string]float64{}
				}
				out.Values[cur] += v
			}
		}
	}
	return out
}

// allStats reads every campaign's figures, the unwritten clicks included.
func (c *Campaigns) allStats(ctx context.Context) (map[string]Stats, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	c.fmu.Lock()
	defer c.fmu.Unlock()
	out := map[string]Stats{}
	err := c.kv.Scan(ctx, BucketStats, "", "", func(k string, v []byte) error {
		var s Stats
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
		return nil
	})
	return out, err
}

// Report computes /campaigns over the period ending now.
func (c *Campaigns) Report(ctx context.Context, period time.Duration) (Report, error) {
	now := c.now()
	rep := Report{From: now.Add(-period), To: now, Total: Row{Reach: -1}}
	rep.Days = days(rep.From, now, c.loc)
	stats, err := c.allStats(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("campaigns: report: %w", err)
	}
	posts, err := c.posts(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("campaigns: report: %w", err)
	}
	seen := map[string]bool{}
	for _, p := range posts {
		if p.Status != StatusSent {
			continue
		}
		seen[p.ID] = true
		r := within(stats[p.ID], rep.Days)
		if p.SentAt.Before(rep.From) && r.Clicks == 0 && r.Conversions == 0 {
			continue
		}
		r.ID, r.Kind, r.Platform, r.Chat, r.Sent, r.Late, r.Reach = p.ID, p.Kind, p.Platform, p.Chat, p.SentAt, p.Late, p.Reach
		rep.Rows = append(rep.Rows, r)
	}
	for _, id := range bot.SortedKeys(stats) {
		if seen[id] {
			continue
		}
		s := stats[id]
		r := within(s, rep.Days)
		if r.Clicks == 0 && r.Conversions == 0 {
			continue
		}
		r.ID, r.Kind = id, s.Kind
		rep.Rows = append(rep.Rows, r)
	}
	rep.Clicks = make([]int, len(rep.Days))
	for _, s := range stats {
		for i, d := range rep.Days {
			rep.Clicks[i] += s.Days[d.Format(time.DateOnly)]
		}
	}
	for _, r := range rep.Rows {
		rep.Total.add(r)
	}
	return rep, nil
}

// Detail is what /campaign ID shows: a campaign's figures to date.
type Detail struct {
	Row
	// Post is the post or announcement (nil for answers and welcomes).
	Post *Post
	// Platforms are the figures by platform.
	Platforms map[string]ChatStats
	// Events are conversions by event name.
	Events map[string]int
	// Links are the campaign's links with their clicks.
	Links []LinkClicks
	// Days and Clicks are clicks per day, from the first day to today.
	Days   []time.Time
	Clicks []int
}

// LinkClicks is one link of a campaign and its clicks.
type LinkClicks struct {
	Code, Target string
	Clicks       int
}

// Detail computes /campaign ID; ok is false when there is no such
// campaign.
func (c *Campaigns) Detail(ctx context.Context, id string) (Detail, bool, error) {
	p, isPost, err := c.post(ctx, id)
	if err != nil {
		return Detail{}, false, fmt.Errorf("campaigns: detail: %w", err)
	}
	s, err := c.Stats(ctx, id)
	if err != nil {
		return Detail{}, false, err
	}
	if !isPost && s.Kind == "" {
		return Detail{}, false, nil
	}
	d := Detail{Row: Row{ID: id, Kind: s.Kind, Reach: -1, Clicks: s.Clicks, Unique: s.Unique, Conversions: s.Conversions, Values: s.Values},
		Events: s.Events, Platforms: map[string]ChatStats{}}
	first := c.now()
	if isPost {
		d.Post = &p
		d.Kind, d.Platform, d.Chat, d.Sent, d.Late, d.Reach = p.Kind, p.Platform, p.Chat, p.SentAt, p.Late, p.Reach
		if !p.SentAt.IsZero() {
			first = p.SentAt
		}
	}
	for k := range s.Days {
		if t, err := time.ParseInLocation(time.DateOnly, k, c.loc); err == nil && t.Before(first) {
			first = t
		}
	}
	for k, cs := range s.Chats {
		plat, _, _ := strings.Cut(k, "/")
		t := d.Platforms[plat]
		t.Clicks += cs.Clicks
		t.Unique += cs.Unique
		t.Conversions += cs.Conversions
		t.Value += cs.Value
		d.Platforms[plat] = t
	}
	for _, code := range bot.SortedKeys(s.Links) {
		lc := LinkClicks{Code: code, Clicks: s.Links[code]}
		if l, ok, err := c.link(ctx, code); err == nil && ok {
			lc.Target = l.Target
		}
		d.Links = append(d.Links, lc)
	}
	slices.SortStableFunc(d.Links, func(a, b LinkClicks) int { return b.Clicks - a.Clicks })
	now := c.now()
	if now.Sub(first) > maxChartDays*24*time.Hour {
		first = now.Add(-maxChartDays * 24 * time.Hour)
	}
	d.Days = days(first, now, c.loc)
	for _, day := range d.Days {
		d.Clicks = append(d.Clicks, s.Days[day.Format(time.DateOnly)])
	}
	return d, true, nil
}

func pct(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

// Money writes values by currency: "12.50 EUR, 3.00 USD", "0" when none.
func Money(vs map[string]float64) string {
	if len(vs) == 0 {
		return "0"
	}
	var parts []string
	for _, cur := range bot.SortedKeys(vs) {
		s := strconv.FormatFloat(vs[cur], 'f', 2, 64)
		if cur != "" {
			s += " " + cur
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// figures is a row's figures for a manager.
func figures(env *bot.Env, r Row) string {
	ctr, ok := r.CTR()
	cr, cok := r.ConversionRate()
	return env.T("campaigns.figures", "reach", reachText(r.Reach), "clicks", r.Clicks, "unique", r.Unique, "ctr", pct(ctr, ok),
		"conversions", r.Conversions, "rate", pct(cr, cok), "value", Money(r.Values))
}

// crossChat refuses a report asked where it may not be shown: campaign
// figures cover every channel, so they are given only where every chat
// may be seen (a DM with a community-wide manager, a managers' channel,
// the console).
func crossChat(ctx context.Context, env *bot.Env) bool {
	if env.View.All() {
		return true
	}
	_ = env.Reply(ctx, env.T("campaigns.need_dm"))
	return false
}

func (c *Campaigns) cmdCampaigns(ctx context.Context, env *bot.Env, cmd *bot.Command) error {
	if !crossChat(ctx, env) {
		return nil
	}
	period := DefaultPeriod
	if a := strings.TrimSpace(cmd.Args); a != "" {
		d, err := analytics.ParsePeriod(a)
		if err != nil {
			return env.Reply(ctx, env.T("campaigns.bad_period", "period", a))
		}
		period = d
	}
	rep, err := c.Report(ctx, period)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(env.T("campaigns.report_header", "from", rep.From.In(c.loc).Format(timeLayout), "to", rep.To.In(c.loc).Format(timeLayout+" MST")))
	if len(rep.Rows) == 0 {
		b.WriteString("\n" + env.T("campaigns.report_empty"))
		return env.Reply(ctx, b.String())
	}
	for _, r := range rep.Rows {
		b.WriteString("\n\n" + c.rowTitle(env, r) + "\n" + figures(env, r))
	}
	b.WriteString("\n\n" + env.T("campaigns.report_total") + "\n" + figures(env, rep.Total))
	png, err := analytics.CountChart("clicks per day", rep.Days, rep.Clicks, 24*time.Hour)
	if err != nil {
		return err
	}
	_, err = env.Send(ctx, bot.Out{Text: b.String(), Attachments: []bot.Attachment{{Name: "campaign-clicks.png", MIME: analytics.MIMEPNG, Data: png}}})
	return err
}

// rowTitle names a campaign: its id and kind, and where and when a post
// went out.
func (c *Campaigns) rowTitle(env *bot.Env, r Row) string {
	title := r.ID + " · " + env.T("campaigns.kind."+string(r.Kind))
	if r.Platform != "" {
		title += " · " + r.Platform + " " + r.Chat
	}
	if !r.Sent.IsZero() {
		title += " · " + r.Sent.In(c.loc).Format(timeLayout)
		if r.Late {
			title += " (" + env.T("campaigns.late") + ")"
		}
	}
	return title
}

func (c *Campaigns) cmdCampaign(ctx context.Context, env *bot.Env, cmd *bot.Command) error {
	if !crossChat(ctx, env) {
		return nil
	}
	id := strings.TrimSpace(cmd.Args)
	if id == "" {
		return env.Reply(ctx, env.T("campaigns.campaign_usage"))
	}
	d, ok, err := c.Detail(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return env.Reply(ctx, env.T("campaigns.not_found", "id", id))
	}
	var b strings.Builder
	b.WriteString(c.rowTitle(env, d.Row))
	if d.Post != nil {
		b.WriteString("\n" + env.Esc(bot.Excerpt(d.Post.Text, 160)))
	}
	b.WriteString("\n\n" + figures(env, d.Row))
	for _, p := range bot.SortedKeys(d.Platforms) {
		cs := d.Platforms[p]
		b.WriteString("\n" + env.T("campaigns.by_platform", "platform", p, "clicks", cs.Clicks, "unique", cs.Unique, "conversions", cs.Conversions))
	}
	if len(d.Events) > 0 {
		var ev []string
		for _, k := range bot.SortedKeys(d.Events) {
			ev = append(ev, k+" "+strconv.Itoa(d.Events[k]))
		}
		b.WriteString("\n" + env.T("campaigns.events", "events", strings.Join(ev, ", ")))
	}
	for _, l := range d.Links {
		b.WriteString("\n" + env.T("campaigns.link", "url", c.shortURLOr(l.Code), "target", l.Target, "clicks", l.Clicks))
	}
	png, err := analytics.CountChart("clicks per day", d.Days, d.Clicks, 24*time.Hour)
	if err != nil {
		return err
	}
	_, err = env.Send(ctx, bot.Out{Text: b.String(), Attachments: []bot.Attachment{{Name: "campaign-" + id + ".png", MIME: analytics.MIMEPNG, Data: png}}})
	return err
}

// shortURLOr is the short link of code, or "/l/CODE" when no base URL is
// set any more.
func (c *Campaigns) shortURLOr(code string) string {
	if c.base == nil {
		return "/l/" + code
	}
	return c.shortURL(code)
}
