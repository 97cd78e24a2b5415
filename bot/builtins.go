package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

func (e *Engine) registerBuiltins() {
	h := func(en, zh string) map[string]string { return map[string]string{"en": en, "zh": zh} }
	e.catalog.Add("en", map[string]string{"role.follower": "follower", "role.manager": "manager", "role.owner": "owner"})
	e.catalog.Add("zh", map[string]string{"role.follower": "关注者", "role.manager": "管理员", "role.owner": "所有者"})
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(e.Register(CommandSpec{Name: "help", Aliases: []string{"start"}, Help: h("list the commands you can use", "列出你可以使用的命令"),
		Run: func(ctx context.Context, env *Env, _ *Command) error {
			var b strings.Builder
			if env.msg.Command != nil && env.msg.Command.Name == "start" {
				p := e.Persona()
				b.WriteString(env.T("greeting", "name", OneLine(env.msg.Author.Name), "bot", p.BotName, "brand", p.Brand) + "\n\n")
			}
			b.WriteString(env.T("help_header"))
			for _, c := range e.Commands(env.Role) {
				b.WriteString("\n/" + c.Name)
				if c.Usage != "" {
					b.WriteString(" " + c.Usage)
				}
				b.WriteString(" — " + c.HelpIn(env.Lang))
			}
			b.WriteString("\n" + env.T("help_footer"))
			return env.Reply(ctx, b.String())
		}}))
	must(e.Register(CommandSpec{Name: "ask", Usage: "QUESTION", Help: h("ask a question", "提问"),
		Run: func(ctx context.Context, env *Env, c *Command) error {
			if c.Args == "" {
				return env.Reply(ctx, env.T("ask_usage"))
			}
			return e.answer(ctx, env, c.Args)
		}}))
	must(e.Register(CommandSpec{Name: "forget", Usage: "[USER] [confirm]", PrivateArgs: true,
		Help: h("delete everything I hold about you", "删除我保存的关于你的一切"), Run: e.cmdForget}))
	must(e.Register(CommandSpec{Name: "export", Usage: "[USER]", PrivateArgs: true,
		Help: h("get everything I hold about you", "获取我保存的关于你的一切"), Run: e.cmdExport}))
	must(e.Register(CommandSpec{Name: "kb", Usage: "search WORDS", Help: h("search the knowledge base", "搜索知识库"),
		Run: func(ctx context.Context, env *Env, c *Command) error {
			sub, q, _ := strings.Cut(c.Args, " ")
			if sub != "search" || strings.TrimSpace(q) == "" || e.kb == nil {
				if e.kb == nil {
					return env.Reply(ctx, env.T("not_available"))
				}
				return env.Reply(ctx, env.T("kb_usage"))
			}
			ps, err := e.kb.Search(ctx, q, 3)
			if err != nil {
				return err
			}
			if len(ps) == 0 {
				return env.Reply(ctx, env.T("kb_none"))
			}
			var b strings.Builder
			b.WriteString(env.T("kb_results"))
			for i, p := range ps {
				fmt.Fprintf(&b, "\n\n%d. [%s", i+1, p.Source)
				if p.Heading != "" {
					b.WriteString(" — " + p.Heading)
				}
				b.WriteString("] " + Excerpt(p.Text, 300))
			}
			return env.Reply(ctx, b.String())
		}}))
}

// commandTarget resolves the user a privacy command is about: the asker
// when the command names no one (and replies to no one else's message);
// otherwise the user it names, which only managers may do.
func (e *Engine) commandTarget(ctx context.Context, env *Env, command, arg string) (Target, bool, error) {
	m := env.msg
	t, err := e.ResolveTarget(ctx, m, arg)
	if errors.Is(err, ErrNoTarget) {
		return Target{Key: m.UserKey(), Name: m.Author.Name, Self: true}, true, nil
	}
	if err != nil {
		return Target{}, false, env.refuseTarget(ctx, command, err)
	}
	if !t.Self && env.Role < RoleManager {
		return Target{}, false, env.Reply(ctx, env.T("privacy_own_only", "command", command))
	}
	return t, true, nil
}

// cmdForget is /forget [USER] [confirm]: with no user, the asker's data;
// a manager may name another user (any form ResolveTarget accepts). A
// community-wide manager forgets a user everywhere, a manager of one home
// chat only what was written in that chat. Nothing happens before the
// confirmation, which names whose data it is.
func (e *Engine) cmdForget(ctx context.Context, env *Env, c *Command) error {
	f := c.Fields()
	confirm := len(f) > 0 && strings.EqualFold(f[len(f)-1], "confirm")
	if confirm {
		f = f[:len(f)-1]
	}
	t, ok, err := e.commandTarget(ctx, env, "forget", strings.Join(f, " "))
	if !ok {
		return err
	}
	scope := ViewAll()
	where := env.T("privacy_everywhere")
	if !t.Self && !env.Auth.CommunityWide() {
		scope = env.View
		where = env.T("privacy_this_chat")
	}
	if !confirm {
		if t.Self {
			return env.Reply(ctx, env.T("forget_confirm", "name", t.Name))
		}
		return env.Reply(ctx, env.T("forget_confirm_other", "name", t.Name, "user", t.Key, "where", where))
	}
	n, ref, err := e.Forget(ctx, ForgetRequest{User: t.Key, Scope: scope}, env.msg.UserKey())
	if errors.Is(err, ErrForgetStep) {
		e.log.Error("forget did not finish; it finishes at the next start", "ref", ref, "err", err)
		return env.Reply(ctx, env.T("forget_pending"))
	}
	if err != nil {
		return err
	}
	if t.Self {
		return env.Reply(ctx, env.T("forgot", "count", n, "name", t.Name))
	}
	return env.Reply(ctx, env.T("forgot_other", "count", n, "name", t.Name, "user", t.Key, "where", where))
}

// cmdExport is /export [USER], in a direct message: the asker's data, or
// for a community-wide manager another user's.
func (e *Engine) cmdExport(ctx context.Context, env *Env, c *Command) error {
	t, ok, err := e.commandTarget(ctx, env, "export", c.Args)
	if !ok {
		return err
	}
	if env.msg.Chat.Kind != ChatDM {
		return env.Reply(ctx, env.T("export_dm_only"))
	}
	if !t.Self {
		if ok, err := env.NeedCommunity(ctx, "/export"); !ok {
			return err
		}
	}
	data, err := e.Export(ctx, t.Key)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return err
	}
	text := env.T("export_done")
	if !t.Self {
		text = env.T("export_done_other", "name", t.Name, "user", t.Key)
	}
	_, err = env.Send(ctx, Out{Text: text, Attachments: []Attachment{{Name: "chorus-export.json", MIME: "application/json", Data: js}}})
	return err
}
