package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chorusbot/chorus/adapters/console"
)

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("serve", env)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	cfg, err := loadConfig(g, env)
	if err != nil {
		return err
	}
	log := newLogger(cfg, env.stderr)
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := newApp(cfg, log, st, pluginOptions(cfg, log, st)...)
	if err != nil {
		return err
	}
	if err := registerPlugins(a); err != nil {
		return err
	}
	a.ingestKB(ctx)

	type runner struct {
		name string
		run  func(context.Context) error
	}
	var runners []runner
	con, err := console.New(env.stdin, env.stdout, a.engine, console.WithIdle(a.engine.WaitIdle), console.WithSaveDir(cfg.DataDir))
	if err != nil {
		return err
	}
	a.engine.AddPlatform(con)
	runners = append(runners, runner{"console", con.Run})
	runners = append(runners, runner{"retention", func(ctx context.Context) error { return st.RunRetention(ctx, cfg.Retention.Interval) }})

	if err := a.engine.Start(ctx); err != nil {
		return err
	}
	log.Info("chorus serving", "version", version, "model", a.model, "data_dir", cfg.DataDir)
	var wg sync.WaitGroup
	errc := make(chan error, len(runners))
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("component stopped", "component", r.name, "err", err)
				errc <- fmt.Errorf("%s: %w", r.name, err)
			}
		}()
	}
	<-ctx.Done()
	log.Info("shutting down: draining in-flight messages", "deadline", cfg.Engine.DrainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), cfg.Engine.DrainTimeout)
	defer cancel()
	if err := a.engine.Drain(dctx); err != nil {
		log.Warn("drain incomplete; unanswered messages are replayed on the next start", "err", err)
	}
	a.engine.Close()
	wg.Wait()
	close(errc)
	return errors.Join(collect(errc)...)
}

func collect(c <-chan error) []error {
	var out []error
	for err := range c {
		out = append(out, err)
	}
	return out
}
