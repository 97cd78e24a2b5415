package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/llm"
	"github.com/chorusbot/chorus/memory"
)

// withUser parses --user PLATFORM:ID, opens the store, wires the engine and
// its plug-ins over it (so that export and forget reach what every part
// keeps, and a forget a crash interrupted is finished first) and runs fn.
// When a running serve holds the bbolt file, that serve runs it.
func withUser(ctx context.Context, name string, env *cliEnv, args []string, fn func(ctx context.Context, out io.Writer, e *bot.Engine, user string) error) error {
	fs, g := newFlagSet(name, env)
	user := fs.String("user", "", "the user, as PLATFORM:ID (telegram:42, discord:1234, console:owner)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	if _, _, ok := bot.SplitUserKey(*user); !ok {
		return fmt.Errorf("%w: --user must be PLATFORM:ID, got %q", errUsage, *user)
	}
	return localOrServe(ctx, g, env, cliRequest{Command: name, User: *user}, func(cfg *Config, log *slog.Logger, st memory.Backend) error {
		a, err := newPrivacyApp(cfg, log, st)
		if err != nil {
			return err
		}
		if err := a.engine.Start(ctx); err != nil {
			return err
		}
		defer a.engine.Close()
		return fn(ctx, env.stdout, a.engine, *user)
	})
}

// newPrivacyApp is the binary's wiring with the offline model: export and
// forget never call a model.
func newPrivacyApp(cfg *Config, log *slog.Logger, st memory.Backend) (*app, error) {
	return newAppWith(cfg, log, st, llm.NewOffline(), "offline")
}

func runExport(ctx context.Context, env *cliEnv, args []string) error {
	return withUser(ctx, "export", env, args, exportUser)
}

// exportUser writes everything held about user, as JSON, to out.
func exportUser(ctx context.Context, out io.Writer, e *bot.Engine, user string) error {
	data, err := e.Export(ctx, user)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(data)
}

func runForget(ctx context.Context, env *cliEnv, args []string) error {
	return withUser(ctx, "forget", env, args, forgetUser)
}

// forgetUser forgets user everywhere, as /forget does, for the command
// line.
func forgetUser(ctx context.Context, out io.Writer, e *bot.Engine, user string) error {
	n, ref, err := e.Forget(ctx, bot.ForgetRequest{User: user, Scope: bot.ViewAll()}, "cli")
	if err != nil {
		return fmt.Errorf("%w (it finishes when chorus next starts on this data directory)", err)
	}
	fmt.Fprintf(out, "forgot %s: %d records deleted or anonymised (reference %s)\n", user, n, ref)
	return nil
}
