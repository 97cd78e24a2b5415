package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chorusbot/chorus/bot"
)

func userFlag(name string, env *cliEnv, args []string) (*globalFlags, string, error) {
	fs, g := newFlagSet(name, env)
	user := fs.String("user", "", "the user, as PLATFORM:ID (telegram:42, discord:1234, console:owner)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, "", err
	}
	if err := noArgs(pos); err != nil {
		return nil, "", err
	}
	if _, _, ok := bot.SplitUserKey(*user); !ok {
		return nil, "", fmt.Errorf("%w: --user must be PLATFORM:ID, got %q", errUsage, *user)
	}
	return g, *user, nil
}

func runExport(ctx context.Context, env *cliEnv, args []string) error {
	g, user, err := userFlag("export", env, args)
	if err != nil {
		return err
	}
	_, _, st, err := openAll(g, env)
	if err != nil {
		return err
	}
	defer st.Close()
	data, err := st.Export(ctx, user)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(data)
}

func runForget(ctx context.Context, env *cliEnv, args []string) error {
	g, user, err := userFlag("forget", env, args)
	if err != nil {
		return err
	}
	_, _, st, err := openAll(g, env)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Forget(ctx, user)
	if err != nil {
		return err
	}
	st.Audit(ctx, bot.AuditEntry{User: user, Actor: "cli", Kind: "forget", Note: fmt.Sprintf("%d records", n)})
	fmt.Fprintf(env.stdout, "forgot %s: %d records deleted\n", user, n)
	return nil
}
