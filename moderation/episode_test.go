package moderation

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// deliver hands the engine n messages from user in chat, the clock
// moving step between them, and waits until all are handled.
func (r *rig) deliver(t *testing.T, kind bot.ChatKind, chat, user string, n int, step time.Duration, text func(i int) string) {
	t.Helper()
	for i := range n {
		r.Handle(t, bot.Message{Chat: bot.Chat{ID: chat, Kind: kind}, Author: bot.User{ID: user, Name: "U" + user}, Text: text(i)})
		r.clk.Add(step)
	}
	r.Idle(t)
}

func (r *rig) notices(chat string) []string {
	var out []string
	for _, s := range r.p.Replies(chat) {
		if strings.Contains(s, "U") { // notices name the user; answers echo
			out = append(out, s)
		}
	}
	return out
}

// TestFloodActsOncePerEpisode: 10,000 messages from one user in a group
// in about a minute and a half. The ladder escalates as strikes grow, but
// each action on the user is taken once (one ban call, not thousands),
// the messages after the ban are deleted silently, and notices about the
// user in the chat are at most one a minute.
func TestFloodActsOncePerEpisode(t *testing.T) {
	r := newRig(t, Config{FloodMessages: 6, FloodWindow: 10 * time.Second})
	const n = 10000
	r.deliver(t, bot.ChatGroup, "g1", "7", n, 10*time.Millisecond, func(i int) string { return fmt.Sprint("spam spam ", i) })
	if bans := r.ops("ban"); len(bans) != 1 {
		t.Errorf("%d ban calls, want 1", len(bans))
	}
	if rs := r.ops("restrict"); len(rs) > 2 {
		t.Errorf("%d timeouts, want at most the ladder's two", len(rs))
	}
	notices := r.notices("g1")
	// 100 s of flooding: the first notice, then at most one a minute.
	if len(notices) == 0 || len(notices) > 2 {
		t.Errorf("%d notices in the group, want 1 or 2: %q", len(notices), notices)
	}
	if len(r.p.Replies("7")) != 0 {
		t.Errorf("notices reached the user's DM: %q", r.p.Replies("7"))
	}
	// Flood messages after the ban (or the delete rung) are removed
	// without another action or audit entry.
	if dels := r.ops("delete"); len(dels) < n-100 {
		t.Errorf("only %d of %d flood messages deleted", len(dels), n)
	}
	if es := r.audit.Entries("moderation"); len(es) > 6 {
		t.Errorf("%d audit entries for one episode, want one per rung: %+v", len(es), es[:6])
	}
}

// TestNoFloodInDM: a follower asking many questions in a row in a DM
// (the console is a DM too) is answered, never flagged, notified or
// acted on.
func TestNoFloodInDM(t *testing.T) {
	r := newRig(t, Config{FloodMessages: 3, FloodWindow: 10 * time.Second})
	r.deliver(t, bot.ChatDM, "dm9", "9", 20, 100*time.Millisecond, func(i int) string { return fmt.Sprintf("question %d about beans?", i) })
	if es := r.audit.Entries("moderation"); len(es) != 0 {
		t.Errorf("DM questions moderated: %+v", es)
	}
	if ops := r.p.Calls("delete", "restrict", "ban"); len(ops) != 0 {
		t.Errorf("actions in a DM: %+v", ops)
	}
	for _, s := range r.p.Replies("dm9") {
		if strings.Contains(s, "flood") {
			t.Errorf("flood notice in a DM: %q", s)
		}
	}
	if got := len(r.llm.Requests()); got != 20 {
		t.Errorf("%d of 20 DM questions answered", got)
	}
}

// TestEmailIsNotALink: a new member's e-mail address is not a link for
// the new-member link rule.
func TestEmailIsNotALink(t *testing.T) {
	r := newRig(t, Config{NewMemberMinutes: 10})
	r.send(t, "g1", "11", "you can reach me at anna.lee@example.com about the meetup")
	if es := r.audit.Entries("moderation"); len(es) != 0 {
		t.Errorf("e-mail address moderated as a link: %+v", es)
	}
	if got := findLinks("mail bob@mail.example.co.uk or see https://example.com/x"); len(got) != 1 || got[0].host != "example.com" {
		t.Errorf("findLinks = %+v, want only the https link", got)
	}
}

// TestNewMemberSpamDeletedInGroup: a spam link from a member first seen a
// minute ago is deleted and warned about by default, not only warned.
func TestNewMemberSpamDeletedInGroup(t *testing.T) {
	r := newRig(t, Config{NewMemberMinutes: 10, SpamDelete: true})
	r.send(t, "g1", "12", "earn 500 a day, join us at cheap-crypto-wins.xyz/start")
	dels := r.ops("delete")
	if len(dels) != 1 {
		t.Fatalf("%d deletes, want the spam message deleted", len(dels))
	}
	es := r.audit.Entries("moderation")
	if len(es) != 1 || es[0].Action != string(ActionDelete) {
		t.Errorf("audit %+v, want one delete", es)
	}
	if n := r.notices("g1"); len(n) != 1 || !strings.Contains(n[0], "removed") {
		t.Errorf("notices %q, want one saying the message was removed", n)
	}
	// The same link in a DM is not a group's spam: only the ladder's warn.
	r2 := newRig(t, Config{NewMemberMinutes: 10, SpamDelete: true})
	r2.deliver(t, bot.ChatDM, "dm12", "12", 1, 0, func(int) string { return "earn 500 a day, join us at cheap-crypto-wins.xyz/start" })
	if d := r2.ops("delete"); len(d) != 0 {
		t.Errorf("DM message deleted: %+v", d)
	}
}

// TestNoticesEscapeNames: on a platform that renders Markdown, a warned
// user's display name in the chat notice and in the managers' channel is
// escaped: it shows as written and links nowhere.
func TestNoticesEscapeNames(t *testing.T) {
	r := newRig(t, Config{Words: []string{"darn"}, ManagersChannel: map[string]string{"tg": "mods"}})
	r.p.Lim.Markup = bot.MarkupMarkdown
	r.Send(t, bot.Message{Chat: bot.Chat{ID: "g1", Kind: bot.ChatGroup},
		Author: bot.User{ID: "66", Name: "[Claim refund](https://evil.example)"}, Text: "darn it"})
	for _, chat := range []string{"g1", "mods"} {
		got := r.p.Replies(chat)
		if len(got) != 1 || !strings.Contains(got[0], `\[Claim refund\]\(https://evil.example\)`) {
			t.Errorf("%s: %q, want the name escaped", chat, got)
		}
	}
}

// TestEpisodesByKind: repeated findings of one kind are one episode, a
// finding of another kind is acted on in its own right; notices about
// the user in the chat stay at one a minute whatever the kind.
func TestEpisodesByKind(t *testing.T) {
	r := newRig(t, Config{Words: []string{"darn"}, FloodMessages: 4, FloodWindow: 10 * time.Second,
		Policy: Policy{Ladder: []Step{{1, ActionWarn, 0}}}})
	r.deliver(t, bot.ChatGroup, "g1", "8", 3, time.Second, func(int) string { return "darn it" })
	if es := r.audit.Entries("moderation"); len(es) != 1 || es[0].Rule != "darn" {
		t.Fatalf("three listed words in a row: audit %+v, want one action", es)
	}
	r.deliver(t, bot.ChatGroup, "g1", "8", 6, 100*time.Millisecond, func(i int) string { return fmt.Sprint("hello ", i) })
	es := r.audit.Entries("moderation")
	if len(es) != 2 || !strings.Contains(es[1].Rule, "messages in") {
		t.Errorf("a flood after the words: audit %+v, want the flood acted on too", es)
	}
	if n := r.notices("g1"); len(n) != 1 {
		t.Errorf("notices %q, want one in the minute", n)
	}
}
