package memory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// The readers below walk the file kind by kind in key order, each from
// just after a key it returned before, for chorus migrate-store: a copy
// interrupted resumes where it stopped. fn runs inside one read
// transaction and must not call the store.

// Conversation is one conversation as a copy takes it.
type Conversation struct {
	// Key is the conversation key.
	Key string
	// LastSeq is the last Seq given out (turns up to it may have been
	// pruned), so that the copy numbers new turns on from it.
	LastSeq uint64
	// Summary is the rolling summary; nil when none.
	Summary *bot.Summary
	// Turns are the turns held, in Seq order.
	Turns []bot.Turn
}

// Each walks the records of one kind after the key after (nil: from the
// start), calling fn with each record's key in the file. Kinds and what fn
// gets as value:
//
//	"kv"            KVRecord
//	"profiles"      bot.Profile
//	"conversations" Conversation
//	"audit"         bot.AuditEntry
//	"dedup"         DedupRecord
//	"pending"       bot.Message
func (s *Store) Each(ctx context.Context, kind string, after []byte, fn func(key []byte, value any) error) error {
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var (
			b    *bolt.Bucket
			read func(k, v []byte) (any, error)
		)
		switch kind {
		case "kv":
			return eachKV(tx, after, fn)
		case "profiles":
			b, read = tx.Bucket(bProfiles), func(_, v []byte) (any, error) {
				var p bot.Profile
				return p, json.Unmarshal(v, &p)
			}
		case "conversations":
			root := tx.Bucket(bConv)
			b, read = root, func(k, _ []byte) (any, error) { return readConversation(root.Bucket(k)) }
		case "audit":
			b, read = tx.Bucket(bAudit), func(_, v []byte) (any, error) {
				var e bot.AuditEntry
				return e, json.Unmarshal(v, &e)
			}
		case "dedup":
			b, read = tx.Bucket(bInbox).Bucket(bDedup), func(k, v []byte) (any, error) {
				if len(v) != 8 {
					return nil, fmt.Errorf("dedup record of %d bytes", len(v))
				}
				d := DedupRecord{Key: clone(k), Accepted: time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()}
				if len(k) != 17 || k[0] != 0xfd {
					// Kept by an older version under the delivery key
					// itself: the copy keeps it hashed, as Accept now does.
					if len(k) <= maxNameKey && k[0] != 0xff {
						h := sha256.Sum256(append([]byte("chorus-dedup\x00"), k...))
						d.Key = append([]byte{0xfd}, h[:16]...)
					}
				}
				return d, nil
			}
		case "pending":
			b, read = tx.Bucket(bInbox).Bucket(bPending), func(_, v []byte) (any, error) {
				var m bot.Message
				return m, json.Unmarshal(v, &m)
			}
		default:
			return fmt.Errorf("unknown kind %q", kind)
		}
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			val, err := read(k, v)
			if err != nil {
				return fmt.Errorf("%s %q: %w", kind, k, err)
			}
			if err := fn(clone(k), val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: read %s: %w", kind, err)
	}
	return nil
}

// KVRecord is one entry of the plug-ins' KV.
type KVRecord struct {
	Bucket, Key string
	Value       []byte
}

// DedupRecord is one delivery remembered by the inbox.
type DedupRecord struct {
	Key      []byte
	Accepted time.Time
}

// eachKV walks kv/<bucket>/<key>; a record's key is bucket, NUL, key.
func eachKV(tx *bolt.Tx, after []byte, fn func([]byte, any) error) error {
	root := tx.Bucket(bKV)
	if root == nil {
		return nil
	}
	return root.ForEachBucket(func(bk []byte) error {
		b := root.Bucket(bk)
		return b.ForEach(func(k, v []byte) error {
			key := cat(bk, []byte{0}, k)
			if after != nil && bytes.Compare(key, after) <= 0 {
				return nil
			}
			return fn(key, KVRecord{Bucket: string(bk), Key: string(k), Value: clone(v)})
		})
	})
}

func readConversation(cb *bolt.Bucket) (Conversation, error) {
	var c Conversation
	if cb == nil {
		return c, fmt.Errorf("not a conversation bucket")
	}
	c.Key = string(cb.Get(kName))
	if v := cb.Get(kSummary); v != nil {
		var sum bot.Summary
		if err := json.Unmarshal(v, &sum); err != nil {
			return c, err
		}
		c.Summary = &sum
	}
	tb := cb.Bucket(bTurns)
	if tb == nil {
		return c, nil
	}
	c.LastSeq = tb.Sequence()
	err := tb.ForEach(func(k, v []byte) error {
		t, err := decodeTurn(k, v)
		if err != nil {
			return err
		}
		c.Turns = append(c.Turns, t)
		return nil
	})
	return c, err
}
