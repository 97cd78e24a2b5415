package campaigns_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/campaigns"
)

func TestPublishNowThroughTelegram(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, runOpts{})
	// A draft written with the fake model and kept, as a manager would.
	w.llm.Reply = func(bot.Request) (string, error) {
		return "1. Winter blend is back in the shop!\n\n2. Our winter blend returns.\n\n3. Cosy up: winter blend.", nil
	}
	contains(t, r.say(managerID, "/post telegram winter blend is back"), "1. Winter blend is back")
	contains(t, r.say(managerID, "/post keep 1"), "Kept draft 1")
	contains(t, r.say(managerID, "/post list"), "1. d")

	got := r.say(managerID, "/post publish 1")
	contains(t, got, "Published p", "telegram "+strconv.Itoa(channelID), "reach 1500 members")
	sent := w.fake.Messages(channelID)
	if len(sent) != 1 || sent[0].Text != "Winter blend is back in the shop!" {
		t.Fatalf("channel got %+v", sent)
	}
	ps := w.posts(t)
	if len(ps) != 1 || ps[0].Status != campaigns.StatusSent || ps[0].Reach != 1500 || ps[0].Late || ps[0].Message == "" {
		t.Fatalf("posts = %+v", ps)
	}
	if calls := w.fake.Calls(telegramtest.MethodGetChatMemberCount); len(calls) != 1 {
		t.Fatalf("getChatMemberCount calls = %d", len(calls))
	}
	a := w.audit.Entries(bot.AuditPublish)
	if len(a) != 1 || a[0].Action != "publish" || a[0].Actor != "telegram:7" {
		t.Fatalf("audit = %+v", a)
	}
	// A follower may not publish.
	contains(t, r.say(followerID, "/post publish 1"), "manager")
	if len(w.fake.Messages(channelID)) != 1 {
		t.Fatal("a follower published")
	}
}

func TestPublishRefusesFlaggedDraft(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, runOpts{})
	w.keepDraft(t, "d1", "telegram", "Use code WINTER50 for 50% off every bag!")
	got := r.say(managerID, "/post publish d1")
	contains(t, got, "not published", "ungrounded")
	if n := len(w.fake.Messages(channelID)); n != 0 {
		t.Fatalf("a flagged draft went out (%d messages)", n)
	}
	if a := w.audit.Entries(bot.AuditPublish); len(a) != 1 || a[0].Action != "blocked" {
		t.Fatalf("audit = %+v", a)
	}
}

func TestPublishChannelErrors(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, runOpts{})
	w.keepDraft(t, "d1", "x", "Winter blend is back.")
	contains(t, r.say(managerID, "/post publish d1"), "No brand channel is configured for x", "telegram:"+strconv.Itoa(channelID))
	contains(t, r.say(managerID, "/post publish d1 -100777"), "is not a brand channel")
	contains(t, r.say(managerID, "/post publish d9"), "There is no draft d9")
	contains(t, r.say(managerID, "/post publish d1 telegram at yesterday"), "can't read the time")
	contains(t, r.say(managerID, "/post publish d1 telegram at 2026-12-01 09:00"), "that time has passed")
	if len(w.posts(t)) != 0 || len(w.fake.Messages(channelID)) != 0 {
		t.Fatal("something was published")
	}
}

func TestScheduleSurvivesRestart(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, runOpts{})
	w.keepDraft(t, "d1", "telegram", "Winter blend is back.")
	w.keepDraft(t, "d2", "telegram", "Gingerbread latte is here.")
	w.keepDraft(t, "d3", "telegram", "Our shop opens on Sunday.")
	// Times are read in Europe/Berlin: 10:00 there is 09:00 UTC.
	contains(t, r.say(managerID, "/post publish d1 at 2026-12-20 10:00"), "Scheduled p", "2026-12-20 10:00 CET")
	contains(t, r.say(managerID, "/post publish d2 telegram at +3h"), "Scheduled p")
	contains(t, r.say(managerID, "/post publish d3 at +5h"), "Scheduled p")
	list := r.say(managerID, "/post scheduled")
	contains(t, list, "Europe/Berlin", "2026-12-20 10:00", "2026-12-20 12:00", "Winter blend", "Gingerbread")
	var d3 string
	for _, p := range w.posts(t) {
		if p.Draft == "d3" {
			d3 = p.ID
		}
	}
	contains(t, r.say(managerID, "/post cancel "+d3), "Cancelled "+d3)
	contains(t, r.say(managerID, "/post cancel "+d3), "not waiting")

	// On time, with Chorus running: sent once, not late.
	w.clock.Set(time.Date(2026, 12, 20, 9, 0, 30, 0, time.UTC))
	if !w.fake.WaitFor(waitLong, func() bool { return len(w.fake.Messages(channelID)) == 1 }) {
		t.Fatal("the first post was not sent on time")
	}
	waitFor(t, "d1 recorded as sent", func() bool {
		for _, p := range w.posts(t) {
			if p.Draft == "d1" && p.Status == campaigns.StatusSent {
				return true
			}
		}
		return false
	})
	r.stop()

	// Chorus is down at d2's time (11:00 UTC); it goes out at start, once, late.
	w.clock.Set(time.Date(2026, 12, 20, 14, 0, 0, 0, time.UTC))
	r2 := w.start(t, runOpts{})
	if !w.fake.WaitFor(waitLong, func() bool { return len(w.fake.Messages(channelID)) == 2 }) {
		t.Fatal("the late post was not sent at start")
	}
	time.Sleep(50 * time.Millisecond) // a few more scheduler ticks: nothing more goes out
	r2.idle()
	sent := w.fake.Messages(channelID)
	if len(sent) != 2 || sent[0].Text != "Winter blend is back." || sent[1].Text != "Gingerbread latte is here." {
		t.Fatalf("channel got %+v", sent)
	}
	byDraft := map[string]campaigns.Post{}
	for _, p := range w.posts(t) {
		byDraft[p.Draft] = p
	}
	if p := byDraft["d1"]; p.Status != campaigns.StatusSent || p.Late || p.Reach != 1500 {
		t.Fatalf("d1 = %+v", p)
	}
	if p := byDraft["d2"]; p.Status != campaigns.StatusSent || !p.Late || p.Reach != 1500 {
		t.Fatalf("d2 = %+v", p)
	}
	if p := byDraft["d3"]; p.Status != campaigns.StatusCancelled {
		t.Fatalf("d3 = %+v", p)
	}
	contains(t, r2.say(managerID, "/post scheduled"), "No posts are scheduled")
	var actions []string
	for _, a := range w.audit.Entries(bot.AuditPublish) {
		actions = append(actions, a.Action)
	}
	if want := "schedule schedule schedule cancel publish publish"; join(actions) != want {
		t.Fatalf("audit actions = %v, want %s", actions, want)
	}
}

func join(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFailedScheduledPostIsShown: a scheduled post the platform refuses is
// marked failed, audited, and listed by /post scheduled with the reason.
func TestFailedScheduledPostIsShown(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, runOpts{})
	w.keepDraft(t, "d1", "telegram", "Winter blend is back.")
	contains(t, r.say(managerID, "/post publish d1 at +1h"), "Scheduled p")
	w.fake.Fail(telegramtest.MethodSendMessage, 1, 403, "Forbidden: bot is not a member of the channel chat", 0)
	w.clock.Add(time.Hour)
	waitFor(t, "the post failed", func() bool {
		ps := w.posts(t)
		return len(ps) == 1 && ps[0].Status == campaigns.StatusFailed
	})
	contains(t, r.say(managerID, "/post scheduled"), "No posts are scheduled.", "Not published in the last week:", "bot is not a member")
	a := w.audit.Entries(bot.AuditPublish)
	if last := a[len(a)-1]; last.Action != "failed" || last.Actor != "scheduler" {
		t.Fatalf("audit = %+v", last)
	}
}
