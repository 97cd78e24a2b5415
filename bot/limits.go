package bot

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per key. Buckets idle long enough to be
// full again are dropped, so memory follows active users, not all users.
type rateLimiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(perMinute float64, burst int) *rateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &rateLimiter{rate: perMinute / 60, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes one token from key's bucket and reports whether there was one.
func (l *rateLimiter) allow(key string, now time.Time) bool {
	if l == nil || l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		full := time.Duration(l.burst / l.rate * float64(time.Second))
		for k, b := range l.buckets {
			if now.Sub(b.last) > full {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * l.rate
	if b.tokens > l.burst {
		b.tokens = l.burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// forget drops key's bucket.
func (l *rateLimiter) forget(key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}

// budgets counts LLM tokens spent per key per UTC day.
type budgets struct {
	mu   sync.Mutex
	day  string
	used map[string]int
}

func (b *budgets) roll(now time.Time) {
	d := now.UTC().Format("2006-01-02")
	if d != b.day {
		b.day, b.used = d, map[string]int{}
	}
}

// over reports whether key has spent limit or more today. limit <= 0 means
// no limit.
func (b *budgets) over(key string, limit int, now time.Time) bool {
	if limit <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	return b.used[key] >= limit
}

func (b *budgets) add(key string, n int, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	b.used[key] += n
}

// forget drops key's count.
func (b *budgets) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.used, key)
}
