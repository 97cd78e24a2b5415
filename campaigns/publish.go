package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/manage"
)

// Status is where a post is in its life.
type Status string

// Post statuses.
const (
	// StatusScheduled: waiting for its time.
	StatusScheduled Status = "scheduled"
	// StatusSending: being sent. A post found in it at start was
	// interrupted by a crash; it is not sent again (it may have gone
	// out), but marked failed.
	StatusSending Status = "sending"
	// StatusSent: published.
	StatusSent Status = "sent"
	// StatusFailed: the platform refused it or was not connected.
	StatusFailed Status = "failed"
	// StatusCancelled: cancelled before its time.
	StatusCancelled Status = "cancelled"
)

// Kind is what a campaign is: what a tracked link was published in.
// Metrics label clicks and conversions by it.
type Kind string

// Campaign kinds.
const (
	KindPost         Kind = "post"
	KindAnnouncement Kind = "announcement"
	KindAnswer       Kind = "answer"
	KindWelcome      Kind = "welcome"
)

// Kinds lists every Kind, for metrics created at zero.
var Kinds = []Kind{KindPost, KindAnnouncement, KindAnswer, KindWelcome}

// Post is one publication of a text to one brand channel: a campaign.
type Post struct {
	// ID is the campaign id, utm_campaign of its links ("p…").
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Draft is the kept draft it was published from.
	Draft    string `json:"draft,omitempty"`
	Platform string `json:"platform"`
	Chat     string `json:"chat"`
	// Text is the text as published (links rewritten when sent).
	Text    string    `json:"text"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
	// At is when it was to go out.
	At     time.Time `json:"at"`
	Status Status    `json:"status"`
	SentAt time.Time `json:"sent_at,omitzero"`
	// Late is set when it went out more than LateAfter after At (Chorus
	// was down at its time).
	Late bool `json:"late,omitempty"`
	// Reach is the chat's member count when it went out; -1 unknown.
	Reach int `json:"reach"`
	// Message is the platform's id of the (last) message sent.
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

// channel is one brand channel.
type channel struct{ Platform, Chat string }

func (ch channel) String() string { return ch.Platform + " " + ch.Chat }

// channels lists the configured brand channels, by platform then in
// config order.
func (c *Campaigns) channels() []channel {
	var out []channel
	for _, p := range bot.SortedKeys(c.cfg.Channels) {
		for _, id := range c.cfg.Channels[p] {
			out = append(out, channel{p, strings.TrimSpace(id)})
		}
	}
	return out
}

// resolve finds the channels arg names: a platform (its channels), a
// PLATFORM:CHAT or a chat id among the configured ones; empty arg means
// the channels of the draft's platform.
func (c *Campaigns) resolve(arg, draftPlatform string) []channel {
	all := c.channels()
	if arg == "" {
		arg = draftPlatform
	}
	var out []channel
	for _, ch := range all {
		if strings.EqualFold(arg, ch.Platform) || arg == ch.Chat || arg == ch.Platform+":"+ch.Chat {
			out = append(out, ch)
		}
	}
	return out
}

// Publish implements manage.Publisher: /post publish N [CHANNEL] [at
// TIME]. The draft passes the output checks first (grounded in the
// knowledge base and the persona); then one post per channel is sent now,
// or stored to go out at TIME.
func (c *Campaigns) Publish(ctx context.Context, env *bot.Env, d manage.Draft, args string) error {
	fields := strings.Fields(args)
	var chArg, whenArg string
	if i := slices.IndexFunc(fields, func(s string) bool { return strings.EqualFold(s, "at") }); i >= 0 {
		whenArg = strings.Join(fields[i+1:], " ")
		fields = fields[:i]
		if whenArg == "" {
			return env.Reply(ctx, env.T("manage.post_publish_usage"))
		}
	}
	if len(fields) > 1 {
		return env.Reply(ctx, env.T("manage.post_publish_usage"))
	}
	if len(fields) == 1 {
		chArg = fields[0]
	}
	chs := c.resolve(chArg, d.Platform)
	if len(chs) == 0 {
		return env.Reply(ctx, c.noChannel(env, chArg, d.Platform))
	}
	now := c.now()
	at := now
	if whenArg != "" {
		t, err := parseWhen(whenArg, now, c.loc)
		if err != nil {
			return env.Reply(ctx, env.T("campaigns.bad_time", "time", whenArg, "zone", c.loc.String(), "reason", err.Error()))
		}
		at = t
	}
	m := env.Message()
	audit := bot.AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Actor: m.UserKey(), Kind: bot.AuditPublish,
		Excerpt: bot.Excerpt(d.Text, 200)}
	if flags := c.check(ctx, env.Lang, d.Text); len(flags) > 0 {
		var b strings.Builder
		b.WriteString(env.T("campaigns.blocked", "id", d.ID))
		var notes []string
		for _, f := range flags {
			b.WriteString("\n• " + env.T("campaigns.flag", "check", string(f.Check), "detail", f.Detail))
			notes = append(notes, string(f.Check)+": "+f.Detail)
		}
		audit.Action, audit.Rule, audit.Note = "blocked", string(flags[0].Check), "draft "+d.ID+": "+strings.Join(notes, "; ")
		env.Audit(ctx, audit)
		return env.Reply(ctx, b.String())
	}
	var lines []string
	for _, ch := range chs {
		p := &Post{Kind: KindPost, Draft: d.ID, Platform: ch.Platform, Chat: ch.Chat, Text: d.Text, Author: m.UserKey(),
			Created: now, At: at.UTC(), Status: StatusScheduled, Reach: -1}
		c.pmu.Lock()
		err := c.newPost(ctx, p)
		c.pmu.Unlock()
		if err != nil {
			return fmt.Errorf("campaigns: publish: %w", err)
		}
		if whenArg != "" {
			audit.Action, audit.Note = "schedule", fmt.Sprintf("%s: draft %s to %s at %s", p.ID, d.ID, ch, at.In(c.loc).Format(timeLayout+" MST"))
			env.Audit(ctx, audit)
			lines = append(lines, env.T("campaigns.scheduled", "id", p.ID, "channel", ch.String(), "time", c.showTime(at)))
			continue
		}
		c.pmu.Lock()
		err = c.sendPost(ctx, p)
		c.pmu.Unlock()
		if err != nil {
			return fmt.Errorf("campaigns: publish: %w", err)
		}
		audit.Action, audit.Note = "publish", c.outcomeNote(p)
		env.Audit(ctx, audit)
		lines = append(lines, c.outcomeLine(env.Lang, p))
	}
	return env.Reply(ctx, strings.Join(lines, "\n"))
}

// noChannel explains which channels there are.
func (c *Campaigns) noChannel(env *bot.Env, arg, draftPlatform string) string {
	var names []string
	for _, ch := range c.channels() {
		names = append(names, ch.Platform+":"+ch.Chat)
	}
	if len(names) == 0 {
		return env.T("manage.post_no_publisher")
	}
	if arg == "" {
		return env.T("campaigns.no_channel_for", "platform", draftPlatform, "channels", strings.Join(names, ", "))
	}
	return env.T("campaigns.unknown_channel", "channel", arg, "channels", strings.Join(names, ", "))
}

// check runs the output checks on text, grounded in the knowledge base and
// the persona: a manager's draft is not its own proof that a price or a
// date is right.
func (c *Campaigns) check(ctx context.Context, lang, text string) []bot.Flag {
	if c.checks == nil {
		return nil
	}
	g := &bot.Grounding{Lang: lang}
	if h := c.getHost(); h != nil {
		g.Persona = h.Persona()
	}
	if c.kb != nil {
		ps, err := c.kb.Search(ctx, text, 3)
		if err != nil {
			c.log.Warn("campaigns: knowledge search failed", "err", err)
		}
		g.Passages = ps
	}
	return bot.CheckText(ctx, c.checks, text, g)
}

// newPost gives p a fresh id and stores it; c.pmu is held.
func (c *Campaigns) newPost(ctx context.Context, p *Post) error {
	prefix := "p"
	if p.Kind == KindAnnouncement {
		prefix = "a"
	}
	base := prefix + strconv.FormatInt(p.Created.UnixMilli(), 36)
	p.ID = base
	for i := 2; ; i++ {
		_, err := c.kv.Get(ctx, BucketPosts, p.ID)
		if errors.Is(err, bot.ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		p.ID = base + "-" + strconv.Itoa(i)
	}
	return c.putPost(ctx, p)
}

func (c *Campaigns) putPost(ctx context.Context, p *Post) error {
	js, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return c.kv.Put(ctx, BucketPosts, p.ID, js)
}

// post reads a post; ok is false when there is none.
func (c *Campaigns) post(ctx context.Context, id string) (Post, bool, error) {
	return getJSON[Post](ctx, c.kv, BucketPosts, id)
}

// getJSON reads the JSON value under key; ok is false when there is none.
func getJSON[T any](ctx context.Context, kv bot.KV, bucket, key string) (T, bool, error) {
	var v T
	raw, err := kv.Get(ctx, bucket, key)
	if errors.Is(err, bot.ErrNotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false, fmt.Errorf("%s %s: %w", bucket, key, err)
	}
	return v, true, nil
}

// posts lists every post, oldest first.
func (c *Campaigns) posts(ctx context.Context) ([]Post, error) {
	var out []Post
	err := c.kv.Scan(ctx, BucketPosts, "", "", func(_ string, v []byte) error {
		var p Post
		if json.Unmarshal(v, &p) == nil {
			out = append(out, p)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b Post) int { return a.Created.Compare(b.Created) })
	return out, err
}

// sendPost sends p to its channel and stores the outcome: sent (with its
// reach) or failed. It is marked sending first, so that a crash halfway
// never sends it twice. c.pmu is held.
func (c *Campaigns) sendPost(ctx context.Context, p *Post) error {
	p.Status = StatusSending
	if err := c.putPost(ctx, p); err != nil {
		return err
	}
	h := c.getHost()
	var pl bot.Platform
	ok := false
	if h != nil {
		pl, ok = h.PlatformFor(p.Platform)
	}
	if !ok {
		p.Status, p.Error = StatusFailed, "platform "+p.Platform+" is not connected"
		return c.putPost(ctx, p)
	}
	text := c.rewrite(ctx, p.Text, Campaign{ID: p.ID, Kind: p.Kind, Platform: p.Platform, Chat: p.Chat})
	id, err := bot.SendSplit(ctx, pl, bot.Out{Chat: bot.Chat{ID: p.Chat, Kind: bot.ChatChannel}, Text: text, Final: true})
	now := c.now()
	if err != nil {
		c.log.Warn("campaigns: publishing failed", "post", p.ID, "platform", p.Platform, "chat", p.Chat, "err", err)
		p.Status, p.Error = StatusFailed, bot.Excerpt(h.Redact(err.Error()), 200)
		return c.putPost(ctx, p)
	}
	p.Status, p.Message, p.SentAt, p.Text = StatusSent, id, now, text
	p.Late = now.Sub(p.At) > LateAfter
	p.Reach = -1
	if mc, ok := pl.(bot.MemberCounter); ok {
		if n, err := mc.MemberCount(ctx, bot.Chat{ID: p.Chat, Kind: bot.ChatChannel}); err == nil {
			p.Reach = n
		} else {
			c.log.Warn("campaigns: reach unknown", "post", p.ID, "platform", p.Platform, "err", err)
		}
	}
	return c.putPost(ctx, p)
}

// outcomeNote says what became of p, for the audit log.
func (c *Campaigns) outcomeNote(p *Post) string {
	switch p.Status {
	case StatusSent:
		note := fmt.Sprintf("%s to %s %s, reach %s", p.ID, p.Platform, p.Chat, reachText(p.Reach))
		if p.Late {
			note += ", late (due " + p.At.In(c.loc).Format(timeLayout+" MST") + ")"
		}
		return note
	default:
		return fmt.Sprintf("%s to %s %s failed: %s", p.ID, p.Platform, p.Chat, p.Error)
	}
}

// outcomeLine says what became of p, for the manager.
func (c *Campaigns) outcomeLine(lang string, p *Post) string {
	cat := c.catalog()
	ch := p.Platform + " " + p.Chat
	if p.Status != StatusSent {
		return cat.T(lang, "campaigns.failed", "id", p.ID, "channel", ch, "error", p.Error)
	}
	if p.Reach < 0 {
		return cat.T(lang, "campaigns.published_noreach", "id", p.ID, "channel", ch)
	}
	return cat.T(lang, "campaigns.published", "id", p.ID, "channel", ch, "reach", reachText(p.Reach))
}

func (c *Campaigns) catalog() *bot.Catalog {
	if h := c.getHost(); h != nil {
		return h.Catalog()
	}
	cat := bot.NewCatalog()
	cat.Add("en", catalogEN)
	cat.Add("zh", catalogZH)
	return cat
}

func reachText(n int) string {
	if n < 0 {
		return "n/a"
	}
	return strconv.Itoa(n)
}

// Scheduled implements manage.Publisher: /post scheduled lists what waits
// for its time, soonest first, and the posts that failed in the last
// week, so that a scheduled post that could not go out is seen.
func (c *Campaigns) Scheduled(ctx context.Context, env *bot.Env) error {
	ps, err := c.posts(ctx)
	if err != nil {
		return fmt.Errorf("campaigns: scheduled: %w", err)
	}
	week := c.now().Add(-7 * 24 * time.Hour)
	failed := slices.DeleteFunc(slices.Clone(ps), func(p Post) bool { return p.Status != StatusFailed || p.At.Before(week) })
	ps = slices.DeleteFunc(ps, func(p Post) bool { return p.Status != StatusScheduled })
	var b strings.Builder
	if len(ps) == 0 {
		b.WriteString(env.T("campaigns.none_scheduled"))
	} else {
		slices.SortStableFunc(ps, func(a, b Post) int { return a.At.Compare(b.At) })
		b.WriteString(env.T("campaigns.scheduled_header", "zone", c.loc.String()))
		for _, p := range ps {
			fmt.Fprintf(&b, "\n%s · %s %s · %s · %s", p.ID, p.Platform, p.Chat, p.At.In(c.loc).Format(timeLayout), env.Esc(bot.Excerpt(p.Text, 70)))
		}
	}
	if len(failed) > 0 {
		b.WriteString("\n\n" + env.T("campaigns.failed_header"))
		for _, p := range failed {
			fmt.Fprintf(&b, "\n%s · %s %s · %s · %s", p.ID, p.Platform, p.Chat, p.At.In(c.loc).Format(timeLayout), env.Esc(p.Error))
		}
	}
	return env.Reply(ctx, b.String())
}

// Cancel implements manage.Publisher: /post cancel ID.
func (c *Campaigns) Cancel(ctx context.Context, env *bot.Env, id string) error {
	c.pmu.Lock()
	p, ok, err := c.post(ctx, id)
	cancelled := false
	if err == nil && ok && p.Status == StatusScheduled {
		err = bot.UpdateKV(ctx, c.kv, BucketPosts, id, func(old []byte, found bool) ([]byte, error) {
			if !found || json.Unmarshal(old, &p) != nil || p.Status != StatusScheduled {
				return nil, errNotScheduled
			}
			p.Status = StatusCancelled
			return json.Marshal(p)
		})
		cancelled = err == nil
		if errors.Is(err, errNotScheduled) {
			err = nil
		}
	}
	c.pmu.Unlock()
	if err != nil {
		return fmt.Errorf("campaigns: cancel: %w", err)
	}
	if !ok {
		return env.Reply(ctx, env.T("campaigns.not_found", "id", id))
	}
	if !cancelled {
		return env.Reply(ctx, env.T("campaigns.not_scheduled", "id", id, "status", string(p.Status)))
	}
	m := env.Message()
	env.Audit(ctx, bot.AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Actor: m.UserKey(), Kind: bot.AuditPublish,
		Action: "cancel", Excerpt: bot.Excerpt(p.Text, 200), Note: fmt.Sprintf("%s to %s %s, due %s", p.ID, p.Platform, p.Chat, p.At.In(c.loc).Format(timeLayout+" MST"))})
	return env.Reply(ctx, env.T("campaigns.cancelled", "id", id))
}

// recover settles posts a crash left half-sent: they may have gone out,
// so they are marked failed rather than sent twice.
func (c *Campaigns) recover(ctx context.Context) error {
	ps, err := c.posts(ctx)
	if err != nil {
		return err
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	for _, p := range ps {
		if p.Status != StatusSending {
			continue
		}
		p.Status, p.Error = StatusFailed, "interrupted while sending (Chorus stopped); not sent again, as it may have gone out: check the channel"
		if err := c.putPost(ctx, &p); err != nil {
			return err
		}
	}
	return nil
}

// sendDue sends the scheduled posts whose time has come, each once.
func (c *Campaigns) sendDue(ctx context.Context) error {
	ps, err := c.posts(ctx)
	if err != nil {
		return err
	}
	now := c.now()
	for _, p := range ps {
		if p.Status != StatusScheduled || p.At.After(now) {
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if !c.ready(p.Platform) {
			continue // at start, before the adapter connected: next tick
		}
		// A send once begun is finished even if Chorus is stopping: cut
		// off, the post would have gone out but be recorded as failed.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		c.pmu.Lock()
		// Claimed in one step of the KV (atomic on PostgreSQL), so that
		// of several replicas one sends it; cancelled meanwhile, it is
		// not claimed.
		var cur Post
		err := bot.UpdateKV(sctx, c.kv, BucketPosts, p.ID, func(old []byte, found bool) ([]byte, error) {
			if !found || json.Unmarshal(old, &cur) != nil || cur.Status != StatusScheduled {
				return nil, errNotScheduled
			}
			cur.Status = StatusSending
			return json.Marshal(cur)
		})
		if err == nil {
			err = c.sendPost(sctx, &cur)
		}
		c.pmu.Unlock()
		cancel()
		if errors.Is(err, errNotScheduled) {
			continue
		}
		if err != nil {
			return err
		}
		action := "publish"
		if cur.Status != StatusSent {
			action = "failed"
		}
		if h := c.getHost(); h != nil {
			h.Audit(ctx, bot.AuditEntry{Platform: cur.Platform, User: cur.Author, Actor: "scheduler", Kind: bot.AuditPublish, Action: action,
				Excerpt: bot.Excerpt(cur.Text, 200), Note: c.outcomeNote(&cur)})
		}
	}
	return nil
}

// ready reports whether platform can send now: an adapter that says it
// is not connected yet (Discord before its gateway opened, at start) is
// waited for; a platform Chorus doesn't speak is not (sendPost fails the
// post).
func (c *Campaigns) ready(platform string) bool {
	h := c.getHost()
	if h == nil {
		return false
	}
	pl, ok := h.PlatformFor(platform)
	if !ok {
		return true
	}
	if r, ok := pl.(interface{ Ready() bool }); ok {
		return r.Ready()
	}
	return true
}

// errNotScheduled: the post is no longer waiting (sent by another
// replica, cancelled).
var errNotScheduled = errors.New("campaigns: post not scheduled")

// sendTimeout bounds one scheduled send, which a stop does not cut off.
const sendTimeout = 30 * time.Second

// timeLayout is how times are written to managers and read from them.
const timeLayout = "2006-01-02 15:04"

func (c *Campaigns) showTime(t time.Time) string { return t.In(c.loc).Format(timeLayout + " MST") }

var relRE = regexp.MustCompile(`^\+\s*(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?)$`)

// parseWhen reads a time to publish at, in loc: "2026-12-24 09:00",
// "09:00" (the next such time), "+2h", "+30m", "+1d". It must be in the
// future and within a year.
func parseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	var t time.Time
	if m := relRE.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 {
			return time.Time{}, errors.New("give a positive amount, such as +2h")
		}
		unit := time.Minute
		switch m[2][0] {
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		}
		if n > int(maxAhead/unit) {
			return time.Time{}, errors.New("more than a year ahead")
		}
		t = now.Add(time.Duration(n) * unit)
	} else if tt, err := time.ParseInLocation(timeLayout, s, loc); err == nil {
		t = tt
	} else if tt, err := time.ParseInLocation("2006-01-02T15:04", s, loc); err == nil {
		t = tt
	} else if hm, err := time.ParseInLocation("15:04", s, loc); err == nil {
		n := now.In(loc)
		t = time.Date(n.Year(), n.Month(), n.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
		if !t.After(now) {
			t = t.AddDate(0, 0, 1)
		}
	} else {
		return time.Time{}, errors.New("write it as 2026-12-24 09:00, 09:00 or +2h")
	}
	if !t.After(now) {
		return time.Time{}, errors.New("that time has passed")
	}
	if t.Sub(now) > maxAhead {
		return time.Time{}, errors.New("more than a year ahead")
	}
	return t, nil
}

// Announce implements manage.Publisher: a confirmed /announce goes to one
// channel as a campaign of its own (kind announcement), its links
// tracked and its reach kept.
func (c *Campaigns) Announce(ctx context.Context, author, text, platform, chat string) error {
	now := c.now()
	p := &Post{Kind: KindAnnouncement, Platform: platform, Chat: chat, Text: text, Author: author, Created: now, At: now.UTC(),
		Status: StatusScheduled, Reach: -1}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.newPost(ctx, p); err != nil {
		return fmt.Errorf("campaigns: announce: %w", err)
	}
	if err := c.sendPost(ctx, p); err != nil {
		return fmt.Errorf("campaigns: announce: %w", err)
	}
	if p.Status != StatusSent {
		return errors.New(p.Error)
	}
	return nil
}
