package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ServeReport is what a run measured of the `chorus serve` child process
// (Config.ServeBinary): its own CPU and memory, apart from the bench
// process that holds the fakes.
type ServeReport struct {
	Binary string `json:"binary"`
	PID    int    `json:"pid"`
	// CPUSeconds is the child's user plus system CPU (/proc/PID/stat)
	// from the first message sent to the last reply; CPUPerMsg is that in
	// microseconds per answered message.
	CPUSeconds float64 `json:"cpu_s"`
	CPUPerMsg  float64 `json:"cpu_us_per_msg"`
	// StartCPUSeconds is the child's CPU from its start until it was ready
	// (the example knowledge base indexed, the adapter connected).
	StartCPUSeconds float64 `json:"start_cpu_s"`
	// ReadyRSS is VmRSS when it became ready; PeakRSS (VmHWM) and RSS
	// (VmRSS) are read when the last reply is in.
	ReadyRSS int64 `json:"ready_rss_bytes"`
	PeakRSS  int64 `json:"peak_rss_bytes"`
	RSS      int64 `json:"rss_bytes"`
	// HeapInUse, StackInUse and GoSys are the child's
	// go_memstats_heap_inuse_bytes, go_memstats_stack_inuse_bytes and
	// go_memstats_sys_bytes (all the runtime holds from the system) at the
	// end.
	HeapInUse  uint64 `json:"heap_inuse_bytes"`
	StackInUse uint64 `json:"stack_inuse_bytes"`
	GoSys      uint64 `json:"go_sys_bytes"`
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procCPU is a process's user plus system CPU from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its
	// closing parenthesis start with field 3 (state).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("bench: /proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("bench: /proc stat: short")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("bench: /proc stat: %w", err)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// procMem is a process's VmRSS and VmHWM from /proc/PID/status.
func procMem(pid int) (rss, peak int64) {
	return statusMem("/proc/" + strconv.Itoa(pid) + "/status")
}

// serveEnv is the configuration the child runs with, as environment
// variables over its --config (if any): the fakes' addresses, a scratch
// data directory, loopback listeners, and what a load run changes from
// serve's wiring as benchEngine does in process: moderation only logs,
// and the per-user rate limit and daily budgets are off.
func serveEnv(cfg Config, tgURL, llmURL, dataDir, admin, home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"CHORUS_TELEGRAM_TOKEN=42:BENCH", "CHORUS_TELEGRAM_API_URL=" + tgURL, "CHORUS_TELEGRAM_POLL_TIMEOUT=2s",
		"CHORUS_LLM_BASE_URL=" + llmURL, "CHORUS_LLM_API_KEY=bench", "CHORUS_LLM_MAX_RETRIES=0",
		"CHORUS_DATA_DIR=" + dataDir, "CHORUS_ADMIN_LISTEN=" + admin, "CHORUS_WEB_LISTEN=127.0.0.1:0",
		"CHORUS_MODERATION_DRY_RUN=true", "CHORUS_ENGINE_RATE_PER_MINUTE=0",
		"CHORUS_ENGINE_USER_DAILY_TOKENS=0", "CHORUS_ENGINE_CHAT_DAILY_TOKENS=0",
		"CHORUS_LOG_LEVEL=warn",
	}
	if cfg.Workers > 0 {
		env = append(env, "CHORUS_ENGINE_WORKERS="+strconv.Itoa(cfg.Workers))
	}
	if cfg.NoMask {
		env = append(env, "CHORUS_LLM_MASK_PII=false")
	}
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		env = append(env, "GOMEMLIMIT="+v)
	}
	if v, ok := os.LookupEnv("GOGC"); ok {
		env = append(env, "GOGC="+v)
	}
	return append(env, cfg.ServeEnv...)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// goMem is the child's Go memory figures (go_memstats_*).
type goMem struct{ heap, stack, sys uint64 }

// scrape reads the child's Prometheus text exposition (expfmt) and returns the
// replies sent by outcome and its Go memory figures.
func scrape(ctx context.Context, admin string) (map[string]int, goMem, error) {
	var gm goMem
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/metrics", nil)
	if err != nil {
		return nil, gm, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, gm, err
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		return nil, gm, err
	}
	out := map[string]int{}
	if f := fams["chorus_replies_sent_total"]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					if v := int(m.GetCounter().GetValue()); v > 0 {
						out[l.GetValue()] += v
					}
				}
			}
		}
	}
	gauge := func(name string) uint64 {
		if f := fams[name]; f != nil && len(f.GetMetric()) > 0 {
			return uint64(f.GetMetric()[0].GetGauge().GetValue())
		}
		return 0
	}
	gm = goMem{heap: gauge("go_memstats_heap_inuse_bytes"), stack: gauge("go_memstats_stack_inuse_bytes"), sys: gauge("go_memstats_sys_bytes")}
	return out, gm, nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// runSpawned is Run with the engine in a `chorus serve` child process
// (Config.ServeBinary) on the Telegram path: the fake Bot API and the fake
// OpenAI-compatible server run in this process, the child long-polls the
// one and streams from the other over loopback, as a deployment would. The
// report's CPU and memory are this process's (the fakes and the load);
// Serve holds the child's. Latencies are measured from the fake Bot API:
// from an update's push to the first piece of its reply (first token) and
// to the reply's last send or edit (reply).
func runSpawned(ctx context.Context, cfg Config) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	scratch, err := os.MkdirTemp("", "chorus-bench-serve-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(scratch)
	dataDir := cfg.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(scratch, "data")
	}
	rep := &Report{Path: cfg.Path, Users: cfg.Users, Conversations: cfg.Conversations, MessageBytes: cfg.MessageBytes,
		TargetRate: cfg.Rate, TTFTMs: ms(cfg.TTFT), TPS: cfg.TPS, ErrorRate: cfg.ErrorRate, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Store: "bbolt", StoreWhere: filepath.Join(dataDir, "chorus.db") + " (in the serve process)", Replicas: 1, Wiring: "serve process",
		LLM: "client, masking"}
	if cfg.NoMask {
		rep.LLM = "client"
	}

	var ownMu sync.Mutex
	own := map[int]time.Duration{}
	fake := &FakeLLM{TTFT: cfg.TTFT, TPS: cfg.TPS, Tokens: cfg.ReplyTokens, ErrorRate: cfg.ErrorRate, OnDone: func(q string, d time.Duration) {
		if i, ok := msgIndex(q); ok {
			ownMu.Lock()
			own[i] = d
			ownMu.Unlock()
		}
	}}
	ai := NewOpenAIServer(fake)
	defer ai.Close()
	tg := telegramtest.NewServer(42, botName)
	defer tg.Close()
	admin, err := freeAddr()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	home := filepath.Join(scratch, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var stderr strings.Builder
	var stderrMu sync.Mutex
	cmd := exec.Command(cfg.ServeBinary, append([]string{"serve"}, cfg.ServeArgs...)...)
	cmd.Env = serveEnv(cfg, tg.URL, ai.URL, dataDir, admin, home)
	cmd.Dir = scratch
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout = io.Discard
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		stderrMu.Lock()
		defer stderrMu.Unlock()
		if stderr.Len() < 64<<10 {
			stderr.Write(p)
		}
		return len(p), nil
	})
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start serve: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	pid := cmd.Process.Pid
	rep.Serve = &ServeReport{Binary: cfg.ServeBinary, PID: pid}
	childLog := func() string { stderrMu.Lock(); defer stderrMu.Unlock(); return stderr.String() }

	exited := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	// Ready: /readyz answers 200 (the store open, the adapter connected).
	ready := func() bool {
		if exited() {
			return true
		}
		c := &http.Client{Timeout: 2 * time.Second}
		res, err := c.Get("http://" + admin + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	if err := waitUntil(ctx, "serve to be ready", ready); err != nil {
		return nil, fmt.Errorf("%w; serve's log:\n%s", err, childLog())
	}
	if exited() {
		return nil, fmt.Errorf("bench: serve exited before the load; its log:\n%s", childLog())
	}
	startCPU, _ := procCPU(pid)
	rep.Serve.StartCPUSeconds = startCPU.Seconds()
	rep.Serve.ReadyRSS, _ = procMem(pid)
	cfg.Logger.Info("serve ready", "pid", pid, "after", time.Since(started))

	base := runBase()
	pushed := make([]int64, cfg.Messages) // unix nanos of each push
	tgt := &target{send: func(_ context.Context, i int) error {
		pushed[i] = time.Now().UnixNano()
		tg.Push(cfg.telegramUpdate(base, i))
		return nil
	}}

	cpu0, _ := procCPU(pid)
	self0 := cpuTime()
	start := time.Now()
	sent, refused := produce(ctx, cfg, tgt, cfg.Logger)
	// Every message has the first piece of its reply, then the child
	// counts every reply finished (chorus_replies_sent_total).
	firstPieces := func() int {
		n := 0
		for _, c := range tg.Calls(telegramtest.MethodSendMessage) {
			if c.Params["reply_parameters"] != "" {
				n++
			}
		}
		return n
	}
	for firstPieces() < sent && ctx.Err() == nil && !exited() {
		_ = bot.Sleep(ctx, 50*time.Millisecond)
	}
	var outcomes map[string]int
	var gm goMem
	for ctx.Err() == nil && !exited() {
		if outcomes, gm, err = scrape(ctx, admin); err == nil && sum(outcomes) >= sent {
			break
		}
		_ = bot.Sleep(ctx, 100*time.Millisecond)
	}
	if exited() {
		return nil, fmt.Errorf("bench: serve exited during the load; its log:\n%s", childLog())
	}
	cpu1, _ := procCPU(pid)
	self := cpuTime() - self0
	rep.Serve.RSS, rep.Serve.PeakRSS = procMem(pid)
	rep.TimedOut = ctx.Err() != nil
	if rep.TimedOut {
		// The last figures the child gave.
		outcomes, gm, _ = scrape(context.Background(), admin)
	}
	rep.Serve.HeapInUse, rep.Serve.StackInUse, rep.Serve.GoSys = gm.heap, gm.stack, gm.sys
	if cfg.HeapProfile != "" {
		if err := writeHeapProfile(cfg.HeapProfile); err != nil {
			cfg.Logger.Warn("heap profile", "err", err)
		}
	}

	first, reply, over, last := spawnedLatencies(tg, base, pushed[:min(len(pushed), sent)], own, &ownMu)
	end := time.Now()
	if last > 0 && sum(outcomes) >= sent {
		end = time.Unix(0, last)
	}
	rep.Sent = sent
	rep.Outcomes = outcomes
	rep.Answered = sum(outcomes)
	rep.Elapsed = end.Sub(start).Seconds()
	if rep.Elapsed > 0 {
		rep.MsgsPerSec = float64(rep.Answered) / rep.Elapsed
	}
	rep.FirstToken, rep.Reply, rep.Overhead = latency(first), latency(reply), latency(over)
	rep.Errors = refused + max(0, sent-rep.Answered)
	for k, n := range outcomes {
		if k != string(bot.OutcomeOK) {
			rep.Errors += n
		}
	}
	rep.CPUSeconds = self.Seconds()
	rep.Serve.CPUSeconds = (cpu1 - cpu0).Seconds()
	if rep.Answered > 0 {
		rep.CPUPerMsg = float64(self.Microseconds()) / float64(rep.Answered)
		rep.Serve.CPUPerMsg = float64((cpu1 - cpu0).Microseconds()) / float64(rep.Answered)
	}
	rep.RSS, rep.PeakRSS = memStatus()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rep.HeapInUse = m.HeapInuse
	if fi, err := os.Stat(filepath.Join(dataDir, "chorus.db")); err == nil {
		rep.DBBytes = fi.Size()
	}
	return rep, nil
}

// spawnedLatencies reads the fake Bot API's record: for message i (pushed
// at pushed[i], with Telegram message id base+i), the first sendMessage
// replying to it and the last send or edit of that reply. It returns the
// first-token, reply and overhead (reply minus the fake model's own time)
// latencies, and the time of the last reply piece.
func spawnedLatencies(tg *telegramtest.Server, base int64, pushed []int64, own map[int]time.Duration, ownMu *sync.Mutex) (first, reply, over []time.Duration, last int64) {
	type key struct{ chat, msg int64 }
	firstAt := map[int]int64{}
	lastAt := map[int]int64{}
	chats := map[int64]bool{}
	for _, c := range tg.Calls(telegramtest.MethodSendMessage) {
		var p struct {
			MessageID int64 `json:"message_id"`
		}
		if json.Unmarshal([]byte(c.Params["reply_parameters"]), &p) != nil {
			continue
		}
		i := int(p.MessageID - base)
		if i < 0 || i >= len(pushed) {
			continue
		}
		at := c.At.UnixNano()
		if _, ok := firstAt[i]; !ok {
			firstAt[i] = at
		}
		lastAt[i] = max(lastAt[i], at)
		chat, _ := strconv.ParseInt(c.Params["chat_id"], 10, 64)
		chats[chat] = true
	}
	byMsg := map[key]int{}
	for chat := range chats {
		for _, s := range tg.Messages(chat) {
			if i := int(int64(s.ReplyTo) - base); s.ReplyTo != 0 && i >= 0 && i < len(pushed) {
				byMsg[key{chat, int64(s.MessageID)}] = i
			}
		}
	}
	for _, c := range tg.Calls(telegramtest.MethodEditMessageText) {
		chat, _ := strconv.ParseInt(c.Params["chat_id"], 10, 64)
		msg, _ := strconv.ParseInt(c.Params["message_id"], 10, 64)
		if i, ok := byMsg[key{chat, msg}]; ok {
			lastAt[i] = max(lastAt[i], c.At.UnixNano())
		}
	}
	ownMu.Lock()
	defer ownMu.Unlock()
	for i, at := range firstAt {
		first = append(first, time.Duration(at-pushed[i]))
		r := time.Duration(lastAt[i] - pushed[i])
		reply = append(reply, r)
		over = append(over, max(0, r-own[i]))
		last = max(last, lastAt[i])
	}
	return first, reply, over, last
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
