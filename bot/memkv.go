package bot

import (
	"context"
	"slices"
	"sync"
)

// MemKV is an in-memory KV.
type MemKV struct {
	mu sync.Mutex
	b  map[string]map[string][]byte
}

var _ KV = (*MemKV)(nil)

// NewMemKV returns an empty KV.
func NewMemKV() *MemKV { return &MemKV{b: map[string]map[string][]byte{}} }

// Put implements KV.
func (k *MemKV) Put(_ context.Context, bucket, key string, value []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.b[bucket] == nil {
		k.b[bucket] = map[string][]byte{}
	}
	k.b[bucket][key] = slices.Clone(value)
	return nil
}

// Get implements KV.
func (k *MemKV) Get(_ context.Context, bucket, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.b[bucket][key]
	if !ok {
		return nil, ErrNotFound
	}
	return slices.Clone(v), nil
}

// Delete implements KV.
func (k *MemKV) Delete(_ context.Context, bucket, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.b[bucket], key)
	return nil
}

// Scan implements KV.
func (k *MemKV) Scan(_ context.Context, bucket, from, to string, fn func(string, []byte) error) error {
	k.mu.Lock()
	keys := make([]string, 0, len(k.b[bucket]))
	for key := range k.b[bucket] {
		if key >= from && (to == "" || key < to) {
			keys = append(keys, key)
		}
	}
	vals := make([][]byte, len(keys))
	slices.Sort(keys)
	for i, key := range keys {
		vals[i] = slices.Clone(k.b[bucket][key])
	}
	k.mu.Unlock()
	for i, key := range keys {
		if err := fn(key, vals[i]); err != nil {
			return err
		}
	}
	return nil
}
