package pgstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/storetest"
	"github.com/chorusbot/chorus/memory/pgstore"
	"github.com/chorusbot/chorus/memory/pgstore/pgtest"
)

func testDSN(t testing.TB) string { return pgtest.DSN(t) }

func dropSchema(t testing.TB, dsn, schema string) { pgtest.Drop(t, dsn, schema) }

func schemaName(t testing.TB) string { return pgtest.Name(t) }

// openSchema opens a store on schema, dropped when t ends.
func openSchema(t testing.TB, schema string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	dsn := testDSN(t)
	dropSchema(t, dsn, schema)
	s, err := pgstore.Open(context.Background(), dsn, append([]pgstore.Option{pgstore.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the store conformance suite on PostgreSQL, each
// test in a schema of its own.
func TestConformance(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T, o storetest.Options) bot.Store {
		schema := "t_" + o.Name
		dropSchema(t, dsn, schema)
		s, err := pgstore.Open(context.Background(), dsn, pgstore.WithSchema(schema), pgstore.WithClock(o.Now), pgstore.WithRetention(o.RetentionDays))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.WithKnowledge(func(s bot.Store) storetest.Knowledge { return s.(*pgstore.Store).KB() }))
}

// TestKnowledgeSharedByReplicas: two stores on one database are two
// replicas; what one ingests or removes, the other's index has within
// moments, through LISTEN/NOTIFY.
func TestKnowledgeSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	schema := schemaName(t)
	a := openSchema(t, schema)
	b, err := pgstore.Open(ctx, testDSN(t), pgstore.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// A store of another schema on the same database hears the
	// announcements and must ignore them.
	other := openSchema(t, schemaName(t)+"_x")
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("replica b never saw: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, err := a.KB().IngestFile(ctx, "/kb", "returns.md", []byte("# Returns\n\nWe take zebras back within 30 days.\n")); err != nil {
		t.Fatal(err)
	}
	eventually("the ingested document", func() bool {
		ps, _ := b.KB().Search(ctx, "zebras", 3)
		return len(ps) == 1 && ps[0].Title == "Returns"
	})
	for i := range 20 { // a burst, as ingesting a folder makes
		if _, err := a.KB().IngestFile(ctx, "/kb", "doc"+string(rune('a'+i))+".md", []byte("# Doc\n\nAbout okapis number "+string(rune('a'+i))+".\n")); err != nil {
			t.Fatal(err)
		}
	}
	eventually("the burst of twenty documents", func() bool { return b.KB().Len() == a.KB().Len() })
	if _, err := a.KB().IngestFile(ctx, "/kb", "returns.md", []byte("# Returns\n\nWe take giraffes back within 30 days.\n")); err != nil {
		t.Fatal(err)
	}
	eventually("the update", func() bool {
		ps, _ := b.KB().Search(ctx, "zebras", 3)
		qs, _ := b.KB().Search(ctx, "giraffes", 3)
		return len(ps) == 0 && len(qs) == 1
	})
	if err := b.KB().Remove(ctx, "/kb", "returns.md"); err != nil {
		t.Fatal(err)
	}
	eventually("the removal, made by b, in a", func() bool {
		ps, _ := a.KB().Search(ctx, "giraffes", 3)
		return len(ps) == 0
	})
	if other.KB().Len() != 0 {
		t.Errorf("a store of another schema indexed %d passages", other.KB().Len())
	}
	// The KB sources report the same on both.
	sa, _ := a.KB().Sources(ctx)
	sb, _ := b.KB().Sources(ctx)
	if len(sa) != 1 || len(sb) != 1 || sa[0].Docs != sb[0].Docs || sa[0].Passages != sb[0].Passages {
		t.Errorf("sources: a %+v, b %+v", sa, sb)
	}
}

// TestReplicasMigrateTogether: stores opening a fresh schema at the same
// moment take turns under the advisory lock; all open, the schema once.
func TestReplicasMigrateTogether(t *testing.T) {
	dsn := testDSN(t)
	schema := schemaName(t)
	dropSchema(t, dsn, schema)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*pgstore.Store, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = pgstore.Open(context.Background(), dsn, pgstore.WithSchema(schema))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	cur, latest, err := stores[0].Version(context.Background())
	if err != nil || cur != latest || cur == 0 {
		t.Errorf("version = %d of %d, %v", cur, latest, err)
	}
	if applied, err := stores[1].Migrate(context.Background()); err != nil || len(applied) != 0 {
		t.Errorf("migrate on a current schema applied %v, %v", applied, err)
	}
}

// TestOpenWithoutMigrate: a store told not to migrate refuses a schema
// that is not current, naming the remedy.
func TestOpenWithoutMigrate(t *testing.T) {
	dsn := testDSN(t)
	schema := schemaName(t)
	dropSchema(t, dsn, schema)
	_, err := pgstore.Open(context.Background(), dsn, pgstore.WithSchema(schema), pgstore.WithoutMigrate())
	if err == nil || !strings.Contains(err.Error(), "chorus migrate") {
		t.Fatalf("open of an empty schema without migrating = %v", err)
	}
	s := openSchema(t, schema)
	s.Close()
	s2, err := pgstore.Open(context.Background(), dsn, pgstore.WithSchema(schema), pgstore.WithoutMigrate())
	if err != nil {
		t.Fatalf("open of a current schema without migrating: %v", err)
	}
	s2.Close()
}

// TestUnreachableServer: a server that is not there is an error naming
// the host within the connect timeout, never a hang; so is a refused
// login.
func TestUnreachableServer(t *testing.T) {
	dsn := testDSN(t)
	for _, tc := range []struct{ name, dsn, want string }{
		{"closed port", "postgres://chorus:s3cret@127.0.0.1:1/chorus?sslmode=disable", "127.0.0.1:1/chorus"},
		{"no such database", strings.Replace(dsn, "/test", "/no_such_db_chorus", 1), "no_such_db_chorus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := pgstore.Open(context.Background(), tc.dsn, pgstore.WithConnectTimeout(time.Second))
			if err == nil {
				t.Fatal("open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q holds the password", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("failing took %s", d)
			}
		})
	}
	if _, err := pgstore.Open(context.Background(), "postgres://%zz"); err == nil || !strings.Contains(err.Error(), "store.dsn") {
		t.Errorf("a DSN that does not parse: %v", err)
	}
}

// TestStatsCountTheHotPath: the engine's records for one message are one
// round trip and one commit each.
func TestStatsCountTheHotPath(t *testing.T) {
	ctx := context.Background()
	s := openSchema(t, schemaName(t))
	m := &bot.Message{Platform: "tg", Chat: bot.Chat{ID: "1", Kind: bot.ChatDM}, ID: "1", Author: bot.User{ID: "1", Name: "One"}, Text: "hi", Time: time.Now()}
	conv := m.ConversationKey()
	// Warm the connections' statement caches, as a running store has.
	for i := range 3 {
		m.ID = "warm" + string(rune('0'+i))
		s.Accept(ctx, m)
		s.Incoming(ctx, m, "en", conv, bot.Turn{Role: bot.RoleUser, User: m.UserKey(), MsgID: m.ID, Text: "hi", Tokens: 1})
		s.Outgoing(ctx, m, conv, bot.Turn{Role: bot.RoleAssistant, User: m.UserKey(), Text: "hello", Tokens: 1}, []string{"a.md"})
	}
	m.ID = "2"
	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"accept", func() error { _, err := s.Accept(ctx, m); return err }},
		{"incoming", func() error {
			_, err := s.Incoming(ctx, m, "en", conv, bot.Turn{Role: bot.RoleUser, User: m.UserKey(), MsgID: m.ID, Text: "hi", Tokens: 1})
			return err
		}},
		{"outgoing", func() error {
			_, err := s.Outgoing(ctx, m, conv, bot.Turn{Role: bot.RoleAssistant, User: m.UserKey(), Text: "hello", Tokens: 1}, []string{"a.md"})
			return err
		}},
	} {
		before := s.Stats()
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		after := s.Stats()
		if trips, commits := after.RoundTrips-before.RoundTrips, after.Commits-before.Commits; trips != 1 || commits != 1 {
			t.Errorf("%s: %d round trips, %d commits; want 1 and 1", step.name, trips, commits)
		}
	}
	if w, _ := s.Window(ctx, conv, 1000); len(w) != 8 {
		t.Errorf("window = %d turns", len(w))
	}
}
