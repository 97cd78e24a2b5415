package memory

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// dump is every bucket name, key and value of the file as one string per
// record, for searching.
func dump(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.Walk(context.Background(), func(path [][]byte, k, v []byte) error {
		out = append(out, string(bytes.Join(append(path, k), []byte("/")))+" = "+string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNamesIndexBuiltAtOpen opens a file written before the names index
// existed: its profiles become findable.
func TestNamesIndexBuiltAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Touch(ctx, &bot.Message{Platform: "telegram", Author: bot.User{ID: "9", Name: "Nine"}, Time: t0}, "")
	// Make it an old file: no index, no mark.
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bNames); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bNames); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Delete(kNamesIndexed)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ps, _ := s.FindUsers(ctx, "telegram", "nine", 5); len(ps) != 1 || ps[0].User != "telegram:9" {
		t.Errorf("after reopening an old file: %+v", ps)
	}
}

func TestWalkSeesNestedBuckets(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	seedPrivacy(t, s)
	s.Put(ctx, "plugin", "k", []byte("needle-in-kv"))
	all := strings.Join(dump(t, s), "\n")
	for _, want := range []string{"conv/tg/1/t/", "alice asks about beans", "kv/plugin/k = needle-in-kv", "users/tg:alice/", "profiles/tg:alice"} {
		if !strings.Contains(all, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
}

// BenchmarkForget forgets a user who wrote 1,000 messages (each answered)
// in 10 conversations shared with another user, from a file holding both.
func BenchmarkForget(b *testing.B) {
	ctx := context.Background()
	var total time.Duration
	n := 0
	for range 5 {
		s := openTest(b)
		// One transaction for the setup: 4,000 separate commits would
		// take a minute of disk syncs.
		err := s.db.Update(func(tx *bolt.Tx) error {
			var seq uint64
			for i := 0; i < 1000; i++ {
				conv := "tg/" + string(rune('a'+i%10))
				for _, u := range []string{"tg:gone", "tg:stays"} {
					for _, t := range []bot.Turn{{Role: bot.RoleUser, User: u, Text: "a message of some length", Time: t0, Tokens: 5},
						{Role: bot.RoleAssistant, User: u, Text: "an answer", Time: t0, Tokens: 3}} {
						fn, err := s.appendFn(conv, t, &seq)
						if err != nil {
							return err
						}
						if err := fn(tx); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if got, err := s.Forget(ctx, forgetAll("tg:gone")); err != nil || got != 2000 {
			b.Fatalf("Forget = %d, %v", got, err)
		}
		total += time.Since(start)
		n++
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(n), "ms/forget")
}

// TestForgetLeavesNothingInTheFile forgets, one chat first, then all, a
// user who wrote, was summarised, audited and acted as a manager: no key
// or value of the file names them after (the conformance suite, storetest,
// checks what the store returns; this checks the bytes on disk).
func TestForgetLeavesNothingInTheFile(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	seedPrivacy(t, s)
	s.Audit(ctx, bot.AuditEntry{Platform: "tg", Chat: "tg/1", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "in one", Time: t0})
	s.Audit(ctx, bot.AuditEntry{Platform: "tg", Chat: "tg/2", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "in two", Time: t0})
	s.Audit(ctx, bot.AuditEntry{Chat: "tg/1", User: "tg:bob", Actor: "tg:mgr", Kind: "command", Rule: "/mod pardon", Time: t0})
	if _, err := s.Forget(ctx, bot.ForgetRequest{User: "tg:alice", Scope: bot.ViewChat("tg", "1"), Ref: "r2"}); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"tg:alice", "tg:mgr"} {
		if _, err := s.Forget(ctx, forgetAll(user)); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range dump(t, s) {
		if strings.Contains(line, "alice") || strings.Contains(line, "tg:mgr") {
			t.Errorf("the file still holds %q", line)
		}
	}
}
