package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// AuditQuery filters AuditLog; it is bot.AuditQuery, named here for the
// callers that had it from this package.
type AuditQuery = bot.AuditQuery

// Audit implements bot.Auditor. Entries are keyed by time, then by a
// sequence number so entries at the same instant are all kept. An entry
// about a user is indexed under that user for export and forget.
func (s *Store) Audit(ctx context.Context, e bot.AuditEntry) error {
	e = PrepareAudit(e, s.now)
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
		// Indexed under the user it is about and under a user who acted
		// (a manager's command, an appeal), so that export and forget
		// find it from either.
		for _, u := range auditUsers(e) {
			ub, err := tx.Bucket(bUsers).CreateBucketIfNotExists(nameKey(u))
			if err != nil {
				return err
			}
			if err := ub.Put(cat(refAudit, k), nil); err != nil {
				return err
			}
		}
		return nil
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

// auditUsers are the user keys an entry names: the user it is about, and
// the actor when that is a person rather than "rules" or a model.
func auditUsers(e bot.AuditEntry) []string {
	var out []string
	if e.User != "" {
		out = append(out, e.User)
	}
	if isPersonActor(e.Actor) && e.Actor != e.User {
		out = append(out, e.Actor)
	}
	return out
}

// isPersonActor reports whether an audit actor is a user key.
func isPersonActor(a string) bool {
	p, _, ok := bot.SplitUserKey(a)
	return ok && p != "model" && p != "forgotten"
}

// anonymiseAudit rewrites the audit entry at key k for a forget: the
// user's id becomes req.ForgottenUser() wherever it appears, their name
// and the message excerpt go; the action, rule and time stay for the
// audit. Entries outside req.Scope are left alone. It reports whether the
// entry changed.
func anonymiseAudit(tx *bolt.Tx, k []byte, req bot.ForgetRequest) (bool, error) {
	b := tx.Bucket(bAudit)
	v := b.Get(k)
	if v == nil {
		return false, nil
	}
	var e bot.AuditEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return false, err
	}
	if !AnonymiseAudit(&e, req) {
		return false, nil
	}
	body, err := json.Marshal(e)
	if err != nil {
		return false, err
	}
	return true, b.Put(clone(k), body)
}

// PrepareAudit is an entry as a store keeps it: timed (now when it has no
// time), its excerpt masked of personal data, its texts made valid UTF-8
// of bounded length. Both stores write entries through it.
func PrepareAudit(e bot.AuditEntry, now func() time.Time) bot.AuditEntry {
	if e.Time.IsZero() {
		e.Time = now()
	}
	// Excerpts are masked before they are stored, whoever calls.
	e.Excerpt = bot.MaskPII(cleanText(e.Excerpt))
	e.Note = cleanText(e.Note)
	e.Name = cleanText(e.Name)
	return e
}

// AuditUsers are the user keys an entry names and is found by for export
// and forget: the user it is about, and the actor when that is a person
// rather than "rules" or a model.
func AuditUsers(e bot.AuditEntry) []string { return auditUsers(e) }

// AnonymiseAudit rewrites e for a forget: the user's id becomes
// req.ForgottenUser() wherever it appears, their name and the message
// excerpt go; the action, rule and time stay for the audit. An entry
// outside req.Scope is left alone. It reports whether e changed.
func AnonymiseAudit(e *bot.AuditEntry, req bot.ForgetRequest) bool {
	if e.Chat != "" && !req.Scope.Covers(e.Chat) || e.Chat == "" && !req.Scope.All() {
		return false
	}
	gone := req.ForgottenUser()
	changed := false
	if e.User == req.User {
		e.User, e.Name, e.Excerpt, changed = gone, "", "", true
	}
	if e.Actor == req.User {
		e.Actor, changed = gone, true
	}
	if strings.Contains(e.Note, req.User) {
		e.Note, changed = strings.ReplaceAll(e.Note, req.User, gone), true
	}
	if changed && req.NamesUser(e.Chat) {
		e.Chat = "" // their private chat: its id is theirs
	}
	return changed
}

// ExportedAudit is e as user's export shows it: other people's ids, names
// and words left out.
func ExportedAudit(e bot.AuditEntry, user string) bot.AuditEntry {
	if e.User != user {
		e.User, e.Name, e.Excerpt = "", "", ""
	}
	if e.Actor != user && isPersonActor(e.Actor) {
		e.Actor = ""
	}
	return e
}
