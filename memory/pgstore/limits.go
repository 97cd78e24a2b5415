package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chorusbot/chorus/bot"
)

var _ bot.FleetLimits = (*Store)(nil)

// Admit implements bot.FleetLimits in one statement: the bucket is
// refilled for the time since its last take and a token taken when there
// is one, under the row's lock, so that replicas taking at once each see
// the other's take; the budgets are read beside it.
func (s *Store) Admit(ctx context.Context, rateKey string, perMinute float64, burst int, budgets []bot.Budget, now time.Time) (bool, bool, error) {
	keys := make([][]byte, 0, len(budgets))
	limits := make([]int64, 0, len(budgets))
	for _, b := range budgets {
		if b.Limit > 0 {
			keys = append(keys, []byte(b.Key))
			limits = append(limits, int64(b.Limit))
		}
	}
	var allowed, over bool
	_, err := s.execScanN(ctx, []any{&allowed, &over}, `WITH take AS (
			INSERT INTO rate_buckets AS r (key, tokens, last_ns, ok)
			SELECT $1, $3::float8 - 1, $4, true WHERE $2::float8 > 0
			ON CONFLICT (chorus_key(key)) DO UPDATE SET
				tokens = CASE WHEN least($3, r.tokens + greatest($4 - r.last_ns, 0) / 1e9 * $2) >= 1
					THEN least($3, r.tokens + greatest($4 - r.last_ns, 0) / 1e9 * $2) - 1
					ELSE least($3, r.tokens + greatest($4 - r.last_ns, 0) / 1e9 * $2) END,
				ok = least($3, r.tokens + greatest($4 - r.last_ns, 0) / 1e9 * $2) >= 1,
				last_ns = greatest(r.last_ns, $4)
			RETURNING ok
		)
		SELECT coalesce((SELECT ok FROM take), true),
			EXISTS (SELECT 1 FROM unnest($6::bytea[], $7::bigint[]) AS l(key, lim)
				JOIN budgets b ON b.day = $5 AND chorus_key(b.key) = chorus_key(l.key) WHERE b.used >= l.lim)`,
		[]byte(rateKey), perMinute/60, float64(max(burst, 1)), ns(now), bot.BudgetDay(now), keys, limits)
	if err != nil {
		return true, false, fmt.Errorf("pgstore: admit: %w", err)
	}
	return allowed, over, nil
}

// Spend implements bot.FleetLimits: one statement adds n to each key's
// count for the day.
func (s *Store) Spend(ctx context.Context, keys []string, n int, now time.Time) error {
	if n <= 0 || len(keys) == 0 {
		return nil
	}
	bs := make([][]byte, len(keys))
	for i, k := range keys {
		bs[i] = []byte(k)
	}
	_, err := s.exec(ctx, `INSERT INTO budgets AS b (day, key, used)
		SELECT $1, k, $3 FROM unnest($2::bytea[]) AS k
		ON CONFLICT (day, chorus_key(key)) DO UPDATE SET used = b.used + excluded.used`, bot.BudgetDay(now), bs, int64(n))
	if err != nil {
		return fmt.Errorf("pgstore: spend: %w", err)
	}
	return nil
}

// ResetLimits implements bot.FleetLimits.
func (s *Store) ResetLimits(ctx context.Context, rateKey string, budgetKeys []string) error {
	bs := make([][]byte, len(budgetKeys))
	for i, k := range budgetKeys {
		bs[i] = []byte(k)
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM rate_buckets WHERE chorus_key(key) = chorus_key($1)`, []byte(rateKey))
	b.Queue(`DELETE FROM budgets WHERE chorus_key(key) = ANY(SELECT chorus_key(k) FROM unnest($1::bytea[]) AS k)`, bs)
	if err := s.write(ctx, b, nil); err != nil {
		return fmt.Errorf("pgstore: reset limits: %w", err)
	}
	return nil
}

// pruneLimits drops budget days before yesterday and rate buckets idle
// for a day (full again long since), for retention.
func (s *Store) pruneLimits(ctx context.Context, now time.Time) (int, error) {
	b := &pgx.Batch{}
	var n1, n2 int64
	b.Queue(`WITH d AS (DELETE FROM budgets WHERE day < $1 RETURNING 1) SELECT count(*) FROM d`,
		bot.BudgetDay(now.Add(-24*time.Hour))).QueryRow(func(r pgx.Row) error { return r.Scan(&n1) })
	b.Queue(`WITH d AS (DELETE FROM rate_buckets WHERE last_ns < $1 RETURNING 1) SELECT count(*) FROM d`,
		ns(now.Add(-24*time.Hour))).QueryRow(func(r pgx.Row) error { return r.Scan(&n2) })
	if err := s.write(ctx, b, nil); err != nil {
		return 0, fmt.Errorf("pgstore: prune limits: %w", err)
	}
	return int(n1 + n2), nil
}
