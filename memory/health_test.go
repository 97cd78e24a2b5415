package memory

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

func TestHealthy(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "chorus.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Healthy(ctx); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	// A refusal by the caller's data is not a storage failure.
	if _, err := s.Append(ctx, "", bot.Turn{Text: "x"}); err == nil {
		t.Fatal("append to an empty conversation key succeeded")
	}
	if err := s.Healthy(ctx); err != nil {
		t.Fatalf("after a refused append: %v", err)
	}
	s.Close()
	if err := s.Healthy(ctx); err == nil {
		t.Fatal("a closed store is healthy")
	}
	ro, err := Open(s.Path(), WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Healthy(ctx); err == nil {
		t.Fatal("a read-only store is healthy")
	}
}

// TestHealthyAfterDiskFull fills the disk as far as the store can tell: the
// file may not grow (RLIMIT_FSIZE at its current size makes growth fail
// with EFBIG, as a full disk fails with ENOSPC). The failed writes are
// reported, Healthy says why, nothing committed before is lost, and the
// store recovers once there is room again.
func TestHealthyAfterDiskFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chorus.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	s.health.sticky = 2 * time.Second
	if _, err := s.Append(ctx, "tg/1", bot.Turn{Role: bot.RoleUser, User: "tg:1", MsgID: "1", Text: "kept", Tokens: 1}); err != nil {
		t.Fatal(err)
	}
	size, err := s.Size()
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(size), Max: old.Max}); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Errorf("restore rlimit: %v", err)
			}
		}
	}
	defer restore()
	big := strings.Repeat("lorem ipsum ", 8<<10)
	var werr error
	for i := 0; i < 200 && werr == nil; i++ {
		_, werr = s.Append(ctx, "tg/2", bot.Turn{Role: bot.RoleUser, User: "tg:2", Text: big, Tokens: 1})
	}
	herr := s.Healthy(ctx)
	restore()
	if werr == nil {
		t.Fatal("no write failed while the file could not grow")
	}
	if herr == nil || !strings.Contains(herr.Error(), "last write failed") {
		t.Fatalf("Healthy after a failed write = %v", herr)
	}
	// A write that commits soon after the failure (on a full disk, one
	// that fits in free pages) does not clear it; one after the sticky
	// window does.
	if _, err := s.Append(ctx, "tg/1", bot.Turn{Role: bot.RoleAssistant, User: "tg:1", Text: "after", Tokens: 1}); err != nil {
		t.Fatalf("append once there is room: %v", err)
	}
	if err := s.Healthy(ctx); err == nil || !strings.Contains(err.Error(), "last write failed") {
		t.Fatalf("Healthy just after a failed write, a small write committed since = %v", err)
	}
	time.Sleep(s.health.window())
	if _, err := s.Append(ctx, "tg/1", bot.Turn{Role: bot.RoleAssistant, User: "tg:1", Text: "later", Tokens: 1}); err != nil {
		t.Fatalf("append once there is room: %v", err)
	}
	if err := s.Healthy(ctx); err != nil {
		t.Fatalf("Healthy once writes commit again: %v", err)
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("consistency check: %v", err)
	}
	win, err := s.Window(ctx, "tg/1", 100)
	if err != nil || len(win) != 3 || win[0].Text != "kept" || win[1].Text != "after" || win[2].Text != "later" {
		t.Fatalf("conversation after the full disk: %+v, %v", win, err)
	}
}

// TestHealthyProbesOnlyWhenIdle: while writes commit, /readyz costs no
// write of its own; once the store has been idle, it writes one probe.
func TestHealthyProbesOnlyWhenIdle(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "chorus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	probed := func() bool {
		var v []byte
		s.db.View(func(tx *bolt.Tx) error { v = tx.Bucket(bMeta).Get(kHealth); return nil })
		return v != nil
	}
	if _, err := s.Append(ctx, "tg/1", bot.Turn{Role: bot.RoleUser, User: "tg:1", Text: "hi", Tokens: 1}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := s.Healthy(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if probed() {
		t.Error("Healthy wrote a probe right after a committed write")
	}
	s.health.mu.Lock()
	s.health.ok = time.Now().Add(-time.Minute) // idle for a minute
	s.health.mu.Unlock()
	if err := s.Healthy(ctx); err != nil {
		t.Fatal(err)
	}
	if !probed() {
		t.Error("Healthy wrote no probe after a minute idle")
	}
}
