package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

func TestAuthorityOf(t *testing.T) {
	e, err := bot.New(bot.Config{TrustedPlatforms: []string{"console"}, Roles: bot.Roles{Managers: []string{"telegram:1"}, Owners: []string{"telegram:2"}, ManagerRoles: []string{"r-mod"}, HomeChats: []string{"telegram:-100", "discord:g1"}}}, bottest.NewMemStore(), &bottest.LLM{}, bot.WithPrompts(prompts.Default()))
	if err != nil {
		t.Fatal(err)
	}
	grp := func(id string) bot.Chat { return bot.Chat{ID: id, Kind: bot.ChatGroup} }
	tests := []struct {
		name string
		m    bot.Message
		want bot.Authority
	}{
		{"config manager anywhere", bot.Message{Platform: "telegram", Chat: grp("-999"), Author: bot.User{ID: "1"}}, bot.Authority{Role: bot.RoleManager}},
		{"config owner in a DM", bot.Message{Platform: "telegram", Chat: bot.Chat{ID: "2", Kind: bot.ChatDM}, Author: bot.User{ID: "2"}}, bot.Authority{Role: bot.RoleOwner}},
		{"admin of a home chat", bot.Message{Platform: "telegram", Chat: grp("-100"), Author: bot.User{ID: "5", Role: bot.RoleManager}},
			bot.Authority{Role: bot.RoleManager, Home: "telegram:-100"}},
		{"admin of another chat", bot.Message{Platform: "telegram", Chat: grp("-999"), Author: bot.User{ID: "5", Role: bot.RoleManager}}, bot.Authority{}},
		{"platform role never in a DM", bot.Message{Platform: "telegram", Chat: bot.Chat{ID: "5", Kind: bot.ChatDM}, Author: bot.User{ID: "5", Role: bot.RoleManager}}, bot.Authority{}},
		{"platform owner capped at manager", bot.Message{Platform: "telegram", Chat: grp("-100"), Author: bot.User{ID: "5", Role: bot.RoleOwner}},
			bot.Authority{Role: bot.RoleManager, Home: "telegram:-100"}},
		{"a bot is nobody's manager", bot.Message{Platform: "telegram", Chat: grp("-100"), Author: bot.User{ID: "6", Role: bot.RoleManager, IsBot: true}}, bot.Authority{}},
		{"discord moderator of a home guild", bot.Message{Platform: "discord", Chat: bot.Chat{ID: "c9", Kind: bot.ChatGroup, Server: "g1"},
			Author: bot.User{ID: "7", Role: bot.RoleManager}}, bot.Authority{Role: bot.RoleManager, Home: "discord:g1"}},
		{"discord owner of another guild", bot.Message{Platform: "discord", Chat: bot.Chat{ID: "c9", Kind: bot.ChatGroup, Server: "g2"},
			Author: bot.User{ID: "7", Role: bot.RoleManager}}, bot.Authority{}},
		{"a channel id is not a guild id", bot.Message{Platform: "discord", Chat: bot.Chat{ID: "g1", Kind: bot.ChatGroup, Server: "g2"},
			Author: bot.User{ID: "7", Role: bot.RoleManager}}, bot.Authority{}},
		{"config role id anywhere", bot.Message{Platform: "discord", Chat: bot.Chat{ID: "c9", Kind: bot.ChatGroup, Server: "g2"},
			Author: bot.User{ID: "8", Roles: []string{"r-mod"}}}, bot.Authority{Role: bot.RoleManager}},
		{"the console's user", bot.Message{Platform: "console", Chat: bot.Chat{ID: "console", Kind: bot.ChatDM}, Author: bot.User{ID: "me", Role: bot.RoleOwner}},
			bot.Authority{Role: bot.RoleOwner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.AuthorityOf(&tt.m)
			if got != tt.want {
				t.Errorf("AuthorityOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestView(t *testing.T) {
	v := bot.ViewChat("telegram", "-100")
	for conv, want := range map[string]bool{"telegram/-100": true, "telegram/-100/7": true, "telegram/-1000": false, "telegram/5": false, "discord/-100": false, "": false} {
		if v.Covers(conv) != want {
			t.Errorf("chat view covers %q = %v", conv, !want)
		}
	}
	if (bot.View{}).Covers("telegram/-100") {
		t.Error("the zero view covers something")
	}
	if !bot.ViewAll().Covers("anything/at/all") {
		t.Error("the whole view misses a chat")
	}
	if _, ok := v.Narrow("telegram/-200"); ok {
		t.Error("a chat's view narrowed to another chat")
	}
	if n, ok := bot.ViewAll().Narrow("telegram/-200/3"); !ok || n.Chat() != "telegram/-200" || n.Covers("telegram/-100") {
		t.Errorf("narrowed whole view = %v %v", n, ok)
	}
	for _, s := range []string{"*", "telegram/-100"} {
		if got := bot.ViewOfKey(s).String(); got != s {
			t.Errorf("ViewOfKey(%q).String() = %q", s, got)
		}
	}
	if got := bot.Quote("telegram:42", "write to a@b.io", 50, "a member"); got != "a member: write to [EMAIL_1]" {
		t.Errorf("Quote = %q: an id shown as a name, or personal data left", got)
	}
	// Cut short, an address is not left half unmasked.
	if got := bot.Quote("Ann", "write to averyveryverylongname@example.com please", 20, "?"); strings.Contains(got, "averyvery") {
		t.Errorf("Quote = %q keeps part of an address", got)
	}
}

func TestResolveTarget(t *testing.T) {
	r := newRig(t, bot.Config{})
	ctx := context.Background()
	for _, u := range []bot.User{{ID: "1", Name: "Alice Smith", Handle: "alice"}, {ID: "2", Name: "Sam"}, {ID: "3", Name: "Sam"}} {
		m := bot.Message{Platform: "test", Chat: bot.Chat{ID: "g", Kind: bot.ChatGroup}, ID: "hello-" + u.ID, Author: u, Text: "hello"}
		if err := r.e.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	r.idle(t)
	asker := &bot.Message{Platform: "test", Author: bot.User{ID: "9", Name: "Mgr"}}
	tests := []struct {
		arg     string
		reply   *bot.User
		want    string
		errNone bool
		cands   int
	}{
		{arg: "test:1", want: "test:1"},
		{arg: "test:77", want: "test:77"}, // a well-formed id of a running platform
		{arg: "@alice", want: "test:1"},
		{arg: "@\u2060alice", want: "test:1"}, // copied back from a message that escaped it
		{arg: "ALICE", want: "test:1"},
		{arg: "Alice Smith", want: "test:1"},
		{arg: "alice smith", want: "test:1"},
		{arg: "bob:1"}, // not a platform
		{arg: "bob"},   // nobody
		{arg: "@Sam", cands: 2},
		{arg: "1"}, // a bare id is not a name
		{reply: &bot.User{ID: "3", Name: "Sam"}, want: "test:3"},
		{errNone: true},
	}
	for _, tt := range tests {
		m := *asker
		if tt.reply != nil {
			m.ReplyTo, m.ReplyToUser = "x", tt.reply
		}
		got, err := r.e.ResolveTarget(ctx, &m, tt.arg)
		var te *bot.TargetError
		switch {
		case tt.want != "":
			if err != nil || got.Key != tt.want {
				t.Errorf("ResolveTarget(%q) = %+v, %v; want %s", tt.arg, got, err, tt.want)
			}
		case tt.errNone:
			if !errors.Is(err, bot.ErrNoTarget) {
				t.Errorf("ResolveTarget(%q) = %v, want ErrNoTarget", tt.arg, err)
			}
		case !errors.As(err, &te) || len(te.Candidates) != tt.cands:
			t.Errorf("ResolveTarget(%q) = %+v, %v; want refused with %d candidates", tt.arg, got, err, tt.cands)
		}
	}
	if got, _ := r.e.ResolveTarget(ctx, asker, "@alice"); got.Name != "Alice Smith" || got.Self {
		t.Errorf("target named %+v", got)
	}
	m := bot.Message{Platform: "discord", Author: bot.User{ID: "9"}, Mentions: []bot.User{{ID: "555555", Name: "Dee", Handle: "dee"}}}
	if got, err := r.e.ResolveTarget(ctx, &m, "@dee"); err != nil || got.Key != "discord:555555" {
		t.Errorf("a mention the platform resolved: %+v %v", got, err)
	}
	if got, err := r.e.ResolveTarget(ctx, &m, "<@!1234567>"); err != nil || got.Key != "discord:1234567" {
		t.Errorf("a Discord mention: %+v %v", got, err)
	}
}

// failingKeeper fails while fail is set and counts its runs.
type failingKeeper struct {
	fail atomic.Bool
	runs atomic.Int32
}

func (k *failingKeeper) ExportUser(context.Context, string) (any, error) {
	return map[string]string{"kept": "by the keeper"}, nil
}

func (k *failingKeeper) ForgetUser(context.Context, bot.ForgetRequest) (int, error) {
	k.runs.Add(1)
	if k.fail.Load() {
		return 0, errors.New("disk on fire")
	}
	return 1, nil
}

// TestForgetJournal: a forget whose step fails leaves its journal record
// in the KV; the next Start finishes it from the failed step on, and the
// user's data goes; the export lists every keeper's data.
func TestForgetJournal(t *testing.T) {
	kv := bot.NewMemKV()
	store := bottest.NewMemStore()
	first, second := &failingKeeper{}, &failingKeeper{}
	second.fail.Store(true)
	start := func() *bot.Engine {
		e, err := bot.New(bot.Config{}, store, &bottest.LLM{}, bot.WithKV(kv), bot.WithPrompts(prompts.Default()),
			bot.WithPlugin(bot.Plugin{Name: "first", Keeper: first}), bot.WithPlugin(bot.Plugin{Name: "second", Keeper: second}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bot.New(bot.Config{}, store, &bottest.LLM{}, bot.WithPrompts(prompts.Default()),
			bot.WithPlugin(bot.Plugin{Name: "first", Keeper: first}), bot.WithPlugin(bot.Plugin{Name: "first", Keeper: first})); err == nil {
			t.Error("a keeper name was added twice")
		}
		e.AddPlatform(bottest.NewPlatform("test", bot.Limits{MaxLen: 100}))
		if err := e.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	e := start()
	ctx := context.Background()
	if err := e.Handle(ctx, dm("1", "m1", "remember me")); err != nil {
		t.Fatal(err)
	}
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := e.Export(ctx, "test:u1")
	if err != nil || len(d.Messages) == 0 || d.Extra["first"] == nil || d.Extra["second"] == nil {
		t.Fatalf("export = %+v, %v", d, err)
	}
	_, ref, err := e.Forget(ctx, bot.ForgetRequest{User: "test:u1", Scope: bot.ViewAll()}, "test:mgr")
	if !errors.Is(err, bot.ErrForgetStep) || !strings.Contains(err.Error(), "second") {
		t.Fatalf("Forget = %v, want the second step to fail", err)
	}
	if d, _ := e.Export(ctx, "test:u1"); len(d.Messages) == 0 {
		t.Fatal("the store's step ran although an earlier one failed")
	}
	if _, err := kv.Get(ctx, "forget_jobs", ref); err != nil {
		t.Fatalf("no journal record after the failure: %v", err)
	}
	e.Close()

	second.fail.Store(false)
	e = start()
	if d, _ := e.Export(ctx, "test:u1"); len(d.Messages) != 0 || d.Profile != nil {
		t.Errorf("the resumed forget left %+v", d)
	}
	if first.runs.Load() != 1 || second.runs.Load() != 2 {
		t.Errorf("steps run: first %d, second %d; want 1 and 2 (done steps are not run again)", first.runs.Load(), second.runs.Load())
	}
	if _, err := kv.Get(ctx, "forget_jobs", ref); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the journal record outlived the forget: %v", err)
	}
}
