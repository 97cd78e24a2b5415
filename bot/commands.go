package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// CommandFunc runs a command for the message in env.
type CommandFunc func(ctx context.Context, env *Env, cmd *Command) error

// CommandSpec declares a command: its name, the least role that may run it,
// its help in each language, and what it does. Packages register their
// commands on the engine with Register.
type CommandSpec struct {
	Name string
	// Role is the least role that may run it; the engine checks it on
	// every platform, whatever the platform already filtered.
	Role Role
	// Usage is the argument synopsis ("[hours]").
	Usage string
	// Help is one line per language; "en" is the fallback.
	Help map[string]string
	// Aliases are other names for it (/start for /help).
	Aliases []string
	// Hidden commands are not listed in /help or registered on platforms.
	Hidden bool
	// Community commands need a community-wide role (from config), not
	// one a platform gives in a home chat (Authority.CommunityWide).
	Community bool
	// PrivateArgs keeps the command's arguments (a user it names) out of
	// the stored conversation: only "/name" is stored.
	PrivateArgs bool
	Run         CommandFunc
}

// HelpIn returns the help line for lang.
func (c CommandSpec) HelpIn(lang string) string {
	if h, ok := c.Help[lang]; ok {
		return h
	}
	return c.Help[DefaultLang]
}

// Register adds a command. A later registration of a name replaces the
// earlier one, so a package can override a built-in.
func (e *Engine) Register(c CommandSpec) error {
	if c.Name == "" || c.Run == nil {
		return fmt.Errorf("bot: register command %q: name and Run are required", c.Name)
	}
	e.cmu.Lock()
	defer e.cmu.Unlock()
	c.Name = strings.ToLower(c.Name)
	e.commands[c.Name] = c
	for _, a := range c.Aliases {
		alias := c
		alias.Name, alias.Hidden, alias.Aliases = strings.ToLower(a), true, nil
		e.commands[alias.Name] = alias
	}
	return nil
}

// Commands lists the visible commands a role may run, sorted by name.
// Adapters use it to register slash commands with the platform.
func (e *Engine) Commands(role Role) []CommandSpec {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	var out []CommandSpec
	for _, c := range e.commands {
		if !c.Hidden && c.Role <= role {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b CommandSpec) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Command returns a registered command by name.
func (e *Engine) Command(name string) (CommandSpec, bool) {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	c, ok := e.commands[strings.ToLower(name)]
	return c, ok
}

func (e *Engine) runCommand(ctx context.Context, env *Env, m *Message) error {
	cmd := m.Command
	spec, ok := e.Command(cmd.Name)
	if !ok {
		e.events.Emit(Event{Kind: EventCommand, Platform: m.Platform, Command: "unknown", Outcome: OutcomeNotFound})
		if !e.shouldAnswer(m) && !m.Mentioned {
			// In a busy group a stray /word for another bot isn't ours to
			// answer.
			return nil
		}
		return env.Reply(ctx, env.T("unknown_command", "command", cmd.Name))
	}
	if env.Role < spec.Role {
		e.events.Emit(Event{Kind: EventCommand, Platform: m.Platform, Command: spec.Name, Outcome: OutcomeRefused})
		e.audit(ctx, AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Name: m.Author.Name, Actor: m.UserKey(),
			Kind: AuditRefused, Rule: "/" + spec.Name, Note: "needs " + spec.Role.String()})
		return env.Reply(ctx, env.T("refused_role", "command", spec.Name, "role", env.T("role."+spec.Role.String())))
	}
	if spec.Community {
		if ok, err := env.NeedCommunity(ctx, "/"+spec.Name); !ok {
			e.events.Emit(Event{Kind: EventCommand, Platform: m.Platform, Command: spec.Name, Outcome: OutcomeRefused})
			return err
		}
	}
	err := spec.Run(ctx, env, cmd)
	outcome := OutcomeOK
	if err != nil {
		outcome = OutcomeError
		e.log.Warn("command failed", "command", spec.Name, "platform", m.Platform, "err", err)
		if rerr := env.Reply(ctx, env.T("error")); rerr != nil {
			e.log.Warn("send error reply failed", "err", rerr)
		}
	}
	e.events.Emit(Event{Kind: EventCommand, Platform: m.Platform, Command: spec.Name, Outcome: outcome})
	return nil
}
