package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/moderation"
	"github.com/chorusbot/chorus/moderation/replycheck"
	"github.com/chorusbot/chorus/prompts"
)

// plugins are the parts that plug into the engine: moderation, analytics,
// manager tools. They are built before the engine (they are its
// inspectors and observers) and register their commands after.
type plugins struct {
	mod    *moderation.Moderator
	checks *replycheck.Checker
	ana    *analytics.Analytics
	man    *manage.Tools
}

// auditReader lets moderation read the audit log of the memory store.
type auditReader struct{ st memory.Backend }

func (a auditReader) AuditLog(ctx context.Context, user string, limit int) ([]bot.AuditEntry, error) {
	return a.st.AuditLog(ctx, memory.AuditQuery{User: user, Limit: limit})
}

// newPlugins builds the plug-ins over the store.
func newPlugins(cfg *Config, log *slog.Logger, st memory.Backend, set *prompts.Set) (*plugins, error) {
	p := &plugins{}
	if cfg.Moderation.Enabled {
		var err error
		p.mod, err = moderation.New(cfg.Moderation, st, moderation.WithLogger(log.With("component", "moderation")), moderation.WithAuditReader(auditReader{st}),
			moderation.WithPrompts(set))
		if err != nil {
			return nil, err
		}
	}
	var err error
	p.ana, err = analytics.New(st, cfg.Analytics, analytics.WithLogger(log.With("component", "analytics")), analytics.WithPrompts(set))
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
	manOpts := []manage.Option{manage.WithMood(func(texts []string) string { return mood(clf, texts) }), manage.WithPrompts(set)}
	if p.checks != nil {
		manOpts = append(manOpts, manage.WithChecks(p.checks))
	}
	p.man, err = manage.New(cfg.Announce, manOpts...)
	if err != nil {
		return nil, fmt.Errorf("manage: %w", err)
	}
	return p, nil
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
	return fmt.Sprintf("%.0f%% negative, %.0f%% neutral, %.0f%% positive (mean %+.2f)",
		100*float64(counts[analytics.Negative])/n, 100*float64(counts[analytics.Neutral])/n,
		100*float64(counts[analytics.Positive])/n, sum/n)
}

// run runs the plug-ins' background work until ctx ends: analytics
// flushes its rollups and the manager tools their recorded questions,
// each once more at the end.
func (p *plugins) run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- p.man.Run(ctx) }()
	return errors.Join(p.ana.Run(ctx), <-errc)
}

// options are the engine options of the plug-ins.
func (p *plugins) options() []bot.Option {
	var opts []bot.Option
	if p.mod != nil {
		opts = append(opts, bot.WithInspector(p.mod), bot.WithLabels(moderation.Labels()))
	}
	if p.checks != nil {
		opts = append(opts, bot.WithOutputChecker(p.checks))
	}
	// Analytics scores what moderation let through.
	opts = append(opts, bot.WithInspector(p.ana), bot.WithObserver(p.ana), bot.WithLabels(analytics.Labels()))
	return opts
}

// register adds the plug-ins' commands to the engine.
func (p *plugins) register(e *bot.Engine) error {
	if p.mod != nil {
		if err := moderation.Register(e, p.mod); err != nil {
			return err
		}
	}
	if err := analytics.Register(e, p.ana); err != nil {
		return err
	}
	return manage.Register(e, p.man)
}
