package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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
	handle := cleanText(strings.TrimPrefix(m.Author.Handle, "@"))
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(bProfiles)
		k := nameKey(user)
		p := bot.Profile{User: user, FirstSeen: at}
		if v := b.Get(k); v != nil {
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
		}
		oldName, oldHandle := currentName(p), p.Handle
		if handle != "" {
			p.Handle = handle
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
		if err := reindexNames(tx, user, []string{oldName, oldHandle}, []string{currentName(p), p.Handle}); err != nil {
			return err
		}
		return b.Put(k, body)
	}
}

// The names index, names/<platform>\x00<lower-case name>\x00<user key>,
// finds users by their current display name or @username for the
// commands that take a user (bot.Directory). Only the current name and
// handle are indexed: an old name matching someone else would make a
// target ambiguous for no reason.

// maxIndexedName bounds an indexed name; longer names are not found.
const maxIndexedName = 256

func currentName(p bot.Profile) string {
	if n := len(p.Names); n > 0 {
		return p.Names[n-1]
	}
	return ""
}

func nameIndexKey(user, name string) []byte {
	platform, _, _ := strings.Cut(user, ":")
	return []byte(platform + "\x00" + strings.ToLower(name) + "\x00" + user)
}

// reindexNames replaces user's index entries for the names in old with
// those in cur.
func reindexNames(tx *bolt.Tx, user string, old, cur []string) error {
	if slices.Equal(old, cur) {
		return nil
	}
	ix := tx.Bucket(bNames)
	for _, n := range old {
		if n != "" && len(n) <= maxIndexedName && !slices.Contains(cur, n) {
			if err := ix.Delete(nameIndexKey(user, n)); err != nil {
				return err
			}
		}
	}
	for _, n := range cur {
		if n != "" && len(n) <= maxIndexedName {
			if err := ix.Put(nameIndexKey(user, n), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// indexAllNames builds the names index from every profile.
func indexAllNames(tx *bolt.Tx) error {
	return tx.Bucket(bProfiles).ForEach(func(_, v []byte) error {
		var p bot.Profile
		if json.Unmarshal(v, &p) != nil || p.User == "" {
			return nil // an unreadable profile is not findable by name
		}
		return reindexNames(tx, p.User, nil, []string{currentName(p), p.Handle})
	})
}

// FindUsers implements bot.Directory from the names index: users of
// platform whose current display name or @username is name, ignoring
// case, at most limit, in user-key order.
func (s *Store) FindUsers(ctx context.Context, platform, name string, limit int) ([]bot.Profile, error) {
	name = strings.TrimSpace(name)
	if platform == "" || name == "" || limit <= 0 || len(name) > maxIndexedName {
		return nil, nil
	}
	prefix := []byte(platform + "\x00" + strings.ToLower(name) + "\x00")
	var out []bot.Profile
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ix, profiles := tx.Bucket(bNames), tx.Bucket(bProfiles)
		if ix == nil || profiles == nil {
			return nil
		}
		c := ix.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			v := profiles.Get(nameKey(string(k[len(prefix):])))
			if v == nil {
				continue
			}
			var p bot.Profile
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: find users: %w", err)
	}
	return out, nil
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
