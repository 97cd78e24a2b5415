package campaigns_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/chorusbot/chorus/adapters/telegram"
	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/campaigns"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/moderation/replycheck"
	"github.com/chorusbot/chorus/prompts"
)

const (
	botID      = 9000
	managerID  = 7
	followerID = 42
	channelID  = -1009001
	groupID    = -1001234
	waitLong   = 15 * time.Second
)

// world is what outlives one run of Chorus: the fake Bot API, the KV, the
// clock, the audit log.
type world struct {
	fake  *telegramtest.Server
	kv    *bottest.MemKV
	clock *bottest.Clock
	audit *bottest.AuditLog
	llm   *bottest.LLM
	// events are the engine's events, over every run.
	events *bottest.EventLog
	msgID  int
}

func newWorld(t *testing.T) *world {
	w := &world{fake: telegramtest.NewServer(botID, "chorus_bot"), kv: bottest.NewMemKV(),
		clock: bottest.NewClock(time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC)), audit: &bottest.AuditLog{}, llm: &bottest.LLM{},
		events: &bottest.EventLog{}}
	t.Cleanup(w.fake.Close)
	w.fake.SetMemberCount(channelID, 1500)
	return w
}

// run is one run of Chorus over a world: an engine with manage and the
// campaigns, the Telegram adapter over the fake.
type run struct {
	t    *testing.T
	w    *world
	eng  *bot.Engine
	camp *campaigns.Campaigns
	stop func()
}

type runOpts struct {
	cfg   campaigns.Config
	links campaigns.LinksConfig
	// kb grounds the output checks (nil: nothing).
	kb bot.Knowledge
}

// kb is a knowledge base of fixed passages.
type kb []bot.Passage

func (k kb) Search(context.Context, string, int) ([]bot.Passage, error) { return k, nil }

func (w *world) start(t *testing.T, o runOpts) *run {
	t.Helper()
	if o.cfg.Channels == nil {
		o.cfg.Channels = map[string][]string{"telegram": {strconv.Itoa(channelID)}}
	}
	if o.cfg.TimeZone == "" {
		o.cfg.TimeZone = "Europe/Berlin"
	}
	checks, err := replycheck.New(replycheck.Config{})
	if err != nil {
		t.Fatal(err)
	}
	camp, err := campaigns.New(o.cfg, o.links, campaigns.Deps{KV: w.kv, Checks: checks, Knowledge: o.kb},
		campaigns.WithClock(w.clock.Now), campaigns.WithTick(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	store := bottest.NewMemStore()
	man, err := manage.New(manage.Config{Channels: o.cfg.Channels}, manage.Deps{KV: w.kv, History: store, Model: w.llm, Prompts: prompts.Default()},
		manage.WithClock(w.clock.Now), manage.WithChecks(checks), manage.WithPublisher(camp))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.New(bot.Config{Workers: 2, Roles: bot.Roles{Owners: []string{"telegram:" + strconv.Itoa(managerID)}}}, store, w.llm,
		bot.WithPrompts(prompts.Default()), bot.WithAuditor(w.audit), bot.WithClock(w.clock.Now), bot.WithObserver(w.events),
		bot.WithPlugin(man.Plugin()), bot.WithPlugin(camp.Plugin()))
	if err != nil {
		t.Fatal(err)
	}
	ad, err := telegram.New(telegram.Config{Token: "123:TEST", APIURL: w.fake.URL, PollTimeout: 2 * time.Second}, eng, telegram.WithCommands(eng.Commands))
	if err != nil {
		t.Fatal(err)
	}
	r := &run{t: t, w: w, eng: eng, camp: camp, stop: serve(t, eng, ad)}
	t.Cleanup(r.stop)
	if !w.fake.WaitFor(waitLong, ad.Ready) {
		t.Fatal("adapter never connected")
	}
	return r
}

// serve adds ad to eng, starts both and returns what stops them (once;
// later calls do nothing).
func serve(t *testing.T, eng *bot.Engine, ad bot.Adapter) func() {
	t.Helper()
	eng.AddPlatform(ad)
	ctx, cancel := context.WithCancel(context.Background())
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ad.Run(ctx) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(waitLong):
				t.Error("adapter did not stop")
			}
			_ = eng.Close()
		})
	}
}

// say sends text from user in their private chat and waits for the n-th
// reply there, returning its text.
func (r *run) say(user int64, text string) string {
	r.t.Helper()
	before := len(r.w.fake.Messages(user))
	r.w.msgID++
	r.w.fake.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(user), telegramtest.User(user, "Mia", "en"), r.w.msgID, text)))
	var got []telegramtest.Sent
	if !r.w.fake.WaitFor(waitLong, func() bool { got = r.w.fake.Messages(user); return len(got) > before }) {
		r.t.Fatalf("no reply to %q", text)
	}
	r.idle()
	got = r.w.fake.Messages(user)
	var out []string
	for _, m := range got[before:] {
		out = append(out, m.Text)
	}
	return strings.Join(out, "\n")
}

func (r *run) idle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := r.eng.WaitIdle(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// keepDraft stores a kept draft as /post keep does.
func (w *world) keepDraft(t *testing.T, id, platform, text string) {
	t.Helper()
	js, _ := json.Marshal(manage.Draft{ID: id, Platform: platform, Brief: "brief", Text: text, Author: "telegram:7", Created: w.clock.Now()})
	if err := w.kv.Put(context.Background(), manage.BucketDrafts, id, js); err != nil {
		t.Fatal(err)
	}
}

// posts reads the stored posts.
func (w *world) posts(t *testing.T) []campaigns.Post {
	t.Helper()
	var out []campaigns.Post
	err := w.kv.Scan(context.Background(), campaigns.BucketPosts, "", "", func(_ string, v []byte) error {
		var p campaigns.Post
		if err := json.Unmarshal(v, &p); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("want %q in:\n%s", w, got)
		}
	}
}

var _ = models.ChatTypePrivate
