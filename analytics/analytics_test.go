package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// kwClassifier is a predictable classifier for the rollup and alert tests.
type kwClassifier struct{}

func (kwClassifier) Classify(text string) Sentiment {
	switch {
	case strings.Contains(text, "bad"):
		return Sentiment{Label: Negative, Score: -0.8, Lang: Lang(text)}
	case strings.Contains(text, "good"):
		return Sentiment{Label: Positive, Score: 0.6, Lang: Lang(text)}
	}
	return Sentiment{Label: Neutral, Lang: Lang(text)}
}

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

type rig struct {
	*bottest.Rig
	t   *testing.T
	e   *bot.Engine
	a   *Analytics
	p   *bottest.Platform
	kv  *bottest.MemKV
	clk *bottest.Clock
}

// newRig is the shared rig with analytics over its parts: tg:boss manages
// the community; c1 is a home chat, where the platform's administrators
// (role set on the message) manage it.
func newRig(t *testing.T, cfg Config, opts ...Option) *rig {
	t.Helper()
	r := &rig{t: t}
	r.Rig = bottest.NewRig(t, bottest.RigConfig{Start: t0, Limits: bot.Limits{MaxLen: 4000},
		Engine: bot.Config{Roles: bot.Roles{Managers: []string{"tg:boss"}, HomeChats: []string{"tg:c1"}}},
		Plugins: func(br *bottest.Rig) []bot.Plugin {
			a, err := New(br.KV, cfg, append([]Option{WithClock(br.Clock.Now)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			r.a = a
			return []bot.Plugin{a.Plugin()}
		}})
	r.e, r.p, r.kv, r.clk = r.Engine, r.Platform, r.KV, r.Clock
	return r
}

// send hands one message to the engine and waits until it is handled.
func (r *rig) send(chat, user string, role bot.Role, at time.Time, text string) {
	r.t.Helper()
	r.sendIn(chat, bot.ChatGroup, user, role, at, text)
}

// sendIn is send in a chat of the given kind.
func (r *rig) sendIn(chat string, kind bot.ChatKind, user string, role bot.Role, at time.Time, text string) {
	r.t.Helper()
	r.clk.Set(at)
	r.Send(r.t, bot.Message{Chat: bot.Chat{ID: chat, Kind: kind}, Author: bot.User{ID: user, Name: "User " + user, Role: role}, Text: text, Time: at})
}

func (r *rig) count(kind bot.EventKind) int { return len(r.Events.Of(kind)) }

func TestClassifierExamples(t *testing.T) {
	c, err := NewOfflineClassifier(0.15)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		lang string
		want Label
		not  bool // want means "anything but"
	}{
		{"I love this, thank you so much! 😍", "en", Positive, false},
		{"Great service, the team fixed it in minutes", "en", Positive, false},
		{"my flight was delayed three hours and nobody at the desk would help", "en", Negative, false},
		{"worst customer service ever, still waiting for my refund", "en", Negative, false},
		{"😡😡😡 cancelled again", "en", Negative, false},
		{"I am not happy with this at all", "en", Negative, false},
		{"not bad", "en", Negative, true},
		{"honestly not bad at all", "en", Negative, true},
		{"What time does the store open on Sunday?", "en", Neutral, false},
		{"这家店非常好吃，送餐也很快", "zh", Positive, false},
		{"太难吃了，再也不点了", "zh", Negative, false},
		{"不好", "zh", Negative, false},
		{"服务态度很差，等了两个小时", "zh", Negative, false},
		{"房间干净，位置方便，下次还来", "zh", Positive, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			s := c.Classify(tt.text)
			if s.Lang != tt.lang {
				t.Errorf("lang %q, want %q", s.Lang, tt.lang)
			}
			if s.Score < -1 || s.Score > 1 {
				t.Errorf("score %v outside [-1,1]", s.Score)
			}
			if tt.not && s.Label == tt.want || !tt.not && s.Label != tt.want {
				t.Errorf("label %v (score %.2f), want %s%v", s.Label, s.Score, map[bool]string{true: "not ", false: ""}[tt.not], tt.want)
			}
		})
	}
}

func TestRollups(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	at := t0.Add(10 * time.Minute)
	r.send("c1", "1", bot.RoleFollower, at, "this is bad")
	r.send("c1", "2", bot.RoleFollower, at.Add(time.Minute), "good stuff")
	r.send("c1", "1", bot.RoleFollower, at.Add(2*time.Minute), "just a question")
	r.send("c1", "3", bot.RoleFollower, at.Add(3*time.Minute), "so bad today")
	r.send("c1", "3", bot.RoleFollower, at.Add(70*time.Minute), "next hour good")
	if got := r.count(bot.EventScored); got != 5 {
		t.Fatalf("scored events %d, want 5", got)
	}
	if err := r.a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := r.kv.Get(context.Background(), bucketHours, rollupKey(at, "tg/c1"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := decodeRollup(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Messages != 4 || h.Counts != [3]int{2, 1, 1} {
		t.Errorf("messages %d counts %v, want 4 [2 1 1]", h.Messages, h.Counts)
	}
	if got := h.sketch().Estimate(); got != 3 {
		t.Errorf("distinct users %d, want 3", got)
	}
	if mean := h.ScoreSum / float64(h.Messages); mean > -0.24 || mean < -0.26 {
		t.Errorf("mean score %v, want -0.25", mean)
	}
	if len(h.Samples) != 2 || h.Samples[1].Text != "so bad today" || h.Samples[1].User != bot.UserHash("tg:3") {
		t.Errorf("samples %q", h.Samples)
	}
	// A second flush adds to what is stored instead of replacing it.
	r.send("c1", "4", bot.RoleFollower, at.Add(4*time.Minute), "bad again")
	if err := r.a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, _ = r.kv.Get(context.Background(), bucketHours, rollupKey(at, "tg/c1"))
	h, _ = decodeRollup(b)
	if h.Messages != 5 || h.Counts[Negative] != 3 || h.sketch().Estimate() != 4 {
		t.Errorf("after second flush: messages %d neg %d users %d", h.Messages, h.Counts[Negative], h.sketch().Estimate())
	}
}

func TestAlert(t *testing.T) {
	cfg := Config{ManagersChannel: map[string]string{"tg": "managers"}, AlertMinMessages: 12}
	steady := func(r *rig, from time.Time, n int, chat string) time.Time {
		at := from
		for i := range n {
			text := "how do I reset the router"
			if i%5 == 0 {
				text = "the app is bad sometimes"
			}
			r.send(chat, fmt.Sprint(i%7), bot.RoleFollower, at, text)
			at = at.Add(5 * time.Minute)
		}
		return at
	}
	t.Run("burst alerts once", func(t *testing.T) {
		r := newRig(t, cfg, WithClassifier(kwClassifier{}))
		at := steady(r, t0, 72, "c1") // six hours, 20% negative
		for i := range 30 {
			r.send("c1", fmt.Sprint(100+i%10), bot.RoleFollower, at, "bad outage, refund please, app crashes")
			at = at.Add(30 * time.Second)
		}
		steady(r, at, 48, "c1")
		if got := r.count(bot.EventAlert); got != 1 {
			t.Fatalf("alerts %d, want 1", got)
		}
		sent := r.p.Replies("managers")
		if len(sent) != 1 {
			t.Fatalf("managers got %d messages, want 1", len(sent))
		}
		for _, want := range []string{"tg/c1", "refund", "crashes"} {
			if !strings.Contains(sent[0], want) {
				t.Errorf("alert %q lacks %q", sent[0], want)
			}
		}
	})
	t.Run("steady stream never alerts", func(t *testing.T) {
		r := newRig(t, cfg, WithClassifier(kwClassifier{}))
		steady(r, t0, 150, "c1")
		if got := r.count(bot.EventAlert); got != 0 {
			t.Fatalf("alerts %d, want 0", got)
		}
	})
	t.Run("three messages can't alert", func(t *testing.T) {
		r := newRig(t, cfg, WithClassifier(kwClassifier{}))
		for i := range 3 {
			r.send("quiet", "1", bot.RoleFollower, t0.Add(time.Duration(i)*time.Minute), "bad bad bad")
		}
		at := steady(r, t0.Add(time.Hour), 24, "c2") // warm c2 only
		for i := range 3 {
			r.send("c2", "9", bot.RoleFollower, at.Add(time.Duration(i)*time.Second), "bad")
		}
		if got := r.count(bot.EventAlert); got != 0 {
			t.Fatalf("alerts %d, want 0", got)
		}
	})
}

func TestTrends(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	now := t0.Add(8 * 24 * time.Hour)
	// A week of background chatter, a message every hour.
	base := []string{"shipping update for my order", "price of the premium plan", "how to reset password"}
	for h := 0; h < 7*24; h++ {
		at := now.Add(-time.Duration(8*24-h) * time.Hour)
		m := &bot.Message{Platform: "tg", Chat: bot.Chat{ID: "c1"}, ID: fmt.Sprint(h), Author: bot.User{ID: "u", Name: "Zed Quux"},
			Text: base[h%3], Time: at}
		r.a.record(m, kwClassifier{}.Classify(m.Text), bot.RoleFollower)
	}
	// Today: the same chatter plus a planted burst, a URL, emoji spam and
	// a user name.
	for i := 0; i < 12; i++ {
		at := now.Add(-time.Duration(12-i) * time.Hour)
		for _, text := range []string{base[i%3], "battery drain after the update!! https://x.co/abc 🔋🔋🔋", "quux quux hello @someone"} {
			m := &bot.Message{Platform: "tg", Chat: bot.Chat{ID: "c1"}, ID: fmt.Sprint(i), Author: bot.User{ID: fmt.Sprint(i), Name: "Zed Quux"},
				Text: text, Time: at}
			r.a.record(m, kwClassifier{}.Classify(m.Text), bot.RoleFollower)
		}
	}
	r.clk.Set(now)
	ts, err := r.a.Trends(context.Background(), 24*time.Hour, 5, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) == 0 || ts[0].Term != "battery drain" {
		t.Fatalf("trends %+v, want battery drain first", ts)
	}
	for _, tr := range ts {
		if strings.Contains(tr.Term, "shipping") || strings.Contains(tr.Term, "quux") || strings.Contains(tr.Term, "x.co") ||
			strings.Contains(tr.Term, "🔋") || strings.Contains(tr.Term, "someone") {
			t.Errorf("unexpected trend %+v", tr)
		}
	}
}

func TestTermsChinese(t *testing.T) {
	for _, tc := range []struct {
		in        string
		want, not []string
	}{
		{"外卖送餐太慢了，外卖送餐", []string{"外卖", "送餐", "外卖 送餐"}, []string{"卖送", "餐太", "了"}},
		{"燕麦奶拿铁太好喝了", []string{"燕麦奶", "拿铁", "燕麦奶 拿铁"}, []string{"燕麦", "麦奶"}},
		{"我们的咖啡怎么退货？", []string{"咖啡", "退货"}, []string{"的咖", "们的", "我们", "怎么"}},
		{"quux quux hello @someone https://x.co/a 42 a1b2c3", []string{"quux"}, []string{"quux quux", "someone", "42", "a1b2c3", "hello"}},
	} {
		got := terms(tc.in, nil)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("terms(%q) = %q: no %q", tc.in, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("terms(%q) = %q: has %q", tc.in, got, w)
			}
		}
	}
}

// TestTrendsChineseLabels: a burst of Chinese messages trends under the
// words people wrote, a phrase shown without a space, never character
// pairs.
func TestTrendsChineseLabels(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	now := t0.Add(8 * 24 * time.Hour)
	base := []string{"今天的咖啡很好", "请问怎么订阅", "周末有活动吗"}
	for h := 0; h < 7*24; h++ {
		m := &bot.Message{Platform: "tg", Chat: bot.Chat{ID: "c1"}, ID: fmt.Sprint(h), Author: bot.User{ID: "u", Name: "小明"},
			Text: base[h%3], Time: now.Add(-time.Duration(8*24-h) * time.Hour)}
		r.a.record(m, kwClassifier{}.Classify(m.Text), bot.RoleFollower)
	}
	for i := 0; i < 12; i++ {
		for _, text := range []string{base[i%3], "燕麦奶拿铁太好喝了！", "新出的燕麦奶拿铁有点甜"} {
			m := &bot.Message{Platform: "tg", Chat: bot.Chat{ID: "c1"}, ID: fmt.Sprint(i), Author: bot.User{ID: fmt.Sprint(i), Name: "小红"},
				Text: text, Time: now.Add(-time.Duration(12-i) * time.Hour)}
			r.a.record(m, kwClassifier{}.Classify(m.Text), bot.RoleFollower)
		}
	}
	r.clk.Set(now)
	ts, err := r.a.Trends(context.Background(), 24*time.Hour, 5, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, tr := range ts {
		labels = append(labels, tr.Term)
	}
	if len(labels) == 0 || labels[0] != "燕麦奶拿铁" {
		t.Fatalf("trends %q, want 燕麦奶拿铁 first", labels)
	}
	for _, l := range labels {
		if l == "燕麦" || l == "麦奶" || strings.Contains(l, " ") {
			t.Errorf("trend label %q is a fragment or keeps a space", l)
		}
	}
}

func TestCompetitors(t *testing.T) {
	cfg := Config{Competitors: []Competitor{{Name: "Acme", Aliases: []string{"acme corp", "阿克米"}}, {Name: "Globex"}}}
	r := newRig(t, cfg, WithClassifier(kwClassifier{}))
	at := t0.Add(time.Hour)
	r.send("c1", "1", bot.RoleFollower, at, "Acme support is bad")
	r.send("c1", "2", bot.RoleFollower, at, "I switched to acme corp, good prices")
	r.send("c1", "3", bot.RoleFollower, at, "阿克米怎么样")
	r.send("c1", "4", bot.RoleFollower, at, "acmes and pacme are not it")
	r.send("c1", "5", bot.RoleFollower, at, "GLOBEX!")
	cs, err := r.a.Competitors(context.Background(), 24*time.Hour, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name != "Acme" || cs[0].Mentions != 3 || cs[0].Counts != [3]int{1, 1, 1} {
		t.Fatalf("competitors %+v", cs)
	}
	if cs[1].Name != "Globex" || cs[1].Mentions != 1 {
		t.Errorf("globex %+v", cs[1])
	}
}

func TestEngagement(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	day1 := t0.Add(2 * time.Hour)
	day2 := t0.Add(26 * time.Hour)
	r.send("c1", "a", bot.RoleFollower, day1, "hello there")
	r.send("c1", "b", bot.RoleFollower, day1, "hi")
	r.send("c1", "m", bot.RoleManager, day2, "New release today, what do you think?")
	r.send("c1", "a", bot.RoleFollower, day2.Add(10*time.Minute), "looks good")
	r.send("c1", "c", bot.RoleFollower, day2.Add(20*time.Minute), "first time here")
	r.send("c1", "c", bot.RoleFollower, day2.Add(21*time.Minute), "nice")
	for i, d := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		r.a.Observe(bot.Event{Kind: bot.EventFirstToken, Time: day2, Duration: d})
		r.a.Observe(bot.Event{Kind: bot.EventReplySent, Time: day2, Outcome: []bot.Outcome{bot.OutcomeOK, bot.OutcomeOK, bot.OutcomeApology}[i]})
	}
	r.clk.Set(day2.Add(time.Hour))
	st, err := r.a.Engagement(context.Background(), 24*time.Hour, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 4 || st.ActiveUsers != 3 || st.ReturningUsers != 1 || st.NewUsers != 2 {
		t.Errorf("messages %d active %d returning %d new %d, want 4 3 1 2", st.Messages, st.ActiveUsers, st.ReturningUsers, st.NewUsers)
	}
	if st.DAU != 3 || st.WAU != 5-1 || st.MAU != 4 {
		t.Errorf("DAU %d WAU %d MAU %d, want 3 4 4", st.DAU, st.WAU, st.MAU)
	}
	if st.Replies != 3 || st.RepliesOK != 2 {
		t.Errorf("replies %d ok %d", st.Replies, st.RepliesOK)
	}
	if st.MedianFirstReply < 1500*time.Millisecond || st.MedianFirstReply > 2500*time.Millisecond {
		t.Errorf("median first reply %v, want about 2s", st.MedianFirstReply)
	}
	if st.BrandStarted != 1 || st.BrandAnswered != 1 {
		t.Errorf("brand started %d answered %d, want 1 1", st.BrandStarted, st.BrandAnswered)
	}
}

func TestCommands(t *testing.T) {
	cfg := Config{Competitors: []Competitor{{Name: "Acme"}}}
	r := newRig(t, cfg, WithClassifier(kwClassifier{}))
	at := t0.Add(3 * time.Hour)
	r.send("c1", "1", bot.RoleFollower, at, "Acme is bad")
	r.send("c1", "2", bot.RoleFollower, at, "good job")
	for _, o := range []bot.Outcome{bot.OutcomeOK, bot.OutcomeOK, bot.OutcomeApology} {
		r.a.Observe(bot.Event{Kind: bot.EventReplySent, Time: at, Chat: "tg/c1", Outcome: o})
	}
	// The community's manager asks in a DM, where every chat is covered;
	// a follower is refused.
	tests := []struct {
		cmd    string
		user   string
		want   string
		png    bool
		reject bool
	}{
		{"/stats", "boss", "2 messages from 2 active users", true, false},
		{"/stats", "boss", "(addressed to it, and /ask; greetings count too): 3; answered 2 (67%); 1 ended with an apology", true, false},
		{"/stats 7d", "boss", "Last 7d", true, false},
		{"/sentiment", "boss", "negative 1 (50%)", true, false},
		{"/trends 48h", "boss", "2d", false, false},
		{"/competitors", "boss", "Acme: 1 mention —", false, false},
		{"/stats soon", "boss", "don't understand the period soon", false, false},
		{"/stats", "42", "for managers only", false, true},
		{"/sentiment", "42", "for managers only", false, true},
	}
	for i, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			chat := fmt.Sprintf("dm%d", i)
			r.sendIn(chat, bot.ChatDM, tt.user, bot.RoleFollower, at.Add(time.Minute), tt.cmd)
			sent := r.p.Calls("send")
			var last *bottest.Sent
			for j := range sent {
				if sent[j].Out.Chat.ID == chat {
					last = &sent[j]
				}
			}
			if last == nil {
				t.Fatal("no answer")
			}
			if !strings.Contains(last.Out.Text, tt.want) {
				t.Errorf("answer %q lacks %q", last.Out.Text, tt.want)
			}
			if tt.png != (len(last.Out.Attachments) == 1) {
				t.Fatalf("attachments %d, want png %v", len(last.Out.Attachments), tt.png)
			}
			if tt.png {
				att := last.Out.Attachments[0]
				cfg, format, err := image.DecodeConfig(bytes.NewReader(att.Data))
				if err != nil || format != "png" || att.MIME != MIMEPNG || cfg.Width != ChartWidth || cfg.Height != ChartHeight {
					t.Errorf("chart: %v %s %s %dx%d", err, format, att.MIME, cfg.Width, cfg.Height)
				}
			}
		})
	}
}

func TestCatalogChinese(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	for k := range catalogEN {
		if _, ok := catalogZH[k]; !ok {
			t.Errorf("catalogue key %s has no Chinese text", k)
		}
	}
	got := r.e.Catalog().T("zh", "analytics.stats", "users", 3)
	if !strings.Contains(got, "3 位活跃用户") {
		t.Errorf("zh stats %q", got)
	}
	al := &Alert{Chat: "tg/c1", Share: 0.6, Baseline: 0.2, Messages: 20, Themes: []string{"退款"}, Samples: []SampleMessage{{Name: "小王", Text: "太差了"}}}
	txt := r.a.alertText(r.e.Catalog(), "zh", al)
	for _, want := range []string{"负面情绪激增", "60%", "20%", "退款", "小王: 太差了"} {
		if !strings.Contains(txt, want) {
			t.Errorf("zh alert %q lacks %q", txt, want)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 24 * time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParsePeriod(in); err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"x", "0h", "-1d", "91d", "10m", "7y"} {
		if _, err := ParsePeriod(in); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", in)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{SentimentMode: "magic"}, {AlertFactor: 0.5}, {NeutralBand: 0.6}, {Competitors: []Competitor{{}}}} {
		if _, err := New(bottest.NewMemKV(), c, WithClassifier(kwClassifier{})); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// lastReply is the text of the last message sent to chat.
func (r *rig) lastReply(chat string) string {
	rs := r.p.Replies(chat)
	if len(rs) == 0 {
		return ""
	}
	return rs[len(rs)-1]
}

// TestReportsKeepToTheRoom: a report asked in a group covers and quotes
// that group only; a DM with the community's manager covers every chat,
// DMs included; quotes name authors and mask their personal data.
func TestReportsKeepToTheRoom(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	at := t0.Add(3 * time.Hour)
	r.send("c1", "alice", bot.RoleFollower, at, "bad service in group one, mail me at alice@example.com")
	r.send("c2", "bob", bot.RoleFollower, at, "bad day in group two")
	r.sendIn("dm-alice", bot.ChatDM, "alice", bot.RoleFollower, at, "bad secret whispered in private")
	later := at.Add(time.Minute)

	r.send("c1", "admin", bot.RoleManager, later, "/sentiment")
	got := r.lastReply("c1")
	if !strings.Contains(got, "User alice: bad service in group one") || strings.Contains(got, "alice@example.com") {
		t.Errorf("c1's report lacks its own sample, named and masked: %q", got)
	}
	if strings.Contains(got, "group two") || strings.Contains(got, "whispered") || strings.Contains(got, "tg:alice") {
		t.Errorf("c1's report shows what c1 may not see: %q", got)
	}
	// c2 is not a home chat: its administrator is nobody's manager.
	r.send("c2", "admin2", bot.RoleManager, later, "/sentiment")
	if got := r.lastReply("c2"); !strings.Contains(got, "for managers only") {
		t.Errorf("the admin of a chat that is not a home chat ran /sentiment: %q", got)
	}
	// The community's manager asking in c2 gets c2 only.
	r.send("c2", "boss", bot.RoleFollower, later, "/sentiment")
	if got := r.lastReply("c2"); !strings.Contains(got, "group two") || strings.Contains(got, "group one") || strings.Contains(got, "whispered") {
		t.Errorf("a report in c2 covers more than c2: %q", got)
	}
	// In a DM with the community's manager: everything.
	r.sendIn("dm-boss", bot.ChatDM, "boss", bot.RoleFollower, later, "/sentiment")
	got = r.lastReply("dm-boss")
	for _, want := range []string{"3 messages", "negative 3"} {
		if !strings.Contains(got, want) {
			t.Errorf("the manager's DM report lacks %q: %q", want, got)
		}
	}
	if !strings.Contains(got, "whispered") {
		t.Errorf("the manager's DM report leaves out the DM sample: %q", got)
	}
}

func TestForgetAndExportUser(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	at := t0.Add(3 * time.Hour)
	for i := 0; i < 3; i++ {
		r.send("c1", "alice", bot.RoleFollower, at, "bad zanzibar quokka experience")
		r.send("c1", "bob", bot.RoleFollower, at, "bad weather zanzibar")
	}
	ctx := context.Background()
	ex, err := r.a.ExportUser(ctx, "tg:alice")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(ex)
	if !strings.Contains(string(js), "zanzibar quokka") || strings.Contains(string(js), "weather") {
		t.Errorf("alice's export = %s", js)
	}
	turns := make([]bot.ExportedTurn, 3)
	for i := range turns {
		turns[i] = bot.ExportedTurn{Conversation: "tg/c1", Turn: bot.Turn{Role: bot.RoleUser, User: "tg:alice", Text: "bad zanzibar quokka experience", Time: at}}
	}
	n, err := r.a.ForgetUser(ctx, bot.ForgetRequest{User: "tg:alice", Scope: bot.ViewAll(), Ref: "x", Turns: turns})
	if err != nil || n == 0 {
		t.Fatalf("ForgetUser = %d, %v", n, err)
	}
	var all []string
	for _, b := range []string{bucketHours, bucketTerms, bucketUsers} {
		r.kv.Scan(ctx, b, "", "", func(k string, v []byte) error {
			all = append(all, b+"/"+k+"="+string(v))
			return nil
		})
	}
	dump := strings.Join(all, "\n")
	for _, gone := range []string{"quokka", bot.UserHash("tg:alice"), userRecKey("tg:alice")} {
		if strings.Contains(dump, gone) {
			t.Errorf("after forget the KV still holds %q:\n%s", gone, dump)
		}
	}
	if !strings.Contains(dump, `"zanzibar":3`) || !strings.Contains(dump, "weather") {
		t.Errorf("bob's terms and samples went too:\n%s", dump)
	}
	if ex, _ := r.a.ExportUser(ctx, "tg:alice"); ex != nil {
		t.Errorf("export after forget = %+v", ex)
	}
}

func TestLastSeen(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	ctx := context.Background()
	r.send("c1", "a", bot.RoleFollower, t0, "hello")
	r.send("c1", "b", bot.RoleFollower, t0.Add(time.Hour), "hi")
	r.send("c1", "old", bot.RoleFollower, t0.Add(-40*24*time.Hour), "long ago")
	if err := r.a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// a again and c, not flushed yet.
	r.send("c1", "a", bot.RoleFollower, t0.Add(2*time.Hour), "back again")
	r.send("c1", "c", bot.RoleFollower, t0.Add(3*time.Hour), "new here")
	got := map[string]time.Time{}
	if err := r.a.LastSeen(ctx, t0.Add(-30*24*time.Hour), func(k string, last time.Time) {
		if _, dup := got[k]; dup {
			t.Errorf("key %s reported twice", k)
		}
		got[k] = last
	}); err != nil {
		t.Fatal(err)
	}
	key := func(u string) string { return ActivityKey(bot.UserKey("tg", u)) }
	want := map[string]time.Time{key("a"): t0.Add(2 * time.Hour), key("b"): t0.Add(time.Hour), key("c"): t0.Add(3 * time.Hour)}
	if len(got) != len(want) {
		t.Fatalf("last seen: %v, want %v", got, want)
	}
	for k, w := range want {
		if !got[k].Equal(w) {
			t.Errorf("%s last seen %v, want %v", k, got[k], w)
		}
	}
}

// The median time to first reply reads a 3 ms reply as about 3 ms (the
// histogram's first bucket used to hold everything up to 100 ms, shown as
// 50 ms), and rollups stored with the old histogram still read.
func TestMedianFirstReplyFineAndLegacy(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	ctx := context.Background()
	at := t0.Add(2 * time.Hour)
	for _, d := range []time.Duration{2800 * time.Microsecond, 3 * time.Millisecond, 3200 * time.Microsecond} {
		r.a.Observe(bot.Event{Kind: bot.EventFirstToken, Time: at, Chat: "tg/c1", Duration: d})
	}
	r.clk.Set(at.Add(time.Hour))
	st, err := r.a.Engagement(ctx, 24*time.Hour, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	if m := st.MedianFirstReply; m < 2500*time.Microsecond || m > 3500*time.Microsecond {
		t.Errorf("median of 2.8, 3 and 3.2 ms read as %v", m)
	}
	if got := fmtDur(st.MedianFirstReply); !strings.HasSuffix(got, "ms") || !strings.HasPrefix(got, "2.") && !strings.HasPrefix(got, "3.") {
		t.Errorf("shown as %q, want about 3ms", got)
	}

	// A rollup written by the earlier version: three replies in its bucket
	// 10 (1.65 to 2.23 s), two in its bucket 0 (up to 100 ms).
	legacy := make([]int, legacyLatencyBuckets)
	legacy[10], legacy[0] = 3, 2
	old, _ := json.Marshal(map[string]any{"r": 5, "ro": 5, "ft": legacy})
	if err := r.kv.Put(ctx, bucketHours, rollupKey(at.Add(-time.Hour), globalChat), old); err != nil {
		t.Fatal(err)
	}
	st, err = r.a.Engagement(ctx, 24*time.Hour, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	// 8 replies: 3 at ~3 ms, 2 at ~50 ms, 3 at ~1.7 s: the median is
	// between the 50 ms and 1.7 s groups.
	if m := st.MedianFirstReply; m < 40*time.Millisecond || m > 2300*time.Millisecond {
		t.Errorf("median with the legacy rollup %v", m)
	}
	if st.Replies != 5 {
		t.Errorf("replies with the legacy rollup %d, want 5", st.Replies)
	}
	// Flushing merges into the stored rollup: the old field is converted.
	r.a.Observe(bot.Event{Kind: bot.EventFirstToken, Time: at.Add(-time.Hour), Chat: globalChat, Duration: time.Second})
	if err := r.a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := r.kv.Get(ctx, bucketHours, rollupKey(at.Add(-time.Hour), globalChat))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["ft"]; ok {
		t.Errorf("the legacy histogram was written back: %s", b)
	}
	var h hourRollup
	json.Unmarshal(b, &h)
	n := 0
	for _, v := range h.FirstToken {
		n += v
	}
	if n != 6 {
		t.Errorf("converted histogram holds %d replies, want 6: %v", n, h.FirstToken)
	}
}

// batchKV is a bot.KVBatch over a MemKV that counts its commits: a Put
// outside Update is one commit, an Update is one; a failing Update (fail
// set) writes nothing.
type batchKV struct {
	*bottest.MemKV
	commits, updates int
	fail             error
}

func (k *batchKV) Put(ctx context.Context, bucket, key string, value []byte) error {
	k.commits++
	return k.MemKV.Put(ctx, bucket, key, value)
}

func (k *batchKV) Update(ctx context.Context, fn func(tx bot.KV) error) error {
	if k.fail != nil {
		// Run fn on a scratch copy, then drop it.
		if err := fn(bottest.NewMemKV()); err != nil {
			return err
		}
		return k.fail
	}
	k.commits++
	k.updates++
	return fn(k.MemKV)
}

// TestFlushOneTransaction: over a KV that groups writes (bbolt,
// PostgreSQL), one flush of many users' counts is one commit; when it
// fails, the counts are kept for the next flush.
func TestFlushOneTransaction(t *testing.T) {
	kv := &batchKV{MemKV: bottest.NewMemKV()}
	a, err := New(kv, Config{}, WithClassifier(kwClassifier{}), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	const users = 300
	for i := range users {
		m := &bot.Message{Platform: "tg", Chat: bot.Chat{ID: fmt.Sprint("c", i%3), Kind: bot.ChatGroup},
			Author: bot.User{ID: fmt.Sprint(i), Name: "u"}, Text: "bad router again", Time: t0.Add(time.Duration(i) * time.Second)}
		if _, err := a.Inspect(context.Background(), m, nil); err != nil {
			t.Fatal(err)
		}
	}
	kv.fail = fmt.Errorf("disk full")
	if err := a.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failing flush: %v", err)
	}
	if kv.commits != 0 {
		t.Fatalf("a failed flush committed %d times", kv.commits)
	}
	kv.fail = nil
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if kv.commits != 1 || kv.updates != 1 {
		t.Errorf("flush of %d users: %d commits (%d transactions), want 1", users, kv.commits, kv.updates)
	}
	n := 0
	kv.Scan(context.Background(), bucketUsers, "", "", func(string, []byte) error { n++; return nil })
	total := 0
	for c := range 3 {
		b, err := kv.Get(context.Background(), bucketHours, rollupKey(t0, fmt.Sprint("tg/c", c)))
		if err != nil {
			t.Fatal(err)
		}
		h, _ := decodeRollup(b)
		total += h.Messages
	}
	if n != users || total != users {
		t.Errorf("after the flush: %d users, %d messages, want %d of each (the failed flush's counts kept)", n, total, users)
	}
}

// TestStatsShowsActivation: /stats adds the members who joined and their
// 7-day activation, over the report's span and view.
func TestStatsShowsActivation(t *testing.T) {
	var asked []string
	members := MembersFunc(func(_ context.Context, from, to time.Time, v bot.View) (Activation, error) {
		asked = append(asked, fmt.Sprint(to.Sub(from), " ", v.All()))
		return Activation{Joined: 8, Active: 3, Waiting: 2}, nil
	})
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}), WithMembers(members))
	at := t0.Add(3 * time.Hour)
	r.sendIn("dmx", bot.ChatDM, "boss", bot.RoleFollower, at, "/stats 7d")
	sent := r.p.Calls("send")
	text := sent[len(sent)-1].Out.Text
	if !strings.Contains(text, "New members: 8 joined; 7-day activation 38% (3 wrote within 7 days of joining, 2 joined less than 7 days ago") {
		t.Fatalf("stats = %q", text)
	}
	if len(asked) != 1 || asked[0] != "168h0m0s true" {
		t.Fatalf("asked %v", asked)
	}
}

// TestStatsNoMembersJoined: with nobody joined, /stats says so instead of
// an activation rate of nobody.
func TestStatsNoMembersJoined(t *testing.T) {
	members := MembersFunc(func(context.Context, time.Time, time.Time, bot.View) (Activation, error) {
		return Activation{}, nil
	})
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}), WithMembers(members))
	r.sendIn("dmx", bot.ChatDM, "boss", bot.RoleFollower, t0.Add(3*time.Hour), "/stats")
	sent := r.p.Calls("send")
	text := sent[len(sent)-1].Out.Text
	if !strings.Contains(text, "New members: none joined in this period.") || strings.Contains(text, "activation") {
		t.Fatalf("stats = %q", text)
	}
}

func TestChats(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	at := t0.Add(2 * time.Hour)
	r.send("c1", "a", bot.RoleFollower, at, "hello")
	r.send("c2", "a", bot.RoleFollower, at, "this is bad")
	r.send("c2", "b", bot.RoleFollower, at, "hi")
	r.sendIn("dm1", bot.ChatDM, "a", bot.RoleFollower, at, "private words")
	r.clk.Set(at.Add(time.Hour))
	cs, err := r.a.Chats(context.Background(), 24*time.Hour, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Chat != "tg/c2" || cs[0].Messages != 2 || cs[0].Negatives != 1 || cs[1].Chat != "tg/c1" {
		t.Errorf("chats %+v, want c2 (2 messages, 1 negative) then c1, no private chat", cs)
	}
	cs, _ = r.a.Chats(context.Background(), 24*time.Hour, bot.ViewChat("tg", "c1"))
	if len(cs) != 1 || cs[0].Chat != "tg/c1" {
		t.Errorf("chats in view c1: %+v", cs)
	}
}

// TestStatsShowsVotes: the followers' votes on answers reach /stats as the
// share of positive ones.
func TestStatsShowsVotes(t *testing.T) {
	r := newRig(t, Config{}, WithClassifier(kwClassifier{}))
	at := t0.Add(3 * time.Hour)
	r.send("c1", "1", bot.RoleFollower, at, "hello")
	r.sendIn("dmx", bot.ChatDM, "boss", bot.RoleFollower, at, "/stats")
	if got := r.lastReply("dmx"); !strings.Contains(got, "ratings of answers: none yet") {
		t.Errorf("/stats without votes: %q", got)
	}
	for i, rt := range []bot.Rating{bot.RatingUp, bot.RatingUp, bot.RatingUp, bot.RatingDown} {
		r.a.Observe(bot.Event{Kind: bot.EventFeedback, Time: at, Platform: "tg", Chat: "tg/c1", User: fmt.Sprint("tg:", i), Label: string(rt)})
	}
	st, err := r.a.Engagement(context.Background(), 24*time.Hour, bot.ViewAll())
	if err != nil {
		t.Fatal(err)
	}
	if st.VotesUp != 3 || st.VotesDown != 1 || st.PositiveShare != 0.75 {
		t.Errorf("votes %d up %d down, share %v", st.VotesUp, st.VotesDown, st.PositiveShare)
	}
	r.sendIn("dmy", bot.ChatDM, "boss", bot.RoleFollower, at.Add(time.Minute), "/stats")
	if got := r.lastReply("dmy"); !strings.Contains(got, "75% positive (3 👍, 1 👎)") {
		t.Errorf("/stats with votes: %q", got)
	}
}

// TestDecodeCountsSkipsOnlySamplesAndCompetitors: the light decoding the
// engagement figures and the chat list use keeps every count.
func TestDecodeCountsSkipsOnlySamplesAndCompetitors(t *testing.T) {
	h := &hourRollup{Platform: "tg", Title: "Fans", DM: true, Messages: 7, Counts: [3]int{1, 2, 4}, ScoreSum: 1.5,
		Samples: []sampleRec{{Name: "a", Text: "bad"}}, Competitors: map[string]*compCount{"Acme": {N: 2}},
		Replies: 3, RepliesOK: 2, FirstToken: []int{1, 2}, BrandStarted: 1, BrandAnswered: 1, VotesUp: 3, VotesDown: 1}
	h.addUser("tg:1")
	b, err := h.encode()
	if err != nil {
		t.Fatal(err)
	}
	full, err := decodeRollup(b)
	if err != nil {
		t.Fatal(err)
	}
	light, err := decodeCounts(b)
	if err != nil {
		t.Fatal(err)
	}
	if light.Samples != nil || light.Competitors != nil {
		t.Errorf("samples or competitors decoded: %+v %+v", light.Samples, light.Competitors)
	}
	full.Samples, full.Competitors = nil, nil
	if !reflect.DeepEqual(full, light) {
		t.Errorf("light decoding differs:\n%+v\n%+v", full, light)
	}
}
