package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// autoShards runs a sharded adapter whose shards the replicas claim
// (discord.shard_auto): on a shared store each replica leads at most one
// shard at a time, taking a free one (a dead replica's within
// store.lease_ttl); one process alone (bbolt) runs every shard. The
// platform sends from every replica: an adapter built for shard 0 serves
// until this replica receives a shard, whose adapter then takes over.
// The readiness check passes on a replica holding no shard (a standby)
// and fails while a shard it holds is not connected.
func autoShards(eng *bot.Engine, sh bot.Sharded, env bot.AdapterEnv, el bot.Elector) (run, ready func(context.Context) error, err error) {
	n := sh.AutoShards()
	base, err := sh.WithShard(0).NewAdapter(eng, env)
	if err != nil {
		return nil, nil, err
	}
	eng.AddPlatform(base)
	platform := base.Name()
	var mu sync.Mutex
	running := map[int]bot.Adapter{}
	runShard := func(ctx context.Context, id int) error {
		ad, err := sh.WithShard(id).NewAdapter(eng, env)
		if err != nil {
			return err
		}
		eng.AddPlatform(ad)
		mu.Lock()
		running[id] = ad
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(running, id)
			mu.Unlock()
		}()
		log := env.Log.With("shard", fmt.Sprintf("%d/%d", id, n))
		log.Info("receiving this shard")
		return bot.RunAdapter(ctx, ad, log, bot.Backoff{})
	}
	ready = func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		var down []int
		for id, ad := range running {
			if !ad.Ready() {
				down = append(down, id)
			}
		}
		if len(down) > 0 {
			sort.Ints(down)
			return fmt.Errorf("shards %v not connected", down)
		}
		return nil // every shard held is connected, or none is held: a standby
	}
	if _, solo := el.(bot.Solo); solo {
		return func(ctx context.Context) error {
			errs := make([]error, n)
			var wg sync.WaitGroup
			for id := range n {
				wg.Add(1)
				go func() { defer wg.Done(); errs[id] = runShard(ctx, id) }()
			}
			wg.Wait()
			return errors.Join(errs...)
		}, ready, nil
	}
	env.Log.Info("claiming a shard from the shared store", "shards", n)
	return func(ctx context.Context) error {
		held := atomic.Int32{}
		held.Store(-1)
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		var wg sync.WaitGroup
		for id := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lead := fmt.Sprintf("%s-shard/%d", platform, id)
				for ctx.Err() == nil {
					if h := held.Load(); h >= 0 && int(h) != id {
						// One shard per replica: leave this one to another.
						if bot.Sleep(ctx, time.Second) != nil {
							return
						}
						continue
					}
					err := el.Lead(ctx, lead, func(ctx context.Context) error {
						if !held.CompareAndSwap(-1, int32(id)) {
							return nil // took another meanwhile: give this one up
						}
						defer held.Store(-1)
						return runShard(ctx, id)
					})
					if errors.Is(err, bot.ErrFatal) {
						cancel(err)
						return
					}
					if err != nil {
						env.Log.Warn("shard stopped; claiming again", "shard", id, "err", err)
					}
					if bot.Sleep(ctx, time.Second) != nil {
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := context.Cause(ctx); errors.Is(err, bot.ErrFatal) {
			return err
		}
		return nil
	}, ready, nil
}
