package manage

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// pendingAnnouncement waits for its owner's confirmation. It is kept in
// memory: a restart forgets it and the owner asks again, which is the safe
// way round for something that posts publicly.
type pendingAnnouncement struct {
	Code    string
	Text    string
	Expires time.Time
}

// channel is one announcement destination.
type channel struct {
	Platform string
	ID       string
}

// channels lists the configured destinations, by platform then in config
// order.
func (t *Tools) channels() []channel {
	names := make([]string, 0, len(t.cfg.Channels))
	for p := range t.cfg.Channels {
		names = append(names, p)
	}
	slices.Sort(names)
	var out []channel
	for _, p := range names {
		for _, id := range t.cfg.Channels[p] {
			out = append(out, channel{Platform: p, ID: id})
		}
	}
	return out
}

func (t *Tools) cmdAnnounce(ctx context.Context, env *bot.Env, c *bot.Command) error {
	text := strings.TrimSpace(c.Args)
	sub, rest, _ := strings.Cut(text, " ")
	user := env.Message().UserKey()
	switch strings.ToLower(sub) {
	case "":
		return env.Reply(ctx, env.T("manage.announce_usage"))
	case "cancel":
		t.amu.Lock()
		_, had := t.pending[user]
		delete(t.pending, user)
		t.amu.Unlock()
		if !had {
			return env.Reply(ctx, env.T("manage.announce_nothing"))
		}
		return env.Reply(ctx, env.T("manage.announce_cancelled"))
	case "confirm":
		return t.confirmAnnounce(ctx, env, strings.TrimSpace(rest))
	}
	chs := t.channels()
	if len(chs) == 0 {
		return env.Reply(ctx, env.T("manage.announce_no_channels"))
	}
	code, err := newCode()
	if err != nil {
		return fmt.Errorf("manage: announce: %w", err)
	}
	t.amu.Lock()
	t.pending[user] = pendingAnnouncement{Code: code, Text: text, Expires: t.now().Add(t.cfg.AnnounceTTL)}
	t.amu.Unlock()
	var dests []string
	for _, ch := range chs {
		d := ch.Platform + " " + ch.ID
		if _, ok := env.PlatformFor(ch.Platform); !ok {
			d += " (" + env.T("manage.announce_not_connected") + ")"
		}
		dests = append(dests, d)
	}
	preview := env.T("manage.announce_preview", "count", len(chs), "channels", strings.Join(dests, ", "),
		"minutes", int(t.cfg.AnnounceTTL.Minutes()), "code", code) + "\n\n" + text
	if flags := t.checkAnnouncement(ctx, env, text); len(flags) > 0 {
		warn := "\n\n" + env.T("manage.announce_warning")
		for _, f := range flags {
			warn += "\n• " + env.T("manage.announce_flag", "check", string(f.Check), "detail", f.Detail)
		}
		preview += warn
	}
	return env.Reply(ctx, preview)
}

// checkAnnouncement runs the output checks on an announcement, grounded
// in the knowledge base and the persona: what the owner writes is not its
// own proof that a price or a date is right.
func (t *Tools) checkAnnouncement(ctx context.Context, env *bot.Env, text string) []bot.Flag {
	if t.checks == nil {
		return nil
	}
	g := &bot.Grounding{Lang: env.Lang, Persona: env.Persona()}
	if kb := t.kb; kb != nil {
		ps, err := kb.Search(ctx, text, t.cfg.PostPassages)
		if err != nil {
			t.log.Warn("manage: announce: knowledge search failed", "err", err)
		}
		g.Passages = ps
	}
	return bot.CheckText(ctx, t.checks, text, g)
}

// sendAnnouncement sends text to ch: through the Publisher when there is
// one (a campaign of its own, links tracked), else directly.
func (t *Tools) sendAnnouncement(ctx context.Context, pl bot.Platform, author, text string, ch channel) error {
	if t.publisher != nil {
		return t.publisher.Announce(ctx, author, text, ch.Platform, ch.ID)
	}
	_, err := bot.SendSplit(ctx, pl, bot.Out{Chat: bot.Chat{ID: ch.ID, Kind: bot.ChatChannel}, Text: text, Final: true})
	return err
}

// newCode is six random digits.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func (t *Tools) confirmAnnounce(ctx context.Context, env *bot.Env, code string) error {
	user := env.Message().UserKey()
	t.amu.Lock()
	p, ok := t.pending[user]
	if ok && p.Code == code && t.now().Before(p.Expires) {
		delete(t.pending, user) // one send per preview, even if two confirms race
	}
	t.amu.Unlock()
	switch {
	case !ok:
		return env.Reply(ctx, env.T("manage.announce_nothing"))
	case code == "" || p.Code != code:
		return env.Reply(ctx, env.T("manage.announce_bad_code"))
	case !t.now().Before(p.Expires):
		t.amu.Lock()
		if cur, still := t.pending[user]; still && cur.Code == p.Code {
			delete(t.pending, user)
		}
		t.amu.Unlock()
		return env.Reply(ctx, env.T("manage.announce_expired"))
	}
	var b strings.Builder
	sent, total := 0, 0
	var failed []string
	for _, ch := range t.channels() {
		total++
		line := ch.Platform + " " + ch.ID + ": "
		pl, ok := env.PlatformFor(ch.Platform)
		if !ok {
			line += "✗ " + env.T("manage.announce_not_connected")
			failed = append(failed, ch.Platform+" "+ch.ID)
		} else if err := t.sendAnnouncement(ctx, pl, user, p.Text, ch); err != nil {
			t.log.Warn("manage: announcement failed", "platform", ch.Platform, "chat", ch.ID, "err", err)
			line += "✗ " + clip(err.Error(), 120)
			failed = append(failed, ch.Platform+" "+ch.ID)
		} else {
			line += "✓"
			sent++
		}
		b.WriteString("\n" + line)
	}
	m := env.Message()
	note := fmt.Sprintf("sent to %d of %d channels", sent, total)
	if len(failed) > 0 {
		note += "; failed: " + strings.Join(failed, ", ")
	}
	env.Audit(ctx, bot.AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Actor: m.UserKey(),
		Kind: bot.AuditAnnounce, Action: "send", Excerpt: clip(p.Text, 200), Note: note})
	return env.Reply(ctx, env.T("manage.announce_report", "sent", sent, "total", total)+b.String())
}
