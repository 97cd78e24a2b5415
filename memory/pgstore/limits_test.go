package pgstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/memory/pgstore"
	"github.com/chorusbot/chorus/prompts"
)

// TestFleetLimits: two replicas take from one token bucket and count
// against one budget.
func TestFleetLimits(t *testing.T) {
	ctx := context.Background()
	schema := schemaName(t)
	a := openSchema(t, schema)
	b := replica(t, schema)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	budgets := []bot.Budget{{Key: "u:tg:1", Limit: 100}, {Key: "c:tg/9", Limit: 0}}
	admit := func(s *pgstore.Store, at time.Time) (bool, bool) {
		t.Helper()
		ok, over, err := s.Admit(ctx, "tg:1", 6, 3, budgets, at) // 6/min: one token every 10s
		if err != nil {
			t.Fatal(err)
		}
		return ok, over
	}
	var got []bool
	for i, s := range []*pgstore.Store{a, b, a, b} {
		ok, _ := admit(s, now.Add(time.Duration(i)*time.Millisecond))
		got = append(got, ok)
	}
	if fmt.Sprint(got) != "[true true true false]" {
		t.Fatalf("takes from a burst of 3 across two replicas = %v", got)
	}
	if ok, _ := admit(a, now.Add(5*time.Second)); ok {
		t.Fatal("a token before the refill")
	}
	if ok, _ := admit(b, now.Add(11*time.Second)); !ok {
		t.Fatal("no token after the refill")
	}
	if ok, _, err := a.Admit(ctx, "tg:2", 0, 0, nil, now); err != nil || !ok {
		t.Fatalf("no rate limit: %v, %v", ok, err)
	}

	if err := a.Spend(ctx, []string{"u:tg:1", "c:tg/9"}, 60, now); err != nil {
		t.Fatal(err)
	}
	if _, over := admit(b, now.Add(time.Minute)); over {
		t.Fatal("over budget at 60 of 100")
	}
	if err := b.Spend(ctx, []string{"u:tg:1", "c:tg/9"}, 40, now); err != nil {
		t.Fatal(err)
	}
	if _, over := admit(a, now.Add(2*time.Minute)); !over {
		t.Fatal("not over budget at 100 of 100, spent on two replicas")
	}
	if _, over := admit(a, now.Add(24*time.Hour)); over {
		t.Fatal("yesterday's spending counts today")
	}
	if err := b.ResetLimits(ctx, "tg:1", []string{"u:tg:1"}); err != nil {
		t.Fatal(err)
	}
	if ok, over := admit(a, now.Add(2*time.Minute+time.Second)); !ok || over {
		t.Fatalf("after reset: allowed %v, over %v", ok, over)
	}
}

// TestFleetRateLimitAcrossEngines: a follower whose messages a balancer
// spreads over two replicas gets the burst once, not once per replica.
func TestFleetRateLimitAcrossEngines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema := schemaName(t)
	stores := []*pgstore.Store{openSchema(t, schema), replica(t, schema)}
	llm := &bottest.LLM{}
	var plats []*bottest.Platform
	var engines []*bot.Engine
	for _, st := range stores {
		e, err := bot.New(bot.Config{RatePerMinute: 0.001, RateBurst: 2}, st, llm, bot.WithPrompts(prompts.Default()), bot.WithKV(st))
		if err != nil {
			t.Fatal(err)
		}
		p := bottest.NewPlatform("console", bot.Limits{MaxLen: 4000})
		e.AddPlatform(p)
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		plats, engines = append(plats, p), append(engines, e)
	}
	for i := range 6 {
		m := msgIn("c1", fmt.Sprint(i), fmt.Sprint("question ", i))
		if err := engines[i%2].Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
		for _, e := range engines {
			if err := e.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range engines {
		e.Drain(ctx)
		e.Close()
	}
	limited := bot.NewCatalog().T("en", "rate_limited")
	answered, refused := 0, 0
	for _, p := range plats {
		for _, s := range p.Calls("send") {
			switch {
			case strings.HasPrefix(s.Out.Text, "echo: "):
				answered++
			case s.Out.Text == limited:
				refused++
			}
		}
	}
	if answered != 2 || refused != 4 {
		t.Fatalf("%d answered and %d refused; want the burst of 2 answered for the fleet, 4 refused", answered, refused)
	}
}

// TestKVUpdateAcrossReplicas: replicas adding to one counter at once
// (as analytics' flushes merge into one hour's rollup) lose nothing,
// the key's creation raced included.
func TestKVUpdateAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	schema := schemaName(t)
	stores := []*pgstore.Store{openSchema(t, schema), replica(t, schema)}
	const each = 25
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[g%2]
			for range each {
				err := bot.UpdateKV(ctx, st, "counts", "hour", func(old []byte, found bool) ([]byte, error) {
					n := 0
					if found {
						n, _ = strconv.Atoi(string(old))
					}
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	v, err := stores[0].Get(ctx, "counts", "hour")
	if err != nil || string(v) != strconv.Itoa(6*each) {
		t.Fatalf("counter = %s, %v; want %d", v, err, 6*each)
	}
}
