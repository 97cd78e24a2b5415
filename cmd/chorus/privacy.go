package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

// withUser parses --user PLATFORM:ID, opens the store and runs fn on it:
// the shape of export and forget.
func withUser(name string, env *cliEnv, args []string, fn func(st *memory.Store, user string) error) error {
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
	_, _, st, err := openAll(g, env)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st, *user)
}

func runExport(ctx context.Context, env *cliEnv, args []string) error {
	return withUser("export", env, args, func(st *memory.Store, user string) error {
		data, err := st.Export(ctx, user)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(data)
	})
}

func runForget(ctx context.Context, env *cliEnv, args []string) error {
	return withUser("forget", env, args, func(st *memory.Store, user string) error {
		n, err := st.Forget(ctx, user)
		if err != nil {
			return err
		}
		if err := st.Audit(ctx, bot.AuditEntry{User: user, Actor: "cli", Kind: "forget", Note: fmt.Sprintf("%d records", n)}); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "forgot %s: %d records deleted\n", user, n)
		return nil
	})
}
