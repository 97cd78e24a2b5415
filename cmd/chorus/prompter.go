package main

import (
	"fmt"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/llm"
	"github.com/chorusbot/chorus/prompts"
)

// loadPrompts parses the prompt templates: the built-in ones, each
// replaced by a file of the same name in prompts.dir when set.
func loadPrompts(cfg *Config) (*prompts.Set, error) {
	set, err := prompts.New(cfg.Prompts.Dir)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	return set, nil
}

// translatorOptions are, with a real model, the translator that lets a
// question find passages written in the other language.
func translatorOptions(set *prompts.Set, model bot.LLM) []bot.Option {
	if _, offline := model.(*llm.Offline); offline || model == nil {
		return nil
	}
	return []bot.Option{bot.WithTranslator(llm.NewTranslator(model, set.Translate))}
}
