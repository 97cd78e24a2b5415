package web

import (
	"context"

	"github.com/chorusbot/chorus/bot"
)

// Plugin is what the console adds to the engine: the /console command,
// which gives a manager or owner a sign-in link in a private message.
func (c *Console) Plugin() bot.Plugin {
	cat := map[string]map[string]string{}
	for _, l := range langs {
		cat[l] = map[string]string{
			"web.console_link":    messages[l]["console.link"],
			"web.console_dm_only": messages[l]["console.dm_only"],
		}
	}
	return bot.Plugin{
		Name:     "web",
		Catalog:  cat,
		Run:      c.Run,
		Observer: bot.ObserverFunc(func(e bot.Event) { c.alerts.Observe(e); c.review.Observe(e) }),
		Keeper:   c,
		Commands: []bot.CommandSpec{{
			Name: "console", Role: bot.RoleManager, PrivateArgs: true,
			Help: map[string]string{"en": "a sign-in link to the web console (in a private message)", "zh": "获取网页控制台的登录链接（私聊）"},
			Run:  c.cmdConsole,
		}},
	}
}

// cmdConsole answers /console: a link only in a private message, since
// whoever opens it first is signed in as the manager.
func (c *Console) cmdConsole(ctx context.Context, env *bot.Env, _ *bot.Command) error {
	m := env.Message()
	if m.Chat.Kind != bot.ChatDM {
		return env.Reply(ctx, env.T("web.console_dm_only"))
	}
	link, err := c.signer.Link(Identity{Platform: m.Platform, ID: m.Author.ID, Name: m.Author.Name, Roles: m.Author.Roles})
	if err != nil {
		return err
	}
	return env.Reply(ctx, env.T("web.console_link", "link", link))
}
