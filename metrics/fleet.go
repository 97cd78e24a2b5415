package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/chorusbot/chorus/bot"
)

// fleetBucket is the KV bucket the replicas' active-user sketches are
// merged into.
const fleetBucket = "metrics_active_users"

// WithFleet makes chorus_active_users count the users of every replica
// sharing kv (the PostgreSQL store), not only this one's: RunFleet merges
// this replica's sketches into kv (a HyperLogLog union, so merging the
// same sketch again changes nothing), and a scrape reads the window's
// buckets from kv and adds this replica's latest. Without it each replica
// counts the users it saw.
func WithFleet(kv bot.KV) Option { return func(c *config) { c.fleet = kv } }

// fleetKey names one bucket of one window: the window's name and the
// bucket's index, zero-padded so that keys sort as the indexes do.
func fleetKey(window string, idx int64) string { return fmt.Sprintf("%s/%020d", window, idx) }

// RunFleet merges this replica's active-user sketches into the shared KV
// every `every`, and drops buckets that left their window, until ctx ends
// (then merges once more); a merge that fails is logged to log and tried
// again at the next tick. It returns at once without WithFleet.
func (m *Metrics) RunFleet(ctx context.Context, every time.Duration, log *slog.Logger) error {
	if m.cfg.fleet == nil {
		return nil
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return m.pushFleet(fctx)
		case <-t.C:
			if err := m.pushFleet(ctx); err != nil && ctx.Err() == nil {
				log.Warn("merging active users into the shared store failed; trying again", "err", err)
			}
		}
	}
}

// pushFleet merges the sketches of the buckets in each window into kv
// and deletes the buckets older than the window.
func (m *Metrics) pushFleet(ctx context.Context) error {
	now := m.now()
	type part struct {
		key string
		sk  []byte
	}
	var parts []part
	m.active.mu.Lock()
	for i, r := range m.active.rings {
		first := r.index(now.Add(-r.window))
		for _, s := range r.slots {
			if s.sk == nil || s.idx < first {
				continue
			}
			b, err := s.sk.MarshalBinary()
			if err != nil {
				m.active.mu.Unlock()
				return fmt.Errorf("metrics: fleet: %w", err)
			}
			parts = append(parts, part{fleetKey(activeWindows[i].name, s.idx), b})
		}
	}
	m.active.mu.Unlock()
	var errs []error
	for _, p := range parts {
		err := bot.UpdateKV(ctx, m.cfg.fleet, fleetBucket, p.key, func(old []byte, found bool) ([]byte, error) {
			sk := hyperloglog.New()
			if err := sk.UnmarshalBinary(p.sk); err != nil {
				return nil, err
			}
			if found {
				prev := hyperloglog.New()
				if prev.UnmarshalBinary(old) == nil {
					_ = sk.Merge(prev)
				}
			}
			return sk.MarshalBinary()
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	for i, r := range m.active.rings {
		name := activeWindows[i].name
		var old []string
		err := m.cfg.fleet.Scan(ctx, fleetBucket, name+"/", fleetKey(name, r.index(now.Add(-r.window))), func(k string, _ []byte) error {
			old = append(old, k)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		for _, k := range old {
			if err := m.cfg.fleet.Delete(ctx, fleetBucket, k); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("metrics: fleet: %w", err)
	}
	return nil
}

// fleetCounts is the estimate for each window over every replica's
// merged sketches and this replica's own; false when kv could not be
// read (the scrape then reports this replica's).
func (m *Metrics) fleetCounts(now time.Time) ([]uint64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out := make([]uint64, len(activeWindows))
	for i, w := range activeWindows {
		m.active.mu.Lock()
		r := m.active.rings[i]
		first, cur := r.index(now.Add(-r.window)), r.index(now)
		merged := hyperloglog.New()
		for _, s := range r.slots {
			if s.sk != nil && s.idx >= first && s.idx <= cur {
				_ = merged.Merge(s.sk)
			}
		}
		m.active.mu.Unlock()
		err := m.cfg.fleet.Scan(ctx, fleetBucket, fleetKey(w.name, first), fleetKey(w.name, cur+1), func(_ string, v []byte) error {
			sk := hyperloglog.New()
			if sk.UnmarshalBinary(v) == nil {
				_ = merged.Merge(sk)
			}
			return nil
		})
		if err != nil {
			return nil, false
		}
		out[i] = merged.Estimate()
	}
	return out, true
}
