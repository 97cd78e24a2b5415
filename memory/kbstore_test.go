package memory

import (
	"context"
	"testing"
)

// TestKBRefresh: a second KB over the same documents (as a second replica
// over PostgreSQL has) sees what the first adds, changes and removes once
// it refreshes, reading only what changed.
func TestKBRefresh(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := s.KB()
	b, err := NewKB(ctx, boltKB{s: s}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.IngestFile(ctx, "/kb", "returns.md", []byte("# Returns\n\nWe take zebras back.\n")); err != nil {
		t.Fatal(err)
	}
	if ps, _ := b.Search(ctx, "zebras", 3); len(ps) != 0 {
		t.Fatalf("b found the document before refreshing: %+v", ps)
	}
	for _, step := range []struct {
		name    string
		change  func() error
		changed int
		query   string
		found   int
	}{
		{"added", func() error { return nil }, 1, "zebras", 1},
		{"nothing new", func() error { return nil }, 0, "zebras", 1},
		{"updated", func() error {
			_, err := a.IngestFile(ctx, "/kb", "returns.md", []byte("# Returns\n\nWe take okapis back.\n"))
			return err
		}, 1, "okapis", 1},
		{"removed", func() error { return a.Remove(ctx, "/kb", "returns.md") }, 1, "okapis", 0},
	} {
		if err := step.change(); err != nil {
			t.Fatal(err)
		}
		n, err := b.Refresh(ctx)
		if err != nil || n != step.changed {
			t.Errorf("%s: Refresh = %d, %v; want %d", step.name, n, err, step.changed)
		}
		if ps, _ := b.Search(ctx, step.query, 3); len(ps) != step.found {
			t.Errorf("%s: b's search for %s = %+v", step.name, step.query, ps)
		}
		if b.Len() != a.Len() {
			t.Errorf("%s: b has %d passages, a %d", step.name, b.Len(), a.Len())
		}
	}
}
