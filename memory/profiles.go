package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// Bounds on a profile, so one noisy user can't grow a record without limit.
const (
	maxNames  = 20
	maxTopics = 200
)

// Touch implements bot.Profiles: it records the author's display name (the
// most recent last), first and last seen, the message count and, when not
// empty, the language.
func (s *Store) Touch(ctx context.Context, m *bot.Message, lang string) error {
	err := s.update(ctx, s.touchFn(m, lang))
	if err != nil {
		return fmt.Errorf("memory: touch: %w", err)
	}
	return nil
}

// touchFn is Touch as a transaction step, for the engine's fast path.
func (s *Store) touchFn(m *bot.Message, lang string) func(*bolt.Tx) error {
	user := m.UserKey()
	at := m.Time
	if at.IsZero() {
		at = s.now()
	}
	name := cleanText(m.Author.Name)
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(bProfiles)
		k := nameKey(user)
		p := bot.Profile{User: user, FirstSeen: at}
		if v := b.Get(k); v != nil {
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
		}
		if name != "" {
			if i := slices.Index(p.Names, name); i >= 0 {
				p.Names = slices.Delete(p.Names, i, i+1)
			}
			p.Names = append(p.Names, name)
			if len(p.Names) > maxNames {
				p.Names = slices.Delete(p.Names, 0, len(p.Names)-maxNames)
			}
		}
		if at.Before(p.FirstSeen) {
			p.FirstSeen = at
		}
		if at.After(p.LastSeen) {
			p.LastSeen = at
		}
		p.Messages++
		if lang != "" {
			p.Lang = lang
		}
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return b.Put(k, body)
	}
}

// Profile implements bot.Profiles; it returns bot.ErrNotFound for a user
// never touched (or forgotten).
func (s *Store) Profile(ctx context.Context, user string) (bot.Profile, error) {
	var p bot.Profile
	found := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bProfiles)
		if b == nil {
			return nil
		}
		v := b.Get(nameKey(user))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &p)
	})
	if err != nil {
		return bot.Profile{}, fmt.Errorf("memory: profile: %w", err)
	}
	if !found {
		return bot.Profile{}, fmt.Errorf("memory: profile %q: %w", user, bot.ErrNotFound)
	}
	return p, nil
}

// AddTopics implements bot.Profiles. Topics of an unknown user are dropped:
// a profile starts with a message (Touch). Past maxTopics distinct topics,
// new ones are ignored.
func (s *Store) AddTopics(ctx context.Context, user string, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	err := s.update(ctx, s.addTopicsFn(user, topics))
	if err != nil {
		return fmt.Errorf("memory: add topics: %w", err)
	}
	return nil
}

// addTopicsFn is AddTopics as a transaction step, for the engine's fast path.
func (s *Store) addTopicsFn(user string, topics []string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(bProfiles)
		k := nameKey(user)
		v := b.Get(k)
		if v == nil {
			return nil
		}
		var p bot.Profile
		if err := json.Unmarshal(v, &p); err != nil {
			return err
		}
		if p.Topics == nil {
			p.Topics = map[string]int{}
		}
		for _, t := range topics {
			t = cleanText(t)
			if _, ok := p.Topics[t]; ok || len(p.Topics) < maxTopics {
				p.Topics[t]++
			}
		}
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return b.Put(k, body)
	}
}
