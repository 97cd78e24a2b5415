package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// pruneChunk bounds the deletions of one pruning transaction, so pruning a
// large backlog never holds the write lock for long.
const pruneChunk = 5000

// Prune deletes turns older than before (by Turn.Time) with their index
// entries, dedup records accepted before it, and summaries last updated
// before it. It returns the number of records deleted. It walks the time
// indexes from their start, so its cost is set by what it deletes, not by
// what it keeps.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	return s.prune(ctx, before, before)
}

func (s *Store) prune(ctx context.Context, turnsBefore, dedupBefore time.Time) (int, error) {
	if s.readOnly {
		return 0, fmt.Errorf("memory: prune: %w", ErrReadOnly)
	}
	total := 0
	if !turnsBefore.IsZero() {
		n, err := s.pruneIndex(ctx, turnsBefore, func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bTTime) },
			func(tx *bolt.Tx, k []byte) (bool, error) {
				if len(k) < 16 {
					return false, nil
				}
				return deleteTurn(tx, k[8:len(k)-8], k[len(k)-8:], true)
			})
		total += n
		if err != nil {
			return total, fmt.Errorf("memory: prune turns: %w", err)
		}
		n, err = s.pruneSummaries(ctx, turnsBefore)
		total += n
		if err != nil {
			return total, fmt.Errorf("memory: prune summaries: %w", err)
		}
	}
	if !dedupBefore.IsZero() {
		n, err := s.pruneIndex(ctx, dedupBefore, func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bInbox).Bucket(bDTime) },
			func(tx *bolt.Tx, k []byte) (bool, error) {
				dedup := tx.Bucket(bInbox).Bucket(bDedup)
				dk := k[8:]
				if v := dedup.Get(dk); v != nil && bytes.Equal(v, k[:8]) {
					return true, dedup.Delete(clone(dk))
				}
				return false, nil
			})
		total += n
		if err != nil {
			return total, fmt.Errorf("memory: prune dedup: %w", err)
		}
	}
	return total, nil
}

// pruneIndex deletes, chunk by chunk, the entries of a time-keyed index
// older than before, calling del for each to delete what it points at.
func (s *Store) pruneIndex(ctx context.Context, before time.Time, index func(*bolt.Tx) *bolt.Bucket, del func(*bolt.Tx, []byte) (bool, error)) (int, error) {
	bk := timeKey(before)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, more := 0, false
		err := s.db.Update(func(tx *bolt.Tx) error {
			idx := index(tx)
			var keys [][]byte
			c := idx.Cursor()
			for k, _ := c.First(); len(k) >= 8 && bytes.Compare(k[:8], bk) < 0; k, _ = c.Next() {
				if len(keys) == pruneChunk {
					more = true
					break
				}
				keys = append(keys, clone(k))
			}
			for _, k := range keys {
				ok, err := del(tx, k)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if !more {
			return total, nil
		}
	}
}

// pruneSummaries deletes summaries last updated before before. Summaries
// are one per conversation, so this visits each conversation once.
func (s *Store) pruneSummaries(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		root := tx.Bucket(bConv)
		users := tx.Bucket(bUsers)
		var stale [][]byte
		err := root.ForEachBucket(func(ck []byte) error {
			v := root.Bucket(ck).Get(kSummary)
			if v == nil {
				return nil
			}
			var sum bot.Summary
			if err := json.Unmarshal(v, &sum); err != nil || sum.Updated.Before(before) {
				stale = append(stale, clone(ck))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, ck := range stale {
			if err := ctx.Err(); err != nil {
				return err
			}
			cb := root.Bucket(ck)
			var sum bot.Summary
			_ = json.Unmarshal(cb.Get(kSummary), &sum)
			for _, u := range sum.Users {
				if ub := users.Bucket(nameKey(u)); ub != nil {
					if err := ub.Delete(cat(refSummary, ck)); err != nil {
						return err
					}
				}
			}
			if err := cb.Delete(kSummary); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// RunRetention prunes every interval until ctx ends, then returns nil:
// turns and summaries older than the retention days (WithRetention; none
// when unset) and dedup records older than the retention, or 30 days when
// history is kept forever. It prunes once at once. A failed pass is
// returned only when it is not due to ctx ending; the next pass would
// retry, so callers usually log it and call RunRetention again.
func (s *Store) RunRetention(ctx context.Context, every time.Duration) error {
	return Every(ctx, every, func(ctx context.Context) error {
		now := s.now()
		var turnsBefore time.Time
		if s.retention > 0 {
			turnsBefore = now.Add(-s.retention)
		}
		if _, err := s.prune(ctx, turnsBefore, now.Add(-s.dedupTTL)); err != nil {
			return fmt.Errorf("memory: retention: %w", err)
		}
		return nil
	})
}

// Every runs pass at once and then every interval (an hour when not
// positive) until ctx ends, then returns nil. A failed pass is returned,
// unless it failed because ctx ended; the next pass would retry, so
// callers usually log it and call Every again. Both stores' retention
// runs this way.
func Every(ctx context.Context, every time.Duration, pass func(context.Context) error) error {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := pass(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
