package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chorusbot/chorus/adapters/console"
	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/campaigns"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/memory"
	"github.com/chorusbot/chorus/moderation"
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
// the web listener: the managers' console under /console/, the tracked
// links under /l/ and the conversions at /conversions.
func mountWeb(cfg *Config, a *app, srv *web.Server) {
	if a.plug.web != nil {
		a.plug.web.Mount(srv)
	}
	// Tracked links and the brand site's conversions (package campaigns).
	links := a.plug.camp.Handler()
	srv.Handle("GET /l/{code}", links)
	srv.Handle("POST /conversions", links)
}

// newConsole builds the managers' web console over the store; the role of
// a signed-in identity is the engine's decision for a private message
// from it, asked on every request.
func newConsole(cfg *Config, log *slog.Logger, st memory.Backend, p *plugins) (*web.Console, error) {
	key, err := web.LoadKey(cfg.Web, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	var mod web.Moderation
	if p.mod != nil {
		mod = consoleModeration{p.mod}
	}
	return web.NewConsole(cfg.Web, web.Deps{
		Moderation: mod,
		Drafts:     consoleManage{p.man},
		Campaigns:  consoleCampaigns{p.camp},
		Persona:    consoleManage{p.man},
		KV:         st,
		Auditor:    st,
		Key:        key,
		Log:        log.With("component", "console"),
		Stats:      consoleStats{p.ana},
		History:    st,
		AuditLog:   st,
		Gaps:       p.man,
		Knowledge:  consoleKB{kb: st.KB(), engine: func() *bot.Engine { return p.engine }},
		Authority: func(id web.Identity) bot.Authority {
			if p.engine == nil {
				return bot.Authority{}
			}
			u := bot.User{ID: id.ID, Roles: id.Roles}
			if id.Platform == console.Name {
				// The person at the terminal (serve on the console), as
				// the console adapter says of them.
				u.Role = bot.RoleOwner
			}
			return p.engine.AuthorityOf(&bot.Message{Platform: id.Platform, Author: u, Chat: bot.Chat{ID: id.ID, Kind: bot.ChatDM}})
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

// consoleKB is the knowledge base as the console changes it, and the
// engine's preview of an answer.
type consoleKB struct {
	kb     *memory.KB
	engine func() *bot.Engine
}

func (k consoleKB) Put(ctx context.Context, path string, content []byte) (web.Document, error) {
	if _, err := k.kb.IngestFile(ctx, web.SourceConsole, path, content); err != nil {
		return web.Document{}, err
	}
	docs, err := k.Documents(ctx)
	for _, d := range docs {
		if d.Source == web.SourceConsole && d.Path == path {
			return d, err
		}
	}
	return web.Document{Source: web.SourceConsole, Path: path}, err
}

func (k consoleKB) Documents(ctx context.Context) ([]web.Document, error) {
	docs, err := k.kb.List(ctx)
	out := make([]web.Document, 0, len(docs))
	for _, d := range docs {
		out = append(out, web.Document{Source: d.Source, Path: d.Path, Title: d.Title, Format: d.Format,
			Passages: d.Passages, Bytes: d.Bytes, Ingested: d.Ingested})
	}
	return out, err
}

func (k consoleKB) Remove(ctx context.Context, source, path string) error {
	return k.kb.Remove(ctx, source, path)
}

func (k consoleKB) Preview(ctx context.Context, question string) (bot.Preview, error) {
	e := k.engine()
	if e == nil {
		return bot.Preview{}, fmt.Errorf("the engine is not running")
	}
	return e.Preview(ctx, question)
}

// consoleModeration is the moderator as the console's moderation page
// uses it.
type consoleModeration struct{ *moderation.Moderator }

func (m consoleModeration) Appeals(ctx context.Context) ([]web.Appeal, error) {
	as, err := m.Moderator.Appeals(ctx)
	out := make([]web.Appeal, 0, len(as))
	for _, a := range as {
		out = append(out, web.Appeal{User: a.User, Text: a.Text, Time: a.Action.Time, Chat: a.Action.Chat,
			Category: string(a.Action.Category), Action: string(a.Action.Action), Excerpt: a.Action.Excerpt})
	}
	return out, err
}

func (m consoleModeration) Strikes(ctx context.Context) ([]web.Strikes, error) {
	ss, err := m.StrikeList(ctx)
	out := make([]web.Strikes, 0, len(ss))
	for _, s := range ss {
		out = append(out, web.Strikes{User: s.User, Strikes: s.Strikes})
	}
	return out, err
}

// consoleCampaigns is the campaigns' report as the console's Campaigns
// page reads it.
type consoleCampaigns struct{ c *campaigns.Campaigns }

func (cc consoleCampaigns) CampaignReport(ctx context.Context, period time.Duration) (web.CampaignReport, error) {
	rep, err := cc.c.Report(ctx, period)
	if err != nil {
		return web.CampaignReport{}, err
	}
	row := func(r campaigns.Row) web.CampaignRow {
		out := web.CampaignRow{ID: r.ID, Kind: string(r.Kind), Platform: r.Platform, Chat: r.Chat, Sent: r.Sent, Late: r.Late, Reach: r.Reach,
			Clicks: r.Clicks, Unique: r.Unique, Conversions: r.Conversions, CTR: -1, Rate: -1, Value: campaigns.Money(r.Values)}
		if v, ok := r.CTR(); ok {
			out.CTR = v
		}
		if v, ok := r.ConversionRate(); ok {
			out.Rate = v
		}
		return out
	}
	out := web.CampaignReport{Total: row(rep.Total), Days: rep.Days, Clicks: rep.Clicks}
	for _, r := range rep.Rows {
		out.Rows = append(out.Rows, row(r))
	}
	return out, nil
}

// consoleManage is the managers' tools as the console's drafts and
// persona pages use them.
type consoleManage struct{ *manage.Tools }

func (m consoleManage) Drafts(ctx context.Context) ([]web.Draft, error) {
	ds, err := m.Tools.Drafts(ctx)
	out := make([]web.Draft, 0, len(ds))
	for _, d := range ds {
		out = append(out, web.Draft{ID: d.ID, Platform: d.Platform, Brief: d.Brief, Text: d.Text, Author: d.Author, Created: d.Created, Flags: d.Flags})
	}
	return out, err
}

func (m consoleManage) LastPost(user string) (web.LastPost, bool) {
	lp, ok := m.LastPostOf(user)
	return web.LastPost{Platform: lp.Platform, Brief: lp.Brief, Variants: lp.Variants, Flags: lp.Flags}, ok
}

func (m consoleManage) SetPersona(ctx context.Context, fields map[string]string) (bot.Persona, error) {
	vs := make(map[manage.Field]string, len(fields))
	for k, v := range fields {
		vs[manage.Field(k)] = v
	}
	return m.Tools.SetPersona(ctx, vs)
}
