package manage_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/moderation/replycheck"
)

func newChecks(t *testing.T) *replycheck.Checker {
	t.Helper()
	c, err := replycheck.New(replycheck.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPostFlagsDrafts: drafts the output checks flag are shown with the
// reason under them, not dropped; a kept flagged draft keeps its flags,
// and /post show repeats them.
func TestPostFlagsDrafts(t *testing.T) {
	reply := func(req bot.Request) (string, error) {
		return "1. Meet Aurora: a medium roast with notes of cherry and cocoa. #Aurora\n\n" +
			"2. Aurora is here! Use code SAVE20 for a treat. #Aurora\n\n" +
			"3. Women are bad at choosing coffee, so we chose Aurora for you. #Aurora", nil
	}
	r := newRig(t, rigOpts{kb: shippingKB, reply: reply, opts: []manage.Option{manage.WithChecks(newChecks(t))}})
	got := r.dm(t, manager, "/post x launch of the Aurora blend")
	contains(t, got, "1. Meet Aurora", "2. Aurora is here! Use code SAVE20", "3. Women are bad")
	parts := regexp.MustCompile(`(?m)^\d\. `).Split(got, -1)
	if len(parts) != 4 {
		t.Fatalf("drafts not found in %q", got)
	}
	lacks(t, parts[1], "Flagged")
	contains(t, parts[2], "Flagged by the output checks", "ungrounded", "SAVE20")
	contains(t, parts[3], "Flagged by the output checks", "generalisation")

	got = r.dm(t, manager, "/post keep 2")
	id := regexp.MustCompile(`as (d[0-9a-z-]+)\.`).FindStringSubmatch(got)[1]
	raw, err := r.kv.Get(context.Background(), manage.BucketDrafts, id)
	if err != nil {
		t.Fatal(err)
	}
	var d manage.Draft
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Flags) != 1 || !strings.HasPrefix(d.Flags[0], "ungrounded: ") {
		t.Errorf("kept draft flags %q", d.Flags)
	}
	contains(t, r.dm(t, manager, "/post show "+id), "Use code SAVE20", "Flagged by the output checks", "ungrounded")
}

// TestAnnounceWarnsBeforeConfirmation: an announcement with a promo code
// and a price the knowledge base doesn't hold gets a warning in its
// preview, and can still be confirmed; a plain one gets none.
func TestAnnounceWarnsBeforeConfirmation(t *testing.T) {
	r := newRig(t, rigOpts{kb: shippingKB, cfg: manage.Config{Channels: map[string][]string{"tg": {"@news"}}},
		opts: []manage.Option{manage.WithChecks(newChecks(t))}})
	got := r.dm(t, owner, "/announce Flash sale! Use code SAVE20 for 50% off until Friday.")
	contains(t, got, "Preview of the announcement", "Before you confirm", "ungrounded", "SAVE20")
	code := regexp.MustCompile(`/announce confirm (\d{6})`).FindStringSubmatch(got)[1]
	contains(t, r.dm(t, owner, "/announce confirm "+code), "sent to 1 of 1")
	if got := r.tg.Replies("@news"); len(got) != 1 || !strings.Contains(got[0], "SAVE20") {
		t.Errorf("@news got %q, want the announcement as the owner wrote it", got)
	}
	got = r.dm(t, owner, "/announce The Aurora blend is back in the shop.")
	lacks(t, got, "Before you confirm")
}
