package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

var errEmptyKey = errors.New("empty bucket or key")

// scanPage is how many entries Scan copies out per read transaction; fn
// runs outside any transaction, so it may write to the store. A variable
// so tests can page through few keys.
var scanPage = 256

// Put implements bot.KV. Keys are limited to bbolt's 32 KiB.
func (s *Store) Put(ctx context.Context, bucket, key string, value []byte) error {
	if bucket == "" || key == "" {
		return fmt.Errorf("memory: kv put: %w", errEmptyKey)
	}
	v := clone(value)
	if v == nil {
		v = []byte{}
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bKV).CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("memory: kv put %s: %w", bucket, err)
	}
	return nil
}

// Get implements bot.KV; it returns a copy of the value, bot.ErrNotFound
// when absent.
func (s *Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := kvBucket(tx, bucket)
		if b == nil || key == "" {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			out = append([]byte{}, v...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: kv get %s: %w", bucket, err)
	}
	if out == nil {
		return nil, fmt.Errorf("memory: kv get %s/%s: %w", bucket, key, bot.ErrNotFound)
	}
	return out, nil
}

// Delete implements bot.KV.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if bucket == "" || key == "" {
		return nil
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := kvBucket(tx, bucket)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("memory: kv delete %s: %w", bucket, err)
	}
	return nil
}

// Scan implements bot.KV: keys in [from, to) in byte order (to == "" means
// to the end). Entries are copied out a page at a time and fn runs outside
// any transaction, so fn may itself call the store; a key written during
// the scan ahead of its position is seen, one behind it is not.
func (s *Store) Scan(ctx context.Context, bucket, from, to string, fn func(key string, value []byte) error) error {
	type kv struct{ k, v []byte }
	start := []byte(from)
	end := []byte(to)
	for {
		var page []kv
		more := false
		err := s.view(ctx, func(tx *bolt.Tx) error {
			b := kvBucket(tx, bucket)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, v := c.Seek(start); k != nil; k, v = c.Next() {
				if len(end) > 0 && bytes.Compare(k, end) >= 0 {
					break
				}
				if len(page) == scanPage {
					more = true
					break
				}
				page = append(page, kv{clone(k), clone(v)})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("memory: kv scan %s: %w", bucket, err)
		}
		for _, e := range page {
			if err := fn(string(e.k), e.v); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		// Resume just after the last key returned.
		start = append(page[len(page)-1].k, 0)
	}
}

func kvBucket(tx *bolt.Tx, bucket string) *bolt.Bucket {
	root := tx.Bucket(bKV)
	if root == nil || bucket == "" {
		return nil
	}
	return root.Bucket([]byte(bucket))
}

var _ bot.KVBatch = (*Store)(nil)

// Update implements bot.KVBatch: fn's reads and writes are one bbolt
// transaction, committed when fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(tx bot.KV) error) error {
	err := s.update(ctx, func(tx *bolt.Tx) error { return fn(txKV{tx}) })
	if err != nil {
		return fmt.Errorf("memory: kv update: %w", err)
	}
	return nil
}

// txKV is bot.KV inside one bbolt write transaction.
type txKV struct{ tx *bolt.Tx }

func (t txKV) Put(_ context.Context, bucket, key string, value []byte) error {
	if bucket == "" || key == "" {
		return fmt.Errorf("memory: kv put: %w", errEmptyKey)
	}
	b, err := t.tx.Bucket(bKV).CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return fmt.Errorf("memory: kv put %s: %w", bucket, err)
	}
	v := clone(value)
	if v == nil {
		v = []byte{}
	}
	if err := b.Put([]byte(key), v); err != nil {
		return fmt.Errorf("memory: kv put %s: %w", bucket, err)
	}
	return nil
}

func (t txKV) Get(_ context.Context, bucket, key string) ([]byte, error) {
	if b := kvBucket(t.tx, bucket); b != nil && key != "" {
		if v := b.Get([]byte(key)); v != nil {
			return append([]byte{}, v...), nil
		}
	}
	return nil, fmt.Errorf("memory: kv get %s/%s: %w", bucket, key, bot.ErrNotFound)
}

func (t txKV) Delete(_ context.Context, bucket, key string) error {
	b := kvBucket(t.tx, bucket)
	if b == nil || key == "" {
		return nil
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("memory: kv delete %s: %w", bucket, err)
	}
	return nil
}

// Scan runs fn inside the transaction, on copies of the entries.
func (t txKV) Scan(_ context.Context, bucket, from, to string, fn func(key string, value []byte) error) error {
	b := kvBucket(t.tx, bucket)
	if b == nil {
		return nil
	}
	end := []byte(to)
	type kv struct{ k, v []byte }
	var all []kv
	c := b.Cursor()
	for k, v := c.Seek([]byte(from)); k != nil; k, v = c.Next() {
		if len(end) > 0 && bytes.Compare(k, end) >= 0 {
			break
		}
		all = append(all, kv{clone(k), clone(v)})
	}
	for _, e := range all {
		if err := fn(string(e.k), e.v); err != nil {
			return err
		}
	}
	return nil
}
