package campaigns_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/campaigns"
)

func welcomeOpts() runOpts {
	o := linkOpts()
	o.cfg.Welcome = campaigns.WelcomeConfig{Chats: []string{"telegram:" + strconv.Itoa(groupID)}, Rules: "be kind, no spam.",
		Link: "https://lumen.example/start", PerMinute: 3}
	return o
}

// joinUpdate is Telegram's chat_member update for user joining the group.
func joinUpdate(u models.User) models.Update {
	return models.Update{ChatMember: &models.ChatMemberUpdated{Chat: telegramtest.GroupChat(groupID, false), From: u, Date: int(time.Now().Unix()),
		OldChatMember: models.ChatMember{Type: models.ChatMemberTypeLeft, Left: &models.ChatMemberLeft{Status: "left", User: &u}},
		NewChatMember: models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{Status: "member", User: &u}}}}
}

func TestWelcomeOncePerMemberAndRateLimited(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, welcomeOpts())
	mia := telegramtest.User(501, "Mia", "zh-hans")
	w.fake.Push(joinUpdate(mia))
	// Telegram also sends the service message for the same join.
	w.fake.Push(telegramtest.MessageUpdate(&models.Message{ID: 900, Chat: telegramtest.GroupChat(groupID, false), From: &mia,
		Date: int(time.Now().Unix()), NewChatMembers: []models.User{mia}}))
	waitFor(t, "a greeting", func() bool { return len(w.fake.Messages(groupID)) == 1 })
	g := w.fake.Messages(groupID)[0].Text
	contains(t, g, "欢迎你，Mia", "社区规则：be kind, no spam.", "https://go.lumen.example/l/")
	if strings.Contains(g, "lumen.example/start") {
		t.Fatalf("the welcome link is not tracked: %q", g)
	}

	// A raid: 20 members in the same minute get 2 more greetings (3 a
	// minute), and nothing floods the chat.
	for i := range 20 {
		w.fake.Push(joinUpdate(telegramtest.User(int64(600+i), "Raider"+strconv.Itoa(i), "en")))
	}
	waitFor(t, "the raid recorded", func() bool { return members(t, w) == 21 })
	if n := len(w.fake.Messages(groupID)); n != 3 {
		t.Fatalf("%d greetings under a raid, want 3", n)
	}
	// A minute later greetings resume; someone joining again is not greeted twice.
	w.clock.Add(time.Minute)
	w.fake.Push(joinUpdate(telegramtest.User(700, "Lea", "en")))
	w.fake.Push(joinUpdate(mia))
	waitFor(t, "Lea greeted", func() bool { return len(w.fake.Messages(groupID)) == 4 })
	r.idle()
	time.Sleep(50 * time.Millisecond)
	msgs := w.fake.Messages(groupID)
	if len(msgs) != 4 || !strings.Contains(msgs[3].Text, "Welcome, Lea!") || !strings.Contains(msgs[3].Text, "Our rules: be kind") {
		t.Fatalf("greetings = %+v", msgs)
	}
	// A click on the welcome link counts for the welcome campaign.
	srv := httptest.NewServer(r.camp.Handler())
	defer srv.Close()
	res := get(t, srv.URL+"/l/"+shortRE.FindStringSubmatch(g)[1], browser, "")
	if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || loc.Query().Get("utm_campaign") != "welcome" || loc.Path != "/start" {
		t.Fatalf("welcome link goes to %v", res.Header.Get("Location"))
	}
	st, err := r.camp.Stats(context.Background(), "welcome")
	if err != nil || st.Clicks != 1 || st.Kind != campaigns.KindWelcome || st.Chats["telegram/"+strconv.Itoa(groupID)] == nil {
		t.Fatalf("welcome stats = %+v, %v", st, err)
	}
}

func members(t *testing.T, w *world) int {
	n := 0
	_ = w.kv.Scan(context.Background(), campaigns.BucketMembers, "", "", func(string, []byte) error { n++; return nil })
	return n
}

func TestActivation(t *testing.T) {
	w := newWorld(t)
	r := w.start(t, welcomeOpts())
	start := w.clock.Now()
	for i, name := range []string{"Ann", "Ben", "Cai"} {
		w.fake.Push(joinUpdate(telegramtest.User(int64(800+i), name, "en")))
	}
	waitFor(t, "joins", func() bool { return members(t, w) == 3 })
	group := func(id int64, text string) {
		w.msgID++
		w.fake.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.GroupChat(groupID, false), telegramtest.User(id, "x", "en"), w.msgID, text)))
	}
	// Ann writes two days later; Ben writes only in a DM to the bot.
	w.clock.Set(start.Add(48 * time.Hour))
	group(800, "hello all, love the beans")
	r.say(801, "hi bot")
	r.idle()
	// Chorus restarts; Cai writes eight days after joining: too late.
	r.stop()
	w.clock.Set(start.Add(8 * 24 * time.Hour))
	r2 := w.start(t, welcomeOpts())
	group(802, "finally saying hi")
	r2.idle()
	var act analytics.Activation
	waitFor(t, "Ann active", func() bool {
		var err error
		act, err = r2.camp.Activation(context.Background(), start.Add(-time.Hour), w.clock.Now(), bot.ViewAll())
		return err == nil && act.Active == 1
	})
	if act.Joined != 3 || act.Active != 1 || act.Waiting != 0 {
		t.Fatalf("activation = %+v", act)
	}
	// Another joins now and waits.
	w.fake.Push(joinUpdate(telegramtest.User(803, "Dee", "en")))
	waitFor(t, "Dee", func() bool { return members(t, w) == 4 })
	act, _ = r2.camp.Activation(context.Background(), start.Add(-time.Hour), w.clock.Now().Add(time.Hour), bot.ViewAll())
	if act.Joined != 4 || act.Active != 1 || act.Waiting != 1 {
		t.Fatalf("activation = %+v", act)
	}
	// Forgetting Ann removes her join.
	n, err := r2.camp.ForgetUser(context.Background(), bot.ForgetRequest{User: "telegram:800", Scope: bot.ViewAll(), Ref: "x"})
	if err != nil || n != 1 || members(t, w) != 3 {
		t.Fatalf("forget = %d, %v; members %d", n, err, members(t, w))
	}
}
