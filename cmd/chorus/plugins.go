package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/campaigns"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/moderation/replycheck"
	"github.com/chorusbot/chorus/prompts"
	"github.com/chorusbot/chorus/web"
)

// plugins are the parts that plug into the engine: moderation, the checks
// of the bot's own words, analytics, the managers' tools. Each is built
// over what it uses (the store, the model and its prompts) and declares
// what it adds (bot.Plugin); list is the order the engine installs them.
type plugins struct {
	mod      *moderation.Moderator
	checks   *replycheck.Checker
	ana      *analytics.Analytics
	man      *manage.Tools
	camp     *campaigns.Campaigns
	web      *web.Console
	personas *bot.Personas
	// engine is the engine the plug-ins were installed in, set once it is
	// built: the console asks it the role of a signed-in manager.
	engine *bot.Engine
}

// newPlugins builds the plug-ins over the store and the model.
func newPlugins(cfg *Config, log *slog.Logger, st memory.Backend, model bot.LLM, set *prompts.Set, tokens bot.TokenCounter) (*plugins, error) {
	p := &plugins{personas: bot.NewPersonas(cfg.Persona)}
	var err error
	if cfg.Moderation.Enabled {
		p.mod, err = moderation.New(cfg.Moderation, st, st, model, moderation.WithLogger(log.With("component", "moderation")),
			moderation.WithAuditReader(st), moderation.WithPrompts(set))
		if err != nil {
			return nil, err
		}
	}
	// /stats shows the members who joined, which the campaigns (built
	// below, over analytics' classifier) keep.
	members := analytics.MembersFunc(func(ctx context.Context, from, to time.Time, v bot.View) (analytics.Activation, error) {
		return p.camp.Activation(ctx, from, to, v)
	})
	p.ana, err = analytics.New(st, cfg.Analytics, analytics.WithLogger(log.With("component", "analytics")), analytics.WithModel(model, set),
		analytics.WithMembers(members))
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	// The digest's mood uses the classifier analytics already loaded.
	clf := p.ana.Classifier()
	if rc := cfg.Moderation.Replies; rc.Enabled {
		p.checks, err = newReplyChecks(rc, cfg.Analytics.Competitors, p.mod, clf)
		if err != nil {
			return nil, err
		}
	}
	campCfg := cfg.Campaigns
	campCfg.Channels = cfg.Announce.Channels
	deps := campaigns.Deps{KV: st, Knowledge: st.KB(), Log: log.With("component", "campaigns")}
	if p.checks != nil {
		deps.Checks = p.checks
	}
	p.camp, err = campaigns.New(campCfg, cfg.links(), deps)
	if err != nil {
		return nil, err
	}
	manOpts := []manage.Option{manage.WithMood(func(texts []string) string { return mood(clf, texts) }), manage.WithPublisher(p.camp)}
	if p.checks != nil {
		manOpts = append(manOpts, manage.WithChecks(p.checks))
	}
	p.man, err = manage.New(cfg.Announce, manage.Deps{KV: st, History: st, Knowledge: st.KB(), Model: model, Prompts: set,
		Tokens: tokens, Personas: p.personas, Log: log.With("component", "manage")}, manOpts...)
	if err != nil {
		return nil, fmt.Errorf("manage: %w", err)
	}
	if cfg.Web.Listen != "" {
		if p.web, err = newConsole(cfg, log, st, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// list is the plug-ins in the order the engine installs them: analytics
// after moderation, so that it scores what moderation let through.
func (p *plugins) list() []bot.Plugin {
	var out []bot.Plugin
	if p.mod != nil {
		out = append(out, p.mod.Plugin())
	}
	if p.checks != nil {
		out = append(out, p.checks.Plugin())
	}
	out = append(out, p.ana.Plugin(), p.man.Plugin(), p.camp.Plugin())
	if p.web != nil {
		out = append(out, p.web.Plugin())
	}
	return out
}

// newReplyChecks builds the checks of the bot's own words: the
// moderator's rules when moderation runs, analytics' competitors and its
// sentiment classifier for the competitor check.
func newReplyChecks(rc moderation.ReplyChecks, comps []analytics.Competitor, mod *moderation.Moderator, clf analytics.Classifier) (*replycheck.Checker, error) {
	opts := []replycheck.Option{replycheck.WithPolarity(replycheck.PolarityFunc(func(s string) float64 { return clf.Classify(s).Score }))}
	for _, c := range comps {
		opts = append(opts, replycheck.WithCompetitors(replycheck.Competitor{Name: c.Name, Aliases: c.Aliases}))
	}
	if mod != nil {
		opts = append(opts, replycheck.WithRules(mod))
	}
	c, err := replycheck.New(rc, opts...)
	if err != nil {
		return nil, fmt.Errorf("moderation.replies: %w", err)
	}
	return c, nil
}

// mood summarises the sentiment of texts for digests.
func mood(clf analytics.Classifier, texts []string) string {
	if len(texts) == 0 {
		return ""
	}
	counts := map[analytics.Label]int{}
	sum := 0.0
	for _, t := range texts {
		s := clf.Classify(t)
		counts[s.Label]++
		sum += s.Score
	}
	n := float64(len(texts))
	return fmt.Sprintf("%.0f%% negative, %.0f%% neutral, %.0f%% positive (mean %s)",
		100*float64(counts[analytics.Negative])/n, 100*float64(counts[analytics.Neutral])/n,
		100*float64(counts[analytics.Positive])/n, analytics.FormatScore(sum/n))
}
