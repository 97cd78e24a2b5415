package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/memory/pgstore"
	"github.com/chorusbot/chorus/prompts"
)

// replica opens another store on schema, as another chorus serve would.
func replica(t *testing.T, schema string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), testDSN(t), append([]pgstore.Option{pgstore.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func msgIn(conv, id, text string) bot.Message {
	return bot.Message{Platform: "console", Chat: bot.Chat{ID: conv, Kind: bot.ChatDM}, ID: id,
		Author: bot.User{ID: "u" + conv, Name: "User"}, Text: text, Time: time.Now()}
}

// TestLeases: one replica at a time holds a conversation; a release is
// refused while a message of it is pending; a dead replica's lease lapses
// and the one taking it is told it took over; Orphans lists what nobody
// live works.
func TestLeases(t *testing.T) {
	ctx := context.Background()
	schema := schemaName(t)
	const ttl = 600 * time.Millisecond
	a := openSchema(t, schema, pgstore.WithLeaseTTL(ttl), pgstore.WithReplica("a"))
	b := replica(t, schema, pgstore.WithLeaseTTL(ttl), pgstore.WithReplica("b"))
	conv := bot.ConversationKey("console", "c1", "")

	claim := func(s *pgstore.Store, wantOK, wantTakeover bool) {
		t.Helper()
		ok, takeover, err := s.Claim(ctx, conv)
		if err != nil || ok != wantOK || takeover != wantTakeover {
			t.Fatalf("%s: Claim = %v, %v, %v; want %v, %v", s.Replica(), ok, takeover, err, wantOK, wantTakeover)
		}
	}
	claim(a, true, false)
	claim(a, true, false) // kept alive
	claim(b, false, false)

	m := msgIn("c1", "1", "hello")
	if fresh, err := b.Accept(ctx, &m); err != nil || !fresh {
		t.Fatal(fresh, err)
	}
	if orphans, err := b.Orphans(ctx, 10); err != nil || len(orphans) != 0 {
		t.Fatalf("b's orphans while a holds the lease = %v, %v", orphans, err)
	}
	if orphans, err := a.Orphans(ctx, 10); err != nil || !slices.Equal(orphans, []string{conv}) {
		t.Fatalf("a's orphans (its own lease counts) = %v, %v", orphans, err)
	}
	if ok, err := a.Release(ctx, conv); err != nil || ok {
		t.Fatalf("release with a message pending = %v, %v; want refused", ok, err)
	}
	got, err := a.PendingOf(ctx, conv, 10)
	if err != nil || len(got) != 1 || got[0].Text != "hello" {
		t.Fatalf("PendingOf = %+v, %v", got, err)
	}
	if err := a.Done(ctx, &got[0]); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Release(ctx, conv); err != nil || !ok {
		t.Fatalf("release with nothing pending = %v, %v", ok, err)
	}
	if ok, err := a.Release(ctx, conv); err != nil || !ok {
		t.Fatalf("releasing a lease not held = %v, %v; want true", ok, err)
	}
	claim(b, true, false)

	// b is kept alive beyond its lifetime while it lives...
	time.Sleep(2 * ttl)
	claim(a, false, false)
	// ...and lapses when it dies: a takes over.
	m2 := msgIn("c1", "2", "anyone?")
	if _, err := a.Accept(ctx, &m2); err != nil {
		t.Fatal(err)
	}
	b.Crash()
	if orphans, err := a.Orphans(ctx, 10); err != nil || len(orphans) != 0 {
		t.Fatalf("orphans right after the crash = %v, %v; want none (the lease is live)", orphans, err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	if orphans, err := a.Orphans(ctx, 10); err != nil || !slices.Equal(orphans, []string{conv}) {
		t.Fatalf("orphans after the lease lapsed = %v, %v", orphans, err)
	}
	claim(a, true, true)

	// Closing gives leases up at once.
	c := replica(t, schema, pgstore.WithLeaseTTL(time.Minute), pgstore.WithReplica("c"))
	other := bot.ConversationKey("console", "c2", "")
	if ok, _, err := c.Claim(ctx, other); err != nil || !ok {
		t.Fatal(ok, err)
	}
	c.Close()
	if ok, takeover, err := a.Claim(ctx, other); err != nil || !ok || takeover {
		t.Fatalf("claim after the holder closed = %v, %v, %v", ok, takeover, err)
	}
}

// TestLeadTakenOver: one replica leads; when it dies another leads
// within the lease lifetime and a poll; when the leader gives up, the
// next leads.
func TestLeadTakenOver(t *testing.T) {
	schema := schemaName(t)
	const ttl = 900 * time.Millisecond
	a := openSchema(t, schema, pgstore.WithLeaseTTL(ttl), pgstore.WithReplica("a"))
	b := replica(t, schema, pgstore.WithLeaseTTL(ttl), pgstore.WithReplica("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var leader atomic.Value
	leader.Store("")
	var overlap atomic.Int32
	var running atomic.Int32
	lead := func(s *pgstore.Store) func(context.Context) error {
		return func(ctx context.Context) error {
			if running.Add(1) > 1 {
				overlap.Add(1)
			}
			defer running.Add(-1)
			leader.Store(s.Replica())
			<-ctx.Done()
			return nil
		}
	}
	var wg sync.WaitGroup
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	wg.Add(2)
	go func() { defer wg.Done(); a.Lead(actx, "work", lead(a)) }()
	waitUntil(t, 5*time.Second, "a leads", func() bool { return leader.Load() == "a" })
	go func() { defer wg.Done(); b.Lead(ctx, "work", lead(b)) }()
	time.Sleep(2 * ttl)
	if leader.Load() != "a" {
		t.Fatalf("the lead moved to %v while a lived", leader.Load())
	}
	a.Crash()
	died := time.Now()
	waitUntil(t, 10*time.Second, "b leads after a died", func() bool { return leader.Load() == "b" })
	t.Logf("b led %v after a died (lease %v)", time.Since(died).Round(10*time.Millisecond), ttl)
	stopA() // a's fn sees its lead lost
	cancel()
	wg.Wait()
	if n := overlap.Load(); n > 0 {
		// a could not tell it lost the lead before b took it only if a's
		// keep-alive were late; with a crashed a it can't be.
		t.Errorf("two replicas led at once %d times", n)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReplicasAnswerOnceInOrder runs three engines, each over its own
// store on one schema (three replicas), and hands the messages of each
// conversation to them in turn, as a round-robin load balancer does: each
// message is answered once, and each conversation's in the order sent.
func TestReplicasAnswerOnceInOrder(t *testing.T) {
	schema := schemaName(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	llm := &bottest.LLM{Reply: func(req bot.Request) (string, error) {
		time.Sleep(2 * time.Millisecond)
		return "answer to " + req.Query, nil
	}}
	var engines []*bot.Engine
	for i := range 3 {
		var st *pgstore.Store
		if i == 0 {
			st = openSchema(t, schema, pgstore.WithLeaseTTL(2*time.Second))
		} else {
			st = replica(t, schema, pgstore.WithLeaseTTL(2*time.Second))
		}
		e, err := bot.New(bot.Config{Workers: 4}, st, llm, bot.WithPrompts(prompts.Default()), bot.WithKV(st),
			bot.WithLeaseSweep(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		e.AddPlatform(bottest.NewPlatform("console", bot.Limits{MaxLen: 4000}))
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	const convs, per = 24, 8
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				m := msgIn(fmt.Sprint("c", c), fmt.Sprint(i), fmt.Sprintf("c%d question %d", c, i))
				e := engines[next.Add(1)%3]
				if err := e.Handle(ctx, m); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitUntil(t, 50*time.Second, "every message answered", func() bool { return len(llm.Requests()) >= convs*per })
	for _, e := range engines {
		if err := e.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		e.Close()
	}
	seen := map[string]int{}
	order := map[int][]int{}
	for _, r := range llm.Requests() {
		seen[r.Query]++
		var c, i int
		if _, err := fmt.Sscanf(r.Query, "c%d question %d", &c, &i); err != nil {
			t.Fatalf("unexpected query %q", r.Query)
		}
		order[c] = append(order[c], i)
	}
	for q, n := range seen {
		if n != 1 {
			t.Errorf("%q answered %d times", q, n)
		}
	}
	for c := range convs {
		want := make([]int, per)
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(order[c], want) {
			t.Errorf("conversation %d answered in the order %v", c, order[c])
		}
	}
}
