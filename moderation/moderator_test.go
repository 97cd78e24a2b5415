package moderation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

type rig struct {
	*bottest.Rig
	e     *bot.Engine
	m     *Moderator
	p     *bottest.Platform
	kv    *bottest.MemKV
	audit *bottest.AuditLog
	clk   *bottest.Clock
	llm   *bottest.LLM
}

// newRig is the shared rig with a moderator over its parts; tg:boss manages
// the community.
func newRig(t *testing.T, cfg Config, opts ...Option) *rig {
	t.Helper()
	r := &rig{}
	cfg.Enabled = true
	r.Rig = bottest.NewRig(t, bottest.RigConfig{Engine: bot.Config{Workers: 2, Roles: bot.Roles{Managers: []string{"tg:boss"}}},
		Plugins: func(br *bottest.Rig) []bot.Plugin {
			opts = append([]Option{WithClock(br.Clock.Now), WithAuditReader(br.Audit), WithPrompts(prompts.Default())}, opts...)
			m, err := New(cfg, br.KV, br.Store, br.LLM, opts...)
			if err != nil {
				t.Fatal(err)
			}
			r.m = m
			return []bot.Plugin{m.Plugin()}
		}})
	r.e, r.p, r.kv, r.audit, r.clk, r.llm = r.Engine, r.Platform, r.KV, r.Audit, r.Clock, r.LLM
	return r
}

// send delivers a message from user in chat and waits until it is handled.
func (r *rig) send(t *testing.T, chat, user, text string) {
	t.Helper()
	r.Send(t, bot.Message{Chat: bot.Chat{ID: chat, Kind: bot.ChatGroup}, Author: bot.User{ID: user, Name: "U" + user}, Text: text})
}

// moderated are the EventModerated events so far.
func (r *rig) moderated() []bot.Event { return r.Events.Of(bot.EventModerated) }

func (r *rig) ops(op string) []bottest.Sent { return r.p.Calls(op) }

func TestWordBoundaries(t *testing.T) {
	wl := NewWordList([]string{"hell", "ass", "cunt", "free money", "傻逼", "ばか"})
	tests := []struct {
		text string
		want string
	}{
		{"hello there", ""},
		{"Scunthorpe United", ""},
		{"first class", ""},
		{"let me assess this", ""},
		{"go to hell", "hell"},
		{"HELL!", "hell"},
		{"h3ll yes", "hell"},
		{"heeeell", "hell"},
		{"you ass", "ass"},
		{"get fr3e  m0ney now", "free money"},
		{"ｆｒｅｅ money", "free money"},
		{"fr\u0435e money", "free money"},
		{"你是傻逼吧", "傻逼"},
		{"おまえはばかだ", "ばか"},
		{"freemoney", ""},
	}
	for _, tc := range tests {
		got, _ := wl.Match(squeeze1(Normalize(tc.text)))
		if got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestRules(t *testing.T) {
	cfg := Config{Words: []string{"scam"}, Regexes: []string{`\bcrypto\s+giveaway\b`}, AllowedDomains: []string{"brand.com"},
		BlockedDomains: []string{"evil.example"}, BlockInvites: true, BlockShorteners: true, NewMemberMinutes: 10,
		MaxMentions: 3, CapsRatio: 0.7}.withDefaults()
	r, err := newRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	old := now.Add(-time.Hour)
	tests := []struct {
		name, text string
		first      time.Time
		want       Category
	}{
		{"clean", "hello, how do I reset my password?", old, ""},
		{"word", "this is a SCAM", old, CatWords},
		{"regex", "Crypto   giveaway here", old, CatRegex},
		{"blocked domain", "see https://www.evil.example/x", old, CatLink},
		{"blocked subdomain", "see http://a.evil.example", old, CatLink},
		{"allowed", "docs at https://help.brand.com/faq", now, ""},
		{"discord invite", "join discord.gg/abc123", old, CatInvite},
		{"telegram invite", "join https://t.me/+AbCdEf", old, CatInvite},
		{"telegram joinchat", "join https://t.me/joinchat/xyz", old, CatInvite},
		{"telegram channel ok", "news at https://t.me/brandnews", old, ""},
		{"shortener", "look bit.ly/3abc", old, CatShortener},
		{"new member link", "check https://example.org/page", now.Add(-2 * time.Minute), CatNewLink},
		{"old member link", "check https://example.org/page", old, ""},
		{"mentions", "@a1 @b2 @c3 @d4 hi", old, CatMentions},
		{"discord mentions", "<@1> <@2> <@!3> <@4>", old, CatMentions},
		{"three mentions ok", "@a1 @b2 @c3 hi", old, ""},
		{"caps", "WHY IS MY ORDER NOT HERE YET", old, CatCaps},
		{"short caps ok", "OK THX", old, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := newInput(tc.text)
			in.at, in.firstSeen = now, tc.first
			fs := r.check(in)
			var got Category
			if len(fs) > 0 {
				got = fs[0].Category
			}
			if got != tc.want {
				t.Errorf("check(%q) = %+v, want %q", tc.text, fs, tc.want)
			}
		})
	}
}

func TestRepeatAndFlood(t *testing.T) {
	cfg := Config{RepeatWindow: time.Minute, FloodMessages: 3, FloodWindow: 10 * time.Second}.withDefaults()
	r, _ := newRules(cfg)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	msg := func(chat, text string, at time.Time) []Finding {
		in := newInput(text)
		in.user, in.chat, in.at, in.group = "tg:1", chat, at, true
		return r.check(in)
	}
	if fs := msg("a", "buy my course today", t0); len(fs) != 0 {
		t.Fatalf("first message flagged: %+v", fs)
	}
	if fs := msg("a", "buy my course today", t0.Add(time.Second)); len(fs) != 0 {
		t.Fatalf("same chat repeat flagged as cross-chat: %+v", fs)
	}
	if fs := msg("b", "buy my course today", t0.Add(2*time.Second)); len(fs) == 0 || fs[0].Category != CatRepeat {
		t.Fatalf("cross-chat repeat not flagged: %+v", fs)
	}
	if fs := msg("c", "buy my course today", t0.Add(2*time.Minute)); len(fs) != 0 {
		t.Fatalf("repeat after the window flagged: %+v", fs)
	}
	// Flood: more than 3 messages in 10s in one chat.
	for i := 0; i < 3; i++ {
		if fs := msg("d", fmt.Sprint("msg ", i), t0.Add(time.Hour+time.Duration(i)*time.Second)); len(fs) != 0 {
			t.Fatalf("message %d flagged: %+v", i, fs)
		}
	}
	if fs := msg("d", "one more", t0.Add(time.Hour+4*time.Second)); len(fs) == 0 || fs[0].Category != CatFlood {
		t.Fatalf("flood not flagged: %+v", fs)
	}
	if fs := msg("d", "later", t0.Add(2*time.Hour)); len(fs) != 0 {
		t.Fatalf("message after the window flagged: %+v", fs)
	}
	// In a DM several questions in a row are a conversation, not a flood.
	for i := range 10 {
		in := newInput(fmt.Sprint("question ", i))
		in.user, in.chat, in.at = "tg:1", "dm", t0.Add(3*time.Hour+time.Duration(i)*time.Second)
		if fs := r.check(in); len(fs) != 0 {
			t.Fatalf("DM message %d flagged: %+v", i, fs)
		}
	}
}

func TestPolicyLadderAndDecay(t *testing.T) {
	r := newRig(t, Config{Words: []string{"darn"}, StrikeHalfLife: time.Hour, Policy: Policy{
		Ladder: []Step{{1, ActionWarn, 0}, {2, ActionDelete, 0}, {3, ActionTimeout, 10}, {4, ActionBan, 0}}}})
	want := []Action{ActionWarn, ActionDelete, ActionTimeout, ActionBan}
	for i, a := range want {
		r.send(t, "g1", "42", "darn it")
		es := r.audit.Entries("moderation")
		if len(es) != i+1 || es[i].Action != string(a) {
			t.Fatalf("violation %d: audit %+v, want action %s", i+1, es, a)
		}
		e := es[i]
		if e.User != "tg:42" || e.Platform != "tg" || e.Chat != "tg/g1" || e.Actor != "rules" || e.Rule != "darn" || e.Excerpt != "darn it" || e.Severity != 0.7 {
			t.Errorf("audit entry %+v", e)
		}
	}
	if n := len(r.ops("delete")); n != 3 {
		t.Errorf("%d deletes, want 3 (delete, timeout, ban)", n)
	}
	rs := r.ops("restrict")
	if len(rs) != 1 || rs[0].User != "42" || !rs[0].Until.Equal(r.clk.Now().Add(10*time.Minute)) {
		t.Errorf("restrict calls %+v", rs)
	}
	if b := r.ops("ban"); len(b) != 1 || b[0].User != "42" {
		t.Errorf("ban calls %+v", b)
	}
	if ev := r.moderated(); len(ev) != 4 || ev[3].Action != "ban" || ev[3].Category != "words" {
		t.Errorf("events %+v", ev)
	}
	// Decay: 4 strikes halve every hour; after 3 hours 0.5 remain, so the
	// next violation (1.5) is a warning again.
	r.clk.Add(3 * time.Hour)
	s, _ := r.m.Strikes(context.Background(), "tg:42")
	if s < 0.49 || s > 0.51 {
		t.Fatalf("strikes after 3 half-lives = %v, want 0.5", s)
	}
	r.send(t, "g1", "42", "darn")
	es := r.audit.Entries("moderation")
	if es[len(es)-1].Action != string(ActionWarn) {
		t.Errorf("after decay action %s, want warn", es[len(es)-1].Action)
	}
	// The warning notice was sent in the chat.
	found := false
	for _, s := range r.p.Replies("g1") {
		if strings.Contains(s, "please keep it friendly") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning notice in %q", r.p.Replies("g1"))
	}
}

func TestSeverityDeletesAtOnceAndStops(t *testing.T) {
	r := newRig(t, Config{BlockedDomains: []string{"evil.example"}, ManagersChannel: map[string]string{"tg": "mods"}})
	r.send(t, "g1", "7", "free stuff at https://evil.example/win @Chorus")
	if d := r.ops("delete"); len(d) != 1 || d[0].ID != "in1" {
		t.Fatalf("deletes %+v", d)
	}
	if got := r.p.Replies("mods"); len(got) != 1 || !strings.Contains(got[0], "delete") || !strings.Contains(got[0], "tg:7") {
		t.Errorf("managers channel got %q", got)
	}
	// Stopped: no LLM answer was produced although the bot was addressed
	// (group chat, not mentioned flag, so check the LLM saw nothing).
	if n := len(r.llm.Requests()); n != 0 {
		t.Errorf("LLM called %d times for a deleted message", n)
	}
}

func TestExemptAndOverrides(t *testing.T) {
	r := newRig(t, Config{Words: []string{"darn"}, ChannelOverrides: map[string]ChannelOverride{
		"tg/off":  {Disabled: true},
		"lively":  {MaxAction: ActionWarn},
		"tg/dry":  {DryRun: true},
		"tg/caps": {Ignore: []Category{CatWords}},
	}})
	r.send(t, "g1", "boss", "darn")
	r.send(t, "off", "1", "darn")
	r.send(t, "caps", "1", "darn")
	if es := r.audit.Entries("moderation"); len(es) != 0 {
		t.Fatalf("exempt/disabled/ignored produced %+v", es)
	}
	for i := 0; i < 3; i++ {
		r.send(t, "lively", "2", "darn")
	}
	// Capped at warn: the user is warned once in the episode, not three
	// times.
	es := r.audit.Entries("moderation")
	if len(es) != 1 || es[0].Action != string(ActionWarn) || len(r.p.Replies("lively")) != 1 {
		t.Errorf("capped channel: audit %+v, notices %q", es, r.p.Replies("lively"))
	}
	r.send(t, "dry", "3", "darn")
	r.send(t, "dry", "3", "darn")
	es = r.audit.Entries("moderation")
	last := es[len(es)-1]
	if !strings.Contains(last.Note, "dry-run") || last.Action != string(ActionWarn) {
		t.Errorf("dry-run entry %+v (strikes must not persist, so still warn)", last)
	}
	if len(r.ops("delete")) != 0 {
		t.Errorf("deletes in dry-run/capped channels")
	}
}

func TestCommandsAndAppeal(t *testing.T) {
	r := newRig(t, Config{ManagersChannel: map[string]string{"tg": "mods"}})
	// A follower may not run /mod.
	r.send(t, "g1", "5", "/mod words add darn")
	if rs := r.audit.Entries("refused"); len(rs) != 1 {
		t.Fatalf("follower /mod not refused: %+v", r.audit.Entries(""))
	}
	r.send(t, "g1", "5", "darn")
	if n := len(r.audit.Entries("moderation")); n != 0 {
		t.Fatal("word added by a follower")
	}
	r.send(t, "g1", "boss", "/mod words add darn, dang it")
	r.send(t, "g1", "boss", "/mod words list")
	if rep := r.p.Replies("g1"); !strings.Contains(rep[len(rep)-1], "darn, dang it") {
		t.Fatalf("words list: %q", rep[len(rep)-1])
	}
	r.send(t, "g1", "5", "well dang it all")
	if es := r.audit.Entries("moderation"); len(es) != 1 || es[0].Rule != "dang it" {
		t.Fatalf("added phrase not matched: %+v", es)
	}
	// The list survives in the KV: a new moderator over it sees it.
	m2, _ := New(Config{Enabled: true}, r.kv, bottest.NewMemStore(), nil)
	if err := m2.load(context.Background()); err != nil || len(m2.words) != 2 {
		t.Fatalf("persisted words %v %v", m2.words, err)
	}
	r.send(t, "g1", "boss", "/mod strikes 5")
	if rep := r.p.Replies("g1"); !strings.Contains(rep[len(rep)-1], `I don't know whom "5" means, so I did nothing`) {
		t.Errorf("a bare id was taken for a user: %q", rep[len(rep)-1])
	}
	r.send(t, "g1", "boss", "/mod strikes tg:5")
	if rep := r.p.Replies("g1"); !strings.Contains(rep[len(rep)-1], "U5 has 1.0 strikes") {
		t.Errorf("strikes reply %q", rep[len(rep)-1])
	}
	r.send(t, "g1", "boss", "/mod log tg:5")
	if rep := r.p.Replies("g1"); !strings.Contains(rep[len(rep)-1], "moderation warn U5 dang it rules") || strings.Contains(rep[len(rep)-1], "tg:5") {
		t.Errorf("log reply %q", rep[len(rep)-1])
	}
	// Appeal, then pardon closes it.
	r.send(t, "g1", "6", "/appeal I did nothing")
	if rep := r.p.Replies("g1"); !strings.Contains(rep[len(rep)-1], "no moderation action") {
		t.Errorf("appeal without action: %q", rep[len(rep)-1])
	}
	r.send(t, "g1", "5", "/appeal it was a quote from a film")
	if got := r.p.Replies("mods"); len(got) < 2 || !strings.Contains(got[len(got)-1], "it was a quote from a film") {
		t.Fatalf("appeal not delivered: %q", got)
	}
	if a := r.audit.Entries("appeal"); len(a) != 1 || a[0].User != "tg:5" || a[0].Action != "warn" {
		t.Errorf("appeal audit %+v", a)
	}
	if _, err := r.m.OpenAppeal(context.Background(), "tg:5"); err != nil {
		t.Fatalf("appeal not open: %v", err)
	}
	r.send(t, "g1", "boss", "/mod pardon U5") // a display name known on tg
	if _, err := r.m.OpenAppeal(context.Background(), "tg:5"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("appeal still open after pardon: %v", err)
	}
	if s, _ := r.m.Strikes(context.Background(), "tg:5"); s != 0 {
		t.Errorf("strikes after pardon %v", s)
	}
	r.send(t, "g1", "boss", "/mod dryrun on")
	r.send(t, "g1", "5", "darn")
	es := r.audit.Entries("moderation")
	if !strings.Contains(es[len(es)-1].Note, "dry-run") || len(r.ops("delete")) != 0 {
		t.Errorf("dry-run via command: %+v", es[len(es)-1])
	}
	if cmds := r.audit.Entries("command"); len(cmds) != 3 {
		t.Errorf("command audit %+v", cmds)
	}
}

// TestReplyRules: the rules that bind the bot's own words (listed words,
// including those added at run time, and blocked domains) fire on text,
// and plain text with an allowed link passes.
func TestReplyRules(t *testing.T) {
	r := newRig(t, Config{Words: []string{"darn"}, BlockedDomains: []string{"evil.example"}})
	ctx := context.Background()
	for _, tc := range []struct{ text, cat string }{
		{"well darn, no idea", "words"},
		{"see https://evil.example/deal", "link"},
		{"Here is the answer: https://brand.com/help", ""},
		{"Write to help@evil.example", ""}, // an e-mail address is not a link
	} {
		if cat, rule := r.m.ReplyRules(ctx, tc.text); cat != tc.cat {
			t.Errorf("ReplyRules(%q) = %q %q, want %q", tc.text, cat, rule, tc.cat)
		}
	}
}

func TestLLMSecondOpinion(t *testing.T) {
	prob := func(s string) float64 {
		if strings.Contains(s, "borderline") {
			return 0.5
		}
		return 0.01
	}
	for _, tc := range []struct {
		name  string
		reply string
		err   error
		want  string // action in audit, "" for none
	}{
		{"llm says hate", `{"category":"hate","severity":0.9,"reason":"slur"}`, nil, "delete"},
		{"llm says ok", `{"category":"ok","severity":0,"reason":"banter"}`, nil, ""},
		{"unparsable falls back", `sure! it's fine`, nil, ""},
		{"extra field rejected", `{"category":"hate","severity":0.9,"reason":"x","confidence":1}`, nil, ""},
		{"llm error falls back", "", errors.New("offline"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Borderline: from ClassifierAskAt (0.4 here) up to
			// ClassifierActAt (0.9).
			r := newRig(t, Config{LLMSecondOpinion: true, ClassifierAskAt: 0.4}, WithClassifier(TaskHate, prob, 0.4))
			r.llm.Reply = func(req bot.Request) (string, error) {
				if req.Purpose != bot.PurposeModeration || !req.JSON {
					t.Errorf("request %+v", req)
				}
				return tc.reply, tc.err
			}
			r.send(t, "g", "1", "a borderline remark")
			es := r.audit.Entries("moderation")
			got := ""
			if len(es) > 0 {
				got = es[0].Action
				if es[0].Actor != "llm" {
					t.Errorf("actor %q", es[0].Actor)
				}
			}
			if got != tc.want {
				t.Errorf("action %q, want %q (%+v)", got, tc.want, es)
			}
			if n := len(r.llm.Requests()); n != 1 {
				t.Errorf("%d LLM calls, want 1", n)
			}
			r.send(t, "g", "1", "a plain remark")
			if n := len(r.llm.Requests()); n != 1 {
				t.Errorf("LLM asked about a clear message")
			}
		})
	}
}

func TestParseLLMVerdict(t *testing.T) {
	good := `{"category":"spam","severity":0.8,"reason":"ad"}`
	if v, err := ParseLLMVerdict(good); err != nil || v.Category != "spam" || v.Severity != 0.8 {
		t.Errorf("%+v %v", v, err)
	}
	for _, bad := range []string{``, `{}`, `{"category":"spam","severity":2,"reason":""}`, `{"category":"weird","severity":0.1,"reason":""}`,
		`{"category":"spam","severity":0.1}`, good + ` {}`, `[1]`} {
		if _, err := ParseLLMVerdict(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Regexes: []string{"(unclosed"}},
		{Policy: Policy{Ladder: []Step{{1, "smite", 0}}}},
		{Policy: Policy{Ladder: []Step{{1, ActionTimeout, 0}}}},
		{CapsRatio: 2},
	} {
		if _, err := New(c, bottest.NewMemKV(), bottest.NewMemStore(), nil); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// TestNewMemberLinkThroughEngine: a user's very first message, carrying a
// link, is a new member's link; the same link from someone who has been
// around for an hour is not.
func TestNewMemberLinkThroughEngine(t *testing.T) {
	r := newRig(t, Config{NewMemberMinutes: 10})
	r.send(t, "g", "old", "hello all")
	r.clk.Add(time.Hour)
	r.send(t, "g", "old", "our meetup notes: https://example.org/notes")
	r.send(t, "g", "new", "check https://example.org/page")
	var got []string
	evs := r.moderated()
	for _, e := range evs {
		if e.Kind == bot.EventModerated {
			got = append(got, e.User+" "+e.Category)
		}
	}
	if len(got) != 1 || got[0] != "tg:new "+string(CatNewLink) {
		t.Errorf("moderated: %q, want only the new member's link", got)
	}
}
