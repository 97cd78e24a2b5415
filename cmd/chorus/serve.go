package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/chorusbot/chorus/adapters/console"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
	"github.com/chorusbot/chorus/metrics"
)

// component is one long-running part of serve.
type component struct {
	name string
	run  func(context.Context) error
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
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
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
	met, err := metrics.New(reg, metrics.WithPrices(prices), metrics.WithModels(cfg.LLM.Model, "offline"),
		metrics.WithStoreSize(st.Size), metrics.WithBuildInfo(version, ""))
	if err != nil {
		return err
	}
	health := &llmHealth{}
	a, err := newApp(cfg, log, st, bot.WithObserver(met), bot.WithObserver(health))
	if err != nil {
		return err
	}
	a.ingestKB(ctx)

	checks := []metrics.ServerOption{
		metrics.WithLogger(log.With("component", "admin")),
		metrics.WithCheck(storeCheck(cfg), st.Healthy),
		metrics.WithCheck("llm", health.check),
	}
	comps, adapterChecks, err := platformComponents(cfg, log, a, met, env)
	if err != nil {
		return err
	}
	checks = append(checks, adapterChecks...)
	// The platforms, commands and the plug-ins' label values are known
	// now: their series exist at zero from the first scrape.
	met.Declare(a.engine.Labels())
	comps = append(comps, component{"retention", func(ctx context.Context) error { return st.RunRetention(ctx, cfg.Retention.Interval) }})
	if cfg.Admin.Listen != "" {
		srv := metrics.NewServer(cfg.Admin.Listen, reg, checks...)
		comps = append(comps, component{"admin", srv.Run})
	}
	if ws := newWebServer(cfg, log, a); ws != nil {
		comps = append(comps, component{"web", ws.Run})
	}

	if err := a.engine.Start(ctx); err != nil {
		return err
	}
	log.Info("chorus serving", "version", version, "model", a.model, "data_dir", cfg.DataDir, "store", storeWhere(cfg, st))
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
func platformComponents(cfg *Config, log *slog.Logger, a *app, obs bot.Observer, env *cliEnv) ([]component, []metrics.ServerOption, error) {
	var comps []component
	var checks []metrics.ServerOption
	for _, pc := range cfg.platforms() {
		if !pc.Enabled() {
			continue
		}
		name := pc.Platform()
		alog := log.With("adapter", name)
		ad, err := pc.NewAdapter(a.engine, bot.AdapterEnv{Log: alog, Observer: obs, Commands: a.engine.Commands, Roles: cfg.roles()})
		if err != nil {
			return nil, nil, err
		}
		a.engine.AddPlatform(ad)
		comps = append(comps, component{name, func(ctx context.Context) error { return bot.RunAdapter(ctx, ad, alog, bot.Backoff{}) }})
		checks = append(checks, metrics.WithCheck(name, readyCheck(ad.Ready)))
	}
	if len(comps) == 0 {
		con, err := console.New(env.stdin, env.stdout, a.engine, console.WithIdle(a.engine.WaitIdle), console.WithSaveDir(cfg.DataDir))
		if err != nil {
			return nil, nil, err
		}
		a.engine.AddPlatform(con)
		// The console ends at end of input; serve goes on until a signal.
		comps = append(comps, component{console.Name, con.Run})
		log.Info("no platform token configured: serving the console")
	}
	return comps, checks, nil
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
