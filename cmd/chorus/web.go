package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/web"
)

// newWebServer builds the public web listener (web.listen) with every
// package's public handlers mounted: nil when the listener is disabled.
// A package with public pages mounts them here with srv.Handle and a Go
// 1.22 ServeMux pattern ("GET /l/{code}").
func newWebServer(cfg *Config, log *slog.Logger, a *app) *web.Server {
	if cfg.Web.Listen == "" {
		return nil
	}
	srv := web.NewServer(cfg.Web.Listen, web.WithLogger(log.With("component", "web")))
	mountWeb(cfg, a, srv)
	return srv
}

// mountWeb mounts the public handlers of the packages that serve any on
// the web listener: the managers' console under /console/.
func mountWeb(cfg *Config, a *app, srv *web.Server) {
	if a.plug.web != nil {
		a.plug.web.Mount(srv)
	}
}

// newConsole builds the managers' web console over the store; the role of
// a signed-in identity is the engine's decision for a private message
// from it, asked on every request.
func newConsole(cfg *Config, log *slog.Logger, st memory.Backend, p *plugins) (*web.Console, error) {
	key, err := web.LoadKey(cfg.Web, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return web.NewConsole(cfg.Web, web.Deps{
		KV:      st,
		Auditor: st,
		Key:     key,
		Log:     log.With("component", "console"),
		Stats:   consoleStats{p.ana},
		Authority: func(id web.Identity) bot.Authority {
			if p.engine == nil {
				return bot.Authority{}
			}
			return p.engine.AuthorityOf(&bot.Message{Platform: id.Platform, Author: bot.User{ID: id.ID, Roles: id.Roles},
				Chat: bot.Chat{ID: id.ID, Kind: bot.ChatDM}})
		},
	})
}

// runConsoleLink prints a sign-in link to the web console for a manager
// or owner named in the configuration: the way in for the first owner,
// before any chat platform is set up. It opens no store, so it works
// while chorus serve runs.
func runConsoleLink(_ context.Context, env *cliEnv, args []string) error {
	fs, g := newFlagSet("console-link", env)
	user := fs.String("user", "", "the manager or owner, as PLATFORM:ID (telegram:42, discord:1234)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	id, err := web.ParseUser(*user)
	if err != nil {
		return fmt.Errorf("%w: --user must be PLATFORM:ID, got %q", errUsage, *user)
	}
	cfg, err := loadConfig(g, env)
	if err != nil {
		return err
	}
	if cfg.Web.Listen == "" {
		return fmt.Errorf("the web console is disabled: set web.listen")
	}
	roles := cfg.roles()
	role := bot.RoleFollower
	for _, k := range roles.Managers {
		if k == id.Key() {
			role = bot.RoleManager
		}
	}
	for _, k := range roles.Owners {
		if k == id.Key() {
			role = bot.RoleOwner
		}
	}
	if role < bot.RoleManager {
		return fmt.Errorf("%s is not a manager or owner: add it to roles.owners or roles.managers (or the platform's manager ids) first", id.Key())
	}
	key, err := web.LoadKey(cfg.Web, cfg.DataDir)
	if err != nil {
		return err
	}
	link, err := web.NewSigner(key, cfg.Web.Base()).Link(id)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s\n(sign-in link for %s, %s; valid %s, works once)\n", link, id.Key(), role, web.LinkTTL)
	return nil
}

// consoleStats is analytics as the console's overview reads it.
type consoleStats struct{ a *analytics.Analytics }

func (s consoleStats) Overview(ctx context.Context, period time.Duration, v bot.View) (web.Overview, error) {
	en, err := s.a.Engagement(ctx, period, v)
	if err != nil {
		return web.Overview{}, err
	}
	o := web.Overview{Messages: en.Messages, ActiveUsers: en.ActiveUsers, Replies: en.Replies, RepliesOK: en.RepliesOK,
		ReplyRate: en.ReplyRate, MedianFirstReply: en.MedianFirstReply, Step: analytics.StepOf(period)}
	for _, p := range en.Series {
		o.Series = append(o.Series, web.Point{Time: p.Time, Counts: p.Counts, Users: p.Users})
		for i := range p.Counts {
			o.Counts[i] += p.Counts[i]
		}
	}
	return o, nil
}

func (s consoleStats) Chats(ctx context.Context, period time.Duration) ([]web.ChatInfo, error) {
	cs, err := s.a.Chats(ctx, period, bot.ViewAll())
	out := make([]web.ChatInfo, 0, len(cs))
	for _, c := range cs {
		out = append(out, web.ChatInfo{Key: c.Chat, Title: c.Title, Messages: c.Messages})
	}
	return out, err
}
