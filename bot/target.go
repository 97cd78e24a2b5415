package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Target is the user a command is about (/forget, /export, /mod strikes).
type Target struct {
	// Key is the user key ("telegram:42").
	Key string
	// Name is how to name them: their display name when known, else Key.
	Name string
	// Self is set when the target is the asker.
	Self bool
}

// ErrNoTarget is returned by ResolveTarget when the command names no user
// and replies to no one's message.
var ErrNoTarget = errors.New("bot: no user named")

// TargetError says why the user a command names can't be told: nobody
// known matches, or several do (Candidates).
type TargetError struct {
	Arg        string
	Candidates []Profile
}

func (e *TargetError) Error() string {
	if len(e.Candidates) > 1 {
		return fmt.Sprintf("bot: %q matches %d users", e.Arg, len(e.Candidates))
	}
	return fmt.Sprintf("bot: no known user matches %q", e.Arg)
}

// maxCandidates bounds the candidates listed for an ambiguous name.
const maxCandidates = 8

var reDiscordMention = regexp.MustCompile(`^<@!?([0-9]{5,25})>$`)

// ResolveTarget resolves the user a command written as m is about, from
// its user argument arg. It accepts exactly:
//
//   - PLATFORM:ID of a platform the engine runs ("telegram:42");
//   - a mention the platform resolved (a Discord <@ID>, a Telegram text
//     mention), or an @username or display name that is the current one
//     of exactly one known user of m's platform;
//   - no argument, when m replies to another user's message: that user.
//
// Anything else fails: ErrNoTarget when there is no argument and no such
// reply, a *TargetError when no known user, or several, match. Only the
// caller decides that no argument means "myself" (/forget alone).
func (e *Engine) ResolveTarget(ctx context.Context, m *Message, arg string) (Target, error) {
	// EscapeMarkdown puts a word joiner after the '@' of a name the bot
	// repeats; a manager copying the name back means the name.
	arg = strings.TrimSpace(strings.ReplaceAll(arg, "\u2060", ""))
	self := func(t Target) Target {
		t.Self = t.Key == m.UserKey()
		return t
	}
	if arg == "" {
		if r := m.ReplyToUser; r != nil && !m.ReplyToBot && !r.IsBot && r.ID != "" {
			return self(e.namedTarget(ctx, UserKey(m.Platform, r.ID), r.Name)), nil
		}
		return Target{}, ErrNoTarget
	}
	if sub := reDiscordMention.FindStringSubmatch(arg); sub != nil && m.Platform == "discord" {
		return self(e.namedTarget(ctx, UserKey(m.Platform, sub[1]), "")), nil
	}
	if p, _, ok := SplitUserKey(arg); ok && !strings.ContainsAny(arg, " \t") {
		if _, known := e.Platform(p); known {
			return self(e.namedTarget(ctx, arg, "")), nil
		}
	}
	name := strings.TrimPrefix(arg, "@")
	for _, u := range m.Mentions {
		if u.ID != "" && (strings.EqualFold(u.Handle, name) || (u.Name != "" && strings.EqualFold(u.Name, arg))) {
			return self(e.namedTarget(ctx, UserKey(m.Platform, u.ID), u.Name)), nil
		}
	}
	if name == "" {
		return Target{}, &TargetError{Arg: arg}
	}
	found, err := e.store.FindUsers(ctx, m.Platform, name, maxCandidates+1)
	if err != nil {
		return Target{}, fmt.Errorf("bot: resolve %q: %w", arg, err)
	}
	switch len(found) {
	case 0:
		return Target{}, &TargetError{Arg: arg}
	case 1:
		return self(Target{Key: found[0].User, Name: profileName(found[0])}), nil
	}
	return Target{}, &TargetError{Arg: arg, Candidates: found}
}

// namedTarget names key from its profile when known, else from hint, else
// by the key itself.
func (e *Engine) namedTarget(ctx context.Context, key, hint string) Target {
	t := Target{Key: key, Name: hint}
	if p, err := e.store.Profile(ctx, key); err == nil {
		if n := profileName(p); n != "" {
			t.Name = n
		}
	}
	if t.Name == "" {
		t.Name = key
	}
	return t
}

// profileName is the user's current display name, else @handle.
func profileName(p Profile) string {
	if n := len(p.Names); n > 0 {
		return p.Names[n-1]
	}
	if p.Handle != "" {
		return "@" + p.Handle
	}
	return ""
}

// TargetOf resolves the user a command is about (see ResolveTarget) and,
// when it can't, answers the asker with the forms a user may be named in
// and, for a name several people share, the candidates; ok is then false.
// No argument and no reply is refused too: the caller handles "myself"
// before calling.
func (env *Env) TargetOf(ctx context.Context, command, arg string) (Target, bool, error) {
	t, err := env.e.ResolveTarget(ctx, env.msg, arg)
	if err != nil {
		return Target{}, false, env.refuseTarget(ctx, command, err)
	}
	return t, true, nil
}

// refuseTarget answers a failed ResolveTarget; other errors are returned.
func (env *Env) refuseTarget(ctx context.Context, command string, err error) error {
	m := env.msg
	var te *TargetError
	switch {
	case errors.Is(err, ErrNoTarget):
		return env.Reply(ctx, env.T("target_missing", "command", command, "platform", m.Platform))
	case errors.As(err, &te) && len(te.Candidates) > 1:
		names := make([]string, 0, len(te.Candidates))
		for i, p := range te.Candidates {
			if i == maxCandidates {
				names = append(names, "…")
				break
			}
			c := profileName(p) + " (" + p.User
			if p.Handle != "" {
				c += ", @" + p.Handle
			}
			names = append(names, c+")")
		}
		return env.Reply(ctx, env.T("target_ambiguous", "arg", te.Arg, "candidates", strings.Join(names, "; "), "command", command))
	case errors.As(err, &te):
		return env.Reply(ctx, env.T("target_unknown", "arg", te.Arg, "command", command, "platform", m.Platform))
	}
	return err
}
