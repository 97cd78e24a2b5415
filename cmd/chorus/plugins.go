package main

import (
	"log/slog"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/memory"
)

// pluginOptions returns the engine options of the parts that plug into
// it: moderation, analytics.
func pluginOptions(cfg *configs.Config, log *slog.Logger, st *memory.Store) []bot.Option {
	return nil
}

// registerPlugins registers the plug-ins' commands on the engine.
func registerPlugins(a *app) error {
	return nil
}
