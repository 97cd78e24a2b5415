package main

import (
	"fmt"

	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/prompts"
)

// loadPrompts parses the prompt templates: the built-in ones, each
// replaced by a file of the same name in prompts.dir when set.
func loadPrompts(cfg *configs.Config) (*prompts.Set, error) {
	set, err := prompts.New(cfg.Prompts.Dir)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	return set, nil
}
