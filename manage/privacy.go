package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chorusbot/chorus/bot"
)

var _ bot.Keeper = (*Tools)(nil)

// ExportedQuestion is one of the user's questions /gaps keeps.
type ExportedQuestion struct {
	Time time.Time `json:"time"`
	Chat string    `json:"chat,omitempty"`
	Text string    `json:"text"`
}

// userExport is what the managers' tools hold about one user.
type userExport struct {
	Questions []ExportedQuestion `json:"unanswered_questions,omitempty"`
	Drafts    []Draft            `json:"drafts,omitempty"`
}

// ExportUser implements bot.Keeper: the questions of the user that the
// knowledge base could not answer, and the post drafts they kept.
func (t *Tools) ExportUser(ctx context.Context, user string) (any, error) {
	if err := t.Flush(ctx); err != nil {
		return nil, err
	}
	var out userExport
	uh := bot.UserHash(user)
	err := t.kv.Scan(ctx, BucketGaps, "", "", func(_ string, v []byte) error {
		var batch []gapRecord
		if json.Unmarshal(v, &batch) != nil {
			return nil
		}
		for _, r := range batch {
			if r.User == uh {
				out.Questions = append(out.Questions, ExportedQuestion{Time: r.Time, Chat: r.Chat, Text: r.Text})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manage: export: %w", err)
	}
	err = t.kv.Scan(ctx, BucketDrafts, "", "", func(_ string, v []byte) error {
		var d Draft
		if json.Unmarshal(v, &d) == nil && d.Author == user {
			out.Drafts = append(out.Drafts, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manage: export: %w", err)
	}
	if len(out.Questions) == 0 && len(out.Drafts) == 0 {
		return nil, nil
	}
	return out, nil
}

// ForgetUser implements bot.Keeper: it deletes the user's recorded
// questions asked within req.Scope (buffered or stored) and, when the
// scope is everything, the drafts they kept, their /post session and any
// announcement waiting for their confirmation.
func (t *Tools) ForgetUser(ctx context.Context, req bot.ForgetRequest) (int, error) {
	if t.kv == nil {
		return 0, nil // never registered: nothing was recorded
	}
	uh := bot.UserHash(req.User)
	mine := func(r gapRecord) bool {
		return r.User == uh && (r.Chat == "" && req.Scope.All() || r.Chat != "" && req.Scope.Covers(r.Chat))
	}
	n, err := t.removeGaps(ctx, mine)
	if err != nil {
		return n, fmt.Errorf("manage: forget: %w", err)
	}
	if !req.Scope.All() {
		return n, nil
	}
	var drafts []string
	err = t.kv.Scan(ctx, BucketDrafts, "", "", func(k string, v []byte) error {
		var d Draft
		if json.Unmarshal(v, &d) == nil && d.Author == req.User {
			drafts = append(drafts, k)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("manage: forget: %w", err)
	}
	for _, k := range drafts {
		if err := t.kv.Delete(ctx, BucketDrafts, k); err != nil {
			return n, fmt.Errorf("manage: forget: %w", err)
		}
		n++
	}
	t.pmu.Lock()
	if _, ok := t.sessions[req.User]; ok {
		delete(t.sessions, req.User)
		n++
	}
	t.pmu.Unlock()
	t.amu.Lock()
	if _, ok := t.pending[req.User]; ok {
		delete(t.pending, req.User)
		n++
	}
	t.amu.Unlock()
	return n, nil
}
