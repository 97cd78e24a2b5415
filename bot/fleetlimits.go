package bot

import (
	"context"
	"errors"
	"time"
)

// FleetLimits is implemented by a store that several replicas share
// (package pgstore): the per-user rate limit and the daily token budgets
// are counted there, so that they hold for the fleet and not per replica.
// The engine uses it when its Store is one; otherwise it counts in memory.
type FleetLimits interface {
	// Admit takes one message from the token bucket of rateKey (refilled
	// at perMinute, holding at most burst; perMinute <= 0: no rate limit)
	// and reports whether there was one, and whether any budget is spent
	// for the UTC day of now.
	Admit(ctx context.Context, rateKey string, perMinute float64, burst int, budgets []Budget, now time.Time) (allowed, overBudget bool, err error)
	// Spend counts n tokens against each key for the UTC day of now.
	Spend(ctx context.Context, keys []string, n int, now time.Time) error
	// ResetLimits drops the rate bucket and the budget counts of key
	// (forget).
	ResetLimits(ctx context.Context, rateKey string, budgetKeys []string) error
}

// Budget is a daily token budget: Limit tokens per UTC day for Key;
// Limit <= 0 means none.
type Budget struct {
	Key   string
	Limit int
}

// BudgetDay is the UTC day of t that budgets count in.
func BudgetDay(t time.Time) string { return t.UTC().Format("2006-01-02") }

// admit applies the rate limit and the budgets to a message of uk in
// conv: in the shared store when it counts them for the fleet (failing
// open when it can't be reached: the rest of the message will fail
// anyway), else in memory.
func (e *Engine) admit(ctx context.Context, uk, conv string, now time.Time) (allowed, overBudget bool) {
	if fl, ok := e.store.(FleetLimits); ok {
		if e.cfg.RatePerMinute <= 0 && e.cfg.UserDailyTokens <= 0 && e.cfg.ChatDailyTokens <= 0 {
			return true, false // nothing to count: no round trip
		}
		budgets := []Budget{{"u:" + uk, e.cfg.UserDailyTokens}, {"c:" + conv, e.cfg.ChatDailyTokens}}
		allowed, over, err := fl.Admit(ctx, uk, e.cfg.RatePerMinute, e.cfg.RateBurst, budgets, now)
		if err != nil {
			e.log.Warn("fleet rate limit unavailable; admitting", "err", err)
			return true, false
		}
		return allowed, over
	}
	if !e.rate.allow(uk, now) {
		return false, false
	}
	return true, e.budgets.over("u:"+uk, e.cfg.UserDailyTokens, now) || e.budgets.over("c:"+conv, e.cfg.ChatDailyTokens, now)
}

// spend counts n tokens against the user's and the chat's budgets.
func (e *Engine) spend(ctx context.Context, uk, conv string, n int, now time.Time) {
	if fl, ok := e.store.(FleetLimits); ok {
		if e.cfg.UserDailyTokens <= 0 && e.cfg.ChatDailyTokens <= 0 {
			return
		}
		if err := fl.Spend(ctx, []string{"u:" + uk, "c:" + conv}, n, now); err != nil {
			e.log.Warn("count tokens against the fleet's budgets", "err", err)
		}
		return
	}
	e.budgets.add("u:"+uk, n, now)
	e.budgets.add("c:"+conv, n, now)
}

// resetLimits drops a forgotten user's rate bucket and budget count.
func (e *Engine) resetLimits(ctx context.Context, uk string) error {
	e.rate.forget(uk)
	e.budgets.forget("u:" + uk)
	if fl, ok := e.store.(FleetLimits); ok {
		return fl.ResetLimits(ctx, uk, []string{"u:" + uk})
	}
	return nil
}

// KVUpdater is implemented by a KV that replicas share (package
// pgstore): UpdateValue reads, changes and writes one value as one
// transaction, under the row's lock, so that replicas merging their
// counts into the same key (analytics' rollups) don't lose each other's.
type KVUpdater interface {
	// UpdateValue calls fn with the value under key (found false when absent)
	// and stores what it returns; an error from fn stores nothing and is
	// returned. fn may be called more than once (a race to create the
	// key is retried).
	UpdateValue(ctx context.Context, bucket, key string, fn func(old []byte, found bool) ([]byte, error)) error
}

// UpdateKV changes one value of kv with fn: atomically when kv is a
// KVUpdater, else as a Get then a Put (one process: the caller
// serialises its own merges).
func UpdateKV(ctx context.Context, kv KV, bucket, key string, fn func(old []byte, found bool) ([]byte, error)) error {
	if u, ok := kv.(KVUpdater); ok {
		return u.UpdateValue(ctx, bucket, key, fn)
	}
	old, err := kv.Get(ctx, bucket, key)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	b, err := fn(old, found)
	if err != nil {
		return err
	}
	return kv.Put(ctx, bucket, key, b)
}
