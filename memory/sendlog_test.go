package memory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestSendMarksSurviveAReopen: a marker is on disk when MarkSent returns
// (a kill leaves the file as written), a cleared one is gone, and a torn
// last line (a crash in the middle of an append) is dropped.
func TestSendMarksSurviveAReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chorus.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, "a", []string{"1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, "a", []string{"1", "2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, "b", []string{"3"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearSent(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearSent(ctx, "never"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path+".sending", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"k":"c","ids":["4"`) // torn
	f.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for key, want := range map[string][]string{"a": {"1", "2"}, "b": nil, "c": nil} {
		got, err := s.SentIDs(ctx, key)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SentIDs(%q) = %v, %v; want %v", key, got, err, want)
		}
	}
	// Written after the torn line was dropped: readable after a reopen.
	if err := s.MarkSent(ctx, "d", []string{"5"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.SentIDs(ctx, "d"); !slices.Equal(got, []string{"5"}) {
		t.Errorf("after a reopen SentIDs(d) = %v", got)
	}
}

// TestSendLogCompacts: markers written and cleared by many concurrent
// replies keep the file near the size of the live ones.
func TestSendLogCompacts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Sprintf("%02d-%064d", w, i)
				if err := s.MarkSent(ctx, k, []string{fmt.Sprint(i)}); err != nil {
					t.Error(err)
					return
				}
				if i%100 != 0 {
					s.ClearSent(ctx, k)
				}
			}
		}()
	}
	wg.Wait()
	fi, err := os.Stat(s.Path() + ".sending")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > sendLogCompact+64<<10 {
		t.Errorf("the log grew to %d bytes for 160 live markers", fi.Size())
	}
	for w := range 8 {
		for i := range 2000 {
			got, _ := s.SentIDs(ctx, fmt.Sprintf("%02d-%064d", w, i))
			if live := i%100 == 0; live != (len(got) == 1) {
				t.Fatalf("marker %d/%d: %v, want live %v", w, i, got, live)
			}
		}
	}
}
