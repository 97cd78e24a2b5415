package campaigns_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/campaigns"
)

// connecting is a platform whose adapter has not connected yet.
type connecting struct {
	*bottest.Platform
	ready atomic.Bool
}

func (c *connecting) Ready() bool { return c.ready.Load() }

// TestLatePostWaitsForTheAdapter: a post due while Chorus was down is not
// failed because its adapter connects after the engine started (Discord's
// gateway opens after); it goes out, late, once the adapter is ready.
func TestLatePostWaitsForTheAdapter(t *testing.T) {
	var camp *campaigns.Campaigns
	r := bottest.NewRig(t, bottest.RigConfig{Plugins: func(r *bottest.Rig) []bot.Plugin {
		var err error
		camp, err = campaigns.New(campaigns.Config{TimeZone: "UTC", Channels: map[string][]string{"discord": {"news"}}}, campaigns.LinksConfig{},
			campaigns.Deps{KV: r.KV}, campaigns.WithClock(r.Clock.Now), campaigns.WithTick(5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Plugin{camp.Plugin()}
	}})
	pl := &connecting{Platform: bottest.NewPlatform("discord", bot.Limits{MaxLen: 2000})}
	r.Engine.AddPlatform(pl)
	due := r.Clock.Now().Add(-time.Hour)
	js, _ := json.Marshal(campaigns.Post{ID: "p1", Kind: campaigns.KindPost, Platform: "discord", Chat: "news", Text: "Winter blend is back.",
		Author: "discord:boss", Created: due.Add(-time.Hour), At: due, Status: campaigns.StatusScheduled, Reach: -1})
	if err := r.KV.Put(context.Background(), campaigns.BucketPosts, "p1", js); err != nil {
		t.Fatal(err)
	}
	status := func() campaigns.Status {
		v, _ := r.KV.Get(context.Background(), campaigns.BucketPosts, "p1")
		var p campaigns.Post
		_ = json.Unmarshal(v, &p)
		return p.Status
	}
	time.Sleep(60 * time.Millisecond) // a dozen ticks
	if s := status(); s != campaigns.StatusScheduled || len(pl.Calls("send")) != 0 {
		t.Fatalf("before the adapter connected: %s, %d sends", s, len(pl.Calls("send")))
	}
	pl.ready.Store(true)
	waitFor(t, "sent", func() bool { return status() == campaigns.StatusSent })
	v, _ := r.KV.Get(context.Background(), campaigns.BucketPosts, "p1")
	var p campaigns.Post
	_ = json.Unmarshal(v, &p)
	if !p.Late || len(pl.Calls("send")) != 1 {
		t.Fatalf("post %+v, %d sends", p, len(pl.Calls("send")))
	}
}
