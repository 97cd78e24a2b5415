// Command chorus is the Chorus binary: the community bot's server, a
// console chat, knowledge-base and privacy tools, and the classifiers'
// training and evaluation.
//
// Usage:
//
//	chorus serve                      run every configured adapter and the admin server
//	chorus chat [--user NAME]         talk to Chorus on the console
//	chorus kb ingest DIR|FILE | search QUERY | list | remove SOURCE|DOCUMENT
//	chorus export --user PLATFORM:ID  everything held about a user, as JSON
//	chorus forget --user PLATFORM:ID  delete it
//	chorus bench [flags]              load test with synthetic followers (see docs/benchmarks.md)
//	chorus eval TASK --dataset PATH   score a shipped classifier (spam, offensive, hate, sentiment)
//	chorus train moderation|sentiment retrain the shipped classifiers from labelled data
//	chorus console-link --user PLATFORM:ID  a sign-in link to the web console
//	chorus check-config               validate the configuration and print it, secrets redacted
//	chorus version
//
// Every subcommand takes --config FILE (default chorus.yaml in the working
// directory if present, else built-in defaults) and --data-dir DIR (default
// ./chorus-data). Exit status: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks an error that should print usage and exit 2.
var errUsage = errors.New("usage")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what a subcommand may use: its streams and the environment.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	getenv         func(string) string
	// red redacts secrets from errors shown and lines logged; the
	// configuration adds its secrets once loaded.
	red *bot.Redactor
}

// redactor returns the environment's redaction step.
func (env *cliEnv) redactor() *bot.Redactor {
	if env.red == nil {
		env.red = bot.NewRedactor()
	}
	return env.red
}

func commands() []command {
	return []command{
		{"serve", "run the bot: every configured adapter (the console when none) and the admin HTTP server", runServe},
		{"chat", "talk to Chorus on the console (piped stdin: one message per line)", runChat},
		{"kb", "knowledge base: ingest DIR|FILE (a source: re-ingesting it touches its own documents only; " + memory.SupportedExtensions + "), search QUERY, list, remove SOURCE|DOCUMENT", runKB},
		{"export", "print everything held about --user PLATFORM:ID as JSON", runExport},
		{"forget", "delete everything held about --user PLATFORM:ID", runForget},
		{"bench", "load-test the engine, store, moderation and analytics with synthetic followers and a fake model", runBench},
		{"eval", "score a shipped classifier on a labelled dataset: eval spam|offensive|hate|sentiment --dataset PATH", runEval},
		{"train", "retrain the shipped classifiers: train moderation|sentiment --datasets DIR", runTrain},
		{"console-link", "print a single-use sign-in link to the web console for --user PLATFORM:ID (a manager or owner in the configuration)", runConsoleLink},
		{"check-config", "validate the configuration and print it with secrets redacted", runCheckConfig},
		{"migrate-store", "move the bbolt data (conversations, profiles, audit, plug-in data, knowledge) into PostgreSQL: --to postgres [--dry-run]; resumable", runMigrateStore},
		{"migrate", "apply the PostgreSQL schema migrations (store.driver: postgres), alone; serve applies them at start too", runMigrate},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), getenv: os.Getenv}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run is main without the process: it returns the exit status. Help that
// was asked for goes to stdout with status 0; a usage error is reported
// once, on stderr, with status 2.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(env.stdout)
		return 0
	case "-version", "--version":
		args = []string{"version"}
	case "help":
		if len(args) == 1 {
			usage(env.stdout)
			return 0
		}
		// chorus help CMD is chorus CMD -h.
		args = []string{args[1], "-h"}
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(env.stderr, "chorus %s: %s\nRun 'chorus help %s' for its flags.\n", c.name, env.redactor().RedactError(err), c.name)
			return 2
		default:
			fmt.Fprintf(env.stderr, "chorus %s: %s\n", c.name, env.redactor().RedactError(err))
			return 1
		}
	}
	fmt.Fprintf(env.stderr, "chorus: unknown command %q\n\n", args[0])
	usage(env.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Chorus: a community bot for brands on Discord and Telegram.\n\nUsage: chorus COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nGlobal flags (every command): --config FILE, --data-dir DIR.\nRun 'chorus help COMMAND' (or chorus COMMAND -h) for a command's flags; chorus --version for the version.")
}

// globalFlags are accepted by every subcommand.
type globalFlags struct {
	config  string
	dataDir string
}

func newFlagSet(name string, env *cliEnv) (*flag.FlagSet, *globalFlags) {
	fs := flag.NewFlagSet("chorus "+name, flag.ContinueOnError)
	// The flag package would print an error and the whole usage on every
	// bad flag; run reports the error once instead, and -h prints Usage on
	// stdout (see parseArgs).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		summary := ""
		for _, c := range commands() {
			if c.name == name {
				summary = c.summary
			}
		}
		fmt.Fprintf(env.stdout, "Usage: chorus %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.SetOutput(env.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	g := &globalFlags{}
	fs.StringVar(&g.config, "config", "", "config file (default chorus.yaml if present, else built-in defaults)")
	fs.StringVar(&g.dataDir, "data-dir", "", "data directory (default ./chorus-data, or CHORUS_DATA_DIR)")
	return fs, g
}

// parseArgs parses flags wherever they appear among the positional
// arguments ("kb ingest DIR --config x" and "kb ingest --config x DIR").
// -h, -help or --help anywhere before "--" prints fs.Usage and returns
// flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	help := fs.Usage
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			help()
			return nil, flag.ErrHelp
		}
	}
	// The flag package calls Usage on every parse error as well: run
	// reports the error instead.
	fs.Usage = func() {}
	defer func() { fs.Usage = help }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runVersion(_ context.Context, env *cliEnv, args []string) error {
	fs, _ := newFlagSet("version", env)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, "chorus", version)
	return nil
}
