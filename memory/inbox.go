package memory

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// Accept implements bot.Inbox: in one transaction it checks the delivery's
// dedup key and, when fresh, records it and queues the message as pending.
// Dedup records live on disk, so a redelivery after a restart is still
// recognised (until pruned by retention).
func (s *Store) Accept(ctx context.Context, m *bot.Message) (bool, error) {
	var fresh bool
	accept, err := s.acceptFn(m, &fresh)
	if err == nil {
		err = s.update(ctx, accept)
	}
	if err != nil {
		return false, fmt.Errorf("memory: accept: %w", err)
	}
	return fresh, nil
}

// acceptFn is Accept as a transaction step; it sets *fresh.
func (s *Store) acceptFn(m *bot.Message, fresh *bool) (func(*bolt.Tx) error, error) {
	dk, legacy := dedupKey(m), nameKey(m.DedupKey())
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return func(tx *bolt.Tx) error {
		*fresh = false
		in := tx.Bucket(bInbox)
		dedup := in.Bucket(bDedup)
		if dedup.Get(dk) != nil || dedup.Get(legacy) != nil {
			return nil
		}
		tk := timeKey(now)
		if err := dedup.Put(dk, tk); err != nil {
			return err
		}
		if err := in.Bucket(bDTime).Put(cat(tk, dk), nil); err != nil {
			return err
		}
		pending := in.Bucket(bPending)
		seq, err := pending.NextSequence()
		if err != nil {
			return err
		}
		if err := pending.Put(u64(seq), body); err != nil {
			return err
		}
		if err := in.Bucket(bPIdx).Put(dk, u64(seq)); err != nil {
			return err
		}
		*fresh = true
		return nil
	}, nil
}

// Done implements bot.Inbox. Marking a message that is not pending is not
// an error.
func (s *Store) Done(ctx context.Context, m *bot.Message) error {
	err := s.update(ctx, s.doneFn(m))
	if err != nil {
		return fmt.Errorf("memory: done: %w", err)
	}
	return nil
}

// dedupKey is the key a delivery is remembered by: a hash of
// bot.Message.DedupKey, because that names the chat, and a Telegram
// private chat's id is its user's id, which must not outlive a forget.
// Files written before kept the key itself (nameKey); those records are
// still recognised until retention prunes them.
func dedupKey(m *bot.Message) []byte {
	h := sha256.Sum256([]byte("chorus-dedup\x00" + m.DedupKey()))
	return append([]byte{0xfd}, h[:16]...)
}

// doneFn is Done as a transaction step, for the engine's fast path.
func (s *Store) doneFn(m *bot.Message) func(*bolt.Tx) error {
	dk, legacy := dedupKey(m), nameKey(m.DedupKey())
	return func(tx *bolt.Tx) error {
		in := tx.Bucket(bInbox)
		pidx := in.Bucket(bPIdx)
		seq := pidx.Get(dk)
		if seq == nil {
			if seq = pidx.Get(legacy); seq == nil {
				return nil
			}
			dk = legacy
		}
		if err := in.Bucket(bPending).Delete(clone(seq)); err != nil {
			return err
		}
		return pidx.Delete(dk)
	}
}

// Pending implements bot.Inbox: messages accepted and not Done, in the
// order they were accepted.
func (s *Store) Pending(ctx context.Context) ([]bot.Message, error) {
	var out []bot.Message
	err := s.view(ctx, func(tx *bolt.Tx) error {
		in := tx.Bucket(bInbox)
		if in == nil {
			return nil
		}
		p := in.Bucket(bPending)
		if p == nil {
			return nil
		}
		return p.ForEach(func(k, v []byte) error {
			var m bot.Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("pending %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, m)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("memory: pending: %w", err)
	}
	return out, nil
}
