package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// AuditQuery filters AuditLog. Empty fields match everything.
type AuditQuery struct {
	// User keeps entries about this user key.
	User string
	// Kind keeps entries of this kind ("moderation", "command", ...).
	Kind string
	// Since keeps entries at or after this time.
	Since time.Time
	// Limit bounds the result (default 100, at most 10,000).
	Limit int
}

// Audit implements bot.Auditor. Entries are keyed by time, then by a
// sequence number so entries at the same instant are all kept. An entry
// about a user is indexed under that user for export and forget.
func (s *Store) Audit(ctx context.Context, e bot.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Excerpt = cleanText(e.Excerpt)
	e.Note = cleanText(e.Note)
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("memory: audit: %w", err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bAudit)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		k := cat(timeKey(e.Time), u64(seq))
		if err := b.Put(k, body); err != nil {
			return err
		}
		if e.User == "" {
			return nil
		}
		ub, err := tx.Bucket(bUsers).CreateBucketIfNotExists(nameKey(e.User))
		if err != nil {
			return err
		}
		return ub.Put(cat(refAudit, k), nil)
	})
	if err != nil {
		return fmt.Errorf("memory: audit: %w", err)
	}
	return nil
}

// AuditLog returns audit entries matching q, newest first. It walks the
// log backward from the end and stops at q.Since or q.Limit.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]bot.AuditEntry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	var since []byte
	if !q.Since.IsZero() {
		since = timeKey(q.Since)
	}
	var out []bot.AuditEntry
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			if since != nil && string(k[:8]) < string(since) {
				break
			}
			var e bot.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if (q.User != "" && e.User != q.User) || (q.Kind != "" && e.Kind != q.Kind) {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: audit log: %w", err)
	}
	return out, nil
}

// redactAudit clears the excerpt of the audit entry at key k (for forget).
func redactAudit(tx *bolt.Tx, k []byte) error {
	b := tx.Bucket(bAudit)
	v := b.Get(k)
	if v == nil {
		return nil
	}
	var e bot.AuditEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return err
	}
	if e.Excerpt == "" {
		return nil
	}
	e.Excerpt = ""
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Put(clone(k), body)
}
