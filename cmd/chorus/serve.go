package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chorusbot/chorus/adapters/console"
	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
	"github.com/chorusbot/chorus/metrics"
)

// fleetMergeEvery is how often a replica merges its active-user sketches
// into the shared store: the fleet's chorus_active_users lag by as much.
const fleetMergeEvery = 15 * time.Second

// component is one long-running part of serve.
type component struct {
	name string
	// platform is the platform of a hosted adapter, which reports its
	// connection; empty for the rest.
	platform string
	run      func(context.Context) error
}

// llmHealth tracks whether the model answered lately, for /readyz: not
// ready once chat calls have failed with nothing succeeding since.
type llmHealth struct {
	mu       sync.Mutex
	failures int
}

func (h *llmHealth) Observe(e bot.Event) {
	if e.Kind != bot.EventLLMCall || e.Purpose != bot.PurposeChat {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Outcome == bot.OutcomeOK {
		h.failures = 0
	} else {
		h.failures++
	}
}

func (h *llmHealth) check(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failures >= 3 {
		return fmt.Errorf("the last %d model calls failed", h.failures)
	}
	return nil
}

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("serve", env)
	var cpuProfile, heapProfile string
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to FILE when serve stops (go tool pprof)")
	fs.StringVar(&heapProfile, "memprofile", "", "write a heap profile to FILE when serve stops (go tool pprof)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	stopProfiles, err := startProfiles(cpuProfile, heapProfile)
	if err != nil {
		return err
	}
	defer stopProfiles()
	cfg, log, st, err := openAll(g, env)
	if err != nil {
		return err
	}
	defer st.Close()

	reg := metrics.NewRegistry()
	prices := map[string]metrics.Price{}
	for model, p := range cfg.LLM.Prices {
		prices[model] = metrics.Price{PromptPer1M: p.PromptPer1M, CompletionPer1M: p.CompletionPer1M}
	}
	mopts := []metrics.Option{metrics.WithPrices(prices), metrics.WithModels(cfg.LLM.Model, "offline"),
		metrics.WithStoreSize(st.Size), metrics.WithBuildInfo(version, ""), metrics.WithUserKey(analytics.ActivityKey)}
	if _, shared := elector(st).(bot.Solo); !shared {
		// Replicas: chorus_active_users counts the fleet's users.
		mopts = append(mopts, metrics.WithFleet(st))
	}
	met, err := metrics.New(reg, mopts...)
	if err != nil {
		return err
	}
	health := &llmHealth{}
	a, err := newApp(cfg, log, st, bot.WithObserver(met), bot.WithObserver(health))
	if err != nil {
		return err
	}
	a.ingestKB(ctx)
	// chorus_active_users starts from the activity analytics stored, not
	// from zero.
	active := 0
	if err := a.plug.ana.LastSeen(ctx, time.Now().Add(-metrics.ActiveWindow), func(key string, last time.Time) {
		met.Seen(key, last)
		active++
	}); err != nil {
		log.Warn("active users not rebuilt from stored activity; chorus_active_users starts from zero", "err", err)
	}
	settle()
	limitMemory(ctx, cfg, env.getenv, log, memoryCheckEvery)

	checks := []metrics.ServerOption{
		metrics.WithLogger(log.With("component", "admin")),
		metrics.WithCheck(storeCheck(cfg), st.Healthy),
		metrics.WithCheck("llm", health.check),
	}
	lead := elector(st)
	comps, adapterChecks, err := platformComponents(cfg, log, a, met, env, lead)
	if err != nil {
		return err
	}
	checks = append(checks, adapterChecks...)
	// The platforms, commands and the plug-ins' label values are known
	// now: their series exist at zero from the first scrape.
	met.Declare(a.engine.Labels())
	for _, c := range comps {
		if c.platform != "" {
			met.Connecting(c.platform) // 0 until it connects
		}
	}
	comps = append(comps, component{name: "active users", run: func(ctx context.Context) error { return met.RunFleet(ctx, fleetMergeEvery, log) }})
	// Retention runs on one replica of a fleet at a time.
	comps = append(comps, component{name: "retention", run: func(ctx context.Context) error {
		return lead.Lead(ctx, "retention", func(ctx context.Context) error { return st.RunRetention(ctx, cfg.Retention.Interval) })
	}})
	var token string // the admin token, when serve holds a bbolt file
	if cfg.Admin.Listen != "" {
		if !cfg.Store.Postgres() {
			// kb, export and forget run from the command line while
			// serve holds the file: through the admin listener, with a
			// token left in the data directory.
			if token, err = newAdminToken(); err != nil {
				return err
			}
			checks = append(checks, metrics.WithHandler(pathCLI, cliHandler(a, token)))
		}
		srv := metrics.NewServer(cfg.Admin.Listen, reg, checks...)
		comps = append(comps, component{name: "admin", run: srv.Run})
		if token != "" {
			go func() {
				select {
				case <-srv.Listening():
				case <-ctx.Done():
					return
				}
				if _, err := writeAdminToken(cfg.DataDir, srv.Addr(), token); err != nil {
					log.Warn("kb, export and forget can't reach this serve from the command line", "err", err)
				}
			}()
			defer removeAdminToken(filepath.Join(cfg.DataDir, adminTokenFile), token)
		}
	}
	if ws := newWebServer(cfg, log, a); ws != nil {
		comps = append(comps, component{name: "web", run: ws.Run})
	}

	if err := a.engine.Start(ctx); err != nil {
		return err
	}
	log.Info("chorus serving", "version", version, "model", a.model, "data_dir", cfg.DataDir, "store", storeWhere(cfg, st),
		"users_active_30d", active)
	runCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	var wg sync.WaitGroup
	errc := make(chan error, len(comps))
	for _, c := range comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("component stopped", "component", c.name, "err", err)
				errc <- fmt.Errorf("%s: %w", c.name, err)
				if c.name == "admin" || c.name == "web" {
					stopAll() // the address is taken: that is fatal
				}
			}
		}()
	}
	<-runCtx.Done()
	log.Info("shutting down: draining in-flight messages", "deadline", cfg.Engine.DrainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), cfg.Engine.DrainTimeout)
	defer cancel()
	if err := a.engine.Drain(dctx); err != nil {
		log.Warn("drain incomplete; unanswered messages are replayed on the next start", "err", err)
	}
	stopAll()
	a.engine.Close()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// platformComponents builds the enabled platform adapters, or the console
// when none is.
func platformComponents(cfg *Config, log *slog.Logger, a *app, obs bot.Observer, env *cliEnv, lead bot.Elector) ([]component, []metrics.ServerOption, error) {
	var comps []component
	var checks []metrics.ServerOption
	for _, pc := range cfg.platforms() {
		if !pc.Enabled() {
			continue
		}
		name := pc.Platform()
		alog := log.With("adapter", name)
		aenv := bot.AdapterEnv{Log: alog, Observer: obs, Commands: a.engine.Commands, Roles: cfg.roles()}
		if sh, ok := pc.(bot.Sharded); ok && sh.AutoShards() > 0 {
			run, ready, err := autoShards(a.engine, sh, aenv, lead)
			if err != nil {
				return nil, nil, err
			}
			comps = append(comps, component{name: name, platform: name, run: run})
			checks = append(checks, metrics.WithCheck(name, ready))
			continue
		}
		ad, err := pc.NewAdapter(a.engine, aenv)
		if err != nil {
			return nil, nil, err
		}
		a.engine.AddPlatform(ad)
		run := func(ctx context.Context) error { return bot.RunAdapter(ctx, ad, alog, bot.Backoff{}) }
		ready := readyCheck(ad.Ready)
		if ex, ok := pc.(bot.Exclusive); ok {
			if name, ok := ex.Exclusive(); ok {
				run, ready = exclusive(lead, name, alog, run, ready)
			}
		}
		comps = append(comps, component{name: name, platform: name, run: run})
		checks = append(checks, metrics.WithCheck(name, ready))
	}
	if len(comps) == 0 {
		con, err := console.New(env.stdin, env.stdout, a.engine, console.WithIdle(a.engine.WaitIdle), console.WithSaveDir(cfg.DataDir))
		if err != nil {
			return nil, nil, err
		}
		a.engine.AddPlatform(con)
		// The console ends at end of input; serve goes on until a signal.
		comps = append(comps, component{name: console.Name, run: con.Run})
		log.Info("no platform token configured: serving the console")
	}
	return comps, checks, nil
}

// elector is the fleet's leader election: the PostgreSQL store's when
// replicas share one, else the process is the fleet.
func elector(st memory.Backend) bot.Elector {
	if el, ok := st.(bot.Elector); ok {
		return el
	}
	return bot.Solo{}
}

// exclusive runs an adapter that receives on one replica at a time under
// the lead name: a replica waiting for the lead is ready (it answers the
// conversations it holds, and sends through the platform), and says so.
func exclusive(el bot.Elector, name string, log *slog.Logger, run func(context.Context) error, ready func(context.Context) error) (func(context.Context) error, func(context.Context) error) {
	var leading atomic.Bool
	lrun := func(ctx context.Context) error {
		return el.Lead(ctx, name, func(ctx context.Context) error {
			leading.Store(true)
			defer leading.Store(false)
			log.Info("receiving: this replica leads", "lead", name)
			return run(ctx)
		})
	}
	lready := func(ctx context.Context) error {
		if !leading.Load() {
			return nil // standby: another replica receives
		}
		return ready(ctx)
	}
	if _, solo := el.(bot.Solo); solo {
		return run, ready
	}
	log.Info("receiving on one replica at a time: waiting for the lead", "lead", name)
	return lrun, lready
}

func readyCheck(ready func() bool) func(context.Context) error {
	return func(context.Context) error {
		if !ready() {
			return errors.New("not connected")
		}
		return nil
	}
}

// storeCheck names the store's readiness check: its driver.
func storeCheck(cfg *Config) string {
	if cfg.Store.Postgres() {
		return pgstore.DriverPostgres
	}
	return pgstore.DriverBBolt
}

// storeWhere says where state lives, for the start-up line: the bbolt
// file, or the PostgreSQL server and schema (never the DSN).
func storeWhere(cfg *Config, st memory.Backend) string {
	if p, ok := st.(*pgstore.Store); ok {
		return "postgres " + p.Where() + " schema " + p.Schema()
	}
	return "bbolt " + filepath.Join(cfg.DataDir, dbFile)
}

// startProfiles starts a CPU profile to cpuFile (if set) and returns what
// to call when serve stops: it ends the CPU profile and writes a heap
// profile to heapFile (if set): serve's --cpuprofile and --memprofile
// (chorus bench --serve-binary passes them on) and bench's --cpuprofile.
// A failure to write is returned at start or ignored at the stop.
func startProfiles(cpuFile, heapFile string) (func(), error) {
	var cpu *os.File
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		cpu = f
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if heapFile != "" {
			if f, err := os.Create(heapFile); err == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}, nil
}
