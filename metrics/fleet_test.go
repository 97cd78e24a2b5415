package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// TestActiveUsersFleet: two replicas sharing a KV each see some users
// (one in common); once each has merged its sketches, either one's
// chorus_active_users counts the fleet's users once; buckets that left
// their window are deleted from the KV.
func TestActiveUsersFleet(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 0, 0, 30, 0, time.UTC)
	clk := bottest.NewClock(t0)
	kv := bot.NewMemKV()
	a, regA := newTest(t, WithClock(clk.Now), WithFleet(kv))
	b, regB := newTest(t, WithClock(clk.Now), WithFleet(kv))
	say := func(m *Metrics, user string) {
		m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "telegram", ChatKind: bot.ChatDM, User: user})
	}
	say(a, "telegram:1")
	say(a, "telegram:2")
	say(b, "telegram:2")
	say(b, "telegram:3")
	say(b, "discord:4")
	if got := value(t, regA, "chorus_active_users", map[string]string{"window": "5m"}); got != 2 {
		t.Fatalf("a before any merge counts %v, want its own 2", got)
	}
	if err := b.pushFleet(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"5m", "1d", "30d"} {
		if got := value(t, regA, "chorus_active_users", map[string]string{"window": w}); got != 4 {
			t.Errorf("a after b merged: %s = %v, want the fleet's 4", w, got)
		}
	}
	if err := a.pushFleet(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.pushFleet(ctx); err != nil { // merging again changes nothing
		t.Fatal(err)
	}
	if got := value(t, regB, "chorus_active_users", map[string]string{"window": "1d"}); got != 4 {
		t.Errorf("b after both merged: 1d = %v, want 4", got)
	}
	clk.Set(t0.Add(2 * time.Hour))
	if err := a.pushFleet(ctx); err != nil {
		t.Fatal(err)
	}
	if got := value(t, regB, "chorus_active_users", map[string]string{"window": "5m"}); got != 0 {
		t.Errorf("5m two hours later = %v, want 0", got)
	}
	var left []string
	kv.Scan(ctx, fleetBucket, "", "", func(k string, _ []byte) error { left = append(left, k); return nil })
	for _, k := range left {
		if strings.HasPrefix(k, "5m/") {
			t.Errorf("a 5m bucket two hours old is still in the KV: %s", k)
		}
	}
	if len(left) != 2 {
		t.Errorf("KV holds %v; want the 1d and 30d buckets", left)
	}
}
