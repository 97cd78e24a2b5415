package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// What the managers' web console reads and changes: the same state /mod
// and /appeal use, through the same code.

// Words is the blocked-word list in force (config plus /mod words).
func (m *Moderator) Words(ctx context.Context) ([]string, error) {
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	m.stMu.Lock()
	defer m.stMu.Unlock()
	return slices.Clone(m.words), nil
}

// SetWords replaces the blocked-word list and puts it in force.
func (m *Moderator) SetWords(ctx context.Context, ws []string) error {
	if err := m.load(ctx); err != nil {
		return err
	}
	b, _ := json.Marshal(ws)
	if err := m.kv.Put(ctx, bucket, keyWords, b); err != nil {
		return fmt.Errorf("moderation: store words: %w", err)
	}
	m.stMu.Lock()
	m.words = slices.Clone(ws)
	m.stMu.Unlock()
	m.rules.setWords(ws)
	return nil
}

// DryRun reports whether moderation only decides and logs.
func (m *Moderator) DryRun(ctx context.Context) (bool, error) {
	if err := m.load(ctx); err != nil {
		return false, err
	}
	return m.isDryRun(), nil
}

// SetDryRun turns dry-run on or off.
func (m *Moderator) SetDryRun(ctx context.Context, on bool) error {
	if err := m.load(ctx); err != nil {
		return err
	}
	val := "0"
	if on {
		val = "1"
	}
	if err := m.kv.Put(ctx, bucket, keyDryRun, []byte(val)); err != nil {
		return fmt.Errorf("moderation: store dry-run: %w", err)
	}
	m.stMu.Lock()
	m.dryRun = on
	m.stMu.Unlock()
	return nil
}

// Appeals lists the open appeals, oldest action first.
func (m *Moderator) Appeals(ctx context.Context) ([]Appeal, error) {
	var out []Appeal
	err := m.kv.Scan(ctx, bucket, keyAppeal, keyAppeal+"\xff", func(_ string, v []byte) error {
		var a Appeal
		if json.Unmarshal(v, &a) == nil && a.User != "" {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("moderation: appeals: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Action.Time.Before(out[j].Action.Time) })
	return out, nil
}

// Uphold closes user's open appeal and keeps the action and the strikes.
func (m *Moderator) Uphold(ctx context.Context, user string) error {
	if _, err := m.OpenAppeal(ctx, user); err != nil {
		return err
	}
	if err := m.kv.Delete(ctx, bucket, keyAppeal+user); err != nil {
		return fmt.Errorf("moderation: uphold: %w", err)
	}
	return nil
}

// UserStrikes is a user's current strikes.
type UserStrikes struct {
	User    string
	Strikes float64
}

// StrikeList lists the users with strikes left (decayed), most first.
func (m *Moderator) StrikeList(ctx context.Context) ([]UserStrikes, error) {
	now := m.now()
	var out []UserStrikes
	err := m.kv.Scan(ctx, bucket, keyStrikes, keyStrikes+"\xff", func(k string, v []byte) error {
		var r strikeRecord
		if json.Unmarshal(v, &r) != nil {
			return nil
		}
		if n := m.decay(r, now); n >= 0.05 {
			out = append(out, UserStrikes{User: strings.TrimPrefix(k, keyStrikes), Strikes: n})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("moderation: strikes: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Strikes > out[j].Strikes })
	return out, nil
}
