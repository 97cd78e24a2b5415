package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
)

// errNoPostgres is returned by the store commands when no PostgreSQL DSN
// is configured.
var errNoPostgres = errors.New("no PostgreSQL configured: set store.dsn (CHORUS_STORE_DSN or store.dsn_file)")

// runMigrate applies the PostgreSQL schema migrations this binary holds,
// alone: serve applies them at start too, so this is for a deploy that
// migrates before it rolls the replicas.
func runMigrate(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("migrate", env)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	cfg, err := loadConfig(g, env)
	if err != nil {
		return err
	}
	if !cfg.Store.Postgres() {
		return fmt.Errorf("store.driver is %q: the bbolt file needs no migration command (it is brought up to date when opened); set store.driver: postgres", cfg.Store.Driver)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	applied, version, err := pgstore.Migrate(ctx, cfg.Store.DSN)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.stdout, "schema is current (version %d); nothing to do\n", version)
		return nil
	}
	fmt.Fprintf(env.stdout, "applied migrations %v; schema version %d\n", applied, version)
	return nil
}

// runMigrateStore copies the bbolt file of the data directory into the
// PostgreSQL database store.dsn names: chorus must be stopped (the file is
// locked while it runs). A dry run counts first; a copy that stops resumes
// when run again.
func runMigrateStore(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("migrate-store", env)
	to := fs.String("to", "", "the store to move to: postgres")
	dry := fs.Bool("dry-run", false, "count what there is to copy and what an earlier run copied; write nothing")
	batch := fs.Int("batch", 500, "records per transaction")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	if *to != pgstore.DriverPostgres {
		return fmt.Errorf("%w: --to must be postgres, got %q", errUsage, *to)
	}
	cfg, err := loadConfig(g, env)
	if err != nil {
		return err
	}
	if cfg.Store.DSN == "" {
		return errNoPostgres
	}
	path := filepath.Join(cfg.DataDir, dbFile)
	if !fileExists(path) {
		return fmt.Errorf("no bbolt file at %s to move (set --data-dir or data_dir)", path)
	}
	src, err := memory.Open(path, memory.WithReadOnly(), memory.WithLegacyKBSource(legacyKBSource))
	if err != nil {
		if errors.Is(err, memory.ErrInUse) {
			return fmt.Errorf("%w: stop chorus before moving its data", err)
		}
		return err
	}
	defer src.Close()
	log := newLogger(cfg, env.stderr, env.redactor())
	dst, err := pgstore.Open(ctx, cfg.Store.DSN, pgstore.WithLogger(log.With("component", "store")))
	if err != nil {
		return err
	}
	defer dst.Close()
	what := "copying"
	if *dry {
		what = "dry run: counting"
	}
	fmt.Fprintf(env.stdout, "%s %s into postgres %s (schema %s)\n", what, path, dst.Where(), dst.Schema())
	counts, err := dst.ImportBolt(ctx, src, pgstore.ImportOptions{DryRun: *dry, Batch: *batch,
		Progress: func(c pgstore.ImportCount) {
			log.Debug("copied", "kind", c.Kind, "copied", c.Copied+c.Before, "of", c.Source)
		}})
	printCounts(env, counts, *dry)
	if err != nil {
		return fmt.Errorf("%w (run the same command again to resume)", err)
	}
	switch {
	case *dry:
		fmt.Fprintln(env.stdout, "nothing written; run again without --dry-run to copy")
	default:
		fmt.Fprintln(env.stdout, "done: set store.driver: postgres (CHORUS_STORE_DRIVER=postgres) and start chorus; the bbolt file is left as it was")
	}
	return nil
}

func printCounts(env *cliEnv, counts []pgstore.ImportCount, dry bool) {
	for _, c := range counts {
		extra := ""
		switch {
		case c.Turns > 0:
			extra = fmt.Sprintf(" (%d turns)", c.Turns)
		case c.Passages > 0:
			extra = fmt.Sprintf(" (%d passages)", c.Passages)
		}
		if dry {
			fmt.Fprintf(env.stdout, "  %-14s %6d in the file%s, %d copied by an earlier run\n", c.Kind, c.Source, extra, c.Before)
			continue
		}
		fmt.Fprintf(env.stdout, "  %-14s %6d in the file%s: %d copied now, %d before\n", c.Kind, c.Source, extra, c.Copied, c.Before)
	}
}
