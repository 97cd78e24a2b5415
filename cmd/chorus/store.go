package main

import (
	"context"
	"errors"
	"fmt"
	"time"

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
