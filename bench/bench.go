package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/llm"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/moderation/replycheck"
	"github.com/chorusbot/chorus/prompts"
)

// Path is the way synthetic messages reach the engine.
type Path string

// Paths.
const (
	// PathInProcess calls Engine.Handle directly with an in-memory platform.
	PathInProcess Path = "in-process"
	// PathTelegram pushes updates into a fake Bot API that the real
	// Telegram adapter long-polls over loopback.
	PathTelegram Path = "telegram"
	// PathDiscord dispatches MESSAGE_CREATE on a fake Discord gateway the
	// real Discord adapter is connected to over loopback.
	PathDiscord Path = "discord"
)

// Config is one load run. Zero fields take the defaults named on them.
type Config struct {
	// Users is the number of synthetic followers (default 100).
	Users int
	// Conversations is the number of conversations (default Users). When
	// it equals Users each user talks to the bot in their own DM;
	// otherwise the conversations are group chats where users mention the
	// bot, message i going to conversation i mod Conversations from user
	// i mod Users.
	Conversations int
	// Messages bounds the run by count (default 1000).
	Messages int
	// Duration bounds the run by time, waiting for replies included
	// (default 60s).
	Duration time.Duration
	// Rate is the target of messages sent per second; 0 sends as fast as
	// the engine takes them.
	Rate float64
	// Senders is the number of goroutines sending (default min(Users, 64)):
	// platforms deliver concurrently, and concurrent writers share fsyncs.
	Senders int
	// Path is in-process (default), telegram or discord.
	Path Path
	// TTFT, TPS, ReplyTokens and ErrorRate shape the fake LLM (see FakeLLM).
	TTFT        time.Duration
	TPS         float64
	ReplyTokens int
	ErrorRate   float64
	// DirectLLM calls the FakeLLM in process instead of through the real
	// LLM client (llm.Client) and the fake OpenAI-compatible server on
	// loopback (OpenAIServer), leaving out the client's cost: request
	// encoding, streaming, masking.
	DirectLLM bool
	// LLM is the "llm" section the client is built from (masking, mask
	// patterns, timeout); its base URL and key are the fake server's, and
	// it never retries (a failure the FakeLLM decides is a failure). Zero
	// means llm.DefaultConfig().
	LLM llm.Config
	// NoMask turns the client's masking of personal data off, to tell its
	// cost.
	NoMask bool
	// MessageBytes is the length of each synthetic message (default 60).
	MessageBytes int
	// DataDir holds the bbolt file; empty uses a temporary directory
	// removed afterwards.
	DataDir string
	// IdleConversations preloads this many idle conversations (two turns
	// each) before the run, unless the data directory already holds them,
	// and reports the resident memory once they are on disk.
	IdleConversations int
	// NoModeration and NoAnalytics leave those inspectors out; NoKB runs
	// without the example knowledge base.
	NoModeration, NoAnalytics, NoKB bool
	// MemStore runs the engine over an in-memory store (bottest.MemStore)
	// instead of bbolt, to tell the engine's own cost from the disk's;
	// nothing else changes. The knowledge base and plug-in state stay in
	// bbolt, read-mostly.
	MemStore bool
	// Workers is the engine's handler pool (default the engine's).
	Workers int
	// BatchDelay is the bbolt batch delay (default the memory package's).
	BatchDelay time.Duration
	// HeapProfile, when set, is a file to write a heap profile to when the
	// load is over, before anything is closed (go tool pprof).
	HeapProfile string
	// Logger receives the run's diagnostics (default: discard).
	Logger *slog.Logger
	// Store is where the engine keeps its state: "bbolt" (the default,
	// a file in DataDir) or "postgres" (DSN, in a scratch schema made
	// for the run and dropped after it).
	Store string
	// DSN is the PostgreSQL server of Store "postgres".
	DSN string
	// Replicas runs this many engines, each over a store of its own on
	// the one scratch schema (as replicas of chorus serve share one
	// database), in one process; messages go to them in turn, as a
	// round-robin balancer sends them, so a conversation's messages reach
	// every replica (postgres, in-process path; default 1).
	Replicas int
	// Engine, when set, builds the engine over the store and the fake
	// model the way the binary does (cmd/chorus passes its own wiring:
	// token counter, prompt templates, moderation, analytics, manager
	// tools), so that a run measures what `chorus serve` runs; the engine
	// runs the plug-ins' background work. conv is the store of
	// conversations: st, or the in-memory one of MemStore. It is used
	// unless a part is left out (NoModeration, NoAnalytics, NoKB): then the
	// run assembles the engine from those parts itself.
	Engine func(st memory.Backend, conv bot.Store, llm bot.LLM, opts ...bot.Option) (*bot.Engine, error)
	// ServeBinary, when set, runs the engine as `ServeBinary serve` in a
	// child process on the Telegram path instead of in this one: the fake
	// Bot API and the fake OpenAI-compatible server stay here, the child
	// reaches them over loopback, and the report gives the child's CPU and
	// memory (Report.Serve) apart from this process's. The child runs
	// with ServeArgs after "serve" and ServeEnv after the environment the
	// run sets (see serveEnv); Engine, LLM and the parts switches play no
	// part.
	ServeBinary string
	ServeArgs   []string
	ServeEnv    []string
}

func (c Config) withDefaults() Config {
	if c.Users <= 0 {
		c.Users = 100
	}
	if c.Conversations <= 0 {
		c.Conversations = c.Users
	}
	if c.Messages <= 0 {
		c.Messages = 1000
	}
	if c.Duration <= 0 {
		c.Duration = 60 * time.Second
	}
	if c.Senders <= 0 {
		c.Senders = min(c.Users, 64)
	}
	if c.Path == "" {
		c.Path = PathInProcess
	}
	if c.Store == "" {
		c.Store = pgstore.DriverBBolt
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.ReplyTokens <= 0 {
		c.ReplyTokens = 40
	}
	if c.MessageBytes <= 0 {
		c.MessageBytes = 60
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch c.Path {
	case "", PathInProcess, PathTelegram, PathDiscord:
	default:
		return fmt.Errorf("bench: path %q: want in-process, telegram or discord", c.Path)
	}
	switch c.Store {
	case "", pgstore.DriverBBolt:
	case pgstore.DriverPostgres:
		if c.DSN == "" {
			return errors.New("bench: the postgres store needs a DSN (store.dsn, CHORUS_STORE_DSN)")
		}
		if c.IdleConversations > 0 || c.MemStore {
			return errors.New("bench: --idle-conversations and --mem-store are for the bbolt store")
		}
	default:
		return fmt.Errorf("bench: store %q: want bbolt or postgres", c.Store)
	}
	if c.ServeBinary != "" {
		switch {
		case c.Path != PathTelegram:
			return errors.New("bench: a serve process (--serve-binary) runs on the telegram path")
		case c.Store != "" && c.Store != pgstore.DriverBBolt, c.Replicas > 1:
			return errors.New("bench: a serve process (--serve-binary) runs on its own bbolt store")
		case c.MemStore, c.DirectLLM, c.NoModeration, c.NoAnalytics, c.NoKB, c.IdleConversations > 0, c.BatchDelay > 0:
			return errors.New("bench: a serve process (--serve-binary) runs serve's wiring: --mem-store, --direct-llm, --no-moderation, --no-analytics, --no-kb, --idle-conversations and --batch-delay are for the in-process engine")
		}
	}
	if c.Replicas > 1 && (c.Store != pgstore.DriverPostgres || (c.Path != "" && c.Path != PathInProcess)) {
		return errors.New("bench: several replicas need the postgres store and the in-process path")
	}
	switch {
	case c.ErrorRate < 0 || c.ErrorRate > 1:
		return fmt.Errorf("bench: error rate %v: want 0 to 1", c.ErrorRate)
	case c.Rate < 0, c.TPS < 0, c.TTFT < 0:
		return errors.New("bench: rate, tps and ttft must not be negative")
	case c.Users < 0, c.Conversations < 0, c.Messages < 0, c.IdleConversations < 0:
		return errors.New("bench: counts must not be negative")
	case c.Messages > 10_000_000, c.IdleConversations > 10_000_000:
		return errors.New("bench: at most 10,000,000 messages or idle conversations per run")
	}
	return nil
}

// Latency is a distribution of durations, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func latency(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) float64 {
		i := int(p*float64(len(s))+0.5) - 1
		i = max(0, min(i, len(s)-1))
		return ms(s[i])
	}
	return Latency{Count: len(s), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Report is what a run measured.
type Report struct {
	Path Path `json:"path"`
	// Store is the store the engine ran on: bbolt or postgres, with
	// where (the file, or the server and scratch schema).
	Store      string `json:"store"`
	StoreWhere string `json:"store_where"`
	// Replicas is how many engines shared the store.
	Replicas int `json:"replicas"`
	// Wiring is "binary" when the engine was built as chorus serve builds
	// it, "parts" when the run assembled it from the parts asked for.
	Wiring string `json:"wiring"`
	// LLM is how the engine reached the fake model: "direct" (in
	// process), "client" (llm.Client over HTTP on loopback) or "client,
	// masking".
	LLM           string  `json:"llm"`
	Users         int     `json:"users"`
	Conversations int     `json:"conversations"`
	MessageBytes  int     `json:"message_bytes"`
	TargetRate    float64 `json:"target_rate"`
	TTFTMs        float64 `json:"ttft_ms"`
	TPS           float64 `json:"tps"`
	ErrorRate     float64 `json:"error_rate"`
	GOMAXPROCS    int     `json:"gomaxprocs"`

	Sent     int            `json:"sent"`
	Answered int            `json:"answered"`
	Outcomes map[string]int `json:"outcomes"`
	// Errors counts messages the engine refused, replies not ok, and
	// messages sent but never answered.
	Errors   int     `json:"errors"`
	TimedOut bool    `json:"timed_out"`
	Elapsed  float64 `json:"elapsed_s"`
	// MsgsPerSec is answered messages per second of the run.
	MsgsPerSec float64 `json:"msgs_per_s"`

	// FirstToken and Reply are receipt-to-first-visible-token and
	// receipt-to-complete-reply latencies from the engine's events.
	FirstToken Latency `json:"first_token"`
	Reply      Latency `json:"reply"`
	// Overhead is Reply minus the time the fake LLM itself held the
	// engine: store writes, moderation, analytics, prompt, platform.
	Overhead Latency `json:"overhead"`

	CPUSeconds float64 `json:"cpu_s"`
	// CPUPerMsg is CPU microseconds per answered message.
	CPUPerMsg float64 `json:"cpu_us_per_msg"`
	PeakRSS   int64   `json:"peak_rss_bytes"`
	RSS       int64   `json:"rss_bytes"`
	HeapInUse uint64  `json:"heap_inuse_bytes"`
	DBBytes   int64   `json:"db_bytes"`
	// RoundTrips and Commits count the store's work during the run:
	// network round trips to PostgreSQL (none for bbolt, which is in
	// the process) and committed write transactions (each a disk sync).
	RoundTrips       uint64  `json:"db_round_trips"`
	Commits          uint64  `json:"db_commits"`
	RoundTripsPerMsg float64 `json:"db_round_trips_per_msg"`
	CommitsPerMsg    float64 `json:"db_commits_per_msg"`

	IdleConversations int `json:"idle_conversations,omitempty"`
	// IdleRSS is the resident memory right after opening the store that
	// holds the idle conversations, before the load.
	IdleRSS int64 `json:"idle_rss_bytes,omitempty"`
	// IdleHeap is the Go heap in use at the same moment.
	IdleHeap uint64 `json:"idle_heap_inuse_bytes,omitempty"`
	// IdlePreloaded is set when this run wrote the idle conversations
	// (the peak RSS then includes the preload).
	IdlePreloaded bool `json:"idle_preloaded,omitempty"`

	// Serve is the `chorus serve` child process of a run with
	// Config.ServeBinary; the fields above named cpu, rss and heap are
	// then the bench process's (the fakes and the load).
	Serve *ServeReport `json:"serve,omitempty"`
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for people.
func (r *Report) WriteText(w io.Writer) error {
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	lat := func(name string, l Latency) string {
		return fmt.Sprintf("%-12s p50 %8.2f ms  p95 %8.2f ms  p99 %8.2f ms  max %8.2f ms  (n=%d)\n", name, l.P50, l.P95, l.P99, l.Max, l.Count)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "chorus bench: store %s ×%d replicas (%s), path %s, %s wiring, %d users, %d conversations, %d-byte messages, GOMAXPROCS %d\n", r.Store, max(r.Replicas, 1), r.StoreWhere, r.Path, r.Wiring, r.Users, r.Conversations, r.MessageBytes, r.GOMAXPROCS)
	rate := "as fast as possible"
	if r.TargetRate > 0 {
		rate = fmt.Sprintf("%.0f msgs/s", r.TargetRate)
	}
	fmt.Fprintf(&b, "fake LLM (%s): ttft %.0f ms, %.0f tokens/s (0 = instant), error rate %.2f; target rate %s\n", r.LLM, r.TTFTMs, r.TPS, r.ErrorRate, rate)
	fmt.Fprintf(&b, "sent %d, answered %d in %.2fs: %.0f msgs/s; errors %d", r.Sent, r.Answered, r.Elapsed, r.MsgsPerSec, r.Errors)
	if r.TimedOut {
		b.WriteString(" (stopped by --duration)")
	}
	b.WriteString("\n")
	keys := make([]string, 0, len(r.Outcomes))
	for k := range r.Outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  outcome %-8s %d\n", k, r.Outcomes[k])
	}
	b.WriteString(lat("first token", r.FirstToken))
	b.WriteString(lat("reply", r.Reply))
	b.WriteString(lat("overhead", r.Overhead))
	if s := r.Serve; s != nil {
		fmt.Fprintf(&b, "serve process (pid %d, %s): cpu %.2fs (%.0f µs/msg), peak rss %s, rss %s, rss when ready %s (start cpu %.2fs); Go heap in use %s, stacks %s, all the runtime holds %s\n",
			s.PID, s.Binary, s.CPUSeconds, s.CPUPerMsg, mb(s.PeakRSS), mb(s.RSS), mb(s.ReadyRSS), s.StartCPUSeconds, mb(int64(s.HeapInUse)), mb(int64(s.StackInUse)), mb(int64(s.GoSys)))
		fmt.Fprintf(&b, "bench process (fake Bot API, fake model, load): cpu %.2fs (%.0f µs/msg), peak rss %s, rss %s, heap in use %s; %s %s\n",
			r.CPUSeconds, r.CPUPerMsg, mb(r.PeakRSS), mb(r.RSS), mb(int64(r.HeapInUse)), r.Store, mb(r.DBBytes))
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "cpu %.2fs (%.0f µs/msg), peak rss %s, rss %s, heap in use %s, %s %s\n",
		r.CPUSeconds, r.CPUPerMsg, mb(r.PeakRSS), mb(r.RSS), mb(int64(r.HeapInUse)), r.Store, mb(r.DBBytes))
	fmt.Fprintf(&b, "store work: %d round trips (%.2f per answered message), %d commits (%.2f per answered message)\n",
		r.RoundTrips, r.RoundTripsPerMsg, r.Commits, r.CommitsPerMsg)
	if r.IdleConversations > 0 {
		pre := ""
		if r.IdlePreloaded {
			pre = " (preloaded by this run: run again on the same --data-dir for a clean peak)"
		}
		fmt.Fprintf(&b, "idle conversations %d: rss after open %s, heap %s%s\n", r.IdleConversations, mb(r.IdleRSS), mb(int64(r.IdleHeap)), pre)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteComparison writes runs side by side, one line each, with each
// run's throughput and overhead as a ratio of the first's.
func WriteComparison(w io.Writer, reps []*Report) error {
	if len(reps) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("store         msgs/s   ×first  overhead p50   p99 ms  ×first p50  round trips/msg  commits/msg  cpu µs/msg\n")
	base := reps[0]
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	for _, r := range reps {
		name := r.Store
		if r.Replicas > 1 || r.Store == pgstore.DriverPostgres {
			name = fmt.Sprintf("%s×%d", r.Store, max(r.Replicas, 1))
		}
		fmt.Fprintf(&b, "%-12s %7.0f  %7.2f  %12.2f  %7.2f  %10.2f  %15.2f  %11.2f  %10.0f\n", name, r.MsgsPerSec, ratio(r.MsgsPerSec, base.MsgsPerSec),
			r.Overhead.P50, r.Overhead.P99, ratio(r.Overhead.P50, base.Overhead.P50), r.RoundTripsPerMsg, r.CommitsPerMsg, r.CPUPerMsg)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// layout places message i: its conversation, its author and whether the
// conversation is a DM.
func (c Config) layout(i int) (conv, user int, dm bool) {
	dm = c.Conversations == c.Users
	conv = i % c.Conversations
	if dm {
		return conv, conv, true
	}
	return conv, i % c.Users, false
}

const filler = "how long does shipping take to Berlin and can I pause my subscription for a month "

// text is message i's text: "q<i>" then filler up to MessageBytes.
func (c Config) text(i int) string {
	var b strings.Builder
	b.WriteString("q" + strconv.Itoa(i))
	for b.Len() < c.MessageBytes {
		b.WriteByte(' ')
		rest := c.MessageBytes - b.Len()
		w := filler
		if len(w) > rest {
			w = w[:rest]
		}
		b.WriteString(strings.TrimSpace(w))
	}
	return b.String()
}

// msgIndex finds the "q<i>" word in a query.
func msgIndex(q string) (int, bool) {
	for _, f := range strings.Fields(q) {
		if len(f) > 1 && f[0] == 'q' {
			if n, err := strconv.Atoi(f[1:]); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

// recorder collects the engine's events for the report.
type recorder struct {
	convKey func(i int) string

	mu       sync.Mutex
	first    []time.Duration
	reply    []time.Duration
	overhead []time.Duration
	outcomes map[string]int
	own      map[string]time.Duration

	received atomic.Int64
	answered atomic.Int64
	last     atomic.Int64 // unix nanos of the last reply
}

func newRecorder(n int) *recorder {
	return &recorder{first: make([]time.Duration, 0, n), reply: make([]time.Duration, 0, n), overhead: make([]time.Duration, 0, n),
		outcomes: map[string]int{}, own: map[string]time.Duration{}}
}

// llmDone is the fake LLM's report of its own time for a query.
func (r *recorder) llmDone(query string, own time.Duration) {
	i, ok := msgIndex(query)
	if !ok || r.convKey == nil {
		return
	}
	r.mu.Lock()
	r.own[r.convKey(i)] = own
	r.mu.Unlock()
}

// Observe implements bot.Observer.
func (r *recorder) Observe(e bot.Event) {
	switch e.Kind {
	case bot.EventMessageReceived:
		r.received.Add(1)
	case bot.EventFirstToken:
		r.mu.Lock()
		r.first = append(r.first, e.Duration)
		r.mu.Unlock()
	case bot.EventReplySent:
		r.mu.Lock()
		r.reply = append(r.reply, e.Duration)
		r.outcomes[string(e.Outcome)]++
		// Messages of a conversation are handled one at a time, so the
		// LLM time recorded for the conversation is this reply's.
		own := r.own[e.Chat]
		delete(r.own, e.Chat)
		r.overhead = append(r.overhead, max(0, e.Duration-own))
		r.mu.Unlock()
		r.answered.Add(1)
		r.last.Store(time.Now().UnixNano())
	}
}

// target is where messages are sent: one of the paths.
type target struct {
	send    func(ctx context.Context, i int) error
	convKey func(i int) string
	close   func()
}

// Run performs one bounded load run and reports what it measured. ctx
// ends it early.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.ServeBinary != "" {
		return runSpawned(ctx, cfg)
	}
	log := cfg.Logger
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	dir := cfg.DataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "chorus-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	dbPath := filepath.Join(dir, "chorus.db")
	var mopts []memory.Option
	if cfg.BatchDelay > 0 {
		mopts = append(mopts, memory.WithBatchDelay(cfg.BatchDelay))
	}
	rep := &Report{Path: cfg.Path, Users: cfg.Users, Conversations: cfg.Conversations, MessageBytes: cfg.MessageBytes,
		TargetRate: cfg.Rate, TTFTMs: ms(cfg.TTFT), TPS: cfg.TPS, ErrorRate: cfg.ErrorRate, GOMAXPROCS: runtime.GOMAXPROCS(0),
		IdleConversations: cfg.IdleConversations}

	if cfg.IdleConversations > 0 {
		pre, err := preloadIdle(ctx, dbPath, cfg.IdleConversations, mopts)
		if err != nil {
			return nil, err
		}
		rep.IdlePreloaded = pre
		runtime.GC()
		debug.FreeOSMemory()
	}
	st, counts, where, closeStore, err := openStore(ctx, cfg, dbPath, mopts)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer closeStore()
	rep.Store, rep.StoreWhere, rep.Replicas = cfg.Store, where, cfg.Replicas
	if cfg.IdleConversations > 0 {
		rep.IdleRSS, _ = memStatus()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		rep.IdleHeap = m.HeapInuse
	}
	if !cfg.NoKB && st.KB().Len() == 0 {
		if _, err := st.KB().IngestFS(ctx, memory.ExampleSource, configs.ExampleKnowledge()); err != nil {
			return nil, fmt.Errorf("bench: load example knowledge: %w", err)
		}
	}

	rec := newRecorder(cfg.Messages)
	fake := &FakeLLM{TTFT: cfg.TTFT, TPS: cfg.TPS, Tokens: cfg.ReplyTokens, ErrorRate: cfg.ErrorRate, OnDone: rec.llmDone}
	model, closeModel, err := benchModel(fake, cfg, rep)
	if err != nil {
		return nil, err
	}
	defer closeModel()
	stores, counts, closeReplicas, err := openReplicas(ctx, cfg, st, counts)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer closeReplicas()
	var engines []*bot.Engine
	for _, st := range stores {
		var eng *bot.Engine
		// --mem-store changes only where conversations are kept.
		var conv bot.Store = st
		if cfg.MemStore {
			conv = bottest.NewMemStore()
		}
		if cfg.Engine != nil && !cfg.NoModeration && !cfg.NoAnalytics && !cfg.NoKB {
			rep.Wiring = "binary"
			eng, err = cfg.Engine(st, conv, model, bot.WithObserver(rec))
		} else {
			rep.Wiring = "parts"
			eng, err = partsEngine(st, conv, model, rec, cfg, log)
		}
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		engines = append(engines, eng)
	}
	eng := engines[0]
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var tg *target
	switch cfg.Path {
	case PathTelegram:
		tg, err = telegramTarget(runCtx, eng, cfg)
	case PathDiscord:
		tg, err = discordTarget(runCtx, eng, cfg)
	default:
		tg, err = inProcessTargets(engines, cfg)
	}
	if err != nil {
		return nil, err
	}
	rec.convKey = tg.convKey
	for _, eng := range engines {
		if err := eng.Start(ctx); err != nil {
			tg.close()
			return nil, fmt.Errorf("bench: %w", err)
		}
	}

	trips0, commits0 := counts()
	cpu0 := cpuTime()
	start := time.Now()
	sent, refused := produce(ctx, cfg, tg, log)
	// Wait until every message sent has reached the engine and been
	// handled, or the run's time is up.
	for rec.received.Load() < int64(sent) && ctx.Err() == nil {
		_ = bot.Sleep(ctx, 2*time.Millisecond)
	}
	for _, eng := range engines {
		_ = eng.WaitIdle(ctx)
	}
	end := time.Now()
	if l := rec.last.Load(); l > 0 && rec.answered.Load() >= int64(sent) {
		end = time.Unix(0, l)
	}
	rep.TimedOut = ctx.Err() != nil
	cpu := cpuTime() - cpu0
	trips1, commits1 := counts()
	rep.RoundTrips, rep.Commits = trips1-trips0, commits1-commits0
	if cfg.HeapProfile != "" {
		if err := writeHeapProfile(cfg.HeapProfile); err != nil {
			log.Warn("heap profile", "err", err)
		}
	}

	stopRun()
	tg.close()
	for _, eng := range engines {
		_ = eng.Close()
	}

	rep.Sent = sent
	rep.Answered = int(rec.answered.Load())
	rep.Elapsed = end.Sub(start).Seconds()
	if rep.Elapsed > 0 {
		rep.MsgsPerSec = float64(rep.Answered) / rep.Elapsed
	}
	rec.mu.Lock()
	rep.Outcomes = maps(rec.outcomes)
	rep.FirstToken, rep.Reply, rep.Overhead = latency(rec.first), latency(rec.reply), latency(rec.overhead)
	rec.mu.Unlock()
	rep.Errors = refused + max(0, sent-rep.Answered)
	for k, n := range rep.Outcomes {
		if k != string(bot.OutcomeOK) {
			rep.Errors += n
		}
	}
	rep.CPUSeconds = cpu.Seconds()
	if rep.Answered > 0 {
		rep.CPUPerMsg = float64(cpu.Microseconds()) / float64(rep.Answered)
		rep.RoundTripsPerMsg = float64(rep.RoundTrips) / float64(rep.Answered)
		rep.CommitsPerMsg = float64(rep.Commits) / float64(rep.Answered)
	}
	rep.RSS, rep.PeakRSS = memStatus()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rep.HeapInUse = m.HeapInuse
	if n, err := st.Size(); err == nil {
		rep.DBBytes = n
	}
	return rep, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// produce sends the run's messages from cfg.Senders goroutines at the
// target rate, until the count is reached or ctx ends. It returns how many
// were sent and how many the engine refused.
func produce(ctx context.Context, cfg Config, tg *target, log *slog.Logger) (sent, refused int) {
	var next, nsent, nrefused atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Messages || ctx.Err() != nil {
					return
				}
				if cfg.Rate > 0 {
					due := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
					if bot.Sleep(ctx, time.Until(due)) != nil {
						return
					}
				}
				if err := tg.send(ctx, i); err != nil {
					if ctx.Err() != nil {
						return
					}
					nrefused.Add(1)
					log.Debug("send failed", "err", err)
					continue
				}
				nsent.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(nsent.Load()), int(nrefused.Load())
}

// partsEngine assembles the engine from the parts the run asks for, each
// with its package's defaults; moderation runs dry, so that no synthetic
// follower is deleted or banned.
func partsEngine(st memory.Backend, conv bot.Store, llm bot.LLM, rec *recorder, cfg Config, log *slog.Logger) (*bot.Engine, error) {
	opts := []bot.Option{bot.WithKV(st), bot.WithAuditor(st), bot.WithObserver(rec), bot.WithLogger(log.With("component", "engine"))}
	if !cfg.NoKB {
		opts = append(opts, bot.WithKnowledge(st.KB()))
	}
	if !cfg.NoModeration {
		mod, err := moderation.New(ModerationConfig(), st, st, nil)
		if err != nil {
			return nil, err
		}
		checks, err := replycheck.New(replycheck.Config{}, replycheck.WithRules(mod))
		if err != nil {
			return nil, err
		}
		opts = append(opts, bot.WithPlugin(mod.Plugin()), bot.WithPlugin(checks.Plugin()))
	}
	if !cfg.NoAnalytics {
		an, err := analytics.New(st, analytics.Config{})
		if err != nil {
			return nil, err
		}
		opts = append(opts, bot.WithPlugin(an.Plugin()))
	}
	return bot.New(bot.Config{BotName: botName, Workers: cfg.Workers}, conv, llm, append([]bot.Option{bot.WithPrompts(prompts.Default())}, opts...)...)
}

// benchModel is the model the engine calls: the fake itself (DirectLLM),
// or the real client over the fake OpenAI-compatible server. It notes in
// rep which, and returns how to stop the server.
func benchModel(fake *FakeLLM, cfg Config, rep *Report) (bot.LLM, func(), error) {
	if cfg.DirectLLM {
		rep.LLM = "direct"
		return fake, func() {}, nil
	}
	lc := cfg.LLM
	if lc.Model == "" {
		lc = llm.DefaultConfig()
	}
	srv := NewOpenAIServer(fake)
	lc.BaseURL, lc.APIKey, lc.APIKeyFile, lc.MaxRetries = srv.URL, "bench", "", 0
	if cfg.NoMask {
		lc.MaskPII = false
	}
	c, err := llm.New(lc)
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	rep.LLM = "client"
	if c.Masking() {
		rep.LLM = "client, masking"
	}
	return c, srv.Close, nil
}

// openStore opens the run's store and returns with it how to read its
// round trips and commits so far, where it is, and how to close it (a
// PostgreSQL run's scratch schema is dropped then).
func openStore(ctx context.Context, cfg Config, dbPath string, mopts []memory.Option) (memory.Backend, func() (uint64, uint64), string, func(), error) {
	if cfg.Store == pgstore.DriverPostgres {
		schema := fmt.Sprintf("chorus_bench_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
		st, err := pgstore.Open(ctx, cfg.DSN, pgstore.WithSchema(schema))
		if err != nil {
			return nil, nil, "", nil, err
		}
		counts := func() (uint64, uint64) { s := st.Stats(); return s.RoundTrips, s.Commits }
		closeStore := func() {
			st.Close()
			dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := pgstore.DropSchema(dctx, cfg.DSN, schema); err != nil {
				cfg.Logger.Warn("dropping the bench's scratch schema failed", "schema", schema, "err", err)
			}
		}
		return st, counts, st.Where() + " schema " + schema + " (dropped after)", closeStore, nil
	}
	st, err := memory.Open(dbPath, mopts...)
	if err != nil {
		return nil, nil, "", nil, err
	}
	return st, func() (uint64, uint64) { return 0, st.Commits() }, dbPath, func() { st.Close() }, nil
}

// openReplicas opens, beside the PostgreSQL store st, the stores of the
// other replicas (Config.Replicas) on its schema, and returns every
// replica's store, how to read their round trips and commits together,
// and how to close the others.
func openReplicas(ctx context.Context, cfg Config, st memory.Backend, counts func() (uint64, uint64)) ([]memory.Backend, func() (uint64, uint64), func(), error) {
	stores := []memory.Backend{st}
	pg, ok := st.(*pgstore.Store)
	if cfg.Replicas <= 1 || !ok {
		return stores, counts, func() {}, nil
	}
	others := []*pgstore.Store{pg}
	closeAll := func() {
		for _, o := range others[1:] {
			o.Close()
		}
	}
	for range cfg.Replicas - 1 {
		o, err := pgstore.Open(ctx, cfg.DSN, pgstore.WithSchema(pg.Schema()))
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		others = append(others, o)
		stores = append(stores, o)
	}
	sum := func() (trips, commits uint64) {
		for _, o := range others {
			s := o.Stats()
			trips, commits = trips+s.RoundTrips, commits+s.Commits
		}
		return trips, commits
	}
	return stores, sum, closeAll, nil
}

// ModerationConfig is the moderation the bench runs: the shipped defaults
// (classifiers, invites, mentions, caps) in dry-run mode, so every rule and
// model runs and flagged messages are audited but none is deleted (the
// shipped classifiers flag some of the synthetic questions, and a deleted
// question has no reply to time); without the flood and repeat rules, which
// synthetic users sending many messages a second would trip; and without
// the LLM second opinion, which would be the fake LLM.
func ModerationConfig() moderation.Config {
	return moderation.Config{Enabled: true, DryRun: true, Classifiers: true, BlockInvites: true, MaxMentions: 5, CapsRatio: 0.7}
}

// idleBucket and idleKey mark how many idle conversations a data
// directory holds, so a second run measures without preloading.
const (
	idleBucket = "bench"
	idleKey    = "idle_conversations"
)

// preloadIdle writes n idle conversations (a question and an answer each)
// unless the file already holds them, then closes the file. It reports
// whether it wrote them.
func preloadIdle(ctx context.Context, dbPath string, n int, mopts []memory.Option) (bool, error) {
	st, err := memory.Open(dbPath, mopts...)
	if err != nil {
		return false, fmt.Errorf("bench: %w", err)
	}
	defer st.Close()
	have := 0
	if v, err := st.Get(ctx, idleBucket, idleKey); err == nil {
		have, _ = strconv.Atoi(string(v))
	}
	if have >= n {
		return false, nil
	}
	var next atomic.Int64
	next.Store(int64(have))
	var wg sync.WaitGroup
	errc := make(chan error, 256)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				conv := bot.ConversationKey("idle", strconv.Itoa(i), "")
				user := bot.UserKey("idle", strconv.Itoa(i))
				at := t0.Add(time.Duration(i) * time.Second)
				for _, t := range []bot.Turn{
					{Role: bot.RoleUser, User: user, Name: "Idle " + strconv.Itoa(i), MsgID: "1", Text: "do you ship to Berlin?", Time: at, Tokens: 6},
					{Role: bot.RoleAssistant, User: user, Name: botName, MsgID: "2", Text: "Yes, within two days.", Time: at, Tokens: 6},
				} {
					if _, err := st.Append(ctx, conv, t); err != nil {
						errc <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return false, fmt.Errorf("bench: preload idle conversations: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("bench: preload idle conversations: %w", err)
	}
	if err := st.Put(ctx, idleBucket, idleKey, []byte(strconv.Itoa(n))); err != nil {
		return false, fmt.Errorf("bench: %w", err)
	}
	return true, nil
}
