package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memStatus reads the resident set size now and at its peak from
// /proc/self/status (VmRSS, VmHWM), falling back to ru_maxrss for the
// peak where /proc is absent.
func memStatus() (rss, peak int64) {
	rss, peak = statusMem("/proc/self/status")
	if peak == 0 {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			peak = int64(ru.Maxrss) * 1024 // kilobytes on Linux
		}
	}
	return rss, peak
}

func kbField(line string) int64 {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return n * 1024
}

// statusMem reads VmRSS and VmHWM from a /proc/PID/status file, zero
// when it can't be read.
func statusMem(path string) (rss, peak int64) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			rss = kbField(line)
		case strings.HasPrefix(line, "VmHWM:"):
			peak = kbField(line)
		}
	}
	return rss, peak
}
