package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/moderation"
)

// plugins are the parts that plug into the engine: moderation, analytics,
// manager tools. They are built before the engine (they are its
// inspectors and observers) and register their commands after.
type plugins struct {
	mod *moderation.Moderator
}

// auditReader lets moderation read the audit log of the memory store.
type auditReader struct{ st *memory.Store }

func (a auditReader) AuditLog(ctx context.Context, user string, limit int) ([]bot.AuditEntry, error) {
	return a.st.AuditLog(ctx, memory.AuditQuery{User: user, Limit: limit})
}

func moderationConfig(c configs.ModerationConfig) (moderation.Config, error) {
	mc := moderation.Config{
		Enabled: c.Enabled, DryRun: c.DryRun, Words: c.Words, Regexes: c.Regexes,
		AllowedDomains: c.AllowedDomains, BlockedDomains: c.BlockedDomains,
		BlockInvites: c.BlockInvites, BlockShorteners: c.BlockShorteners,
		NewMemberMinutes: c.NewMemberMinutes, MaxMentions: c.MaxMentions, CapsRatio: c.CapsRatio,
		FloodMessages: c.FloodMessages, FloodWindow: c.FloodWindow, RepeatWindow: c.RepeatWindow,
		Classifiers: c.Classifiers, LLMSecondOpinion: c.LLMSecondOpinion,
		ManagersChannel: c.ManagersChannel, ModerateManagers: c.ModerateManagers,
	}
	mc.Policy.HalfLife = c.StrikeHalfLife
	steps, err := c.ParseLadder()
	if err != nil {
		return mc, err
	}
	for _, s := range steps {
		mc.Policy.Ladder = append(mc.Policy.Ladder, moderation.Step{Strikes: s.Strikes, Action: moderation.Action(s.Action), Minutes: s.Minutes})
	}
	return mc, mc.Validate()
}

// newPlugins builds the plug-ins over the store.
func newPlugins(cfg *configs.Config, log *slog.Logger, st *memory.Store) (*plugins, error) {
	p := &plugins{}
	if cfg.Moderation.Enabled {
		mc, err := moderationConfig(cfg.Moderation)
		if err != nil {
			return nil, fmt.Errorf("moderation config: %w", err)
		}
		p.mod, err = moderation.New(mc, st, moderation.WithLogger(log.With("component", "moderation")), moderation.WithAuditReader(auditReader{st}))
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// options are the engine options of the plug-ins.
func (p *plugins) options() []bot.Option {
	var opts []bot.Option
	if p.mod != nil {
		opts = append(opts, bot.WithInspector(p.mod), bot.WithOutputFilter(p.mod))
	}
	return opts
}

// register adds the plug-ins' commands to the engine.
func (p *plugins) register(e *bot.Engine) error {
	if p.mod != nil {
		if err := moderation.Register(e, p.mod); err != nil {
			return err
		}
	}
	return nil
}
