package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// KBStore keeps the knowledge base's documents and passages for a KB,
// which holds its search index in memory over them. The bbolt Store keeps
// them in its file; the PostgreSQL store (memory/pgstore) in tables that
// every replica shares. Methods are safe for concurrent use; the KB
// serialises its own changes.
type KBStore interface {
	// LoadKB calls fn for every stored document, in no set order, with
	// its passages in order when want(d) is true (want nil: every
	// document's) and nil passages otherwise.
	LoadKB(ctx context.Context, want func(Doc) bool, fn func(d Doc, chunks []TextChunk) error) error
	// PutKBDoc replaces document d (by its Source and Path) and all its
	// passages in one transaction.
	PutKBDoc(ctx context.Context, d Doc, chunks []TextChunk) error
	// RemoveKBDoc deletes a document and its passages in one
	// transaction; an absent document is not an error.
	RemoveKBDoc(ctx context.Context, source, path string) error
}

// NewKB builds a knowledge base over st, reading every stored passage
// into its index. now stamps ingested documents (nil: time.Now).
func NewKB(ctx context.Context, st KBStore, now func() time.Time) (*KB, error) {
	if now == nil {
		now = time.Now
	}
	kb := &KB{st: st, now: now, docs: map[string]Doc{}, idx: newIndex()}
	err := st.LoadKB(ctx, nil, func(d Doc, chunks []TextChunk) error {
		kb.docs[docKey(d.Source, d.Path)] = d
		kb.idx.add(d, chunks)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return kb, nil
}

// Refresh brings the index up to date with the store, for a store that
// other processes change too (PostgreSQL replicas): documents added or
// changed elsewhere are read and indexed, documents removed elsewhere
// leave the index. It reads the passages of changed documents only, and
// returns how many documents changed.
func (kb *KB) Refresh(ctx context.Context) (int, error) {
	kb.wmu.Lock()
	defer kb.wmu.Unlock()
	kb.mu.RLock()
	known := make(map[string]Doc, len(kb.docs))
	for k, d := range kb.docs {
		known[k] = d
	}
	kb.mu.RUnlock()
	type change struct {
		d      Doc
		chunks []TextChunk
	}
	var changes []change
	seen := map[string]bool{}
	err := kb.st.LoadKB(ctx, func(d Doc) bool {
		old, ok := known[docKey(d.Source, d.Path)]
		return !ok || old.Hash != d.Hash || !old.Ingested.Equal(d.Ingested) || old.Title != d.Title
	}, func(d Doc, chunks []TextChunk) error {
		k := docKey(d.Source, d.Path)
		seen[k] = true
		if old, ok := known[k]; ok && old.Hash == d.Hash && old.Ingested.Equal(d.Ingested) && old.Title == d.Title {
			return nil
		}
		changes = append(changes, change{d, chunks})
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: kb refresh: %w", err)
	}
	var gone []string
	for k := range known {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	if len(changes) == 0 && len(gone) == 0 {
		return 0, nil
	}
	kb.mu.Lock()
	defer kb.mu.Unlock()
	for _, k := range gone {
		kb.idx.remove(k)
		delete(kb.docs, k)
	}
	for _, c := range changes {
		k := docKey(c.d.Source, c.d.Path)
		kb.idx.remove(k)
		kb.idx.add(c.d, c.chunks)
		kb.docs[k] = c.d
	}
	return len(changes) + len(gone), nil
}

// boltKB keeps the knowledge base in the bbolt file: kbdocs/<key> is the
// document, kbpass/<key>/<index> its passages. legacy maps the keys of
// documents stored before sources existed, not moved because the file is
// read-only, to what they are now.
type boltKB struct {
	s      *Store
	legacy map[string]Doc
}

// LoadKB implements KBStore.
func (b boltKB) LoadKB(ctx context.Context, want func(Doc) bool, fn func(Doc, []TextChunk) error) error {
	return b.s.view(ctx, func(tx *bolt.Tx) error {
		docs, pass := tx.Bucket(bKBDocs), tx.Bucket(bKBPass)
		if docs == nil || pass == nil {
			return nil
		}
		return docs.ForEach(func(k, v []byte) error {
			d, ok := b.legacy[string(k)]
			if !ok {
				var err error
				if d, _, err = storedDoc(v); err != nil {
					return err
				}
			}
			var chunks []TextChunk
			if pb := pass.Bucket(k); pb != nil && (want == nil || want(d)) {
				if err := pb.ForEach(func(_, v []byte) error {
					var c TextChunk
					if err := json.Unmarshal(v, &c); err != nil {
						return err
					}
					chunks = append(chunks, c)
					return nil
				}); err != nil {
					return err
				}
			}
			return fn(d, chunks)
		})
	})
}

// PutKBDoc implements KBStore.
func (b boltKB) PutKBDoc(ctx context.Context, d Doc, chunks []TextChunk) error {
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return b.s.update(ctx, func(tx *bolt.Tx) error {
		sk := nameKey(docKey(d.Source, d.Path))
		pass := tx.Bucket(bKBPass)
		if pass.Bucket(sk) != nil {
			if err := pass.DeleteBucket(sk); err != nil {
				return err
			}
		}
		pb, err := pass.CreateBucket(sk)
		if err != nil {
			return err
		}
		pb.FillPercent = 0.95
		for i, c := range chunks {
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := pb.Put(u64(uint64(i)), v); err != nil {
				return err
			}
		}
		return tx.Bucket(bKBDocs).Put(sk, slices.Clone(body))
	})
}

// RemoveKBDoc implements KBStore.
func (b boltKB) RemoveKBDoc(ctx context.Context, source, path string) error {
	return b.s.update(ctx, func(tx *bolt.Tx) error {
		sk := nameKey(docKey(source, path))
		if tx.Bucket(bKBPass).Bucket(sk) != nil {
			if err := tx.Bucket(bKBPass).DeleteBucket(sk); err != nil {
				return err
			}
		}
		return tx.Bucket(bKBDocs).Delete(sk)
	})
}

var _ KBStore = (*Store)(nil)

// LoadKB implements KBStore: the documents in the file, as the knowledge
// base reads them (chorus migrate-store copies them through it).
func (s *Store) LoadKB(ctx context.Context, want func(Doc) bool, fn func(Doc, []TextChunk) error) error {
	return s.kb.st.LoadKB(ctx, want, fn)
}

// PutKBDoc implements KBStore. It writes around the store's own KB: call
// KB().Refresh after.
func (s *Store) PutKBDoc(ctx context.Context, d Doc, chunks []TextChunk) error {
	return s.kb.st.PutKBDoc(ctx, d, chunks)
}

// RemoveKBDoc implements KBStore, around the store's own KB as PutKBDoc.
func (s *Store) RemoveKBDoc(ctx context.Context, source, path string) error {
	return s.kb.st.RemoveKBDoc(ctx, source, path)
}
