package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/llm"
	"github.com/chorusbot/chorus/memory"
)

// The people and places of the privacy tests. Chat ids follow Telegram: a
// private chat's id is its user's id.
const (
	chatA    = "-1001" // home group A
	chatB    = "-1002" // home group B
	chatMgrs = "-1009" // the managers' channel
	aliceID  = "5550001234"
	bossID   = "900" // a manager named in config
)

var (
	alice = bot.User{ID: aliceID, Name: "Alicezyx Q", Handle: "alicezyx"}
	bob   = bot.User{ID: "5550002222", Name: "Bobby", Handle: "bobby"}
	carol = bot.User{ID: "5550004444", Name: "Carol", Handle: "carolc"}
	sam1  = bot.User{ID: "5550003331", Name: "Sam"}
	sam2  = bot.User{ID: "5550003332", Name: "Sam"}
	boss  = bot.User{ID: bossID, Name: "Boss"}
)

// What alice wrote, each piece tagged so that the tests can find it
// wherever it went, and what must be nowhere after she is forgotten.
var aliceTags = []string{"zorblax-A1", "zorblax-A2", "zorblax-A3", "zorblax-B1", "quibbleflux-D1", "zorblax-AP1"}

const (
	aliceMail  = "alicezyx@example.com"
	alicePhone = "+44 20 7946 0958"
)

func group(id string) bot.Chat   { return bot.Chat{ID: id, Kind: bot.ChatGroup, Title: "Group " + id} }
func dmWith(u bot.User) bot.Chat { return bot.Chat{ID: u.ID, Kind: bot.ChatDM} }

// privacyRig is the binary's wiring (engine, bbolt store, moderation,
// analytics, manager tools, the offline model, the example knowledge base)
// with an in-memory "telegram" platform.
type privacyRig struct {
	t   *testing.T
	dir string
	cfg *Config
	st  *memory.Store
	a   *app
	p   *bottest.Platform
	n   atomic.Int64
}

func privacyConfig(dir string) *Config {
	cfg := defaultConfig()
	cfg.DataDir = dir
	cfg.Roles.Managers = []string{"telegram:" + bossID}
	cfg.Roles.HomeChats = []string{"telegram:" + chatA, "telegram:" + chatB}
	cfg.Moderation.Words = []string{"darn"}
	cfg.Moderation.ManagersChannel = map[string]string{"telegram": chatMgrs}
	cfg.Analytics.ManagersChannel = map[string]string{"telegram": chatMgrs}
	cfg.Analytics.Competitors = []analytics.Competitor{{Name: "Zorbco"}}
	cfg.KB.Dir = dir + "/no-kb" // the built-in example knowledge base
	return cfg
}

// wireOffline validates cfg, opens its store and wires the binary's app
// over it with the offline model; the caller closes both.
func wireOffline(t *testing.T, cfg *Config, extra ...bot.Option) (memory.Backend, *app) {
	t.Helper()
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	log := newLogger(cfg, io.Discard, bot.NewRedactor())
	st, err := openStore(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newAppWith(cfg, log, st, llm.NewOffline(), "offline", extra...)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return st, a
}

// newPrivacyRig wires Chorus over the data directory dir; extra keepers
// are added after the plug-ins' (a crash injector).
func newPrivacyRig(t *testing.T, dir string, extra ...bot.Keeper) *privacyRig {
	t.Helper()
	cfg := privacyConfig(dir)
	var opts []bot.Option
	for i, k := range extra {
		opts = append(opts, bot.WithPlugin(bot.Plugin{Name: fmt.Sprint("injected", i), Keeper: k}))
	}
	st, a := wireOffline(t, cfg, opts...)
	ctx := context.Background()
	a.ingestKB(ctx)
	p := bottest.NewPlatform("telegram", bot.Limits{MaxLen: 4096})
	a.engine.AddPlatform(p)
	if err := a.engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r := &privacyRig{t: t, dir: dir, cfg: cfg, st: st.(*memory.Store), a: a, p: p}
	r.n.Store(time.Now().UnixNano() % 1e12) // message ids differ across restarts
	t.Cleanup(r.close)
	return r
}

func (r *privacyRig) close() {
	if r.a != nil {
		r.a.engine.Close()
		r.st.Close()
		r.a = nil
	}
}

// say delivers a message and waits until it is handled; it returns the
// bot's new replies in that chat. opts may change the message.
func (r *privacyRig) say(chat bot.Chat, from bot.User, text string, opts ...func(*bot.Message)) string {
	r.t.Helper()
	id := r.n.Add(1)
	m := bot.Message{Platform: "telegram", Chat: chat, ID: fmt.Sprint(id), Author: from, Text: text, Time: time.Now()}
	for _, o := range opts {
		o(&m)
	}
	before := len(r.p.Replies(chat.ID))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.a.engine.Handle(ctx, m); err != nil {
		r.t.Fatal(err)
	}
	if err := r.a.engine.WaitIdle(ctx); err != nil {
		r.t.Fatal(err)
	}
	return strings.Join(r.p.Replies(chat.ID)[before:], "\n")
}

func mentioned(m *bot.Message) { m.Mentioned = true }

func replyingTo(u bot.User) func(*bot.Message) {
	return func(m *bot.Message) { m.ReplyTo = "earlier"; m.ReplyToUser = &u }
}

// seed has alice write in home group A, home group B and her DM, with an
// e-mail address and a phone number, be warned by moderation and appeal;
// and others write around her.
func (r *privacyRig) seed() {
	r.t.Helper()
	r.say(group(chatA), alice, "darn, my zorblax-A1 order is terrible, mail me at "+aliceMail)
	r.say(group(chatA), alice, "is the zorblax-A2 quantum flux capacitor from Zorbco bad?", mentioned)
	r.say(group(chatA), alice, "zorblax-A3 zorblax zorblax terrible awful experience")
	r.say(group(chatA), bob, "zorblax is fine for me, bad weather though")
	r.say(group(chatA), carol, "carol-only words here, terrible service")
	r.say(group(chatA), sam1, "hi from the first sam")
	r.say(group(chatA), sam2, "hi from the second sam")
	r.say(group(chatB), alice, "darn the zorblax-B1 thing is awful")
	r.say(dmWith(alice), alice, "my quibbleflux-D1 account is terrible, call "+alicePhone)
	r.say(dmWith(alice), alice, "/appeal the zorblax-AP1 word was a quote")
}

// dump is every record of the bbolt file, one line each.
func (r *privacyRig) dump() string {
	r.t.Helper()
	var b strings.Builder
	err := r.st.Walk(context.Background(), func(path [][]byte, k, v []byte) error {
		b.Write(bytes.Join(append(path, k), []byte("/")))
		b.WriteString(" = ")
		b.Write(v)
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return b.String()
}

// aliceTraces are what must be nowhere once alice is forgotten: her id
// (also her private chat's), handle, name, e-mail, phone and every tagged
// piece of what she wrote.
func aliceTraces() []string {
	return append([]string{aliceID, "alicezyx", "Alicezyx", aliceMail, "7946 0958"}, aliceTags...)
}

func (r *privacyRig) assertNoTraces(dump string, traces []string) {
	r.t.Helper()
	for _, line := range strings.Split(dump, "\n") {
		for _, tr := range traces {
			if strings.Contains(line, tr) {
				r.t.Errorf("the database still holds %q: %.300q", tr, line)
			}
		}
	}
}

// TestReportsKeepToTheRoom: a follower writes a tagged phrase and an
// e-mail address in a DM and in group A; the community's manager runs
// every report in group B, in group A, in the managers' channel and in a
// DM. The DM's phrase appears only in the manager's DM; group A's only in
// group A's answers, the managers' channel and the DM; no answer anywhere
// shows the e-mail address, the phone number or a platform id.
func TestReportsKeepToTheRoom(t *testing.T) {
	r := newPrivacyRig(t, t.TempDir())
	r.seed()
	reports := []string{"/stats 7d", "/sentiment 7d", "/trends 7d", "/competitors 7d", "/digest 24", "/gaps 7d", "/mod log"}
	ask := func(chat bot.Chat) string {
		var out []string
		for _, c := range reports {
			out = append(out, c+" →\n"+r.say(chat, boss, c))
		}
		return strings.Join(out, "\n")
	}
	inB, inA, inMgrs, inDM := ask(group(chatB)), ask(group(chatA)), ask(group(chatMgrs)), ask(dmWith(boss))
	t.Logf("reports in group A:\n%s\n\nin the DM:\n%s", inA, inDM)
	for room, got := range map[string]string{"group B": inB, "group A": inA, "managers' channel": inMgrs, "DM": inDM} {
		for _, leak := range []string{aliceMail, "7946 0958", "telegram:" + aliceID, aliceID} {
			if strings.Contains(got, leak) {
				t.Errorf("%s's reports show %q:\n%s", room, leak, got)
			}
		}
	}
	for _, leak := range []string{"quibbleflux", "zorblax-A"} {
		if strings.Contains(inB, leak) {
			t.Errorf("group B's reports show %q:\n%s", leak, inB)
		}
	}
	for _, leak := range []string{"quibbleflux", "zorblax-B1"} {
		if strings.Contains(inA, leak) {
			t.Errorf("group A's reports show %q:\n%s", leak, inA)
		}
	}
	for room, got := range map[string]string{"group A": inA, "managers' channel": inMgrs, "DM": inDM} {
		if !strings.Contains(got, "zorblax-A") {
			t.Errorf("%s's reports never quote group A:\n%s", room, got)
		}
	}
	if !strings.Contains(inA, "Alicezyx Q: ") {
		t.Errorf("group A's reports don't name the author as the group sees her:\n%s", inA)
	}
	if !strings.Contains(inDM, "quibbleflux") {
		t.Errorf("the manager's DM reports leave out the DM sample:\n%s", inDM)
	}
	// The managers' channel sees every chat: DM quotes included.
	if !strings.Contains(inMgrs, "zorblax-B1") {
		t.Errorf("the managers' channel does not cover group B:\n%s", inMgrs)
	}
}

// TestForgetReachesEverything: /forget refuses what does not name exactly
// one person and deletes nothing then; the export before the forget holds
// everything of alice's the database holds; after it, the database holds
// nothing of hers (a walk over every bucket and key), her export is empty,
// and a forget by reply acts on the person replied to alone.
func TestForgetReachesEverything(t *testing.T) {
	r := newPrivacyRig(t, t.TempDir())
	r.seed()
	ctx := context.Background()
	exportOf := func(u bot.User) bot.UserData {
		d, err := r.a.engine.Export(ctx, "telegram:"+u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	js := func(d bot.UserData) string { b, _ := json.Marshal(d); return string(b) }
	before := js(exportOf(alice))

	dm := dmWith(boss)
	for cmd, want := range map[string]string{
		"/forget bob confirm":      `I don't know whom "bob" means, so I did nothing`,
		"/forget @nobody confirm":  `I don't know whom "@nobody" means`,
		"/forget Sam confirm":      `"Sam" could be several people, so I did nothing: Sam (telegram:5550003331); Sam (telegram:5550003332)`,
		"/forget zorblax confirm":  `I don't know whom "zorblax" means`,
		"/mod strikes bob":         `I don't know whom "bob" means`,
		"/export telegram:nothere": `Here is everything I hold about telegram:nothere`,
	} {
		if got := r.say(dm, boss, cmd); !strings.Contains(got, want) {
			t.Errorf("%s → %q, want %q", cmd, got, want)
		}
	}
	if after := js(exportOf(alice)); after != before {
		t.Errorf("a refused forget changed alice's data:\n%s\n%s", before, after)
	}
	for _, u := range []bot.User{sam1, sam2, bob} {
		if d := exportOf(u); len(d.Messages) == 0 || d.Profile == nil {
			t.Errorf("a refused forget deleted %s's data: %+v", u.Name, d)
		}
	}
	// The confirmation names whose data it is about.
	if got := r.say(dm, boss, "/forget @alicezyx"); !strings.Contains(got, "Alicezyx Q (telegram:"+aliceID+")") || !strings.Contains(got, "/forget telegram:"+aliceID+" confirm") {
		t.Errorf("confirmation prompt %q does not name alice", got)
	}

	// Before the forget: everything of alice's the database holds is in
	// her export (the /export a manager gets in a DM).
	got := r.say(dm, boss, "/export @alicezyx")
	if !strings.Contains(got, "Alicezyx Q") {
		t.Errorf("export reply %q", got)
	}
	var export string
	for _, c := range r.p.Calls("send") {
		for _, at := range c.Out.Attachments {
			export = string(at.Data)
		}
	}
	dump := r.dump()
	found := 0
	for _, tr := range append(aliceTags, aliceMail, "7946 0958") {
		if strings.Contains(dump, tr) {
			found++
			if !strings.Contains(export, tr) {
				t.Errorf("the database holds %q but alice's export does not", tr)
			}
		}
	}
	if found < len(aliceTags) {
		t.Errorf("only %d of alice's traces stored: the seed did not take", found)
	}
	for _, other := range []string{"carol-only", "bad weather", "first sam"} {
		if strings.Contains(export, other) {
			t.Errorf("alice's export holds another member's words %q", other)
		}
	}

	if got := r.say(dm, boss, "/forget @alicezyx confirm"); !strings.Contains(got, "about Alicezyx Q (telegram:"+aliceID+") deleted or anonymised in every chat") {
		t.Errorf("forget reply %q", got)
	}
	r.assertNoTraces(r.dump(), aliceTraces())
	if d := exportOf(alice); len(d.Messages) != 0 || d.Profile != nil || len(d.Extra) != 0 {
		t.Errorf("alice's export after forget: %+v", d)
	}
	// What is kept: the moderation actions, without her.
	es, err := r.st.AuditLog(ctx, memory.AuditQuery{Kind: "moderation"})
	if err != nil || len(es) < 2 {
		t.Fatalf("moderation audit after forget: %v %+v", err, es)
	}
	for _, e := range es {
		if !strings.HasPrefix(e.User, "forgotten:") || e.Excerpt != "" || e.Name != "" || e.Action == "" {
			t.Errorf("kept moderation entry %+v", e)
		}
	}

	// By reply: the community's manager answers carol's message in group
	// A with /forget confirm: carol alone goes.
	if got := r.say(group(chatA), boss, "/forget confirm", replyingTo(carol)); !strings.Contains(got, "about Carol (telegram:"+carol.ID+")") {
		t.Errorf("forget by reply: %q", got)
	}
	dump = r.dump()
	r.assertNoTraces(dump, []string{"carol-only", carol.ID})
	for _, kept := range []string{"bad weather", bob.ID, "first sam", bossID} {
		if !strings.Contains(dump, kept) {
			t.Errorf("forgetting carol also took %q", kept)
		}
	}
}

// crashOnce fails the first forget step it is asked to run, as a process
// dying halfway through a forget would leave it.
type crashOnce struct{ done atomic.Bool }

func (c *crashOnce) ExportUser(context.Context, string) (any, error) { return nil, nil }

func (c *crashOnce) ForgetUser(context.Context, bot.ForgetRequest) (int, error) {
	if c.done.CompareAndSwap(false, true) {
		return 0, errors.New("injected crash")
	}
	return 0, nil
}

// TestForgetSurvivesACrash: a forget interrupted halfway (after the
// plug-ins' steps, before the store's) is finished when Chorus starts
// again on the same file, and then nothing of the user is left.
func TestForgetSurvivesACrash(t *testing.T) {
	dir := t.TempDir()
	r := newPrivacyRig(t, dir, &crashOnce{})
	r.seed()
	if got := r.say(dmWith(boss), boss, "/forget @alicezyx confirm"); !strings.Contains(got, "couldn't finish just now") {
		t.Fatalf("interrupted forget reply %q", got)
	}
	// Halfway: moderation forgot her, the store not yet.
	ctx := context.Background()
	d, _ := r.a.engine.Export(ctx, "telegram:"+aliceID)
	if len(d.Messages) == 0 || d.Extra["moderation"] != nil {
		t.Fatalf("not halfway: %d messages, moderation %v", len(d.Messages), d.Extra["moderation"])
	}
	if !strings.Contains(r.dump(), "forget_jobs") {
		t.Fatal("no forget journal on disk")
	}
	r.close()

	r2 := newPrivacyRig(t, dir) // starting again finishes the forget
	r2.assertNoTraces(r2.dump(), aliceTraces())
	if strings.Contains(r2.dump(), "forget_jobs/") {
		t.Error("the forget journal outlived the forget")
	}
	if got := r2.say(group(chatA), bob, "still here"); got != "" {
		t.Errorf("unexpected reply %q", got)
	}
	if d, _ := r2.a.engine.Export(ctx, "telegram:"+bob.ID); len(d.Messages) != 2 {
		t.Errorf("bob's data after the resumed forget: %+v", d.Messages)
	}
}
