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
// base and the shipped classifiers a serve answering 1,000 users at 100
// messages a second keeps about 36 MB of Go heap, and with this limit its
// resident memory peaks under 80 MB (the binary's own pages are about 25 MB
// of it) instead of about 100 MB, at no CPU cost the bench can see. Under
// a burst the limit gives way (limitMemory), since holding it would cost
// more CPU than it saves memory (see docs/benchmarks.md).
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
// (the runtime has applied it) or the limit is off, and keeps it where it
// costs little: it returns at once, and until ctx ends looks at the
// collector every interval. The limit is a target for a process that is
// not busy: when the collector took more than gcShareHigh of the CPU the
// process used since the last look (a burst of messages, each leaving
// garbage, against a heap held near the limit), the limit is raised by
// half; when it took under gcShareLow, the limit comes back down
// towards memory_limit. It is never under twice the live heap once the
// live heap passes three quarters of it: a soft limit under the live heap
// would make the collector run without pause, up to half the CPU.
func limitMemory(ctx context.Context, cfg *Config, getenv func(string) string, log *slog.Logger, interval time.Duration) {
	if getenv("GOMEMLIMIT") != "" {
		log.Info("memory limit from GOMEMLIMIT", "limit", getenv("GOMEMLIMIT"))
		return
	}
	target, err := parseMemoryLimit(cfg.MemoryLimit)
	if err != nil || target == 0 {
		return
	}
	debug.SetMemoryLimit(target)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		limit, warned := target, false
		var last gcCPU
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now, live := readGC()
			share := now.shareSince(last)
			last = now
			next := limit
			switch {
			case share > gcShareHigh:
				next = limit + limit/2
			case share < gcShareLow && limit > target:
				next = max(target, limit-limit/8)
			}
			if live > next/4*3 {
				next = 2 * live
				if !warned {
					warned = true
					log.Warn("the live heap outgrew memory_limit: limit raised; set memory_limit higher (or off)", "live_mb", live>>20, "limit_mb", next>>20)
				}
			}
			if next != limit {
				limit = next
				debug.SetMemoryLimit(limit)
				log.Debug("memory limit", "limit_mb", limit>>20, "gc_cpu_share", share, "live_mb", live>>20)
			}
		}
	}()
}

// gcShareHigh and gcShareLow bound the collector's share of the CPU the
// process uses, between which limitMemory leaves the limit alone.
const (
	gcShareHigh = 0.25
	gcShareLow  = 0.10
)

// gcCPU is the runtime's estimate of CPU time so far: spent by the
// collector, and in all (idle time left out).
type gcCPU struct{ gc, used float64 }

// shareSince is the collector's share of the CPU used since prev.
func (c gcCPU) shareSince(prev gcCPU) float64 {
	used := c.used - prev.used
	if used <= 0 {
		return 0
	}
	return (c.gc - prev.gc) / used
}

var gcSamples = []string{"/cpu/classes/gc/total:cpu-seconds", "/cpu/classes/total:cpu-seconds", "/cpu/classes/idle:cpu-seconds", "/gc/heap/live:bytes"}

// readGC reads the collector's CPU so far and the live heap.
func readGC() (gcCPU, int64) {
	s := make([]metrics.Sample, len(gcSamples))
	for i, n := range gcSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	f := func(i int) float64 {
		if s[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return s[i].Value.Float64()
	}
	var live int64
	if s[3].Value.Kind() == metrics.KindUint64 {
		live = int64(s[3].Value.Uint64())
	}
	return gcCPU{gc: f(0), used: f(1) - f(2)}, live
}

// memoryCheckEvery is how often limitMemory looks at the collector.
const memoryCheckEvery = time.Second
