package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
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

func TestForgetScopedToOneChat(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	seedPrivacy(t, s)
	s.Audit(ctx, bot.AuditEntry{Platform: "tg", Chat: "tg/1", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "in one", Time: t0})
	s.Audit(ctx, bot.AuditEntry{Platform: "tg", Chat: "tg/2", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "in two", Time: t0})
	n, err := s.Forget(ctx, bot.ForgetRequest{User: "tg:alice", Scope: bot.ViewChat("tg", "1"), Ref: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	// 2 turns + the tg/1 summary + the tg/1 audit entry.
	if n != 4 {
		t.Errorf("scoped forget = %d, want 4", n)
	}
	d, _ := s.Export(ctx, "tg:alice")
	var texts []string
	for _, m := range d.Messages {
		texts = append(texts, m.Conversation+": "+m.Text)
	}
	if !slices.Equal(texts, []string{"tg/2: alice in dm"}) {
		t.Errorf("left after forgetting chat tg/1: %q", texts)
	}
	if d.Profile == nil {
		t.Error("a forget of one chat deleted the profile")
	}
	if sum, _ := s.Summary(ctx, "tg/2"); sum.Text != "alice alone" {
		t.Errorf("tg/2 summary = %q", sum.Text)
	}
	es, _ := s.AuditLog(ctx, AuditQuery{User: "tg:alice"})
	if len(es) != 2 { // the chat-less seed entry and tg/2's
		t.Errorf("alice's audit entries outside tg/1: %+v", es)
	}
	// Running it again changes nothing; the rest goes with a full forget.
	if n, _ := s.Forget(ctx, bot.ForgetRequest{User: "tg:alice", Scope: bot.ViewChat("tg", "1"), Ref: "r2"}); n != 0 {
		t.Errorf("second scoped forget = %d, want 0", n)
	}
	if n, _ := s.Forget(ctx, forgetAll("tg:alice")); n != 1+1+1+2 {
		t.Errorf("full forget after scoped = %d, want 5", n)
	}
	for _, line := range dump(t, s) {
		if strings.Contains(line, "alice") {
			t.Errorf("the file still holds %q", line)
		}
	}
}

func TestFindUsers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	touch := func(id, name, handle string) {
		m := &bot.Message{Platform: "telegram", Author: bot.User{ID: id, Name: name, Handle: handle}, Time: t0}
		if err := s.Touch(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
	}
	touch("1", "Alice", "alice_w")
	touch("2", "Alice", "")
	touch("3", "Bob", "bobby")
	find := func(name string) []string {
		ps, err := s.FindUsers(ctx, "telegram", name, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.User)
		}
		return out
	}
	for name, want := range map[string][]string{
		"alice": {"telegram:1", "telegram:2"}, "ALICE_W": {"telegram:1"}, "bobby": {"telegram:3"}, "bob": {"telegram:3"}, "carol": nil,
	} {
		if got := find(name); !slices.Equal(got, want) {
			t.Errorf("FindUsers(%q) = %v, want %v", name, got, want)
		}
	}
	if ps, _ := s.FindUsers(ctx, "discord", "alice", 10); len(ps) != 0 {
		t.Errorf("another platform's users found: %+v", ps)
	}
	// A rename moves the index: the old name no longer finds them.
	touch("2", "Alicia", "")
	if got := find("alice"); !slices.Equal(got, []string{"telegram:1"}) {
		t.Errorf("after rename FindUsers(alice) = %v", got)
	}
	if got := find("alicia"); !slices.Equal(got, []string{"telegram:2"}) {
		t.Errorf("after rename FindUsers(alicia) = %v", got)
	}
	if _, err := s.Forget(ctx, forgetAll("telegram:1")); err != nil {
		t.Fatal(err)
	}
	if got := find("alice_w"); len(got) != 0 {
		t.Errorf("a forgotten user is still found: %v", got)
	}
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

func TestAuditMasksAndIndexesActors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	s.Audit(ctx, bot.AuditEntry{Chat: "tg/1", User: "tg:alice", Name: "Alice", Actor: "rules", Kind: "moderation",
		Excerpt: "write me at alice@example.com or +44 20 7946 0958", Time: t0})
	s.Audit(ctx, bot.AuditEntry{Chat: "tg/1", User: "tg:alice", Actor: "tg:mgr", Kind: "command", Rule: "/mod pardon", Time: t0})
	es, _ := s.AuditLog(ctx, AuditQuery{Kind: "moderation"})
	if len(es) != 1 || strings.Contains(es[0].Excerpt, "alice@example.com") || strings.Contains(es[0].Excerpt, "7946") {
		t.Errorf("stored excerpt not masked: %+v", es)
	}
	// The manager's export holds their action, without alice's id.
	d, _ := s.Export(ctx, "tg:mgr")
	a, _ := d.Extra["audit"].([]bot.AuditEntry)
	if len(a) != 1 || a[0].Rule != "/mod pardon" || a[0].User != "" || a[0].Actor != "tg:mgr" {
		t.Errorf("manager's export audit = %+v", a)
	}
	js, _ := json.Marshal(d)
	if strings.Contains(string(js), "alice") {
		t.Errorf("the manager's export names alice: %s", js)
	}
	// Forgetting the manager takes their id out of the entry they made.
	if _, err := s.Forget(ctx, forgetAll("tg:mgr")); err != nil {
		t.Fatal(err)
	}
	for _, line := range dump(t, s) {
		if strings.Contains(line, "tg:mgr") {
			t.Errorf("the file still holds %q", line)
		}
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
