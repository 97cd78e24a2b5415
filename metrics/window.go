package metrics

import (
	"sync"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// hllRing estimates distinct keys seen over a sliding window: one
// HyperLogLog sketch per time bucket, the buckets of the window merged when
// asked. Memory is bounded by the number of buckets, each sketch at most
// 16 KiB (precision 14; sparse while small).
type hllRing struct {
	bucket time.Duration
	window time.Duration
	slots  []hllSlot
}

type hllSlot struct {
	idx int64
	sk  *hyperloglog.Sketch
}

func newHLLRing(window, bucket time.Duration) *hllRing {
	n := int(window/bucket) + 1
	return &hllRing{bucket: bucket, window: window, slots: make([]hllSlot, n)}
}

func (r *hllRing) index(t time.Time) int64 { return t.UnixNano() / int64(r.bucket) }

func (r *hllRing) insert(now time.Time, key []byte) {
	idx := r.index(now)
	s := &r.slots[int(mod(idx, int64(len(r.slots))))]
	if s.sk == nil || s.idx != idx {
		if s.idx > idx && s.sk != nil {
			return // older than the slot's current bucket: already out of window
		}
		s.idx, s.sk = idx, hyperloglog.New()
	}
	s.sk.Insert(key)
}

// estimate merges every bucket that overlaps [now-window, now].
func (r *hllRing) estimate(now time.Time) uint64 {
	cur := r.index(now)
	first := r.index(now.Add(-r.window))
	var merged *hyperloglog.Sketch
	for i := range r.slots {
		s := &r.slots[i]
		if s.sk == nil || s.idx < first || s.idx > cur {
			continue
		}
		if merged == nil {
			merged = s.sk.Clone()
			continue
		}
		// Merge fails only on a precision mismatch, impossible here.
		_ = merged.Merge(s.sk)
	}
	if merged == nil {
		return 0
	}
	return merged.Estimate()
}

// activeUsers keeps the three rings behind chorus_active_users.
type activeUsers struct {
	mu    sync.Mutex
	rings []*hllRing
}

// ActiveWindow is the longest window of chorus_active_users: activity
// older than this does not count.
const ActiveWindow = 30 * 24 * time.Hour

// Active-user windows, in the order of activeWindowNames.
var activeWindows = []struct {
	name           string
	window, bucket time.Duration
}{
	{"5m", 5 * time.Minute, time.Minute},
	{"1d", 24 * time.Hour, time.Hour},
	{"30d", ActiveWindow, 24 * time.Hour},
}

func newActiveUsers() *activeUsers {
	a := &activeUsers{}
	for _, w := range activeWindows {
		a.rings = append(a.rings, newHLLRing(w.window, w.bucket))
	}
	return a
}

func (a *activeUsers) add(now time.Time, user string) {
	key := []byte(user)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.rings {
		r.insert(now, key)
	}
}

// counts returns the estimate for each window of activeWindows.
func (a *activeUsers) counts(now time.Time) []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]uint64, len(a.rings))
	for i, r := range a.rings {
		out[i] = r.estimate(now)
	}
	return out
}

// shareWindow is the share of negative sentiment over the last hour, kept
// as 60 per-minute buckets.
type shareWindow struct {
	mu    sync.Mutex
	slots [60]shareSlot
}

type shareSlot struct {
	idx        int64
	neg, total uint64
}

func minuteIndex(t time.Time) int64 { return t.UnixNano() / int64(time.Minute) }

func (w *shareWindow) add(now time.Time, negative bool) {
	idx := minuteIndex(now)
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &w.slots[int(mod(idx, int64(len(w.slots))))]
	if s.idx != idx {
		if s.idx > idx {
			return
		}
		*s = shareSlot{idx: idx}
	}
	s.total++
	if negative {
		s.neg++
	}
}

// share returns negative/total over the buckets of the last hour, 0 when
// nothing was scored.
func (w *shareWindow) share(now time.Time) float64 {
	cur := minuteIndex(now)
	w.mu.Lock()
	defer w.mu.Unlock()
	var neg, total uint64
	for _, s := range w.slots {
		if s.idx > cur-int64(len(w.slots)) && s.idx <= cur {
			neg += s.neg
			total += s.total
		}
	}
	if total == 0 {
		return 0
	}
	return float64(neg) / float64(total)
}

func mod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}
