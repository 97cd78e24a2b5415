package memory

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/storetest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func openTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "chorus.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func msg(chat, id, user, text string) *bot.Message {
	return &bot.Message{Platform: "telegram", Chat: bot.Chat{ID: chat, Kind: bot.ChatGroup}, ID: id,
		Author: bot.User{ID: user, Name: "User " + user}, Text: text, Time: t0}
}

func TestOpenTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "chorus.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(path, WithTimeout(50*time.Millisecond))
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second open: err = %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %q should name the file and say it is in use", err)
	}
	if s.Path() != path {
		t.Errorf("Path = %q", s.Path())
	}
	if n, err := s.Size(); err != nil || n <= 0 {
		t.Errorf("Size = %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, WithReadOnly())
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	defer s2.Close()
	if _, err := s2.Append(context.Background(), "c", bot.Turn{Text: "x"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("append read-only: %v", err)
	}
}

// seedPrivacy is the conformance suite's two users talking in three
// conversations, with summaries and an audit entry.
func seedPrivacy(t *testing.T, s *Store) { storetest.SeedPrivacy(t, s) }

// forgetAll is a forget of everything about user.
func forgetAll(user string) bot.ForgetRequest {
	return bot.ForgetRequest{User: user, Scope: bot.ViewAll(), Ref: "r1"}
}

func TestPruneManyChunks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const n = pruneChunk*2 + 7
	turns := make([]bot.Turn, n)
	for i := range turns {
		turns[i] = bot.Turn{Role: bot.RoleUser, User: "u:1", Text: "x", Time: t0.Add(time.Duration(i) * time.Second), Tokens: 1}
	}
	if err := s.bulkAppend("c/1", turns); err != nil {
		t.Fatal(err)
	}
	got, err := s.Prune(ctx, t0.Add(time.Duration(n-1)*time.Second))
	if err != nil || got != n-1 {
		t.Fatalf("Prune = %d, %v; want %d", got, err, n-1)
	}
	if d, _ := s.Export(ctx, "u:1"); len(d.Messages) != 1 {
		t.Errorf("export after prune has %d messages", len(d.Messages))
	}
}

// TestKVScanPages pages through more keys than one page holds, with fn
// writing to the store: the conformance suite (storetest) tests Scan's
// contract; this tests the paging with pages of four.
func TestKVScanPages(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	defer func(n int) { scanPage = n }(scanPage)
	scanPage = 4
	for i := range scanPage*2 + 3 {
		s.Put(ctx, "big", fmt.Sprintf("k%05d", i), []byte{byte(i)})
	}
	var n int
	err := s.Scan(ctx, "big", "", "", func(k string, v []byte) error {
		if k != fmt.Sprintf("k%05d", n) {
			return fmt.Errorf("key %q at %d", k, n)
		}
		n++
		return s.Put(ctx, "copy", k, v)
	})
	if err != nil || n != scanPage*2+3 {
		t.Errorf("big scan: %d keys, %v", n, err)
	}
}
