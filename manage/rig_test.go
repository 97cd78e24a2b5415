package manage_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/prompts"
)

// t0 is the rig's clock at start.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Users of the rig, by role (config gives the roles).
const (
	follower = "fan"
	manager  = "mgr"
	owner    = "boss"
)

// fakeKB answers from a fixed list: a passage matches when the query
// contains one of its keys; its score is the one given.
type fakeKB struct{ docs []kbDoc }

type kbDoc struct {
	keys  []string
	p     bot.Passage
	score float64
}

func (k fakeKB) Search(_ context.Context, q string, n int) ([]bot.Passage, error) {
	q = strings.ToLower(q)
	var out []bot.Passage
	for _, d := range k.docs {
		for _, key := range d.keys {
			if strings.Contains(q, key) {
				p := d.p
				p.Score, p.Relevance = d.score, d.score/10
				out = append(out, p)
				break
			}
		}
	}
	return out[:min(n, len(out))], nil
}

type rig struct {
	e     *bot.Engine
	tools *manage.Tools
	store *bottest.MemStore
	kv    *bottest.MemKV
	tg    *bottest.Platform
	dc    *failingPlatform
	llm   *bottest.LLM
	audit *bottest.AuditLog
	clock *bottest.Clock
	seq   atomic.Int64
}

type rigOpts struct {
	cfg     manage.Config
	reply   func(bot.Request) (string, error)
	kb      bot.Knowledge
	persona bot.Persona
	kv      *bottest.MemKV
	llm     bot.LLM // replaces the bottest.LLM when set
	opts    []manage.Option
}

func newRig(t testing.TB, o rigOpts) *rig {
	t.Helper()
	r := &rig{store: bottest.NewMemStore(), kv: o.kv, audit: &bottest.AuditLog{}, clock: bottest.NewClock(t0), llm: &bottest.LLM{Reply: o.reply}}
	if r.kv == nil {
		r.kv = bottest.NewMemKV()
	}
	r.tg = bottest.NewPlatform("tg", bot.Limits{MaxLen: 4096})
	r.dc = &failingPlatform{Platform: bottest.NewPlatform("dc", bot.Limits{MaxLen: 2000}), failChat: "888"}
	opts := []bot.Option{bot.WithKV(r.kv), bot.WithAuditor(r.audit), bot.WithClock(r.now)}
	if o.kb != nil {
		opts = append(opts, bot.WithKnowledge(o.kb))
	}
	var model bot.LLM = r.llm
	if o.llm != nil {
		model = o.llm
	}
	cfg := bot.Config{Persona: o.persona, Roles: bot.Roles{Owners: []string{"tg:" + owner}, Managers: []string{"tg:" + manager, "dc:" + manager}, HomeChats: []string{"tg:home"}}}
	personas := bot.NewPersonas(cfg.Defaults().Persona)
	tools, err := manage.New(o.cfg, manage.Deps{KV: r.kv, History: r.store, Knowledge: o.kb, Model: model, Prompts: prompts.Default(), Personas: personas},
		append([]manage.Option{manage.WithClock(r.now)}, o.opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, bot.WithPrompts(prompts.Default()), bot.WithPersonas(personas), bot.WithPlugin(tools.Plugin()))
	e, err := bot.New(cfg, r.store, model, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e.AddPlatform(r.tg)
	e.AddPlatform(r.dc)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	r.e, r.tools = e, tools
	return r
}

func (r *rig) now() time.Time { return r.clock.Now() }

func (r *rig) advance(d time.Duration) { r.clock.Add(d) }

func (r *rig) idle(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.e.WaitIdle(ctx); err != nil {
		t.Fatal("engine never went idle:", err)
	}
}

// handle delivers a message and waits until it was handled.
func (r *rig) handle(t testing.TB, m bot.Message) {
	t.Helper()
	if m.ID == "" {
		m.ID = fmt.Sprint("in", r.seq.Add(1))
	}
	if m.Platform == "" {
		m.Platform = "tg"
	}
	if err := r.e.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r.idle(t)
}

// dm sends text from user in their DM on tg and returns the bot's new
// replies there, joined.
func (r *rig) dm(t testing.TB, user, text string) string {
	t.Helper()
	chat := "dm-" + user
	before := len(r.tg.Replies(chat))
	r.handle(t, bot.Message{Chat: bot.Chat{ID: chat, Kind: bot.ChatDM}, Author: bot.User{ID: user, Name: user}, Text: text})
	return strings.Join(r.tg.Replies(chat)[before:], "\n")
}

// group sends text to the group "g" as user at time at and returns the
// bot's new replies there.
func (r *rig) group(t testing.TB, user, text string, at time.Time) string {
	t.Helper()
	before := len(r.tg.Replies("g"))
	r.handle(t, bot.Message{Chat: bot.Chat{ID: "g", Kind: bot.ChatGroup}, Author: bot.User{ID: user, Name: user}, Text: text, Time: at})
	return strings.Join(r.tg.Replies("g")[before:], "\n")
}

func (r *rig) requests(p bot.Purpose) []bot.Request {
	var out []bot.Request
	for _, q := range r.llm.Requests() {
		if q.Purpose == p {
			out = append(out, q)
		}
	}
	return out
}

// failingPlatform fails every send to failChat.
type failingPlatform struct {
	*bottest.Platform
	failChat string
}

func (p *failingPlatform) Send(ctx context.Context, out bot.Out) (string, error) {
	if out.Chat.ID == p.failChat {
		return "", fmt.Errorf("fake: chat %s: forbidden", out.Chat.ID)
	}
	return p.Platform.Send(ctx, out)
}

// offlineLLM answers like the offline provider: chat and digests with
// Offline set, drafting with bot.ErrLLMUnavailable.
type offlineLLM struct{ bottest.LLM }

func (o *offlineLLM) Complete(ctx context.Context, req bot.Request) (bot.Response, error) {
	if req.Purpose == bot.PurposePost {
		return bot.Response{}, fmt.Errorf("llm: offline provider: no model for post drafting: %w", bot.ErrLLMUnavailable)
	}
	resp, err := o.LLM.Complete(ctx, req)
	resp.Offline = true
	return resp, err
}

func contains(t testing.TB, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

func lacks(t testing.TB, got string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(got, b) {
			t.Errorf("unexpected %q in:\n%s", b, got)
		}
	}
}
