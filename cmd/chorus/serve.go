package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/adapters/console"
	"github.com/chorusbot/chorus/adapters/discord"
	"github.com/chorusbot/chorus/adapters/telegram"
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
				if c.name == "admin" {
					stopAll() // the admin address is taken: that is fatal
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
	if cfg.Telegram.Enabled() {
		// The command menus follow the roles: managers' commands for the
		// administrators of the home chats and in the private chats of the
		// managers named in config.
		tc := cfg.Telegram
		tc.ManagerIDs = slices.Clone(tc.ManagerIDs)
		for _, k := range slices.Concat(cfg.Roles.Managers, cfg.Roles.Owners) {
			if id, ok := strings.CutPrefix(k, telegram.PlatformName+":"); ok {
				tc.ManagerIDs = append(tc.ManagerIDs, id)
			}
		}
		for _, k := range cfg.Roles.HomeChats {
			if id, ok := strings.CutPrefix(k, telegram.PlatformName+":"); ok {
				tc.HomeChatIDs = append(tc.HomeChatIDs, id)
			}
		}
		ad, err := telegram.New(tc, a.engine, telegram.WithLogger(log.With("adapter", "telegram")), telegram.WithObserver(obs),
			telegram.WithCommands(a.engine.Commands))
		if err != nil {
			return nil, nil, err
		}
		a.engine.AddPlatform(ad)
		comps = append(comps, component{"telegram", ad.Run})
		checks = append(checks, metrics.WithCheck("telegram", connectedCheck(ad.Connected)))
	}
	if cfg.Discord.Enabled() {
		ad, err := discord.New(cfg.Discord, a.engine, discord.WithLogger(log.With("adapter", "discord")), discord.WithObserver(obs),
			discord.WithCommands(a.engine.Commands))
		if err != nil {
			return nil, nil, err
		}
		a.engine.AddPlatform(ad)
		comps = append(comps, component{"discord", retryForever(log, "discord", ad.Run)})
		checks = append(checks, metrics.WithCheck("discord", connectedCheck(ad.Connected)))
	}
	if len(comps) == 0 {
		con, err := console.New(env.stdin, env.stdout, a.engine, console.WithIdle(a.engine.WaitIdle), console.WithSaveDir(cfg.DataDir))
		if err != nil {
			return nil, nil, err
		}
		a.engine.AddPlatform(con)
		// The console ends at end of input; serve goes on until a signal.
		comps = append(comps, component{"console", con.Run})
		log.Info("no platform token configured: serving the console")
	}
	return comps, checks, nil
}

func connectedCheck(connected func() bool) func(context.Context) error {
	return func(context.Context) error {
		if !connected() {
			return errors.New("not connected")
		}
		return nil
	}
}

// retryForever reruns a component that fails (a gateway that could not be
// reached at start) with capped exponential back-off, until ctx ends.
func retryForever(log *slog.Logger, name string, run func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		wait := time.Second
		for {
			err := run(ctx)
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("component failed; restarting", "component", name, "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(2*wait, 2*time.Minute)
		}
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
