package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/llm"
	"github.com/chorusbot/chorus/prompts"
)

// promptOptions return the engine's prompt assemblers, built on the prompt
// templates (embedded, or overridden from prompts.dir), and, with a real
// model, the translator that lets a question find passages written in the
// other language.
func promptOptions(cfg *configs.Config, model bot.LLM) ([]bot.Option, error) {
	set, err := prompts.New(cfg.Prompts.Dir)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	opts := []bot.Option{bot.WithPrompter(chatPrompter(set)), bot.WithSummaryPrompter(summaryPrompter(set))}
	if _, offline := model.(*llm.Offline); !offline && model != nil {
		opts = append(opts, bot.WithTranslator(llm.NewTranslator(model, translatePrompt(set))))
	}
	return opts, nil
}

func translatePrompt(set *prompts.Set) llm.TranslatePrompt {
	return func(text, lang string) ([]bot.ChatMessage, error) {
		return chatMessages(set.Translate(prompts.TranslateData{Lang: lang, Text: text}))
	}
}

func chatPrompter(set *prompts.Set) bot.Prompter {
	return func(in bot.PromptInput) ([]bot.ChatMessage, error) {
		d := prompts.ChatData{
			Brand: in.Persona.Brand, BotName: in.Persona.BotName, Voice: in.Persona.Voice,
			Do: in.Persona.Do, Dont: in.Persona.Dont, Lang: in.Lang, UserName: in.UserName,
			Summary: in.Summary, Now: in.Now.UTC().Format(time.RFC1123), NoAnswerMarker: bot.NoAnswerMarker,
		}
		for _, p := range in.Contact {
			d.Contact = append(d.Contact, prompts.Passage{Source: p.Source, Heading: p.Heading, Text: p.Text})
		}
		for _, p := range in.Passages {
			d.Passages = append(d.Passages, prompts.Passage{Source: p.Source, Heading: p.Heading, Text: p.Text})
		}
		if p := in.Profile; p != nil {
			pd := &prompts.ProfileData{Names: p.Names, Messages: p.Messages, FirstSeen: p.FirstSeen.UTC().Format("2006-01-02")}
			for t := range p.Topics {
				pd.Topics = append(pd.Topics, t)
			}
			sort.Strings(pd.Topics)
			d.Profile = pd
		}
		return chatMessages(set.Chat(d, turns(in.Window), in.Query))
	}
}

func summaryPrompter(set *prompts.Set) bot.SummaryPrompter {
	return func(in bot.SummaryInput) ([]bot.ChatMessage, error) {
		return chatMessages(set.Summary(prompts.SummaryData{Brand: in.Persona.Brand, Lang: in.Lang, Previous: in.Previous, Turns: turns(in.Turns)}))
	}
}

func turns(ts []bot.Turn) []prompts.Turn {
	out := make([]prompts.Turn, 0, len(ts))
	for _, t := range ts {
		out = append(out, prompts.Turn{Role: t.Role, Name: t.Name, Text: t.Text})
	}
	return out
}

func chatMessages(msgs []prompts.Message, err error) ([]bot.ChatMessage, error) {
	if err != nil {
		return nil, err
	}
	out := make([]bot.ChatMessage, len(msgs))
	for i, m := range msgs {
		out[i] = bot.ChatMessage{Role: m.Role, Content: m.Content}
	}
	return out, nil
}
