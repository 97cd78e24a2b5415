package moderation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chorusbot/chorus/bot"
)

var catalogEN = map[string]string{
	"mod.notice.warn":    "{name}, please keep it friendly: that message was flagged ({reason}).",
	"mod.notice.delete":  "{name}, a message was removed ({reason}).",
	"mod.notice.timeout": "{name} is muted for {minutes} minutes ({reason}).",
	"mod.notice.ban":     "{name} was removed from the chat ({reason}).",
	"mod.usage":          "Usage: /mod words add|remove|list WORDS, /mod log [USER], /mod strikes USER, /mod pardon USER, /mod dryrun on|off",
	"mod.words":          "{count} listed words: {words}",
	"mod.words_changed":  "Word list updated: {count} words.",
	"mod.strikes":        "{user} has {strikes} strikes.",
	"mod.strikes_chat":   "{user} has {strikes} strikes from this chat.",
	"mod.pardoned":       "{user} is pardoned: strikes cleared.",
	"mod.pardoned_chat":  "{user} is pardoned in this chat: the strikes earned here are cleared.",
	"mod.forgotten":      "(forgotten)",
	"mod.a_manager":      "a manager",
	"mod.dryrun":         "Dry-run is {state}.",
	"mod.log_empty":      "The moderation log is empty.",
	"mod.appeal_usage":   "Usage: /appeal WHY",
	"mod.appeal_none":    "There is no moderation action of yours to appeal.",
	"mod.appeal_sent":    "Your appeal was sent to the managers.",
}

var catalogZH = map[string]string{
	"mod.notice.warn":    "{name}，请保持友善：该消息被标记（{reason}）。",
	"mod.notice.delete":  "{name}，一条消息已被删除（{reason}）。",
	"mod.notice.timeout": "{name} 被禁言 {minutes} 分钟（{reason}）。",
	"mod.notice.ban":     "{name} 已被移出群聊（{reason}）。",
	"mod.appeal_none":    "你没有可申诉的管理操作。",
	"mod.appeal_sent":    "你的申诉已发送给管理员。",
	"mod.appeal_usage":   "用法：/appeal 理由",
	"mod.strikes":        "{user} 有 {strikes} 次警告。",
	"mod.strikes_chat":   "{user} 在本会话中有 {strikes} 次警告。",
	"mod.pardoned":       "{user} 已被赦免：警告已清除。",
	"mod.pardoned_chat":  "{user} 已在本会话中被赦免：在此获得的警告已清除。",
	"mod.forgotten":      "（已遗忘）",
	"mod.a_manager":      "一位管理员",
}

// Plugin is what moderation adds to the engine: the moderator as an
// inspector, /mod for managers and /appeal for everyone with their
// messages, its Keeper (strikes, last actions, appeals) and the labels of
// its events.
func (m *Moderator) Plugin() bot.Plugin {
	h := func(en, zh string) map[string]string { return map[string]string{"en": en, "zh": zh} }
	return bot.Plugin{
		Name:      "moderation",
		Inspector: m,
		Commands: []bot.CommandSpec{
			{Name: "mod", Role: bot.RoleManager, Usage: "words|log|strikes|pardon|dryrun ...", PrivateArgs: true,
				Help: h("moderation: word lists, log, strikes, pardons, dry-run", "管理：词表、日志、警告次数、赦免、演练模式"), Run: m.modCommand},
			{Name: "appeal", Usage: "WHY",
				Help: h("appeal the last moderation action on you", "对针对你的最近一次管理操作提出申诉"), Run: m.appealCommand},
		},
		Catalog: map[string]map[string]string{"en": catalogEN, "zh": catalogZH},
		Keeper:  m,
		Labels:  Labels(),
	}
}

func (m *Moderator) modCommand(ctx context.Context, env *bot.Env, c *bot.Command) error {
	if err := m.load(ctx); err != nil {
		return err
	}
	f := c.Fields()
	if len(f) == 0 {
		return env.Reply(ctx, env.T("mod.usage"))
	}
	msg := env.Message()
	auditCmd := func(user, rule, note string) {
		env.Audit(ctx, bot.AuditEntry{Platform: msg.Platform, Chat: msg.ConversationKey(), User: user, Actor: msg.UserKey(),
			Kind: bot.AuditCommand, Rule: rule, Note: note})
	}
	switch f[0] {
	case "words":
		if ok, err := env.NeedCommunity(ctx, "/mod words"); !ok {
			return err
		}
		if len(f) < 2 {
			return env.Reply(ctx, env.T("mod.usage"))
		}
		m.stMu.Lock()
		ws := slices.Clone(m.words)
		m.stMu.Unlock()
		switch f[1] {
		case "list":
			shown := ws
			if len(shown) > 100 {
				shown = shown[:100]
			}
			return env.Reply(ctx, env.T("mod.words", "count", len(ws), "words", strings.Join(shown, ", ")))
		case "add", "remove":
			args := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(c.Args, "words")), f[1]))
			// Comma-separated phrases, or space-separated words.
			var items []string
			if strings.Contains(args, ",") {
				for _, p := range strings.Split(args, ",") {
					if p = strings.TrimSpace(p); p != "" {
						items = append(items, p)
					}
				}
			} else {
				items = strings.Fields(args)
			}
			if len(items) == 0 {
				return env.Reply(ctx, env.T("mod.usage"))
			}
			for _, it := range items {
				k := squeeze1(Normalize(it))
				i := slices.IndexFunc(ws, func(w string) bool { return squeeze1(Normalize(w)) == k })
				if f[1] == "add" && i < 0 {
					ws = append(ws, it)
				} else if f[1] == "remove" && i >= 0 {
					ws = slices.Delete(ws, i, i+1)
				}
			}
			if err := m.SetWords(ctx, ws); err != nil {
				return err
			}
			auditCmd("", "/mod words "+f[1], fmt.Sprintf("%d items", len(items)))
			return env.Reply(ctx, env.T("mod.words_changed", "count", len(ws)))
		}
		return env.Reply(ctx, env.T("mod.usage"))
	case "log":
		if m.audit == nil {
			return env.Reply(ctx, env.T("not_available"))
		}
		user := ""
		if len(f) > 1 {
			t, ok, err := env.TargetOf(ctx, "mod log", strings.Join(f[1:], " "))
			if !ok {
				return err
			}
			user = t.Key
		}
		return m.logCommand(ctx, env, user)
	case "strikes", "pardon":
		t, ok, err := env.TargetOf(ctx, "mod "+f[0], strings.Join(f[1:], " "))
		if !ok {
			return err
		}
		// A manager of one home chat sees and pardons that chat's share.
		chat := ""
		if !env.Auth.CommunityWide() {
			chat = env.View.Chat()
		}
		if f[0] == "strikes" {
			n, err := m.strikesIn(ctx, t.Key, chat)
			if err != nil {
				return err
			}
			key := "mod.strikes"
			if chat != "" {
				key = "mod.strikes_chat"
			}
			return env.Reply(ctx, env.T(key, "user", t.Name, "strikes", fmt.Sprintf("%.1f", n)))
		}
		if err := m.pardonIn(ctx, t.Key, chat); err != nil {
			return err
		}
		auditCmd(t.Key, "/mod pardon", "strikes cleared, appeal closed")
		m.announce(ctx, env, msg.Platform, fmt.Sprintf("%s pardoned %s (%s)", msg.Author.Name, t.Name, t.Key))
		if chat != "" {
			return env.Reply(ctx, env.T("mod.pardoned_chat", "user", t.Name))
		}
		return env.Reply(ctx, env.T("mod.pardoned", "user", t.Name))
	case "dryrun":
		if ok, err := env.NeedCommunity(ctx, "/mod dryrun"); !ok {
			return err
		}
		if len(f) < 2 || (f[1] != "on" && f[1] != "off") {
			return env.Reply(ctx, env.T("mod.usage"))
		}
		if err := m.SetDryRun(ctx, f[1] == "on"); err != nil {
			return err
		}
		auditCmd("", "/mod dryrun", f[1])
		return env.Reply(ctx, env.T("mod.dryrun", "state", f[1]))
	}
	return env.Reply(ctx, env.T("mod.usage"))
}

// Pardon clears user's strikes and closes any open appeal.
func (m *Moderator) Pardon(ctx context.Context, user string) error { return m.pardonIn(ctx, user, "") }

// logCommand is /mod log [USER]: the latest audit entries the room may
// see, naming people as the room sees them.
func (m *Moderator) logCommand(ctx context.Context, env *bot.Env, user string) error {
	es, err := m.audit.AuditLog(ctx, bot.AuditQuery{User: user, Limit: 500})
	if err != nil {
		return fmt.Errorf("moderation: read audit log: %w", err)
	}
	var b strings.Builder
	n := 0
	for _, a := range es {
		if n == 20 {
			break
		}
		if a.Chat == "" && !env.View.All() || a.Chat != "" && !env.View.Covers(a.Chat) {
			continue
		}
		n++
		who := a.Name
		switch {
		case strings.HasPrefix(a.User, "forgotten:"):
			who = env.T("mod.forgotten")
		case who == "" && a.User != "":
			who = env.T("someone")
		}
		actor := a.Actor
		if p, _, ok := bot.SplitUserKey(actor); ok && p != "model" {
			switch {
			case actor == a.User:
				actor = who // an appeal: by the person it is about
			case strings.HasPrefix(actor, "forgotten:"):
				actor = env.T("mod.forgotten")
			default:
				actor = env.T("mod.a_manager")
			}
		}
		line := fmt.Sprintf("%s %s %s %s %s %s", a.Time.UTC().Format("2006-01-02 15:04"), a.Kind, a.Action, who, a.Rule, actor)
		if a.Excerpt != "" {
			line += fmt.Sprintf(" %q", bot.MaskPII(a.Excerpt))
		}
		// Names, rules and excerpts are what users (and models) wrote.
		b.WriteString(env.Esc(line) + "\n")
	}
	if n == 0 {
		return env.Reply(ctx, env.T("mod.log_empty"))
	}
	return env.Reply(ctx, strings.TrimSpace(b.String()))
}

// Appeal is an open appeal against a moderation action.
type Appeal struct {
	User   string     `json:"user"`
	Text   string     `json:"text"`
	Action lastAction `json:"action"`
}

// OpenAppeal returns user's open appeal, bot.ErrNotFound when none.
func (m *Moderator) OpenAppeal(ctx context.Context, user string) (Appeal, error) {
	var a Appeal
	b, err := m.kv.Get(ctx, bucket, keyAppeal+user)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("moderation: appeal: %w", err)
	}
	return a, nil
}

func (m *Moderator) appealCommand(ctx context.Context, env *bot.Env, c *bot.Command) error {
	text := strings.TrimSpace(c.Args)
	if text == "" {
		return env.Reply(ctx, env.T("mod.appeal_usage"))
	}
	msg := env.Message()
	uk := msg.UserKey()
	b, err := m.kv.Get(ctx, bucket, keyLast+uk)
	if errors.Is(err, bot.ErrNotFound) {
		return env.Reply(ctx, env.T("mod.appeal_none"))
	}
	if err != nil {
		return fmt.Errorf("moderation: appeal: %w", err)
	}
	var last lastAction
	if err := json.Unmarshal(b, &last); err != nil {
		return fmt.Errorf("moderation: appeal: %w", err)
	}
	a := Appeal{User: uk, Text: bot.Excerpt(bot.MaskPII(text), 500), Action: last}
	ab, _ := json.Marshal(a)
	if err := m.kv.Put(ctx, bucket, keyAppeal+uk, ab); err != nil {
		return fmt.Errorf("moderation: appeal: %w", err)
	}
	env.Audit(ctx, bot.AuditEntry{Platform: msg.Platform, Chat: msg.ConversationKey(), User: uk, Name: msg.Author.Name, Actor: uk, Kind: bot.AuditAppeal,
		Rule: string(last.Category), Action: string(last.Action), Excerpt: bot.Excerpt(bot.MaskPII(text), 80)})
	m.announce(ctx, env, last.Platform, fmt.Sprintf("Appeal from %s (%s) against %s for %s on %s (%q): %s — /mod pardon %s to accept",
		msg.Author.Name, uk, last.Action, last.Category, last.Time.UTC().Format("2006-01-02 15:04"), last.Excerpt, a.Text, uk))
	return env.Reply(ctx, env.T("mod.appeal_sent"))
}
