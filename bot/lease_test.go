package bot_test

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
	"github.com/chorusbot/chorus/prompts"
)

// fleetEngine is one replica's engine over st.
func fleetEngine(t *testing.T, st bot.Store, llm bot.LLM) (*bot.Engine, *bottest.Platform) {
	t.Helper()
	e, err := bot.New(bot.Config{Workers: 4, RatePerMinute: 0}, st, llm, bot.WithPrompts(prompts.Default()),
		bot.WithLeaseSweep(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	p := bottest.NewPlatform("console", bot.Limits{MaxLen: 4000})
	e.AddPlatform(p)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, p
}

func fleetMsg(conv, i int) bot.Message {
	return bot.Message{Platform: "console", Chat: bot.Chat{ID: fmt.Sprint("c", conv), Kind: bot.ChatDM}, ID: fmt.Sprint(i),
		Author: bot.User{ID: fmt.Sprint("u", conv), Name: "User"}, Text: fmt.Sprintf("c%d question %d", conv, i)}
}

// TestLeasedEnginesAnswerOnceInOrder: three engines over one store (a
// fleet, bottest.Leases), each conversation's messages handed to them in
// turn: each message is answered once, each conversation in order.
func TestLeasedEnginesAnswerOnceInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, leases := bottest.NewMemStore(), bottest.NewLeases(time.Minute)
	llm := &bottest.LLM{Reply: func(req bot.Request) (string, error) {
		time.Sleep(time.Millisecond)
		return "answer to " + req.Query, nil
	}}
	var engines []*bot.Engine
	for i := range 3 {
		e, _ := fleetEngine(t, leases.Replica(st, fmt.Sprint("r", i)), llm)
		engines = append(engines, e)
	}
	const convs, per = 12, 10
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := engines[next.Add(1)%3].Handle(ctx, fleetMsg(c, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for len(llm.Requests()) < convs*per && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	for _, e := range engines {
		if err := e.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		e.Close()
	}
	order := map[int][]int{}
	seen := map[string]int{}
	for _, r := range llm.Requests() {
		seen[r.Query]++
		var c, i int
		fmt.Sscanf(r.Query, "c%d question %d", &c, &i)
		order[c] = append(order[c], i)
	}
	for q, n := range seen {
		if n != 1 {
			t.Errorf("%q answered %d times", q, n)
		}
	}
	want := make([]int, per)
	for i := range want {
		want[i] = i
	}
	for c := range convs {
		if !slices.Equal(order[c], want) {
			t.Errorf("conversation %d answered in the order %v", c, order[c])
		}
	}
	if p, _ := st.Pending(ctx); len(p) != 0 {
		t.Errorf("%d messages left pending", len(p))
	}
}

// TestLeasedTakeOver: a replica stops (its engine closed mid-answer, as a
// crash leaves it) holding a conversation with messages accepted; once its
// lease lapses another replica answers them, and answers the next too.
func TestLeasedTakeOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, leases := bottest.NewMemStore(), bottest.NewLeases(200*time.Millisecond)
	stuck := make(chan struct{})
	dead := &bottest.LLM{Reply: func(req bot.Request) (string, error) {
		<-stuck
		return "", fmt.Errorf("gone")
	}}
	defer close(stuck)
	live := &bottest.LLM{}
	a, _ := fleetEngine(t, leases.Replica(st, "a"), dead)
	b, pb := fleetEngine(t, leases.Replica(st, "b"), live)
	for i := range 3 {
		if err := a.Handle(ctx, fleetMsg(1, i)); err != nil {
			t.Fatal(err)
		}
	}
	for len(dead.Requests()) == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	// b is handed the next message while a holds the conversation: it
	// leaves it in the shared inbox.
	if err := b.Handle(ctx, fleetMsg(1, 3)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(live.Requests()); n != 0 {
		t.Fatalf("b answered %d messages of a conversation a holds", n)
	}
	go a.Close() // a crash: a's answer never finishes, nothing is released
	for len(live.Requests()) < 4 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	var got []string
	for _, r := range live.Requests() {
		got = append(got, r.Query)
	}
	if !slices.Equal(got, []string{"c1 question 0", "c1 question 1", "c1 question 2", "c1 question 3"}) {
		t.Fatalf("b answered %q after the take-over; want the four, in order", got)
	}
	if err := b.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if n := len(pb.Replies("c1")); n != 4 {
		t.Errorf("b sent %d replies", n)
	}
}
