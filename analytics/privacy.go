package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chorusbot/chorus/bot"
)

var _ bot.Keeper = (*Analytics)(nil)

// ExportedSample is one of the user's negative messages analytics keeps
// to quote in /sentiment.
type ExportedSample struct {
	Hour time.Time `json:"hour"`
	Chat string    `json:"chat"`
	Text string    `json:"text"`
}

// userExport is what analytics holds about one user.
type userExport struct {
	FirstSeen time.Time        `json:"first_seen,omitempty"`
	LastSeen  time.Time        `json:"last_seen,omitempty"`
	Samples   []ExportedSample `json:"negative_samples,omitempty"`
}

// ExportUser implements bot.Keeper: when the user was first and last seen
// (for the returning-users figure) and the negative messages of theirs
// kept as samples. Counts and HyperLogLog sketches are aggregates from
// which no one's data can be read back.
func (a *Analytics) ExportUser(ctx context.Context, user string) (any, error) {
	if err := a.Flush(ctx); err != nil {
		return nil, err
	}
	var out userExport
	uh := bot.UserHash(user)
	err := a.kv.Scan(ctx, bucketHours, "", "", func(key string, v []byte) error {
		hk, chat, ok := cutSlash(key)
		if !ok {
			return nil
		}
		h, err := decodeRollup(v)
		if err != nil {
			return nil
		}
		at, _ := time.Parse(hourLayout, hk)
		for _, x := range h.Samples {
			if x.User == uh && x.Text != "" {
				out.Samples = append(out.Samples, ExportedSample{Hour: at, Chat: chat, Text: x.Text})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: export: %w", err)
	}
	b, err := a.kv.Get(ctx, bucketUsers, userRecKey(user))
	switch {
	case err == nil:
		var u userRec
		if json.Unmarshal(b, &u) == nil && u.First != 0 {
			out.FirstSeen, out.LastSeen = time.Unix(u.First, 0).UTC(), time.Unix(u.Last, 0).UTC()
		}
	case !errors.Is(err, bot.ErrNotFound):
		return nil, fmt.Errorf("analytics: export: %w", err)
	}
	if out.FirstSeen.IsZero() && len(out.Samples) == 0 {
		return nil, nil
	}
	return out, nil
}

// ForgetUser implements bot.Keeper. Within req.Scope it deletes the
// user's quoted samples (stored and in the alert windows in memory) and
// takes the terms of their messages (req.Turns) out of the trending-term
// counts; for everything, also their first/last-seen record. Records
// keyed by a chat whose id is the user's (a Telegram private chat) go
// whole. Message and
// sentiment counts and the HyperLogLog sketches of active users stay:
// they are aggregates that name no one. A forget resumed after a crash in
// this step may take a message's terms out twice; counts never go below
// zero.
func (a *Analytics) ForgetUser(ctx context.Context, req bot.ForgetRequest) (int, error) {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	if err := a.flushLocked(ctx); err != nil {
		return 0, err
	}
	uh := bot.UserHash(req.User)
	n := 0
	a.mu.Lock()
	for conv, cs := range a.chats {
		switch {
		case req.Scope.Covers(conv) && req.NamesUser(conv):
			delete(a.chats, conv)
			n++
		case req.Scope.Covers(conv):
			n += cs.forget(uh)
		}
	}
	a.mu.Unlock()

	type rewrite struct {
		key string
		h   *hourRollup // nil: delete the key
	}
	var changed []rewrite
	err := a.kv.Scan(ctx, bucketHours, "", "", func(key string, v []byte) error {
		_, chat, ok := cutSlash(key)
		if !ok || !req.Scope.Covers(chat) {
			return nil
		}
		if req.NamesUser(chat) {
			// Their private chat: its key is their id.
			changed = append(changed, rewrite{key, nil})
			return nil
		}
		h, err := decodeRollup(v)
		if err != nil {
			return nil
		}
		k := len(h.Samples)
		h.Samples = slices.DeleteFunc(h.Samples, func(x sampleRec) bool { return x.User == uh })
		if len(h.Samples) != k {
			changed = append(changed, rewrite{key, h})
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("analytics: forget: %w", err)
	}
	for _, c := range changed {
		if c.h == nil {
			err = a.kv.Delete(ctx, bucketHours, c.key)
		} else {
			var b []byte
			if b, err = c.h.encode(); err == nil {
				err = a.kv.Put(ctx, bucketHours, c.key, b)
			}
		}
		if err != nil {
			return n, fmt.Errorf("analytics: forget: %w", err)
		}
		n++
	}
	var private []string
	err = a.kv.Scan(ctx, bucketTerms, "", "", func(key string, _ []byte) error {
		if _, conv, ok := cutSlash(key); ok && req.Scope.Covers(conv) && req.NamesUser(conv) {
			private = append(private, key)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("analytics: forget: %w", err)
	}
	for _, k := range private {
		if err := a.kv.Delete(ctx, bucketTerms, k); err != nil {
			return n, fmt.Errorf("analytics: forget: %w", err)
		}
		n++
	}

	// Take the user's words out of the term counts, key by key.
	byKey := map[string]map[string]int{}
	for _, t := range req.Turns {
		ts := terms(t.Text, nil)
		if len(ts) == 0 {
			continue
		}
		k := termsKey(t.Time, t.Conversation)
		if byKey[k] == nil {
			byKey[k] = map[string]int{}
		}
		for _, x := range ts {
			byKey[k][x]++
		}
	}
	for k, drop := range byKey {
		b, err := a.kv.Get(ctx, bucketTerms, k)
		if errors.Is(err, bot.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("analytics: forget: %w", err)
		}
		cur := map[string]int{}
		if json.Unmarshal(b, &cur) != nil {
			continue
		}
		for x, c := range drop {
			if cur[x] > c {
				cur[x] -= c
			} else {
				delete(cur, x)
			}
		}
		if len(cur) == 0 {
			err = a.kv.Delete(ctx, bucketTerms, k)
		} else {
			b, _ = json.Marshal(cur)
			err = a.kv.Put(ctx, bucketTerms, k, b)
		}
		if err != nil {
			return n, fmt.Errorf("analytics: forget: %w", err)
		}
		n++
	}

	if req.Scope.All() {
		k := userRecKey(req.User)
		if _, err := a.kv.Get(ctx, bucketUsers, k); err == nil {
			if err := a.kv.Delete(ctx, bucketUsers, k); err != nil {
				return n, fmt.Errorf("analytics: forget: %w", err)
			}
			n++
		} else if !errors.Is(err, bot.ErrNotFound) {
			return n, fmt.Errorf("analytics: forget: %w", err)
		}
	}
	return n, nil
}
