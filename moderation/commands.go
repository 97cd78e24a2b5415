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
	"mod.pardoned":       "{user} is pardoned: strikes cleared.",
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
}

// Register adds the moderation commands to e (/mod for managers, /appeal
// for everyone) and the moderator's messages to its catalogue.
func Register(e *bot.Engine, m *Moderator) error {
	e.Catalog.Add("en", catalogEN)
	e.Catalog.Add("zh", catalogZH)
	h := func(en, zh string) map[string]string { return map[string]string{"en": en, "zh": zh} }
	if err := e.Register(bot.CommandSpec{Name: "mod", Role: bot.RoleManager, Usage: "words|log|strikes|pardon|dryrun ...",
		Help: h("moderation: word lists, log, strikes, pardons, dry-run", "管理：词表、日志、警告次数、赦免、演练模式"), Run: m.modCommand}); err != nil {
		return fmt.Errorf("moderation: register: %w", err)
	}
	if err := e.Register(bot.CommandSpec{Name: "appeal", Usage: "WHY",
		Help: h("appeal the last moderation action on you", "对针对你的最近一次管理操作提出申诉"), Run: m.appealCommand}); err != nil {
		return fmt.Errorf("moderation: register: %w", err)
	}
	return nil
}

// userArg turns "platform:id" or a bare id (on the asker's platform) into a
// user key.
func userArg(env *bot.Env, s string) (string, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "@")
	if s == "" {
		return "", false
	}
	if _, _, ok := bot.SplitUserKey(s); ok {
		return s, true
	}
	return bot.UserKey(env.Message().Platform, s), true
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
		env.Engine.Audit(ctx, bot.AuditEntry{Platform: msg.Platform, Chat: msg.ConversationKey(), User: user, Actor: msg.UserKey(),
			Kind: "command", Rule: rule, Note: note})
	}
	switch f[0] {
	case "words":
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
			b, _ := json.Marshal(ws)
			if err := m.kv.Put(ctx, bucket, keyWords, b); err != nil {
				return fmt.Errorf("moderation: store words: %w", err)
			}
			m.stMu.Lock()
			m.words = ws
			m.stMu.Unlock()
			m.rules.setWords(ws)
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
			user, _ = userArg(env, f[1])
		}
		es, err := m.audit.AuditLog(ctx, user, 20)
		if err != nil {
			return fmt.Errorf("moderation: read audit log: %w", err)
		}
		if len(es) == 0 {
			return env.Reply(ctx, env.T("mod.log_empty"))
		}
		var b strings.Builder
		for _, a := range es {
			line := fmt.Sprintf("%s %s %s %s %s %s", a.Time.UTC().Format("2006-01-02 15:04"), a.Kind, a.Action, a.User, a.Rule, a.Actor)
			if a.Excerpt != "" {
				line += fmt.Sprintf(" %q", a.Excerpt)
			}
			// Rules and excerpts are what users (and models) wrote.
			b.WriteString(env.Esc(line) + "\n")
		}
		return env.Reply(ctx, strings.TrimSpace(b.String()))
	case "strikes", "pardon":
		if len(f) < 2 {
			return env.Reply(ctx, env.T("mod.usage"))
		}
		user, _ := userArg(env, f[1])
		if f[0] == "strikes" {
			n, err := m.Strikes(ctx, user)
			if err != nil {
				return err
			}
			return env.Reply(ctx, env.T("mod.strikes", "user", user, "strikes", fmt.Sprintf("%.1f", n)))
		}
		if err := m.Pardon(ctx, user); err != nil {
			return err
		}
		auditCmd(user, "/mod pardon", "strikes cleared, appeal closed")
		m.announce(ctx, env.Engine, msg.Platform, fmt.Sprintf("%s pardoned %s", msg.UserKey(), user))
		return env.Reply(ctx, env.T("mod.pardoned", "user", user))
	case "dryrun":
		if len(f) < 2 || (f[1] != "on" && f[1] != "off") {
			return env.Reply(ctx, env.T("mod.usage"))
		}
		val := "0"
		if f[1] == "on" {
			val = "1"
		}
		if err := m.kv.Put(ctx, bucket, keyDryRun, []byte(val)); err != nil {
			return fmt.Errorf("moderation: store dry-run: %w", err)
		}
		m.stMu.Lock()
		m.dryRun = val == "1"
		m.stMu.Unlock()
		auditCmd("", "/mod dryrun", f[1])
		return env.Reply(ctx, env.T("mod.dryrun", "state", f[1]))
	}
	return env.Reply(ctx, env.T("mod.usage"))
}

// Pardon clears user's strikes and closes any open appeal.
func (m *Moderator) Pardon(ctx context.Context, user string) error {
	for _, k := range []string{keyStrikes + user, keyAppeal + user} {
		if err := m.kv.Delete(ctx, bucket, k); err != nil {
			return fmt.Errorf("moderation: pardon: %w", err)
		}
	}
	// A pardon ends the user's episodes: what they do next is judged
	// afresh.
	m.epMu.Lock()
	for k := range m.episodes {
		if u, _, _ := strings.Cut(k, "\x00"); u == user {
			delete(m.episodes, k)
		}
	}
	m.epMu.Unlock()
	return nil
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
	a := Appeal{User: uk, Text: bot.Excerpt(text, 500), Action: last}
	ab, _ := json.Marshal(a)
	if err := m.kv.Put(ctx, bucket, keyAppeal+uk, ab); err != nil {
		return fmt.Errorf("moderation: appeal: %w", err)
	}
	env.Engine.Audit(ctx, bot.AuditEntry{Platform: msg.Platform, Chat: msg.ConversationKey(), User: uk, Actor: uk, Kind: "appeal",
		Rule: string(last.Category), Action: string(last.Action), Excerpt: bot.Excerpt(text, 80)})
	m.announce(ctx, env.Engine, last.Platform, fmt.Sprintf("Appeal from %s (%s) against %s for %s on %s (%q): %s — /mod pardon %s to accept",
		msg.Author.Name, uk, last.Action, last.Category, last.Time.UTC().Format("2006-01-02 15:04"), last.Excerpt, a.Text, uk))
	return env.Reply(ctx, env.T("mod.appeal_sent"))
}
