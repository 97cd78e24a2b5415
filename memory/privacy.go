package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

var errNoUser = errors.New("empty user key")

// ExportedSummary is a conversation summary built (partly) from the user's
// messages, as exported under UserData.Extra["summaries"].
type ExportedSummary struct {
	Conversation string `json:"conversation"`
	bot.Summary
}

// Forget implements bot.Privacy. In one transaction it deletes every turn
// the user wrote and every bot turn that answered them (bot.Turn.User), in
// every conversation; every summary whose Users contains them; and their
// profile. Audit entries about the user stay (they record what moderators
// did) but lose their message excerpt. It returns the number of turns,
// summaries and profiles deleted. It reads only the user's own index, never
// the whole history. The user's KV data belongs to the parts that wrote it.
func (s *Store) Forget(ctx context.Context, user string) (int, error) {
	if user == "" {
		return 0, fmt.Errorf("memory: forget: %w", errNoUser)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memory: forget: %w", err)
	}
	if s.readOnly {
		return 0, fmt.Errorf("memory: forget: %w", ErrReadOnly)
	}
	uk := nameKey(user)
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		users := tx.Bucket(bUsers)
		if ub := users.Bucket(uk); ub != nil {
			var refs [][]byte
			if err := ub.ForEach(func(k, _ []byte) error {
				refs = append(refs, clone(k))
				return nil
			}); err != nil {
				return err
			}
			for i, ref := range refs {
				if i%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				var (
					del bool
					err error
				)
				switch {
				case bytes.HasPrefix(ref, refTurn) && len(ref) >= 9:
					del, err = deleteTurn(tx, ref[1:len(ref)-8], ref[len(ref)-8:], false)
				case bytes.HasPrefix(ref, refSummary):
					del, err = deleteSummaryOf(tx, ref[1:], user)
				case bytes.HasPrefix(ref, refAudit):
					err = redactAudit(tx, ref[1:])
				}
				if err != nil {
					return err
				}
				if del {
					n++
				}
			}
			if err := users.DeleteBucket(uk); err != nil {
				return err
			}
		}
		profiles := tx.Bucket(bProfiles)
		if profiles.Get(uk) != nil {
			n++
			return profiles.Delete(uk)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: forget: %w", err)
	}
	return n, nil
}

// deleteTurn deletes the turn at conversation ck, seq key sk with its
// msgid and time index entries, and, when unref is set, its entry in its
// user's index. It reports false when there was no such turn.
func deleteTurn(tx *bolt.Tx, ck, sk []byte, unref bool) (bool, error) {
	root := tx.Bucket(bConv)
	cb := root.Bucket(ck)
	if cb == nil {
		return false, nil
	}
	turns := cb.Bucket(bTurns)
	v := turns.Get(sk)
	if v == nil {
		return false, nil
	}
	t, err := decodeTurn(sk, v)
	if err != nil {
		return false, err
	}
	if t.MsgID != "" {
		msgs := cb.Bucket(bMsgID)
		mk := nameKey(t.MsgID)
		if cur := msgs.Get(mk); cur != nil && bytes.Equal(cur, sk) {
			if err := msgs.Delete(mk); err != nil {
				return false, err
			}
		}
	}
	if err := tx.Bucket(bTTime).Delete(cat(timeKey(t.Time), ck, sk)); err != nil {
		return false, err
	}
	if unref && t.User != "" {
		if ub := tx.Bucket(bUsers).Bucket(nameKey(t.User)); ub != nil {
			if err := ub.Delete(cat(refTurn, ck, sk)); err != nil {
				return false, err
			}
		}
	}
	return true, turns.Delete(clone(sk))
}

// deleteSummaryOf deletes conversation ck's summary if user is among the
// users it was built from, and the other users' references to it.
func deleteSummaryOf(tx *bolt.Tx, ck []byte, user string) (bool, error) {
	cb := tx.Bucket(bConv).Bucket(ck)
	if cb == nil {
		return false, nil
	}
	v := cb.Get(kSummary)
	if v == nil {
		return false, nil
	}
	var sum bot.Summary
	if err := json.Unmarshal(v, &sum); err != nil {
		return false, err
	}
	if !slices.Contains(sum.Users, user) {
		return false, nil
	}
	for _, u := range sum.Users {
		if u == user {
			continue
		}
		if ub := tx.Bucket(bUsers).Bucket(nameKey(u)); ub != nil {
			if err := ub.Delete(cat(refSummary, ck)); err != nil {
				return false, err
			}
		}
	}
	return true, cb.Delete(kSummary)
}

// Export implements bot.Privacy: the user's profile, every turn by or
// answering them (ordered by conversation, then Seq), and under Extra the
// summaries built from them ("summaries", []ExportedSummary) and the audit
// entries about them ("audit", []bot.AuditEntry).
func (s *Store) Export(ctx context.Context, user string) (bot.UserData, error) {
	if user == "" {
		return bot.UserData{}, fmt.Errorf("memory: export: %w", errNoUser)
	}
	d := bot.UserData{User: user, Messages: []bot.ExportedTurn{}}
	uk := nameKey(user)
	var sums []ExportedSummary
	var audits []bot.AuditEntry
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if pb := tx.Bucket(bProfiles); pb != nil {
			if v := pb.Get(uk); v != nil {
				var p bot.Profile
				if err := json.Unmarshal(v, &p); err != nil {
					return err
				}
				d.Profile = &p
			}
		}
		users := tx.Bucket(bUsers)
		if users == nil {
			return nil
		}
		ub := users.Bucket(uk)
		if ub == nil {
			return nil
		}
		root := tx.Bucket(bConv)
		return ub.ForEach(func(ref, _ []byte) error {
			switch {
			case bytes.HasPrefix(ref, refTurn) && len(ref) >= 9:
				cb := root.Bucket(ref[1 : len(ref)-8])
				if cb == nil {
					return nil
				}
				sk := ref[len(ref)-8:]
				v := cb.Bucket(bTurns).Get(sk)
				if v == nil {
					return nil
				}
				t, err := decodeTurn(sk, v)
				if err != nil {
					return err
				}
				d.Messages = append(d.Messages, bot.ExportedTurn{Conversation: string(cb.Get(kName)), Turn: t})
			case bytes.HasPrefix(ref, refSummary):
				cb := root.Bucket(ref[1:])
				if cb == nil {
					return nil
				}
				v := cb.Get(kSummary)
				if v == nil {
					return nil
				}
				var sum bot.Summary
				if err := json.Unmarshal(v, &sum); err != nil {
					return err
				}
				sums = append(sums, ExportedSummary{Conversation: string(cb.Get(kName)), Summary: sum})
			case bytes.HasPrefix(ref, refAudit):
				v := tx.Bucket(bAudit).Get(ref[1:])
				if v == nil {
					return nil
				}
				var e bot.AuditEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return err
				}
				audits = append(audits, e)
			}
			return nil
		})
	})
	if err != nil {
		return bot.UserData{}, fmt.Errorf("memory: export: %w", err)
	}
	if len(sums) > 0 || len(audits) > 0 {
		d.Extra = map[string]any{}
		if len(sums) > 0 {
			d.Extra["summaries"] = sums
		}
		if len(audits) > 0 {
			d.Extra["audit"] = audits
		}
	}
	return d, nil
}
