package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// defaultMemoryLimit is memory_limit's default: with the example knowledge
// base and the shipped classifiers a serve answering 1,000 users keeps
// about 36 MB of Go heap, and with this limit its resident memory peaks
// under 80 MB (the binary's own pages are about 25 MB of it) instead of
// about 100 MB, at a CPU cost within the noise of the bench (see
// docs/benchmarks.md).
const defaultMemoryLimit = "48MiB"

// parseMemoryLimit reads memory_limit: a size with a unit (B, KiB, MiB,
// GiB, as GOMEMLIMIT takes them), or "off" (0: no limit).
func parseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n <= 0 || n > math.MaxInt64/u.mult {
			break
		}
		if n*u.mult < 16<<20 {
			return 0, errors.New("must be at least 16MiB, or off")
		}
		return n * u.mult, nil
	}
	return 0, fmt.Errorf("%q: want a size such as 48MiB or 1GiB, or off", s)
}

// limitMemory applies memory_limit to the runtime, unless GOMEMLIMIT is set
// (the runtime has applied it) or the limit is off, and keeps it above
// what the process needs: it returns at once, and until ctx ends checks
// the live heap every interval, raising the limit to twice the live heap
// when the live heap passes three quarters of it (a soft limit under the
// live heap would make the collector run without pause, up to half the
// CPU), and logging that once per raise.
func limitMemory(ctx context.Context, cfg *Config, getenv func(string) string, log *slog.Logger, interval time.Duration) {
	if getenv("GOMEMLIMIT") != "" {
		log.Info("memory limit from GOMEMLIMIT", "limit", getenv("GOMEMLIMIT"))
		return
	}
	limit, err := parseMemoryLimit(cfg.MemoryLimit)
	if err != nil || limit == 0 {
		return
	}
	debug.SetMemoryLimit(limit)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			if live := int64(sample[0].Value.Uint64()); live > limit/4*3 {
				limit = 2 * live
				debug.SetMemoryLimit(limit)
				log.Warn("the live heap outgrew memory_limit: limit raised; set memory_limit higher (or off) to keep it", "live_mb", live>>20, "limit_mb", limit>>20)
			}
		}
	}()
}

// memoryCheckEvery is how often limitMemory looks at the live heap.
const memoryCheckEvery = 30 * time.Second
