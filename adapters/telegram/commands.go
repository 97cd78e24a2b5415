package telegram

import (
	"context"
	"strconv"
	"strings"

	"github.com/chorusbot/chorus/bot"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// validCommand is Telegram's rule for command names: [a-z0-9_]{1,32}.
func validCommand(name string) bool {
	if len(name) == 0 || len(name) > bot.MaxCommandName {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func botCommands(specs []bot.CommandSpec, lang string) []models.BotCommand {
	var out []models.BotCommand
	for _, c := range specs {
		if c.Hidden || !validCommand(c.Name) {
			continue
		}
		d := strings.TrimSpace(c.HelpIn(lang))
		if d == "" {
			d = c.Name
		}
		if r := []rune(d); len(r) > 256 {
			d = string(r[:255]) + "…"
		}
		out = append(out, models.BotCommand{Command: c.Name, Description: d})
	}
	return out
}

// registerCommands calls setMyCommands for followers (default scope) and
// managers (the administrators of the home chats, and the private chats of
// configured managers), in English and Chinese. Failures are logged: the
// bot works without a command menu.
func (a *Adapter) registerCommands(ctx context.Context) {
	if a.commands == nil {
		return
	}
	type reg struct {
		scope models.BotCommandScope
		role  bot.Role
	}
	regs := []reg{{&models.BotCommandScopeDefault{}, bot.RoleFollower}}
	for _, id := range a.cfg.HomeChatIDs {
		n, _ := strconv.ParseInt(id, 10, 64)
		regs = append(regs, reg{&models.BotCommandScopeChatAdministrators{ChatID: n}, bot.RoleManager})
	}
	n := 0
	for id := range a.managers {
		if n >= 20 {
			break
		}
		regs = append(regs, reg{&models.BotCommandScopeChat{ChatID: id}, bot.RoleManager})
		n++
	}
	for _, r := range regs {
		specs := a.commands(r.role)
		for _, lang := range []string{"", "zh"} {
			l := lang
			if l == "" {
				l = bot.DefaultLang
			}
			cmds := botCommands(specs, l)
			if len(cmds) == 0 {
				continue
			}
			p := &tg.SetMyCommandsParams{Commands: cmds, Scope: r.scope, LanguageCode: lang}
			if err := a.do(ctx, "setMyCommands", 3, func(ctx context.Context) error {
				_, err := a.api.SetMyCommands(ctx, p)
				return err
			}); err != nil {
				a.log.Warn("setMyCommands failed", "err", err)
				return
			}
		}
	}
}
