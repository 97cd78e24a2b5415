package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// seedBolt fills a bbolt store as a deployment would have it: followers
// talking in a group and in DMs, summaries, profiles with names and
// topics, moderation and manager audit entries, a forget of one chat,
// plug-in KV data, a knowledge base, messages handled and one accepted but
// not answered. It returns the user keys that appear.
func seedBolt(t *testing.T, s *memory.Store) []string {
	ctx := context.Background()
	var users []string
	for i := range 6 {
		id := fmt.Sprint(100 + i)
		users = append(users, "telegram:"+id)
		for j := range 4 {
			m := &bot.Message{Platform: "telegram", Chat: bot.Chat{ID: "-42", Kind: bot.ChatGroup}, ID: fmt.Sprintf("%d-%d", i, j),
				Author: bot.User{ID: id, Name: fmt.Sprintf("Follower %d", i), Handle: fmt.Sprintf("@f%d", i)}, Text: fmt.Sprintf("question %d from %d", j, i),
				Time: t0.Add(time.Duration(i*10+j) * time.Minute)}
			if j == 3 {
				m.Chat = bot.Chat{ID: id, Kind: bot.ChatDM}
			}
			if _, err := s.Accept(ctx, m); err != nil {
				t.Fatal(err)
			}
			conv := m.ConversationKey()
			if _, err := s.Incoming(ctx, m, "en", conv, bot.Turn{Role: bot.RoleUser, User: m.UserKey(), Name: m.Author.Name, MsgID: m.ID, Text: m.Text, Time: m.Time, Tokens: 5}); err != nil {
				t.Fatal(err)
			}
			if i == 5 && j == 3 {
				continue // accepted, not answered: pending
			}
			if _, err := s.Outgoing(ctx, m, conv, bot.Turn{Role: bot.RoleAssistant, User: m.UserKey(), Name: "Bot", MsgID: "r" + m.ID, Text: "answer to " + m.Text,
				Time: m.Time.Add(time.Second), Tokens: 4, Unanswered: j == 2}, []string{fmt.Sprintf("doc%d.md", j)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.SetSummary(ctx, "telegram/-42", bot.Summary{Text: "followers asked questions", UpTo: 4, Users: users[:3], Updated: t0.Add(time.Hour)})
	for i, u := range users {
		s.Audit(ctx, bot.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Platform: "telegram", Chat: "telegram/-42", User: u, Name: "Follower",
			Actor: "rules", Kind: "moderation", Rule: "caps", Action: "warn", Excerpt: "SHOUTING " + u})
	}
	s.Audit(ctx, bot.AuditEntry{Time: t0.Add(time.Hour), Platform: "telegram", Chat: "telegram/-42", User: users[1], Actor: users[0], Kind: "command", Rule: "/mod pardon"})
	if _, err := s.Forget(ctx, bot.ForgetRequest{User: users[4], Scope: bot.ViewChat("telegram", "-42"), Ref: "ab12"}); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		s.Put(ctx, "strikes", fmt.Sprintf("telegram:%d", 100+i), []byte(fmt.Sprint(i)))
	}
	s.Put(ctx, "rollups", "2025-03-01", []byte(`{"messages":24}`))
	s.Put(ctx, "rollups", "\xff\x00binary", []byte{0, 1, 2})
	kb := s.KB()
	kb.IngestFile(ctx, "/kb", "shipping.md", []byte("# Shipping\n\n## Canada\n\nParcels to Canada take five working days.\n"))
	kb.IngestFile(ctx, "/kb", "returns.md", []byte("# Returns\n\nWe take zebras back within 30 days.\n"))
	return users
}

func exportJSON(t *testing.T, st interface {
	Export(context.Context, string) (bot.UserData, error)
}, user string) string {
	t.Helper()
	d, err := st.Export(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImportBolt moves a bbolt deployment into PostgreSQL, interrupted
// once and resumed: every user's export is the same before and after, and
// so are the audit log, the inbox, the plug-ins' KV and the knowledge base.
func TestImportBolt(t *testing.T) {
	ctx := context.Background()
	src, err := memory.Open(filepath.Join(t.TempDir(), "chorus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	users := seedBolt(t, src)
	dst := openSchema(t, schemaName(t))

	dry, err := dst.ImportBolt(ctx, src, pgstore.ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"kv": 9, "profiles": 6, "conversations": 7, "audit": 7, "dedup": 24, "pending": 1, "kb": 2}
	for _, c := range dry {
		if c.Source != want[c.Kind] || c.Copied != 0 {
			t.Errorf("dry run %s = %+v, want %d in the source", c.Kind, c, want[c.Kind])
		}
	}
	if n, _ := dst.Size(); n <= 0 {
		t.Errorf("size = %d", n)
	}
	opt := pgstore.ImportOptions{Batch: 4}
	pgstore.StopImportAfter(&opt, 5)
	if _, err := dst.ImportBolt(ctx, src, opt); err == nil {
		t.Fatal("the interrupted import reported success")
	}
	counts, err := dst.ImportBolt(ctx, src, pgstore.ImportOptions{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		if c.Kind != "kb" && (c.Copied+c.Before != c.Source || c.Before == 0 && c.Kind == "kv") {
			t.Errorf("%s: copied %d now and %d before, of %d", c.Kind, c.Copied, c.Before, c.Source)
		}
		if c.Kind == "conversations" && c.Turns != 6*4*2-1-6 {
			t.Errorf("turns = %d", c.Turns)
		}
	}
	again, err := dst.ImportBolt(ctx, src, pgstore.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again {
		if c.Copied != 0 {
			t.Errorf("a third run copied %d %s", c.Copied, c.Kind)
		}
	}

	for _, u := range append(users, "forgotten:ab12", "telegram:nobody") {
		if a, b := exportJSON(t, src, u), exportJSON(t, dst, u); a != b {
			t.Errorf("export of %s differs:\nbbolt: %s\npostgres: %s", u, a, b)
		}
	}
	la, _ := src.AuditLog(ctx, bot.AuditQuery{Limit: 1000})
	lb, _ := dst.AuditLog(ctx, bot.AuditQuery{Limit: 1000})
	if !reflect.DeepEqual(la, lb) || len(la) != 7 {
		t.Errorf("audit log differs: %d entries, %d", len(la), len(lb))
	}
	pa, _ := src.Pending(ctx)
	pb, _ := dst.Pending(ctx)
	if len(pa) != 1 || len(pb) != 1 || pa[0].ID != pb[0].ID || !pa[0].Time.Equal(pb[0].Time) {
		t.Errorf("pending: %+v vs %+v", pa, pb)
	}
	// Deliveries accepted before the move are still duplicates after.
	m := &bot.Message{Platform: "telegram", Chat: bot.Chat{ID: "-42", Kind: bot.ChatGroup}, ID: "0-0", Author: bot.User{ID: "100"}}
	if fresh, err := dst.Accept(ctx, m); err != nil || fresh {
		t.Errorf("a delivery accepted in bbolt is fresh in postgres: %v, %v", fresh, err)
	}
	scan := func(st bot.KV, bucket string) []string {
		var out []string
		st.Scan(ctx, bucket, "", "", func(k string, v []byte) error { out = append(out, k+"="+string(v)); return nil })
		return out
	}
	for _, b := range []string{"strikes", "rollups"} {
		if a, c := scan(src, b), scan(dst, b); !slices.Equal(a, c) || len(a) == 0 {
			t.Errorf("kv %s: %q vs %q", b, a, c)
		}
	}
	for _, q := range []string{"how long to Canada", "zebras"} {
		a, _ := src.KB().Search(ctx, q, 3)
		b, _ := dst.KB().Search(ctx, q, 3)
		if !reflect.DeepEqual(a, b) || len(a) == 0 {
			t.Errorf("search %q: %+v vs %+v", q, a, b)
		}
	}
	wa, _ := src.Window(ctx, "telegram/-42", 1000)
	wb, _ := dst.Window(ctx, "telegram/-42", 1000)
	if !reflect.DeepEqual(wa, wb) || len(wa) == 0 {
		t.Errorf("window differs: %d turns vs %d", len(wa), len(wb))
	}
	sa, _ := src.Summary(ctx, "telegram/-42")
	sb, _ := dst.Summary(ctx, "telegram/-42")
	if sa.Text != sb.Text || !slices.Equal(sa.Users, sb.Users) {
		t.Errorf("summary: %+v vs %+v", sa, sb)
	}
	// New turns number on from the copied ones.
	sqa, _ := src.Append(ctx, "telegram/-42", bot.Turn{Role: bot.RoleUser, User: users[0], Text: "after", Tokens: 1})
	sqb, _ := dst.Append(ctx, "telegram/-42", bot.Turn{Role: bot.RoleUser, User: users[0], Text: "after", Tokens: 1})
	if sqa != sqb {
		t.Errorf("next seq: bbolt %d, postgres %d", sqa, sqb)
	}
	if ps, _ := dst.FindUsers(ctx, "telegram", "f2", 5); len(ps) != 1 || ps[0].User != users[2] {
		t.Errorf("find by handle after the move: %+v", ps)
	}
}

// TestImportRefusesAUsedDatabase: migrate-store never merges two
// deployments.
func TestImportRefusesAUsedDatabase(t *testing.T) {
	ctx := context.Background()
	src, err := memory.Open(filepath.Join(t.TempDir(), "chorus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := openSchema(t, schemaName(t))
	dst.Put(ctx, "strikes", "telegram:1", []byte("1"))
	if _, err := dst.ImportBolt(ctx, src, pgstore.ImportOptions{}); err == nil || err != pgstore.ErrNotEmpty {
		t.Errorf("import into a used database = %v", err)
	}
}
