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

// writeHealth remembers the last write that failed to commit, until a
// later write commits.
type writeHealth struct {
	mu  sync.Mutex
	err error
	at  time.Time
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
		h.err = nil
		return
	}
	h.err, h.at = err, time.Now()
}

func (h *writeHealth) last() (error, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err, h.at
}

// Healthy reports whether the store can take writes, for a readiness
// check. It returns an error when the store is read-only or closed, when
// the last write failed to commit (a full disk, a file made read-only, an
// I/O error) and no write has committed since, or when a tiny probe write
// fails. It costs one small durable transaction.
func (s *Store) Healthy(ctx context.Context) error {
	if s.readOnly {
		return fmt.Errorf("memory: healthy: %w", ErrReadOnly)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: healthy: %w", err)
	}
	if err, at := s.health.last(); err != nil {
		return fmt.Errorf("memory: healthy: last write failed at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	now := s.now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(kHealth, timeKey(now))
	})
	if err != nil {
		return fmt.Errorf("memory: healthy: probe write: %w", err)
	}
	return nil
}
