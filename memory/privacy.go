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

// Forget implements bot.Privacy. In one transaction it deletes, within
// req.Scope, every turn the user wrote and every bot turn that answered
// them (bot.Turn.User), every summary built from them, and (when the scope
// is everything) their profile and names-index entries; audit entries
// about them or by them stay (they record what moderators did) but lose
// the user's id (replaced by req.ForgottenUser()), name and message
// excerpt. It returns the number of records deleted or changed. It reads
// only the user's own index, never the whole history, and running it
// again changes nothing.
func (s *Store) Forget(ctx context.Context, req bot.ForgetRequest) (int, error) {
	user := req.User
	if user == "" {
		return 0, fmt.Errorf("memory: forget: %w", errNoUser)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memory: forget: %w", err)
	}
	if s.readOnly {
		return 0, fmt.Errorf("memory: forget: %w", ErrReadOnly)
	}
	if req.Ref == "" {
		return 0, errors.New("memory: forget: no reference for the records kept")
	}
	uk := nameKey(user)
	all := req.Scope.All()
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		users := tx.Bucket(bUsers)
		root := tx.Bucket(bConv)
		covered := func(ck []byte) bool {
			if all {
				return true
			}
			cb := root.Bucket(ck)
			return cb != nil && req.Scope.Covers(string(cb.Get(kName)))
		}
		emptied := map[string]bool{}
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
					done, del bool
					err       error
				)
				switch {
				case bytes.HasPrefix(ref, refTurn) && len(ref) >= 9:
					ck := ref[1 : len(ref)-8]
					if done = covered(ck); done {
						del, err = deleteTurn(tx, ck, ref[len(ref)-8:], false)
						emptied[string(ck)] = true
					}
				case bytes.HasPrefix(ref, refSummary):
					if done = covered(ref[1:]); done {
						del, err = deleteSummaryOf(tx, ref[1:], user)
					}
				case bytes.HasPrefix(ref, refAudit):
					del, err = anonymiseAudit(tx, ref[1:], req)
					done = del || all
				default:
					done = all
				}
				if err != nil {
					return err
				}
				if del {
					n++
				}
				if done && !all {
					if err := ub.Delete(ref); err != nil {
						return err
					}
				}
			}
			if all {
				if err := users.DeleteBucket(uk); err != nil {
					return err
				}
			}
		}
		// A conversation left with nothing (a private chat) goes too: its
		// key may be the user's id, and it is made again by a new message.
		for ck := range emptied {
			if cb := root.Bucket([]byte(ck)); cb != nil && cb.Get(kSummary) == nil {
				if k, _ := cb.Bucket(bTurns).Cursor().First(); k == nil {
					if err := root.DeleteBucket([]byte(ck)); err != nil {
						return err
					}
				}
			}
		}
		if !all {
			return nil
		}
		profiles := tx.Bucket(bProfiles)
		if v := profiles.Get(uk); v != nil {
			var p bot.Profile
			if json.Unmarshal(v, &p) == nil {
				if err := reindexNames(tx, user, []string{currentName(p), p.Handle}, nil); err != nil {
					return err
				}
			}
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
// answering them (ordered by conversation, then Seq), and under
// Extra["audit"] the audit entries about them or by them ([]bot.AuditEntry),
// with other people's ids left out. Conversation summaries are not
// exported: they mix the user's words with other people's.
func (s *Store) Export(ctx context.Context, user string) (bot.UserData, error) {
	if user == "" {
		return bot.UserData{}, fmt.Errorf("memory: export: %w", errNoUser)
	}
	d := bot.UserData{User: user, Messages: []bot.ExportedTurn{}}
	uk := nameKey(user)
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
			case bytes.HasPrefix(ref, refAudit):
				v := tx.Bucket(bAudit).Get(ref[1:])
				if v == nil {
					return nil
				}
				var e bot.AuditEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return err
				}
				audits = append(audits, ExportedAudit(e, user))
			}
			return nil
		})
	})
	if err != nil {
		return bot.UserData{}, fmt.Errorf("memory: export: %w", err)
	}
	if len(audits) > 0 {
		d.Extra = map[string]any{"audit": audits}
	}
	return d, nil
}

// Walk calls fn for every key of every bucket of the file, nested buckets
// included, in byte order: path holds the names of the buckets leading to
// the key, and value is nil for a nested bucket. It is how a test proves
// that something is nowhere in the file (after a forget), and a way to
// look inside one. fn must not keep path, key or value after it returns.
func (s *Store) Walk(ctx context.Context, fn func(path [][]byte, key, value []byte) error) error {
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var walk func(path [][]byte, b *bolt.Bucket) error
		walk = func(path [][]byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil {
					if nb := b.Bucket(k); nb != nil {
						if err := fn(path, k, nil); err != nil {
							return err
						}
						return walk(append(path[:len(path):len(path)], k), nb)
					}
				}
				return fn(path, k, v)
			})
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if err := fn(nil, name, nil); err != nil {
				return err
			}
			return walk([][]byte{name}, b)
		})
	})
	if err != nil {
		return fmt.Errorf("memory: walk: %w", err)
	}
	return nil
}
