package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/chorusbot/chorus/adapters/console"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/llm"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/memory/pgstore"
)

// dbFile is the bbolt file's name inside the data directory.
const dbFile = "chorus.db"

// loadConfig reads the config named by --config, or chorus.yaml when
// present, or the defaults; applies the environment (secret files
// included, with or without a file) and --data-dir; validates it; and
// warns on stderr about CHORUS_* variables that set nothing.
func loadConfig(g *globalFlags, env *cliEnv) (*Config, error) {
	cfg, err := loadConfigFile(configs.ResolvePath(g.config), env.environ)
	if err != nil {
		return nil, err
	}
	if g.dataDir != "" {
		cfg.DataDir = g.dataDir
	}
	// From here on the secrets are known: every error shown and every
	// log line is redacted of them.
	env.redactor().Add(cfg.secrets()...)
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if warnings := configs.UnknownEnv(env.environ, cfg); len(warnings) > 0 {
		log := newLogger(cfg, env.stderr, env.redactor())
		for _, w := range warnings {
			log.Warn(w)
		}
	}
	return cfg, nil
}

// newLogger builds the logger every part logs through: whatever the level
// and format, the redaction step (the configured secrets, bot tokens,
// Authorization values) stands in front of the handler.
func newLogger(cfg *Config, w io.Writer, red *bot.Redactor) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.slogLevel()}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.Log.Format == logJSON {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(red.Handler(h))
}

// openStore opens the configured store: the bbolt file in the data
// directory (creating the directory), or PostgreSQL (store.driver),
// migrating its schema when it lacks this binary's migrations.
func openStore(cfg *Config, log *slog.Logger) (memory.Backend, error) {
	if cfg.Store.Postgres() {
		// Bounded: a server that can't be reached is an error, and the
		// migrations of another replica starting are waited for.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return pgstore.Open(ctx, cfg.Store.DSN, pgstore.WithRetention(cfg.Retention.Days),
			pgstore.WithLogger(log.With("component", "store")))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	st, err := memory.Open(filepath.Join(cfg.DataDir, dbFile), memory.WithRetention(cfg.Retention.Days),
		memory.WithLegacyKBSource(legacyKBSource))
	if err != nil {
		return nil, err
	}
	return st, nil
}

// openAll loads the configuration and opens the store: the start of every
// subcommand that touches state. The caller closes the store.
func openAll(g *globalFlags, env *cliEnv) (*Config, *slog.Logger, memory.Backend, error) {
	cfg, err := loadConfig(g, env)
	if err != nil {
		return nil, nil, nil, err
	}
	log := newLogger(cfg, env.stderr, env.redactor())
	st, err := openStore(cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, log, st, nil
}

// noArgs rejects positional arguments a subcommand doesn't take.
func noArgs(pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	return nil
}

// newLLM returns the configured model: an OpenAI-compatible client when a
// base URL or key is set, otherwise the offline provider.
func newLLM(cfg *Config, log *slog.Logger) (bot.LLM, string, error) {
	if cfg.LLM.Offline() {
		return llm.NewOffline(), "offline", nil
	}
	c, err := llm.New(cfg.LLM, llm.WithLogger(log.With("component", "llm")))
	if err != nil {
		return nil, "", err
	}
	return c, cfg.LLM.Model, nil
}

// engineConfig is the engine section with what the engine takes from the
// other sections: the persona, the roles (those the platforms' sections
// grant included), the managers' channels, the relevance floor.
func engineConfig(cfg *Config) bot.Config {
	e := cfg.Engine
	e.BotName, e.Persona = cfg.Persona.BotName, cfg.Persona
	e.Roles = cfg.roles()
	for _, chans := range []map[string]string{cfg.Moderation.ManagersChannel, cfg.Analytics.ManagersChannel} {
		for platform, id := range chans {
			e.ManagersChats = append(e.ManagersChats, bot.ChatKey(platform, id))
		}
	}
	e.TrustedPlatforms = []string{console.Name}
	e.MinRelevance = cfg.KB.engineFloor()
	return e
}

// app is a wired Chorus: config, store, model and engine.
type app struct {
	cfg    *Config
	log    *slog.Logger
	store  memory.Backend
	llm    bot.LLM
	model  string
	engine *bot.Engine
	plug   *plugins
}

// newApp wires the engine and its plug-ins over an open store, with the
// configured model. extra options come after the defaults.
func newApp(cfg *Config, log *slog.Logger, st memory.Backend, extra ...bot.Option) (*app, error) {
	model, modelName, err := newLLM(cfg, log)
	if err != nil {
		return nil, err
	}
	return newAppWith(cfg, log, st, model, modelName, extra...)
}

// newAppWith is newApp with the model given: chorus bench runs the
// binary's wiring over a fake one.
func newAppWith(cfg *Config, log *slog.Logger, st memory.Backend, model bot.LLM, modelName string, extra ...bot.Option) (*app, error) {
	set, err := loadPrompts(cfg)
	if err != nil {
		return nil, err
	}
	tokens, err := llm.NewTokenCounter()
	if err != nil {
		return nil, err
	}
	plug, err := newPlugins(cfg, log, st, model, set, tokens)
	if err != nil {
		return nil, err
	}
	opts := []bot.Option{
		bot.WithKV(st),
		bot.WithRedactor(bot.NewRedactor(cfg.secrets()...)),
		bot.WithLogger(log.With("component", "engine")),
		bot.WithKnowledge(st.KB()),
		bot.WithTokenCounter(tokens),
		bot.WithAuditor(st),
		bot.WithPrompts(set),
		bot.WithPersonas(plug.personas),
	}
	opts = append(opts, translatorOptions(set, model)...)
	for _, p := range plug.list() {
		opts = append(opts, bot.WithPlugin(p))
	}
	e, err := bot.New(engineConfig(cfg), st, model, append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	plug.engine = e
	return &app{cfg: cfg, log: log, store: st, llm: model, model: modelName, engine: e, plug: plug}, nil
}

// ingestKB brings the knowledge base up to date at start: the configured
// folder (kb.dir) is one source among those ingested by hand and is
// re-synced alone; the built-in example seeds a knowledge base that is
// empty (or holds only the example), and is never synced over one that has
// other sources.
func (a *app) ingestKB(ctx context.Context) {
	kb := a.store.KB()
	if dir := a.cfg.KB.Dir; a.cfg.KB.IngestOnStart && dir != "" {
		switch _, err := os.Stat(dir); {
		case err == nil:
			rep, err := kb.Ingest(ctx, dir)
			if err != nil {
				a.log.Warn("knowledge ingest failed", "dir", dir, "err", err)
			} else {
				a.log.Info("knowledge folder synced", "dir", dir, "report", rep.String())
			}
		case errors.Is(err, os.ErrNotExist):
			a.log.Info("knowledge folder not found", "dir", dir)
		default:
			a.log.Warn("knowledge folder unreadable", "dir", dir, "err", err)
		}
	}
	srcs, err := kb.Sources(ctx)
	if err != nil {
		a.log.Warn("knowledge base unreadable", "err", err)
		return
	}
	if len(srcs) > 1 || len(srcs) == 1 && srcs[0].Name != memory.ExampleSource {
		a.log.Info("knowledge base ready", "sources", len(srcs), "passages", kb.Len())
		return
	}
	rep, err := kb.IngestFS(ctx, memory.ExampleSource, configs.ExampleKnowledge())
	if err != nil {
		a.log.Warn("loading the example knowledge base failed", "err", err)
		return
	}
	a.log.Info("knowledge base is the built-in example (add your own with chorus kb ingest DIR)", "report", rep.String())
}

// legacyKBSource says which source a document stored before sources
// existed came from: the built-in example when its content is the
// example's, else memory.LegacySource.
func legacyKBSource(p, hash string) string {
	data, err := fs.ReadFile(configs.ExampleKnowledge(), p)
	if err == nil {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) == hash {
			return memory.ExampleSource
		}
	}
	return memory.LegacySource
}
