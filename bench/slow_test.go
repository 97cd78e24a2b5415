package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/prompts"
)

// gateLLM is FakeLLM, except that questions containing "slow" wait until
// the gate opens (or their deadline passes).
type gateLLM struct {
	FakeLLM
	gate chan struct{}
}

func (g *gateLLM) Stream(ctx context.Context, req bot.Request) (bot.Stream, error) {
	if strings.Contains(req.Query, "slow") {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, fmt.Errorf("gate: %w", bot.ErrLLMTimeout)
		}
	}
	return g.FakeLLM.Stream(ctx, req)
}

// TestSlowConsumer: one conversation whose model calls hang, with a backlog
// of its own, must not delay the others: they are all answered while the
// slow one still waits, on a pool smaller than the slow backlog.
func TestSlowConsumer(t *testing.T) {
	st, err := memory.Open(filepath.Join(t.TempDir(), "chorus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	llm := &gateLLM{gate: make(chan struct{})}
	var mu sync.Mutex
	answered := map[string]int{}
	obs := bot.ObserverFunc(func(e bot.Event) {
		if e.Kind == bot.EventReplySent {
			mu.Lock()
			answered[e.Chat]++
			mu.Unlock()
		}
	})
	eng, err := bot.New(bot.Config{Workers: 4}, st, llm, bot.WithObserver(obs), bot.WithPrompts(prompts.Default()))
	if err != nil {
		t.Fatal(err)
	}
	eng.AddPlatform(&Platform{})
	ctx := context.Background()
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	send := func(chat string, i int, text string) {
		t.Helper()
		err := eng.Handle(ctx, bot.Message{Platform: platformName, Chat: bot.Chat{ID: chat, Kind: bot.ChatDM}, ID: fmt.Sprint(i),
			Author: bot.User{ID: chat, Name: chat}, Text: text})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		send("slowpoke", i, fmt.Sprintf("slow question %d", i))
	}
	const others = 40
	for i := range others {
		send(fmt.Sprintf("user%d", i), 1, "when do you ship?")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n, slow := 0, answered[bot.ConversationKey(platformName, "slowpoke", "")]
		for k, v := range answered {
			if !strings.HasSuffix(k, "/slowpoke") {
				n += v
			}
		}
		mu.Unlock()
		if slow != 0 {
			t.Fatalf("the slow conversation was answered before its model returned")
		}
		if n == others {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d other conversations answered while one was slow", n, others)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A reply is reported before its worker hands the conversation back:
	// wait for the last worker's bookkeeping.
	q, inflight := eng.QueueDepth()
	for (inflight != 1 || q != 10) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		q, inflight = eng.QueueDepth()
	}
	if inflight != 1 || q != 10 {
		t.Errorf("queue %d, in flight %d: want the slow conversation's 10 messages, one in flight", q, inflight)
	}
	close(llm.gate)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := eng.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := answered[bot.ConversationKey(platformName, "slowpoke", "")]; n != 10 {
		t.Errorf("slow conversation answered %d times, want 10", n)
	}
}
