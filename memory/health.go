package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// kHealth is the meta key Healthy's probe writes.
var kHealth = []byte("health")

// Healthy's timing. A write that committed within probeFresh answers for
// the disk, so no probe is written; a failed write is reported for at
// least failureSticky before a probe may clear it, so that a readiness
// check sees it, and after that a probe can tell an idle store that has
// room again.
const (
	probeFresh    = 5 * time.Second
	failureSticky = 30 * time.Second
)

// writeHealth remembers the last write that failed to commit, until a
// write commits at least sticky (failureSticky when zero) after it, and
// when a write last committed. A small write that commits soon after a
// failure does not clear it: on a full disk, a write that fits in the
// file's free pages commits while every write that must grow the file
// fails.
type writeHealth struct {
	mu     sync.Mutex
	err    error
	at     time.Time
	ok     time.Time
	sticky time.Duration
}

// note records the outcome of one write: err is what the transaction
// returned, fnErr what the caller's function returned (a refusal, not a
// storage failure).
func (h *writeHealth) note(err, fnErr error) {
	if fnErr != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		h.ok = time.Now()
		if h.ok.Sub(h.at) >= h.window() {
			h.err = nil
		}
		return
	}
	h.err, h.at = err, time.Now()
}

// window is how long a failure is reported at least.
func (h *writeHealth) window() time.Duration {
	if h.sticky == 0 {
		return failureSticky
	}
	return h.sticky
}

func (h *writeHealth) last() (failedAt, okAt time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.at, h.ok, h.err
}

// Healthy reports whether the store can take writes, for a readiness
// check. It returns an error when the store is read-only or closed, when
// the last write failed to commit (a full disk, a file made read-only, an
// I/O error) and no write has committed failureSticky or more after it,
// or when a tiny probe write
// fails. The probe, one small durable transaction, is skipped while other
// writes are committing.
func (s *Store) Healthy(ctx context.Context) error {
	if s.readOnly {
		return fmt.Errorf("memory: healthy: %w", ErrReadOnly)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: healthy: %w", err)
	}
	// A read transaction costs no I/O and fails on a closed file.
	if err := s.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("memory: healthy: %w", err)
	}
	failedAt, okAt, lastErr := s.health.last()
	switch {
	case lastErr != nil && time.Since(failedAt) < s.health.window():
		return fmt.Errorf("memory: healthy: last write failed at %s: %w", failedAt.UTC().Format(time.RFC3339), lastErr)
	case lastErr == nil && time.Since(okAt) < probeFresh:
		return nil
	}
	now := s.now()
	// Through update, so that a probe that commits clears an old failure.
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(kHealth, timeKey(now))
	})
	if err != nil {
		return fmt.Errorf("memory: healthy: probe write: %w", err)
	}
	return nil
}
