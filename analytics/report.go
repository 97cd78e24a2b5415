package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/chorusbot/chorus/bot"
)

// Trending thresholds.
const (
	trendMinCount      = 3
	trendFactor        = 2.0
	trendBaselineTimes = 7 // the baseline is the mean of this many earlier periods
	maxPeriod          = 90 * 24 * time.Hour
)

// ParsePeriod reads a period such as "24h", "7d", "2w" or "90m"; empty
// means 24h. Periods are at least an hour and at most 90 days.
func ParsePeriod(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 24 * time.Hour, nil
	}
	unit := s[len(s)-1]
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("analytics: bad period %q", s)
	}
	var d time.Duration
	switch unit {
	case 'm':
		d = time.Duration(n) * time.Minute
	case 'h':
		d = time.Duration(n) * time.Hour
	case 'd':
		d = time.Duration(n) * 24 * time.Hour
	case 'w':
		d = time.Duration(n) * 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("analytics: bad period %q", s)
	}
	if d < time.Hour || d > maxPeriod {
		return 0, fmt.Errorf("analytics: period %q outside 1h..90d", s)
	}
	return d, nil
}

// span is the hours [From, To) a period covers, ending with the current
// hour.
type span struct{ From, To time.Time }

func (a *Analytics) spanOf(period time.Duration) span {
	to := a.now().UTC().Truncate(time.Hour).Add(time.Hour)
	return span{From: to.Add(-period.Round(time.Hour)), To: to}
}

// StepOf is the step of a report's series over period: an hour up to
// two days, a day beyond.
func StepOf(period time.Duration) time.Duration { return bucketOf(period) }

// bucketOf is the chart step for a period: hours up to two days, days
// beyond.
func bucketOf(period time.Duration) time.Duration {
	if period <= 48*time.Hour {
		return time.Hour
	}
	return 24 * time.Hour
}

// Point is one step of a time series.
type Point struct {
	Time   time.Time
	Counts [3]int // by Label
	Users  int
}

// SampleMessage is a negative message a report may quote: its author's
// display name and text (quote it with bot.Quote, which masks personal
// data).
type SampleMessage struct {
	Name string
	Text string
}

// SentimentSummary is /sentiment's content.
type SentimentSummary struct {
	Period   time.Duration
	Messages int
	Counts   [3]int
	Mean     float64
	Series   []Point
	Samples  []SampleMessage
	// Chats are the chats with most negative messages, worst first.
	Chats []ChatSentiment
}

// ChatSentiment is one chat's share in a period.
type ChatSentiment struct {
	Chat string
	// Title is the chat's name where known; Private marks a private chat,
	// which a report names as such, never by its id (a Telegram private
	// chat's id is its user's).
	Title     string
	Private   bool
	Messages  int
	Negatives int
}

// Sentiment summarises sentiment over the period ending now, in the chats
// v covers.
func (a *Analytics) Sentiment(ctx context.Context, period time.Duration, v bot.View) (SentimentSummary, error) {
	if err := a.Flush(ctx); err != nil {
		return SentimentSummary{}, err
	}
	sp := a.spanOf(period)
	step := bucketOf(period)
	out := SentimentSummary{Period: period}
	series := newSeries(sp, step)
	var sum float64
	chats := chatTally{}
	err := a.scanHours(ctx, sp.From, sp.To, func(hour time.Time, chat string, h *hourRollup) {
		if chat == globalChat || !v.Covers(chat) {
			return
		}
		out.Messages += h.Messages
		sum += h.ScoreSum
		p := series.at(hour)
		for i := range h.Counts {
			out.Counts[i] += h.Counts[i]
			p.Counts[i] += h.Counts[i]
		}
		for _, x := range h.Samples {
			if x.Text != "" {
				out.Samples = append(out.Samples, SampleMessage{Name: x.Name, Text: x.Text})
			}
		}
		chats.add(chat, h)
	})
	if err != nil {
		return out, fmt.Errorf("analytics: sentiment: %w", err)
	}
	if out.Messages > 0 {
		out.Mean = sum / float64(out.Messages)
	}
	if n := len(out.Samples); n > 3 {
		out.Samples = out.Samples[n-3:]
	}
	for _, c := range chats {
		if c.Negatives > 0 {
			out.Chats = append(out.Chats, *c)
		}
	}
	sort.Slice(out.Chats, func(i, j int) bool {
		if out.Chats[i].Negatives != out.Chats[j].Negatives {
			return out.Chats[i].Negatives > out.Chats[j].Negatives
		}
		return out.Chats[i].Chat < out.Chats[j].Chat
	})
	if len(out.Chats) > 3 {
		out.Chats = out.Chats[:3]
	}
	out.Series = series.points
	return out, nil
}

type series struct {
	from   time.Time
	step   time.Duration
	points []Point
}

func newSeries(sp span, step time.Duration) *series {
	from := sp.From.Truncate(step)
	s := &series{from: from, step: step}
	for t := from; t.Before(sp.To); t = t.Add(step) {
		s.points = append(s.points, Point{Time: t})
	}
	return s
}

func (s *series) at(t time.Time) *Point {
	i := int(t.Sub(s.from) / s.step)
	i = max(0, min(i, len(s.points)-1))
	return &s.points[i]
}

// Engagement is /stats's content.
type Engagement struct {
	Period time.Duration
	// Messages scored in the period, from ActiveUsers distinct authors.
	Messages    int
	ActiveUsers int
	// DAU, WAU and MAU are distinct authors over the last 1, 7 and 30
	// days, whatever the period.
	DAU, WAU, MAU   int
	MessagesPerUser float64
	// ReturningUsers were active in the period and seen before it;
	// NewUsers were first seen in it. For a report on one chat, "before"
	// is that chat's 30 days before the period, estimated from the
	// HyperLogLog sketches.
	ReturningUsers, NewUsers int
	// Replies counts the messages the bot set out to answer; RepliesOK
	// those that got a real answer (not a rate-limit note or an apology).
	Replies, RepliesOK int
	ReplyRate          float64
	// MedianFirstReply is the median time from receipt to the first
	// visible token of an answer (0 when none).
	MedianFirstReply time.Duration
	// BrandStarted counts conversations managers (or the bot for them)
	// started in groups and channels; BrandAnswered those a follower
	// answered.
	BrandStarted, BrandAnswered int
	// VotesUp and VotesDown count the followers' ratings of answers (the
	// feedback buttons); PositiveShare is the share of VotesUp.
	VotesUp, VotesDown int
	PositiveShare      float64
	Series             []Point
}

// Engagement computes the engagement figures over the period ending now,
// in the chats v covers.
func (a *Analytics) Engagement(ctx context.Context, period time.Duration, v bot.View) (Engagement, error) {
	if err := a.Flush(ctx); err != nil {
		return Engagement{}, err
	}
	sp := a.spanOf(period)
	step := bucketOf(period)
	out := Engagement{Period: period}
	from := sp.From
	if m := sp.To.Add(-30 * 24 * time.Hour); m.Before(from) {
		from = m
	}
	day, week, month := hyperloglog.New14(), hyperloglog.New14(), hyperloglog.New14()
	inPeriod := hyperloglog.New14()
	series := newSeries(sp, step)
	stepUsers := make([]*hyperloglog.Sketch, len(series.points))
	lat := make([]int, latencyBuckets)
	before := hyperloglog.New14()
	err := a.scanCounts(ctx, from, sp.To, func(hour time.Time, chat string, h *hourRollup) {
		age := sp.To.Sub(hour)
		// Engine-wide figures recorded before they were kept per chat
		// are only for a report on every chat.
		if chat == globalChat && !v.All() || chat != globalChat && !v.Covers(chat) {
			return
		}
		if !hour.Before(sp.From) {
			out.Replies += h.Replies
			out.RepliesOK += h.RepliesOK
			out.BrandStarted += h.BrandStarted
			out.BrandAnswered += h.BrandAnswered
			out.VotesUp += h.VotesUp
			out.VotesDown += h.VotesDown
			for i, n := range h.FirstToken {
				if i < latencyBuckets {
					lat[i] += n
				}
			}
		}
		if chat == globalChat || h.Messages == 0 && len(h.Users) == 0 {
			return
		}
		sk := h.sketch()
		if age <= 24*time.Hour {
			_ = day.Merge(sk)
		}
		if age <= 7*24*time.Hour {
			_ = week.Merge(sk)
		}
		if age <= 30*24*time.Hour {
			_ = month.Merge(sk)
		}
		if hour.Before(sp.From) {
			_ = before.Merge(sk)
			return
		}
		out.Messages += h.Messages
		_ = inPeriod.Merge(sk)
		p := series.at(hour)
		for i := range h.Counts {
			p.Counts[i] += h.Counts[i]
		}
		i := int(hour.Sub(series.from) / series.step)
		i = max(0, min(i, len(stepUsers)-1))
		if stepUsers[i] == nil {
			stepUsers[i] = hyperloglog.New14()
		}
		_ = stepUsers[i].Merge(sk)
	})
	if err != nil {
		return out, fmt.Errorf("analytics: engagement: %w", err)
	}
	for i, sk := range stepUsers {
		if sk != nil {
			series.points[i].Users = int(sk.Estimate())
		}
	}
	out.Series = series.points
	out.DAU, out.WAU, out.MAU = int(day.Estimate()), int(week.Estimate()), int(month.Estimate())
	out.ActiveUsers = int(inPeriod.Estimate())
	if out.ActiveUsers > 0 {
		out.MessagesPerUser = float64(out.Messages) / float64(out.ActiveUsers)
	}
	if out.Replies > 0 {
		out.ReplyRate = float64(out.RepliesOK) / float64(out.Replies)
	}
	out.MedianFirstReply = medianLatency(lat)
	if n := out.VotesUp + out.VotesDown; n > 0 {
		out.PositiveShare = float64(out.VotesUp) / float64(n)
	}
	if !v.All() {
		// |P ∩ B| = |P| + |B| - |P ∪ B|, from the sketches.
		p, b := int(inPeriod.Estimate()), int(before.Estimate())
		_ = before.Merge(inPeriod)
		out.ReturningUsers = max(0, min(p, p+b-int(before.Estimate())))
		out.NewUsers = p - out.ReturningUsers
		return out, nil
	}
	fromU, toU := sp.From.Unix(), sp.To.Unix()
	err = a.kv.Scan(ctx, bucketUsers, "", "", func(_ string, v []byte) error {
		var u userRec
		if json.Unmarshal(v, &u) != nil || u.Last < fromU || u.First >= toU {
			return nil
		}
		if u.First < fromU {
			out.ReturningUsers++
		} else {
			out.NewUsers++
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("analytics: engagement: %w", err)
	}
	return out, nil
}

func medianLatency(h []int) time.Duration {
	total := 0
	for _, v := range h {
		total += v
	}
	if total == 0 {
		return 0
	}
	half := (total + 1) / 2
	for i, v := range h {
		half -= v
		if half <= 0 {
			return latencyMid(i)
		}
	}
	return latencyMid(len(h) - 1)
}

// Trend is a term whose frequency in the period is well above its
// baseline.
type Trend struct {
	Term  string
	Count int
	// Baseline is the term's mean count over the earlier periods.
	Baseline float64
}

// Trends returns up to k trending terms over the period ending now in the
// chats v covers: terms in at least trendMinCount messages and at least
// trendFactor times their baseline (smoothed by one), strongest rise
// first.
func (a *Analytics) Trends(ctx context.Context, period time.Duration, k int, v bot.View) ([]Trend, error) {
	if err := a.Flush(ctx); err != nil {
		return nil, err
	}
	sp := a.spanOf(period)
	base := sp.From.Add(-trendBaselineTimes * sp.To.Sub(sp.From))
	cur, old := map[string]int{}, map[string]int{}
	err := a.kv.Scan(ctx, bucketTerms, hourKey(base), hourKey(sp.To), func(key string, val []byte) error {
		hk, conv, perChat := cutSlash(key)
		if !perChat {
			hk = key
		}
		if perChat && !v.Covers(conv) || !perChat && !v.All() {
			return nil
		}
		t, err := time.Parse(hourLayout, hk)
		if err != nil {
			return nil
		}
		var m map[string]int
		if json.Unmarshal(val, &m) != nil {
			return nil
		}
		dst := old
		if !t.Before(sp.From) {
			dst = cur
		}
		for term, n := range m {
			dst[term] += n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: trends: %w", err)
	}
	a.mu.Lock()
	names := make(map[string]bool, len(a.names))
	for n := range a.names {
		names[n] = true
	}
	a.mu.Unlock()
	var all []Trend
	for term, n := range cur {
		if n < trendMinCount || nameTerm(term, names) {
			continue
		}
		b := float64(old[term]) / trendBaselineTimes
		if float64(n+1) < trendFactor*(b+1) {
			continue
		}
		all = append(all, Trend{Term: term, Count: n, Baseline: b})
	}
	score := func(t Trend) float64 { return (float64(t.Count) - t.Baseline) / math.Sqrt(t.Baseline+1) }
	sort.Slice(all, func(i, j int) bool {
		si, sj := score(all[i]), score(all[j])
		if si != sj {
			return si > sj
		}
		return all[i].Term < all[j].Term
	})
	// A word that mostly occurs inside a trending phrase adds nothing.
	var out []Trend
	for _, t := range all {
		if len(out) == k {
			break
		}
		if !strings.Contains(t.Term, " ") && coveredByPhrase(t, all) {
			continue
		}
		t.Term = termLabel(t.Term)
		out = append(out, t)
	}
	return out, nil
}

func nameTerm(term string, names map[string]bool) bool {
	for _, w := range strings.Fields(term) {
		if names[w] {
			return true
		}
	}
	return false
}

func coveredByPhrase(w Trend, all []Trend) bool {
	for _, p := range all {
		if !strings.Contains(p.Term, " ") {
			continue
		}
		for _, x := range strings.Fields(p.Term) {
			if x == w.Term && float64(p.Count) >= 0.7*float64(w.Count) {
				return true
			}
		}
	}
	return false
}

// CompetitorStats is one competitor's mentions in a period.
type CompetitorStats struct {
	Name     string
	Mentions int
	Counts   [3]int
	Mean     float64
}

// Competitors counts mentions of each configured competitor over the
// period ending now in the chats v covers, with their sentiment, most
// mentioned first.
func (a *Analytics) Competitors(ctx context.Context, period time.Duration, v bot.View) ([]CompetitorStats, error) {
	if err := a.Flush(ctx); err != nil {
		return nil, err
	}
	sp := a.spanOf(period)
	by := map[string]*CompetitorStats{}
	sums := map[string]float64{}
	for _, c := range a.cfg.Competitors {
		by[c.Name] = &CompetitorStats{Name: c.Name}
	}
	err := a.scanHours(ctx, sp.From, sp.To, func(_ time.Time, chat string, h *hourRollup) {
		if !v.Covers(chat) {
			return
		}
		for name, c := range h.Competitors {
			s := by[name]
			if s == nil {
				continue // no longer configured
			}
			s.Mentions += c.N
			sums[name] += c.ScoreSum
			for i := range c.Counts {
				s.Counts[i] += c.Counts[i]
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: competitors: %w", err)
	}
	out := make([]CompetitorStats, 0, len(by))
	for _, c := range a.cfg.Competitors {
		s := by[c.Name]
		if s.Mentions > 0 {
			s.Mean = sums[c.Name] / float64(s.Mentions)
		}
		out = append(out, *s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Mentions > out[j].Mentions })
	return out, nil
}

// Chats lists the chats v covers that had messages in the period ending
// now, busiest first: a console's chat picker. Private chats are left out
// (a Telegram private chat's id is its user's); their messages count in
// reports on every chat.
func (a *Analytics) Chats(ctx context.Context, period time.Duration, v bot.View) ([]ChatSentiment, error) {
	if err := a.Flush(ctx); err != nil {
		return nil, err
	}
	sp := a.spanOf(period)
	chats := chatTally{}
	err := a.scanCounts(ctx, sp.From, sp.To, func(_ time.Time, chat string, h *hourRollup) {
		if chat == globalChat || !v.Covers(chat) || h.Messages == 0 {
			return
		}
		chats.add(chat, h)
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: chats: %w", err)
	}
	out := make([]ChatSentiment, 0, len(chats))
	for _, c := range chats {
		if !c.Private {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Messages != out[j].Messages {
			return out[i].Messages > out[j].Messages
		}
		return out[i].Chat < out[j].Chat
	})
	return out, nil
}

// chatTally adds up chats' hours: their names, whether private, messages
// and negative ones.
type chatTally map[string]*ChatSentiment

func (t chatTally) add(chat string, h *hourRollup) {
	c := t[chat]
	if c == nil {
		c = &ChatSentiment{Chat: chat}
		t[chat] = c
	}
	if h.Title != "" {
		c.Title = h.Title
	}
	c.Private = c.Private || h.DM
	c.Messages += h.Messages
	c.Negatives += h.Counts[Negative]
}
