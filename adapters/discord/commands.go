package discord

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/chorusbot/chorus/bot"
)

// ArgsOption is the name of the one string option a slash command with a
// usage line carries; its value becomes bot.Command.Args.
const ArgsOption = "args"

// ManagerPermissions are the default member permissions of commands for
// managers and owners, so that Discord shows them only to members who
// manage the server. The engine checks the role again on every call.
const ManagerPermissions int64 = discordgo.PermissionManageGuild | discordgo.PermissionModerateMembers

// validCommandName reports whether Discord takes name as a command name:
// 1 to 32 of '-', '_', lower-case letters and digits (`^[-_\p{Ll}\p{N}]{1,32}$`,
// checked by hand: that pattern compiled holds about 1 MB for good).
func validCommandName(name string) bool {
	n := 0
	for _, r := range name {
		if r != '-' && r != '_' && !unicode.Is(unicode.Ll, r) && !unicode.Is(unicode.N, r) {
			return false
		}
		n++
	}
	return n >= 1 && n <= 32
}

// applicationCommands turns the engine's command specs into Discord
// application commands. Names Discord would refuse are skipped.
func applicationCommands(specs []bot.CommandSpec) []*discordgo.ApplicationCommand {
	var out []*discordgo.ApplicationCommand
	for _, c := range specs {
		name := strings.ToLower(c.Name)
		if c.Hidden || !validCommandName(name) {
			continue
		}
		ac := &discordgo.ApplicationCommand{
			Type:        discordgo.ChatApplicationCommand,
			Name:        name,
			Description: clip(firstNonEmpty(c.HelpIn(bot.DefaultLang), "/"+name), 100),
			Options:     []*discordgo.ApplicationCommandOption{},
		}
		if zh := c.Help["zh"]; zh != "" {
			ac.DescriptionLocalizations = &map[discordgo.Locale]string{discordgo.ChineseCN: clip(zh, 100), discordgo.ChineseTW: clip(zh, 100)}
		}
		if c.Role >= bot.RoleManager {
			perms := ManagerPermissions
			ac.DefaultMemberPermissions = &perms
		}
		if c.Usage != "" {
			ac.Options = append(ac.Options, &discordgo.ApplicationCommandOption{
				Type:        discordgo.ApplicationCommandOptionString,
				Name:        ArgsOption,
				Description: clip(c.Usage, 100),
				Required:    !strings.HasPrefix(c.Usage, "["),
			})
		}
		out = append(out, ac)
	}
	return out
}

// registerCommands bulk-overwrites the application's commands, per guild
// when GuildIDs is set, else globally.
func (a *Adapter) registerCommands(ctx context.Context) error {
	if a.commands == nil {
		return nil
	}
	s, err := a.session()
	if err != nil {
		return err
	}
	_, appID := a.ids()
	if appID == "" {
		return fmt.Errorf("discord: register commands: application id unknown (no READY)")
	}
	cmds := applicationCommands(a.commands(bot.RoleOwner))
	guilds := a.cfg.GuildIDs
	if len(guilds) == 0 {
		guilds = []string{""}
	}
	for _, g := range guilds {
		if _, err := s.ApplicationCommandBulkOverwrite(appID, g, cmds, discordgo.WithContext(ctx)); err != nil {
			return mapErr(fmt.Sprintf("register commands (guild %q)", g), err)
		}
	}
	a.log.Info("slash commands registered", "count", len(cmds), "guilds", len(a.cfg.GuildIDs))
	return nil
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
