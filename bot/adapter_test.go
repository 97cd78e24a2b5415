package bot_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// TestDispatcherKeepsChatOrder: events of one chat are handled in the
// order sent, chats in parallel; Stop handles what was queued and takes
// nothing after.
func TestDispatcherKeepsChatOrder(t *testing.T) {
	type ev struct {
		chat string
		n    int
	}
	var mu sync.Mutex
	seen := map[string][]int{}
	var active, most atomic.Int32
	d := bot.NewDispatcher(4, 2, func(e ev) {
		if n := active.Add(1); n > most.Load() {
			most.Store(n)
		}
		time.Sleep(time.Millisecond)
		active.Add(-1)
		mu.Lock()
		seen[e.chat] = append(seen[e.chat], e.n)
		mu.Unlock()
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			for n := range 20 {
				if !d.Send(ctx, fmt.Sprint("chat", c), ev{fmt.Sprint("chat", c), n}) {
					t.Errorf("send refused before Stop")
				}
			}
		})
	}
	wg.Wait()
	d.Stop()
	for c, ns := range seen {
		for i, n := range ns {
			if n != i {
				t.Fatalf("%s handled %v, out of order", c, ns)
			}
		}
		if len(ns) != 20 {
			t.Errorf("%s: %d of 20 handled", c, len(ns))
		}
	}
	if len(seen) != 8 || most.Load() < 2 {
		t.Errorf("%d chats, at most %d handled at once: want 8 chats in parallel", len(seen), most.Load())
	}
	if d.Send(ctx, "late", ev{}) {
		t.Error("Send after Stop queued an event")
	}
}

// flakyAdapter fails its first runs, then receives until its context ends.
type flakyAdapter struct {
	*bottest.Platform
	fails int
	fatal bool
	runs  atomic.Int32
}

func (a *flakyAdapter) Ready() bool { return a.runs.Load() > int32(a.fails) }

func (a *flakyAdapter) Run(ctx context.Context) error {
	n := a.runs.Add(1)
	switch {
	case a.fatal:
		return fmt.Errorf("token rejected: %w", bot.ErrFatal)
	case int(n) <= a.fails:
		return errors.New("gateway unreachable")
	}
	<-ctx.Done()
	return nil
}

// TestRunAdapterRestarts: the host starts a failed adapter again after a
// pause, stops at ErrFatal, and returns when its context ends.
func TestRunAdapterRestarts(t *testing.T) {
	fast := bot.Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond}
	a := &flakyAdapter{Platform: bottest.NewPlatform("x", bot.Limits{}), fails: 3}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bot.RunAdapter(ctx, a, nil, fast) }()
	deadline := time.Now().Add(5 * time.Second)
	for !a.Ready() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !a.Ready() || a.runs.Load() != 4 {
		t.Fatalf("ready %v after %d runs, want ready after 4", a.Ready(), a.runs.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunAdapter after cancel = %v", err)
	}
	f := &flakyAdapter{Platform: bottest.NewPlatform("y", bot.Limits{}), fatal: true}
	if err := bot.RunAdapter(context.Background(), f, nil, fast); !errors.Is(err, bot.ErrFatal) || f.runs.Load() != 1 {
		t.Errorf("RunAdapter with a fatal error = %v after %d runs", err, f.runs.Load())
	}
}

func TestBackoffCapped(t *testing.T) {
	b := bot.Backoff{Min: 10 * time.Millisecond, Max: 80 * time.Millisecond}
	for i, hi := range []time.Duration{10, 20, 40, 80, 80, 80} {
		d := b.Next()
		if d < hi*time.Millisecond/2 || d > hi*time.Millisecond {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, d, hi*time.Millisecond/2, hi*time.Millisecond)
		}
	}
	b.Reset()
	if d := b.Next(); d > 10*time.Millisecond {
		t.Errorf("after Reset: %v", d)
	}
}
