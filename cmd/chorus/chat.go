package main

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/chorusbot/chorus/adapters/console"
)

func runChat(ctx context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("chat", env)
	user := fs.String("user", "owner", "your name in the conversation (you are its owner)")
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
	a, err := newApp(cfg, log, st)
	if err != nil {
		return err
	}
	a.ingestKB(ctx)
	settle()
	limitMemory(ctx, cfg, env.getenv, log, memoryCheckEvery)

	opts := []console.Option{console.WithUser(*user), console.WithIdle(a.engine.WaitIdle), console.WithSaveDir(cfg.DataDir)}
	if f, ok := env.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts = append(opts, console.WithPrompt(env.stderr))
		fmt.Fprintf(env.stderr, "Chorus %s — %s (%s). Type /help for commands, Ctrl-D to leave.\n", version, cfg.Persona.BotName, a.model)
	}
	con, err := console.New(env.stdin, env.stdout, a.engine, opts...)
	if err != nil {
		return err
	}
	a.engine.AddPlatform(con)
	if err := a.engine.Start(ctx); err != nil {
		return err
	}
	runErr := con.Run(ctx)
	dctx, cancel := context.WithTimeout(context.Background(), cfg.Engine.DrainTimeout)
	defer cancel()
	if err := a.engine.Drain(dctx); err != nil {
		log.Warn("drain", "err", err)
	}
	a.engine.Close()
	return runErr
}
