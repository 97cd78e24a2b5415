package campaigns

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chorusbot/chorus/bot"
)

// What the campaigns keep about a person, and what a forget does:
//
//   - members who joined a chat (BucketMembers: user key, chat, when
//     joined, whether greeted, when they first wrote): exported, deleted;
//   - the author of a published post or announcement (a manager's user
//     key on the post): exported, replaced by forgotten:REF, since the
//     post itself was public and its figures stay;
//   - clicks and conversions keep nobody's identity: a visitor is a
//     daily-salted hash deleted with the day, a click id names a link.

// memberExport is a joined chat as exported.
type memberExport struct {
	Chat     string `json:"chat"`
	Joined   string `json:"joined"`
	Welcomed bool   `json:"welcomed"`
	Active   string `json:"first_message,omitempty"`
}

// userExport is what the campaigns export about a user.
type userExport struct {
	Joined []memberExport `json:"joined,omitempty"`
	Posts  []string       `json:"published_posts,omitempty"`
}

// ExportUser implements bot.Keeper.
func (c *Campaigns) ExportUser(ctx context.Context, user string) (any, error) {
	var out userExport
	err := c.kv.Scan(ctx, BucketMembers, user+"|", user+"}", func(_ string, v []byte) error {
		var m member
		if json.Unmarshal(v, &m) == nil && m.User == user {
			e := memberExport{Chat: m.Chat, Joined: m.Joined.UTC().Format("2006-01-02T15:04:05Z"), Welcomed: m.Welcomed}
			if !m.Active.IsZero() {
				e.Active = m.Active.UTC().Format("2006-01-02T15:04:05Z")
			}
			out.Joined = append(out.Joined, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaigns: export: %w", err)
	}
	ps, err := c.posts(ctx)
	if err != nil {
		return nil, fmt.Errorf("campaigns: export: %w", err)
	}
	for _, p := range ps {
		if p.Author == user {
			out.Posts = append(out.Posts, p.ID+" "+p.Platform+" "+p.Chat+": "+p.Text)
		}
	}
	if len(out.Joined) == 0 && len(out.Posts) == 0 {
		return nil, nil
	}
	return out, nil
}

// ForgetUser implements bot.Keeper.
func (c *Campaigns) ForgetUser(ctx context.Context, req bot.ForgetRequest) (int, error) {
	var keys []string
	err := c.kv.Scan(ctx, BucketMembers, req.User+"|", req.User+"}", func(k string, v []byte) error {
		var m member
		if json.Unmarshal(v, &m) == nil && m.User == req.User && req.Scope.Covers(m.Chat) {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("campaigns: forget: %w", err)
	}
	for _, k := range keys {
		if err := c.kv.Delete(ctx, BucketMembers, k); err != nil {
			return 0, fmt.Errorf("campaigns: forget: %w", err)
		}
	}
	n := len(keys)
	c.amu.Lock()
	delete(c.pending, req.User)
	c.amu.Unlock()
	if !req.Scope.All() {
		return n, nil
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	ps, err := c.posts(ctx)
	if err != nil {
		return n, fmt.Errorf("campaigns: forget: %w", err)
	}
	for _, p := range ps {
		if p.Author != req.User {
			continue
		}
		p.Author = req.ForgottenUser()
		if err := c.putPost(ctx, &p); err != nil {
			return n, fmt.Errorf("campaigns: forget: %w", err)
		}
		n++
	}
	return n, nil
}
