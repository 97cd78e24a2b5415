package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/chorusbot/chorus/bot"
)

// KV buckets.
const (
	bucketHours = "analytics_hours"
	bucketTerms = "analytics_terms"
	bucketUsers = "analytics_users"
)

// globalChat is the rollup "chat" holding engine-wide figures (replies,
// first-token latency, brand conversations) that events don't tie to one
// chat.
const globalChat = "*"

const (
	hourLayout      = "2006010215"
	maxSamples      = 3
	maxSampleRunes  = 200
	maxTermsPerHour = 400
	// The first-reply latency histogram: bucket 0 is up to latencyBase,
	// bucket i up to latencyBase*latencyGrowth^i, the last unbounded (from
	// 1 ms to about 3.5 minutes, each bucket 25% wider than the one
	// before, so a median read from it is within about 12%).
	latencyBuckets = 56
	latencyBase    = time.Millisecond
	latencyGrowth  = 1.25
	// The histogram stored before (field "ft"), read by converting each
	// of its buckets at its representative duration: bucket 0 was up to
	// 100 ms, each next 35% wider, 32 buckets.
	legacyLatencyBuckets = 32
	legacyLatencyBase    = 100 * time.Millisecond
	legacyLatencyGrowth  = 1.35
	maxNameWords         = 20000
	maxBrandTracking     = 10000
)

// compCount is what one competitor got in one hour.
type compCount struct {
	N        int     `json:"n"`
	Counts   [3]int  `json:"c"`
	ScoreSum float64 `json:"s"`
}

// sampleRec is a negative message kept to be quoted: its author's display
// name (to quote them as the room sees them) and a one-way hash of their
// user key (to find it again when they are forgotten), never their id.
type sampleRec struct {
	User string `json:"u"`
	Name string `json:"n,omitempty"`
	Text string `json:"t"`
}

// UnmarshalJSON reads a sample; one stored before samples had authors (a
// bare string) can't be found again when its author is forgotten, so it
// is dropped (Text left empty, skipped by readers).
func (s *sampleRec) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*s = sampleRec{}
		return nil
	}
	type plain sampleRec
	return json.Unmarshal(b, (*plain)(s))
}

// hourRollup is one chat's hour. The same type holds an in-memory delta
// and the stored total; merge adds one into the other.
type hourRollup struct {
	Platform string `json:"p,omitempty"`
	// Title is a group's or channel's name; DM marks a private chat.
	Title       string                `json:"ti,omitempty"`
	DM          bool                  `json:"dm,omitempty"`
	Messages    int                   `json:"n,omitempty"`
	Counts      [3]int                `json:"c"`
	ScoreSum    float64               `json:"s,omitempty"`
	Users       []byte                `json:"u,omitempty"` // HyperLogLog sketch
	Samples     []sampleRec           `json:"x,omitempty"` // negative messages, newest last
	Competitors map[string]*compCount `json:"k,omitempty"`
	// Engine-wide figures, on globalChat only.
	Replies    int   `json:"r,omitempty"`
	RepliesOK  int   `json:"ro,omitempty"`
	FirstToken []int `json:"ft2,omitempty"` // first-reply latency histogram (latencyBucket)
	// LegacyFirstToken is the coarser histogram stored before (bucket 0
	// was everything up to 100 ms); decodeRollup moves it into FirstToken.
	LegacyFirstToken []int `json:"ft,omitempty"`
	BrandStarted     int   `json:"bs,omitempty"`
	BrandAnswered    int   `json:"ba,omitempty"`
	// Votes on answers with the feedback buttons: up, down.
	VotesUp   int `json:"vu,omitempty"`
	VotesDown int `json:"vd,omitempty"`

	users *hyperloglog.Sketch
}

func (h *hourRollup) sketch() *hyperloglog.Sketch {
	if h.users == nil {
		h.users = hyperloglog.New14()
		if len(h.Users) > 0 {
			if err := h.users.UnmarshalBinary(h.Users); err != nil {
				h.users = hyperloglog.New14()
			}
		}
	}
	return h.users
}

func (h *hourRollup) addUser(user string) { h.sketch().InsertHash(hash64(user)) }

func (h *hourRollup) merge(o *hourRollup) {
	if o.Platform != "" {
		h.Platform = o.Platform
	}
	if o.Title != "" {
		h.Title = o.Title
	}
	h.DM = h.DM || o.DM
	h.Messages += o.Messages
	for i := range h.Counts {
		h.Counts[i] += o.Counts[i]
	}
	h.ScoreSum += o.ScoreSum
	if o.users != nil || len(o.Users) > 0 {
		_ = h.sketch().Merge(o.sketch()) // same precision: can't fail
	}
	h.Samples = append(h.Samples, o.Samples...)
	h.Samples = slices.DeleteFunc(h.Samples, func(x sampleRec) bool { return x.Text == "" })
	if n := len(h.Samples); n > maxSamples {
		h.Samples = slices.Clone(h.Samples[n-maxSamples:])
	}
	for name, c := range o.Competitors {
		if h.Competitors == nil {
			h.Competitors = map[string]*compCount{}
		}
		t := h.Competitors[name]
		if t == nil {
			t = &compCount{}
			h.Competitors[name] = t
		}
		t.N += c.N
		t.ScoreSum += c.ScoreSum
		for i := range t.Counts {
			t.Counts[i] += c.Counts[i]
		}
	}
	h.Replies += o.Replies
	h.RepliesOK += o.RepliesOK
	if len(o.FirstToken) > 0 {
		if len(h.FirstToken) < latencyBuckets {
			h.FirstToken = append(h.FirstToken, make([]int, latencyBuckets-len(h.FirstToken))...)
		}
		for i, v := range o.FirstToken {
			if i < latencyBuckets {
				h.FirstToken[i] += v
			}
		}
	}
	h.BrandStarted += o.BrandStarted
	h.BrandAnswered += o.BrandAnswered
	h.VotesUp += o.VotesUp
	h.VotesDown += o.VotesDown
}

func (h *hourRollup) encode() ([]byte, error) {
	if h.users != nil {
		b, err := h.users.MarshalBinary()
		if err != nil {
			return nil, err
		}
		h.Users = b
	}
	return json.Marshal(h)
}

func decodeRollup(b []byte) (*hourRollup, error) {
	h := &hourRollup{}
	if err := json.Unmarshal(b, h); err != nil {
		return nil, err
	}
	h.convertLegacy()
	return h, nil
}

// convertLegacy moves the coarser first-reply histogram stored before into
// FirstToken.
func (h *hourRollup) convertLegacy() {
	if len(h.LegacyFirstToken) > 0 {
		if len(h.FirstToken) < latencyBuckets {
			h.FirstToken = append(h.FirstToken, make([]int, latencyBuckets-len(h.FirstToken))...)
		}
		for i, n := range h.LegacyFirstToken {
			h.FirstToken[latencyBucket(legacyLatencyMid(min(i, legacyLatencyBuckets-1)))] += n
		}
		h.LegacyFirstToken = nil
	}
}

// skipJSON takes a JSON value and keeps nothing of it.
type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// decodeCounts is decodeRollup without the quoted samples and the
// competitor counts, for the reports that read neither (engagement, the
// chat list): building them is most of a rollup's decoding.
func decodeCounts(b []byte) (*hourRollup, error) {
	h := &hourRollup{}
	w := struct {
		*hourRollup
		Samples     skipJSON `json:"x"`
		Competitors skipJSON `json:"k"`
	}{hourRollup: h}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	h.convertLegacy()
	return h, nil
}

func latencyBucket(d time.Duration) int {
	if d <= latencyBase {
		return 0
	}
	i := int(math.Log(float64(d)/float64(latencyBase))/math.Log(latencyGrowth)) + 1
	return min(i, latencyBuckets-1)
}

// latencyAt is the duration a fraction f (0 to 1) of the way through
// bucket i: linear in bucket 0, geometric in the others, as the buckets
// grow.
func latencyAt(i int, f float64) time.Duration {
	if i == 0 {
		return time.Duration(f * float64(latencyBase))
	}
	lo := float64(latencyBase) * math.Pow(latencyGrowth, float64(i-1))
	return time.Duration(lo * math.Pow(latencyGrowth, f))
}

// legacyLatencyMid is the representative duration of bucket i of the
// histogram stored before.
func legacyLatencyMid(i int) time.Duration {
	if i == 0 {
		return legacyLatencyBase / 2
	}
	lo := float64(legacyLatencyBase) * math.Pow(legacyLatencyGrowth, float64(i-1))
	return time.Duration(lo * math.Sqrt(legacyLatencyGrowth))
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func hourKey(t time.Time) string { return t.UTC().Format(hourLayout) }

func rollupKey(t time.Time, chat string) string { return hourKey(t) + "/" + chat }

// termsKey is the key of one chat's term counts for an hour. Counts stored
// before they were kept per chat are under the bare hour key; only a
// report that covers every chat reads them.
func termsKey(t time.Time, conv string) string { return hourKey(t) + "/" + conv }

// userRec is when a user was first and last seen (unix seconds); users are
// stored under a hash of their key, never the key itself.
type userRec struct {
	First int64 `json:"f"`
	Last  int64 `json:"l"`
}

// delta is what accumulated in memory since the last flush.
type delta struct {
	hours map[string]*hourRollup    // rollupKey
	terms map[string]map[string]int // termsKey -> term -> messages
	users map[string]userRec        // user hash
}

func newDelta() *delta {
	return &delta{hours: map[string]*hourRollup{}, terms: map[string]map[string]int{}, users: map[string]userRec{}}
}

func (d *delta) empty() bool { return len(d.hours) == 0 && len(d.terms) == 0 && len(d.users) == 0 }

func (d *delta) hour(t time.Time, chat string) *hourRollup {
	k := rollupKey(t, chat)
	h := d.hours[k]
	if h == nil {
		h = &hourRollup{}
		d.hours[k] = h
	}
	return h
}

// userRecKey is the key of a user's first/last-seen record: a hash of
// their user key, never the key itself.
func userRecKey(user string) string { return fmt.Sprintf("%016x", hash64(user)) }

func (d *delta) touchUser(user string, t time.Time) {
	k := userRecKey(user)
	u, ok := d.users[k]
	ts := t.Unix()
	if !ok {
		d.users[k] = userRec{First: ts, Last: ts}
		return
	}
	u.First, u.Last = min(u.First, ts), max(u.Last, ts)
	d.users[k] = u
}

// absorb merges o into d (used to keep a delta whose flush failed).
func (d *delta) absorb(o *delta) {
	for k, h := range o.hours {
		if cur := d.hours[k]; cur != nil {
			h.merge(cur)
		}
		d.hours[k] = h
	}
	for hk, m := range o.terms {
		cur := d.terms[hk]
		if cur == nil {
			d.terms[hk] = m
			continue
		}
		for t, n := range m {
			cur[t] += n
		}
	}
	for k, u := range o.users {
		if cur, ok := d.users[k]; ok {
			u.First, u.Last = min(u.First, cur.First), max(u.Last, cur.Last)
		}
		d.users[k] = u
	}
}

// Flush writes the counts gathered since the last flush to the KV. On error
// the unwritten part is kept for the next flush.
func (a *Analytics) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	return a.flushLocked(ctx)
}

// flushLocked is Flush with flushMu held.
func (a *Analytics) flushLocked(ctx context.Context) error {
	a.mu.Lock()
	d := a.delta
	a.delta = newDelta()
	a.mu.Unlock()
	if d.empty() {
		return nil
	}
	if b, ok := a.kv.(bot.KVBatch); ok {
		// One transaction for the whole flush: one commit where a
		// record per transaction made 2,002 for 1,000 users.
		err := b.Update(ctx, func(tx bot.KV) error {
			for k, h := range d.hours {
				if err := a.mergeHour(ctx, tx, k, h); err != nil {
					return err
				}
			}
			for hk, m := range d.terms {
				if err := a.mergeTerms(ctx, tx, hk, m); err != nil {
					return err
				}
			}
			for k, u := range d.users {
				if err := a.mergeUser(ctx, tx, k, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			a.mu.Lock()
			a.delta.absorb(d)
			a.mu.Unlock()
			return fmt.Errorf("analytics: flush: %w", err)
		}
		return nil
	}
	rest := newDelta()
	var errs []error
	for k, h := range d.hours {
		if err := a.mergeHour(ctx, a.kv, k, h); err != nil {
			errs = append(errs, err)
			rest.hours[k] = h
		}
	}
	for hk, m := range d.terms {
		if err := a.mergeTerms(ctx, a.kv, hk, m); err != nil {
			errs = append(errs, err)
			rest.terms[hk] = m
		}
	}
	for k, u := range d.users {
		if err := a.mergeUser(ctx, a.kv, k, u); err != nil {
			errs = append(errs, err)
			rest.users[k] = u
		}
	}
	if len(errs) > 0 {
		a.mu.Lock()
		a.delta.absorb(rest)
		a.mu.Unlock()
		return fmt.Errorf("analytics: flush: %w", errors.Join(errs...))
	}
	return nil
}

func (a *Analytics) mergeHour(ctx context.Context, kv bot.KV, key string, h *hourRollup) error {
	return bot.UpdateKV(ctx, kv, bucketHours, key, func(b []byte, found bool) ([]byte, error) {
		cur := &hourRollup{}
		if found {
			var err error
			if cur, err = decodeRollup(b); err != nil {
				a.log.Warn("analytics: dropping unreadable rollup", "key", key, "err", err)
				cur = &hourRollup{}
			}
		}
		cur.merge(h)
		return cur.encode()
	})
}

func (a *Analytics) mergeTerms(ctx context.Context, kv bot.KV, hk string, m map[string]int) error {
	return bot.UpdateKV(ctx, kv, bucketTerms, hk, func(b []byte, found bool) ([]byte, error) {
		return mergeTermCounts(b, found, m)
	})
}

// mergeTermCounts adds m to the stored counts b, keeping the most
// frequent maxTermsPerHour.
func mergeTermCounts(b []byte, found bool, m map[string]int) ([]byte, error) {
	cur := map[string]int{}
	if found && json.Unmarshal(b, &cur) != nil {
		cur = map[string]int{}
	}
	for t, n := range m {
		cur[t] += n
	}
	if len(cur) > maxTermsPerHour {
		// Keep the most frequent: the tail can't trend within an hour.
		type tc struct {
			t string
			n int
		}
		all := make([]tc, 0, len(cur))
		for t, n := range cur {
			all = append(all, tc{t, n})
		}
		slices.SortFunc(all, func(x, y tc) int {
			if x.n != y.n {
				return y.n - x.n
			}
			return compareStrings(x.t, y.t)
		})
		cur = make(map[string]int, maxTermsPerHour)
		for _, x := range all[:maxTermsPerHour] {
			cur[x.t] = x.n
		}
	}
	return json.Marshal(cur)
}

func (a *Analytics) mergeUser(ctx context.Context, kv bot.KV, k string, u userRec) error {
	return bot.UpdateKV(ctx, kv, bucketUsers, k, func(b []byte, found bool) ([]byte, error) {
		var cur userRec
		if found && json.Unmarshal(b, &cur) == nil && cur.First != 0 {
			u.First, u.Last = min(u.First, cur.First), max(u.Last, cur.Last)
		}
		return json.Marshal(u)
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// scanHours calls fn for every stored rollup in [from, to).
func (a *Analytics) scanHours(ctx context.Context, from, to time.Time, fn func(hour time.Time, chat string, h *hourRollup)) error {
	return a.scanWith(ctx, from, to, decodeRollup, fn)
}

// scanCounts is scanHours without the samples and competitor counts
// (decodeCounts).
func (a *Analytics) scanCounts(ctx context.Context, from, to time.Time, fn func(hour time.Time, chat string, h *hourRollup)) error {
	return a.scanWith(ctx, from, to, decodeCounts, fn)
}

func (a *Analytics) scanWith(ctx context.Context, from, to time.Time, decode func([]byte) (*hourRollup, error),
	fn func(hour time.Time, chat string, h *hourRollup)) error {
	return a.kv.Scan(ctx, bucketHours, hourKey(from), hourKey(to), func(key string, value []byte) error {
		hk, chat, ok := cutSlash(key)
		if !ok {
			return nil
		}
		t, err := time.Parse(hourLayout, hk)
		if err != nil {
			return nil
		}
		h, err := decode(value)
		if err != nil {
			return nil
		}
		fn(t, chat, h)
		return nil
	})
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// ActivityKey is what analytics records a user's activity under: a one-way
// hash of their user key (LastSeen reports users by it). Metrics count
// active users by the same key, so that the figure rebuilt from these
// records at start and the live one count a user once.
func ActivityKey(user string) string { return userRecKey(user) }

// LastSeen calls fn with the ActivityKey and the last time seen of every
// user whose last message scored by analytics (commands and the bot's own
// messages are not) is at or after since: the stored records and what is
// not flushed yet. It reads every user's record.
func (a *Analytics) LastSeen(ctx context.Context, since time.Time, fn func(key string, last time.Time)) error {
	// No flush between the copy of the pending records and the scan.
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	pending := make(map[string]userRec, len(a.delta.users))
	for k, u := range a.delta.users {
		pending[k] = u
	}
	a.mu.Unlock()
	from := since.Unix()
	err := a.kv.Scan(ctx, bucketUsers, "", "", func(k string, v []byte) error {
		var u userRec
		if json.Unmarshal(v, &u) != nil || u.First == 0 {
			return nil
		}
		if p, ok := pending[k]; ok {
			u.Last = max(u.Last, p.Last)
			delete(pending, k)
		}
		if u.Last >= from {
			fn(k, time.Unix(u.Last, 0))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("analytics: last seen: %w", err)
	}
	for k, u := range pending {
		if u.Last >= from {
			fn(k, time.Unix(u.Last, 0))
		}
	}
	return nil
}
