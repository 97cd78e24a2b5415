package campaigns

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// KV buckets of the clicks.
const (
	// BucketStats holds each campaign's figures (Stats as JSON) by
	// campaign id.
	BucketStats = "campaign_stats"
	// BucketKeys holds the key click ids are signed with ("click-key")
	// and the day's salt of the visitor hashes ("salt/DAY"), deleted
	// when the day is over.
	BucketKeys = "campaign_keys"
	// BucketSeen holds the day's visitor hashes ("DAY/SEQ": a batch of
	// hex hashes), deleted with the day's salt.
	BucketSeen = "campaign_seen"
)

// DefaultFlushEvery is how often counted clicks are written.
const DefaultFlushEvery = 5 * time.Second

// flushAt is how many unwritten clicks make Run write them at once.
const flushAt = 512

// ChatStats are a campaign's figures in one chat.
type ChatStats struct {
	Clicks      int     `json:"clicks"`
	Unique      int     `json:"unique"`
	Conversions int     `json:"conversions"`
	Value       float64 `json:"value,omitempty"`
}

// Stats are one campaign's figures. Unique clicks are distinct visitors
// per day (a visitor is a daily-salted hash of the client address),
// summed over days.
type Stats struct {
	Campaign string `json:"campaign"`
	Kind     Kind   `json:"kind"`
	Clicks   int    `json:"clicks"`
	Unique   int    `json:"unique"`
	// Days are clicks by day (YYYY-MM-DD in the configured zone).
	Days map[string]int `json:"days,omitempty"`
	// UniqueDays are unique clicks by day.
	UniqueDays map[string]int `json:"unique_days,omitempty"`
	// Links are clicks by link code.
	Links map[string]int `json:"links,omitempty"`
	// Chats are the figures by "platform/chat".
	Chats       map[string]*ChatStats `json:"chats,omitempty"`
	Conversions int                   `json:"conversions"`
	// ConversionDays are conversions by day.
	ConversionDays map[string]int `json:"conversion_days,omitempty"`
	// Values are the conversions' values summed by currency ("" when a
	// conversion gave a value without one).
	Values map[string]float64 `json:"values,omitempty"`
	// ValueDays are the values by "DAY CURRENCY".
	ValueDays map[string]float64 `json:"value_days,omitempty"`
	// Events are conversions by event name.
	Events map[string]int `json:"events,omitempty"`
}

func (s *Stats) chat(key string) *ChatStats {
	if s.Chats == nil {
		s.Chats = map[string]*ChatStats{}
	}
	cs := s.Chats[key]
	if cs == nil {
		cs = &ChatStats{}
		s.Chats[key] = cs
	}
	return cs
}

func inc(m *map[string]int, k string, n int) {
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[k] += n
}

// add adds the figures of d to s.
func (s *Stats) add(d *Stats) {
	s.Campaign, s.Kind = d.Campaign, d.Kind
	s.Clicks += d.Clicks
	s.Unique += d.Unique
	s.Conversions += d.Conversions
	for k, n := range d.Days {
		inc(&s.Days, k, n)
	}
	for k, n := range d.UniqueDays {
		inc(&s.UniqueDays, k, n)
	}
	for k, n := range d.Links {
		inc(&s.Links, k, n)
	}
	for k, n := range d.ConversionDays {
		inc(&s.ConversionDays, k, n)
	}
	for k, n := range d.Events {
		inc(&s.Events, k, n)
	}
	for k, v := range d.Values {
		if s.Values == nil {
			s.Values = map[string]float64{}
		}
		s.Values[k] += v
	}
	for k, v := range d.ValueDays {
		if s.ValueDays == nil {
			s.ValueDays = map[string]float64{}
		}
		s.ValueDays[k] += v
	}
	for k, cs := range d.Chats {
		t := s.chat(k)
		t.Clicks += cs.Clicks
		t.Unique += cs.Unique
		t.Conversions += cs.Conversions
		t.Value += cs.Value
	}
}

// clickState is what counting clicks keeps in memory between flushes.
type clickState struct {
	day  string
	salt []byte
	// seen are the visitor hashes of the day (campaign and visitor);
	// fresh those not yet written.
	seen  map[string]bool
	fresh []string
	// pending are the figures not yet written, by campaign.
	pending map[string]*Stats
	n       int
	seq     int
}

// countable reports whether a request is a person following the link: not
// a HEAD, not a prefetch, and not a bot or link-preview fetcher by its
// user agent (Telegram and Discord fetch every link posted once).
func countable(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	if p := strings.ToLower(r.Header.Get("Sec-Purpose") + r.Header.Get("Purpose") + r.Header.Get("X-Purpose")); strings.Contains(p, "prefetch") || strings.Contains(p, "preview") {
		return false
	}
	ua := strings.ToLower(r.UserAgent())
	if ua == "" {
		return false
	}
	for _, b := range botAgents {
		if strings.Contains(ua, b) {
			return false
		}
	}
	return true
}

// botAgents are user-agent fragments of bots and link-preview fetchers
// (lower case). "bot" covers TelegramBot, Discordbot, Twitterbot,
// Slackbot, LinkedInBot, Googlebot, bingbot and the like.
var botAgents = []string{"bot", "crawler", "spider", "preview", "facebookexternalhit", "facebookcatalog", "whatsapp", "embedly",
	"slurp", "vkshare", "pinterest", "skypeuripreview", "iframely", "outbrain", "quora link", "bitlybot", "mastodon",
	"headlesschrome", "python-requests", "go-http-client", "curl/", "wget/", "okhttp", "http_request", "feedfetcher"}

// clientAddr is the client's address: the connection's, or the last
// X-Forwarded-For entry when links.trust_forwarded_for is set.
func (c *Campaigns) clientAddr(r *http.Request) string {
	if c.lcfg.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); a != "" {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// count counts a click on l by the visitor at addr and returns its click
// id. The address is hashed with the day's salt at once and never kept.
func (c *Campaigns) count(ctx context.Context, l Link, addr string) (string, error) {
	id, err := c.clickID(ctx, l.Code)
	if err != nil {
		return "", err
	}
	now := c.now()
	day := now.In(c.loc).Format(time.DateOnly)
	c.cmu.Lock()
	if c.clicks.day != day {
		c.cmu.Unlock()
		if err := c.startDay(ctx, day); err != nil {
			return "", err
		}
		c.cmu.Lock()
	}
	mac := hmac.New(sha256.New, c.clicks.salt)
	mac.Write([]byte(l.Campaign + "\x00" + addr))
	h := hex.EncodeToString(mac.Sum(nil)[:16])
	unique := !c.clicks.seen[h]
	if unique {
		c.clicks.seen[h] = true
		c.clicks.fresh = append(c.clicks.fresh, h)
	}
	d := c.clicks.pending[l.Campaign]
	if d == nil {
		d = &Stats{Campaign: l.Campaign, Kind: l.Kind}
		c.clicks.pending[l.Campaign] = d
	}
	u := 0
	if unique {
		u = 1
	}
	d.Clicks++
	d.Unique += u
	inc(&d.Days, day, 1)
	inc(&d.UniqueDays, day, u)
	inc(&d.Links, l.Code, 1)
	cs := d.chat(l.Platform + "/" + l.Chat)
	cs.Clicks++
	cs.Unique += u
	c.clicks.n++
	full := c.clicks.n >= flushAt
	c.cmu.Unlock()
	if full {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	if h := c.getHost(); h != nil {
		h.Emit(bot.Event{Kind: bot.EventClick, Platform: l.Platform, Chat: bot.ConversationKey(l.Platform, l.Chat, ""), Label: string(l.Kind)})
	}
	return id, nil
}

// startDay switches counting to day: its salt (made on its first click,
// kept in the KV so that a restart counts the same visitors once), the
// visitor hashes written so far; the salts and hashes of earlier days are
// deleted, so that no visitor can be followed from one day to the next.
func (c *Campaigns) startDay(ctx context.Context, day string) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.cmu.Lock()
	same := c.clicks.day == day
	c.cmu.Unlock()
	if same {
		return nil // another click started it
	}
	if err := c.flush(ctx); err != nil {
		return err
	}
	c.fmu.Lock()
	defer c.fmu.Unlock()
	salt, err := c.keep(ctx, "salt/"+day)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	seq := 0
	var old []string
	err = c.kv.Scan(ctx, BucketSeen, "", "", func(k string, v []byte) error {
		if !strings.HasPrefix(k, day+"/") {
			old = append(old, k)
			return nil
		}
		seq++
		for h := range strings.SplitSeq(string(v), ",") {
			if h != "" {
				seen[h] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = c.kv.Scan(ctx, BucketKeys, "salt/", "salt0", func(k string, _ []byte) error {
		if k != "salt/"+day {
			old = append(old, "\x00"+k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range old {
		b := BucketSeen
		if strings.HasPrefix(k, "\x00") {
			b, k = BucketKeys, k[1:]
		}
		if err := c.kv.Delete(ctx, b, k); err != nil {
			return err
		}
	}
	c.cmu.Lock()
	c.clicks.day, c.clicks.salt, c.clicks.seen, c.clicks.fresh, c.clicks.seq = day, salt, seen, nil, seq
	c.cmu.Unlock()
	return nil
}

// flush writes the counted clicks: each campaign's figures added to its
// stored ones, and the day's new visitor hashes as one record.
func (c *Campaigns) flush(ctx context.Context) error {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	c.cmu.Lock()
	pending, fresh, day := c.clicks.pending, c.clicks.fresh, c.clicks.day
	c.clicks.pending, c.clicks.fresh, c.clicks.n = map[string]*Stats{}, nil, 0
	seq := c.clicks.seq
	if len(fresh) > 0 {
		c.clicks.seq++
	}
	c.cmu.Unlock()
	if len(fresh) > 0 {
		key := fmt.Sprintf("%s/%08d", day, seq)
		if err := c.kv.Put(ctx, BucketSeen, key, []byte(strings.Join(fresh, ","))); err != nil {
			c.requeue(pending)
			return err
		}
	}
	for id, d := range pending {
		if err := c.addStats(ctx, id, d); err != nil {
			delete(pending, id)
			c.requeue(pending)
			return err
		}
		delete(pending, id)
	}
	return nil
}

// requeue puts figures a failed flush did not write back for the next.
func (c *Campaigns) requeue(pending map[string]*Stats) {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	for id, d := range pending {
		if cur := c.clicks.pending[id]; cur != nil {
			cur.add(d)
		} else {
			c.clicks.pending[id] = d
		}
	}
}

// addStats adds d to the stored figures of campaign id; c.fmu is held.
// It is one step of the KV (atomic on PostgreSQL), so that replicas
// adding their clicks to one campaign don't lose each other's.
func (c *Campaigns) addStats(ctx context.Context, id string, d *Stats) error {
	return bot.UpdateKV(ctx, c.kv, BucketStats, id, func(old []byte, found bool) ([]byte, error) {
		s := Stats{Campaign: id}
		if found {
			if err := json.Unmarshal(old, &s); err != nil {
				return nil, fmt.Errorf("stats %s: %w", id, err)
			}
		}
		s.add(d)
		return json.Marshal(s)
	})
}

// keep returns the value under key in BucketKeys, storing fresh random
// bytes the first time: in one step of the KV, so that replicas share one.
func (c *Campaigns) keep(ctx context.Context, key string) ([]byte, error) {
	var out []byte
	err := bot.UpdateKV(ctx, c.kv, BucketKeys, key, func(old []byte, found bool) ([]byte, error) {
		if found && len(old) > 0 {
			out = bytes.Clone(old)
			return old, nil
		}
		out = make([]byte, 32)
		if _, err := rand.Read(out); err != nil {
			return nil, err
		}
		return out, nil
	})
	return out, err
}

// stats reads the stored figures of campaign id (zero when none).
func (c *Campaigns) stats(ctx context.Context, id string) (Stats, error) {
	s, ok, err := getJSON[Stats](ctx, c.kv, BucketStats, id)
	if !ok && err == nil {
		s.Campaign = id
	}
	return s, err
}

// clickKey is the key click ids are signed with, made on first use.
func (c *Campaigns) clickKey(ctx context.Context) ([]byte, error) {
	c.kmu.Lock()
	defer c.kmu.Unlock()
	if c.ckey != nil {
		return c.ckey, nil
	}
	k, err := c.keep(ctx, "click-key")
	if err != nil {
		return nil, err
	}
	c.ckey = k
	return k, nil
}

// clickID makes the id of a click on code: the code, a random part and a
// signature over both. A conversion names it; the signature proves Chorus
// issued it, and the code says which link (so campaign, platform and
// chat) it came from, without a record per click.
func (c *Campaigns) clickID(ctx context.Context, code string) (string, error) {
	key, err := c.clickKey(ctx)
	if err != nil {
		return "", err
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	body := code + "." + base64.RawURLEncoding.EncodeToString(r[:]) + "." + strconv.FormatInt(c.now().Unix(), 36)
	return body + "." + sign(key, body), nil
}

func sign(key []byte, body string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
}

// parseClick checks a click id and returns its link code and time; ok is
// false when Chorus did not issue it.
func (c *Campaigns) parseClick(ctx context.Context, id string) (code string, at time.Time, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i < 0 || len(id) > 128 {
		return "", time.Time{}, false
	}
	key, err := c.clickKey(ctx)
	if err != nil {
		return "", time.Time{}, false
	}
	body, sig := id[:i], id[i+1:]
	if !hmac.Equal([]byte(sig), []byte(sign(key, body))) {
		return "", time.Time{}, false
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[2], 36, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return parts[0], time.Unix(sec, 0), true
}

// target is where a click on l goes: its stored URL with the campaign's
// UTM parameters and, for a counted click, the click id.
func target(l Link, clickID string) string {
	u, err := url.Parse(l.Target)
	if err != nil {
		return l.Target
	}
	q := u.Query()
	q.Set("utm_source", l.Platform)
	q.Set("utm_medium", "community")
	q.Set("utm_campaign", l.Campaign)
	if clickID != "" {
		q.Set("chorus_click", clickID)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Stats returns the figures of campaign id, the clicks counted but not
// yet written included.
func (c *Campaigns) Stats(ctx context.Context, id string) (Stats, error) {
	if err := c.flush(ctx); err != nil {
		return Stats{}, fmt.Errorf("campaigns: stats: %w", err)
	}
	c.fmu.Lock()
	defer c.fmu.Unlock()
	return c.stats(ctx, id)
}
