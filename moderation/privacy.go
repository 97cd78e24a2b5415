package moderation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/chorusbot/chorus/bot"
)

var _ bot.Keeper = (*Moderator)(nil)

// strikesIn returns user's current strikes: all of them when chat is "",
// else the share earned in chat (a chat key).
func (m *Moderator) strikesIn(ctx context.Context, user, chat string) (float64, error) {
	r, err := m.getStrikes(ctx, user)
	if err != nil {
		return 0, err
	}
	d := m.decayed(r, m.now())
	if chat == "" {
		return d.Strikes, nil
	}
	return d.Chats[chat], nil
}

// pardonIn clears user's strikes and closes their open appeal: everything
// when chat is "", else the strikes earned in chat (a chat key) and an
// appeal against an action taken there.
func (m *Moderator) pardonIn(ctx context.Context, user, chat string) error {
	m.endEpisodes(user, chat)
	if chat == "" {
		for _, k := range []string{keyStrikes + user, keyAppeal + user} {
			if err := m.kv.Delete(ctx, bucket, k); err != nil {
				return fmt.Errorf("moderation: pardon: %w", err)
			}
		}
		return nil
	}
	if _, err := m.dropChatStrikes(ctx, user, bot.ViewOfKey(chat)); err != nil {
		return fmt.Errorf("moderation: pardon: %w", err)
	}
	if _, err := m.dropIfIn(ctx, keyAppeal+user, bot.ViewOfKey(chat), func(b []byte) (string, error) {
		var a Appeal
		err := json.Unmarshal(b, &a)
		return a.Action.Chat, err
	}); err != nil {
		return fmt.Errorf("moderation: pardon: %w", err)
	}
	return nil
}

// dropChatStrikes removes the share of user's strikes earned in the chats
// v covers, and reports whether there was one.
func (m *Moderator) dropChatStrikes(ctx context.Context, user string, v bot.View) (bool, error) {
	m.strikes.Lock()
	defer m.strikes.Unlock()
	r, err := m.getStrikes(ctx, user)
	if err != nil {
		return false, err
	}
	d := m.decayed(r, m.now())
	dropped := false
	for c, n := range d.Chats {
		if v.Covers(c) {
			d.Strikes -= n
			delete(d.Chats, c)
			dropped = true
		}
	}
	if !dropped {
		return false, nil
	}
	if d.Strikes < 0.005 && len(d.Chats) == 0 {
		return true, m.kv.Delete(ctx, bucket, keyStrikes+user)
	}
	b, _ := json.Marshal(d)
	return true, m.kv.Put(ctx, bucket, keyStrikes+user, b)
}

// dropIfIn deletes the record at key when the conversation chatOf reads
// from it is one v covers.
func (m *Moderator) dropIfIn(ctx context.Context, key string, v bot.View, chatOf func([]byte) (string, error)) (bool, error) {
	b, err := m.kv.Get(ctx, bucket, key)
	if errors.Is(err, bot.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	conv, err := chatOf(b)
	if err != nil || !v.Covers(conv) {
		// An unreadable record can't say where it was made: it goes only
		// with a forget of everything.
		if err == nil || !v.All() {
			return false, nil
		}
	}
	return true, m.kv.Delete(ctx, bucket, key)
}

// userExport is what moderation holds about a user.
type userExport struct {
	Strikes    float64            `json:"strikes,omitempty"`
	ByChat     map[string]float64 `json:"strikes_by_chat,omitempty"`
	LastAction *lastAction        `json:"last_action,omitempty"`
	Appeal     *Appeal            `json:"open_appeal,omitempty"`
}

// ExportUser implements bot.Keeper: the user's current strikes, the last
// action taken on them (with the excerpt of their message) and their open
// appeal.
func (m *Moderator) ExportUser(ctx context.Context, user string) (any, error) {
	var out userExport
	r, err := m.getStrikes(ctx, user)
	if err != nil {
		return nil, err
	}
	if r.Strikes > 0 {
		d := m.decayed(r, m.now())
		round := func(x float64) float64 { return math.Round(x*100) / 100 }
		out.Strikes = round(d.Strikes)
		for c, n := range d.Chats {
			if out.ByChat == nil {
				out.ByChat = map[string]float64{}
			}
			out.ByChat[c] = round(n)
		}
	}
	if b, err := m.kv.Get(ctx, bucket, keyLast+user); err == nil {
		var la lastAction
		if json.Unmarshal(b, &la) == nil {
			out.LastAction = &la
		}
	} else if !errors.Is(err, bot.ErrNotFound) {
		return nil, fmt.Errorf("moderation: export: %w", err)
	}
	if a, err := m.OpenAppeal(ctx, user); err == nil {
		out.Appeal = &a
	} else if !errors.Is(err, bot.ErrNotFound) {
		return nil, fmt.Errorf("moderation: export: %w", err)
	}
	if out.Strikes == 0 && out.LastAction == nil && out.Appeal == nil {
		return nil, nil
	}
	return out, nil
}

// ForgetUser implements bot.Keeper: it deletes the user's strikes (or,
// for one chat, that chat's share), their last action and open appeal
// (those taken in the chat), and the recent messages the repeat and flood
// rules remember. The audit log's moderation records are the store's to
// anonymise.
func (m *Moderator) ForgetUser(ctx context.Context, req bot.ForgetRequest) (int, error) {
	n := 0
	count := func(changed bool, err error) error {
		if changed {
			n++
		}
		return err
	}
	if req.Scope.All() {
		m.rules.hist.forget(req.User)
		for _, k := range []string{keyStrikes, keyLast, keyAppeal} {
			_, err := m.kv.Get(ctx, bucket, k+req.User)
			if errors.Is(err, bot.ErrNotFound) {
				continue
			}
			if err != nil {
				return n, fmt.Errorf("moderation: forget: %w", err)
			}
			if err := count(true, m.kv.Delete(ctx, bucket, k+req.User)); err != nil {
				return n, fmt.Errorf("moderation: forget: %w", err)
			}
		}
		return n, nil
	}
	if err := count(m.dropChatStrikes(ctx, req.User, req.Scope)); err != nil {
		return n, fmt.Errorf("moderation: forget: %w", err)
	}
	if err := count(m.dropIfIn(ctx, keyLast+req.User, req.Scope, func(b []byte) (string, error) {
		var la lastAction
		err := json.Unmarshal(b, &la)
		return la.Chat, err
	})); err != nil {
		return n, fmt.Errorf("moderation: forget: %w", err)
	}
	if err := count(m.dropIfIn(ctx, keyAppeal+req.User, req.Scope, func(b []byte) (string, error) {
		var a Appeal
		err := json.Unmarshal(b, &a)
		return a.Action.Chat, err
	})); err != nil {
		return n, fmt.Errorf("moderation: forget: %w", err)
	}
	return n, nil
}

// forget drops what the repeat and flood rules remember of user.
func (h *history) forget(user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.users, user)
}
