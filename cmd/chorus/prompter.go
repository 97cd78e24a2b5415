package main

import (
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/configs"
)

// newPrompter returns the engine's prompt assembler.
func newPrompter(cfg *configs.Config) (bot.Prompter, error) {
	return bot.DefaultPrompter, nil
}
