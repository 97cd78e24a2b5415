package main

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestParseMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"48MiB", 48 << 20, true},
		{"1GiB", 1 << 30, true},
		{"65536KiB", 64 << 20, true},
		{"33554432B", 32 << 20, true},
		{"off", 0, true},
		{" 64MiB ", 64 << 20, true},
		{"8MiB", 0, false}, // under 16MiB
		{"48MB", 0, false},
		{"48", 0, false},
		{"-1MiB", 0, false},
		{"", 0, false},
		{"lots", 0, false},
	} {
		got, err := parseMemoryLimit(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// The limit is applied unless GOMEMLIMIT is set, and raised above the live
// heap when the live heap passes three quarters of it.
func TestLimitMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)

	debug.SetMemoryLimit(math.MaxInt64)
	limitMemory(ctx, &Config{MemoryLimit: "off"}, func(string) string { return "" }, log, time.Hour)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("off: limit %d, want none", got)
	}
	limitMemory(ctx, &Config{MemoryLimit: "1GiB"}, func(k string) string {
		if k == "GOMEMLIMIT" {
			return "2GiB"
		}
		return ""
	}, log, time.Hour)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: limit %d, want the runtime's own", got)
	}

	// A live heap of 24 MB at least, against a limit of 16MiB.
	keep := make([]byte, 24<<20)
	for i := range keep {
		keep[i] = byte(i)
	}
	limitMemory(ctx, &Config{MemoryLimit: "16MiB"}, func(string) string { return "" }, log, 5*time.Millisecond)
	runtime.GC() // the live heap is measured by a collection
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) <= int64(len(keep)) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got <= int64(len(keep)) {
		t.Errorf("limit %d MiB with %d MiB live, want it raised above the live heap", got>>20, len(keep)>>20)
	}
	runtime.KeepAlive(keep)
}

func TestGCShare(t *testing.T) {
	prev := gcCPU{gc: 1, used: 10}
	if got := (gcCPU{gc: 1.5, used: 12}).shareSince(prev); got != 0.25 {
		t.Errorf("share = %v, want 0.25 (0.5 s of GC in 2 s used)", got)
	}
	if got := prev.shareSince(prev); got != 0 {
		t.Errorf("share with no CPU used = %v, want 0", got)
	}
	if now, live := readGC(); now.used <= 0 || live <= 0 {
		t.Errorf("readGC = %+v, %d: want CPU used and a live heap", now, live)
	}
}
