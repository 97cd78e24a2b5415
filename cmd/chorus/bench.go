package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bench"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
)

// runBench is `chorus bench`: a bounded load run of synthetic followers
// through the real engine, store, moderation and analytics with a fake
// LLM (package bench holds the harness). It never touches the configured
// data directory unless --data-dir names one.
func runBench(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("bench", env)
	var (
		cfg        bench.Config
		path       string
		asJSON     bool
		cpuProfile string
		verbose    bool
		stores     string
		replicas   string
	)
	fs.IntVar(&cfg.Users, "users", 100, "synthetic followers")
	fs.IntVar(&cfg.Conversations, "conversations", 0, "conversations (default --users: one DM each; fewer or more makes group chats where users mention the bot)")
	fs.IntVar(&cfg.Messages, "messages", 1000, "messages to send (a bound on the run)")
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "hard bound on the run, waiting for replies included")
	fs.Float64Var(&cfg.Rate, "rate", 0, "target messages per second (0 = as fast as the engine takes them)")
	fs.IntVar(&cfg.Senders, "senders", 0, "concurrent senders (default min(users, 64))")
	fs.StringVar(&path, "path", string(bench.PathInProcess), "in-process, telegram or discord (the adapter against its fake server on 127.0.0.1)")
	fs.DurationVar(&cfg.TTFT, "ttft", 0, "fake LLM time to first token")
	fs.Float64Var(&cfg.TPS, "tps", 0, "fake LLM tokens per second after the first (0 = instant)")
	fs.IntVar(&cfg.ReplyTokens, "reply-tokens", 40, "fake LLM reply length in tokens")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "share of fake LLM calls that fail, 0 to 1")
	fs.IntVar(&cfg.MessageBytes, "message-bytes", 60, "length of each synthetic message")
	fs.IntVar(&cfg.IdleConversations, "idle-conversations", 0, "preload this many idle conversations (kept in --data-dir for the next run) and report resident memory")
	fs.IntVar(&cfg.Workers, "workers", 0, "engine handler pool (default engine.workers, 256)")
	fs.DurationVar(&cfg.BatchDelay, "batch-delay", 0, "bbolt batch delay (default memory's 2ms)")
	fs.BoolVar(&cfg.NoModeration, "no-moderation", false, "leave moderation out")
	fs.BoolVar(&cfg.NoAnalytics, "no-analytics", false, "leave sentiment and analytics out")
	fs.BoolVar(&cfg.MemStore, "mem-store", false, "keep conversations in memory instead of bbolt, to tell the engine's cost from the disk's (nothing else changes)")
	fs.BoolVar(&cfg.DirectLLM, "direct-llm", false, "call the fake model in process instead of through the real LLM client and a fake OpenAI-compatible server on 127.0.0.1, to tell the client's cost")
	fs.BoolVar(&cfg.NoMask, "no-mask", false, "turn the LLM client's masking of personal data off, to tell its cost")
	fs.BoolVar(&cfg.NoKB, "no-kb", false, "run without the example knowledge base")
	fs.StringVar(&stores, "store", "bbolt", "bbolt, postgres (store.dsn, in a scratch schema dropped after), or both in turn: bbolt,postgres")
	fs.StringVar(&replicas, "replicas", "1", "for the postgres store: engines sharing it, in one process, fed in turn; a list runs each: 1,2,3")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to FILE (go tool pprof)")
	fs.StringVar(&cfg.HeapProfile, "memprofile", "", "write a heap profile to FILE when the load is over, before anything is closed (go tool pprof)")
	fs.StringVar(&cfg.ServeBinary, "serve-binary", "", "run the engine as `PATH serve` in a child process against the fakes (telegram path) and report its CPU and memory apart from the bench's; PATH is a chorus binary (os.Args[0] for this one)")
	fs.BoolVar(&verbose, "v", false, "log the engine's warnings to stderr")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	cfg.Path = bench.Path(path)
	cfg.DataDir = g.dataDir
	if cfg.ServeBinary != "" {
		// The profiles asked for are the serve process's, written when it
		// stops (the bench's own process holds only the fakes).
		if g.config != "" {
			cfg.ServeArgs = append(cfg.ServeArgs, "--config", g.config)
		}
		for flag, file := range map[string]*string{"--cpuprofile": &cpuProfile, "--memprofile": &cfg.HeapProfile} {
			if *file == "" {
				continue
			}
			abs, err := filepath.Abs(*file) // serve runs in a scratch directory
			if err != nil {
				return err
			}
			cfg.ServeArgs = append(cfg.ServeArgs, flag, abs)
			*file = ""
		}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if verbose {
		cfg.Logger = slog.New(env.redactor().Handler(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	stopProfile, err := startProfiles(cpuProfile, "") // the heap profile is the bench's own (cfg.HeapProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	conf, err := loadConfig(&globalFlags{config: g.config}, env)
	if err != nil {
		return err
	}
	cfg.LLM = conf.LLM
	fleet, err := replicaCounts(replicas)
	if err != nil {
		return err
	}
	cfg.Engine = benchEngine(g, env, cfg)
	var runs []bench.Config
	for _, store := range strings.Split(stores, ",") {
		run := cfg
		run.Store = strings.TrimSpace(store)
		if run.Store != pgstore.DriverPostgres {
			runs = append(runs, run)
			continue
		}
		for _, n := range fleet {
			run.Replicas = n
			runs = append(runs, run)
		}
	}
	var reps []*bench.Report
	for _, run := range runs {
		if run.Store == pgstore.DriverPostgres {
			if run.DSN = conf.Store.DSN; run.DSN == "" {
				return errNoPostgres
			}
		}
		if err := run.Validate(); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rep, err := bench.Run(ctx, run)
		if err != nil {
			return err
		}
		reps = append(reps, rep)
		if asJSON {
			if err := rep.WriteJSON(env.stdout); err != nil {
				return err
			}
			continue
		}
		if err := rep.WriteText(env.stdout); err != nil {
			return err
		}
		fmt.Fprintln(env.stdout)
	}
	if len(reps) > 1 && !asJSON {
		return bench.WriteComparison(env.stdout, reps)
	}
	return nil
}

// replicaCounts parses --replicas: counts of 1 or more, comma-separated.
func replicaCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: --replicas %q: want counts of 1 or more, such as 1,2,3", errUsage, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchEngine builds the engine as serve does, from the configuration
// (--config and the environment, as for serve), with what a load run needs
// changed: moderation only logs (synthetic followers must not be deleted
// or banned), and the per-user rate limit and daily budgets are off (a
// synthetic follower writes faster than a person).
func benchEngine(g *globalFlags, env *cliEnv, bc bench.Config) func(memory.Backend, bot.Store, bot.LLM, ...bot.Option) (*bot.Engine, error) {
	return func(st memory.Backend, conv bot.Store, model bot.LLM, opts ...bot.Option) (*bot.Engine, error) {
		cfg, err := loadConfig(&globalFlags{config: g.config}, env)
		if err != nil {
			return nil, err
		}
		cfg.Moderation.DryRun = true
		cfg.Engine.RatePerMinute, cfg.Engine.UserDailyTokens, cfg.Engine.ChatDailyTokens = 0, 0, 0
		if bc.Workers > 0 {
			cfg.Engine.Workers = bc.Workers
		}
		log := slog.New(slog.DiscardHandler)
		if bc.Logger != nil {
			log = bc.Logger
		}
		a, err := newAppOver(cfg, log, st, conv, model, "bench", opts...)
		if err != nil {
			return nil, err
		}
		return a.engine, nil
	}
}
