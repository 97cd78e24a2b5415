package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

type rig struct {
	e     *bot.Engine
	store *bottest.MemStore
	plat  *bottest.Platform
	llm   *bottest.LLM
}

func newRig(t testing.TB, cfg bot.Config, opts ...bot.Option) *rig {
	t.Helper()
	r := &rig{store: bottest.NewMemStore(), plat: bottest.NewPlatform("test", bot.Limits{MaxLen: 100, Stream: true}), llm: &bottest.LLM{}}
	e, err := bot.New(cfg, r.store, r.llm, append([]bot.Option{bot.WithPrompts(prompts.Default())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.AddPlatform(r.plat)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	r.e = e
	return r
}

func (r *rig) idle(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.e.WaitIdle(ctx); err != nil {
		t.Fatal("engine never went idle:", err)
	}
}

func dm(chat, id, text string) bot.Message {
	return bot.Message{Platform: "test", Chat: bot.Chat{ID: chat, Kind: bot.ChatDM}, ID: id,
		Author: bot.User{ID: "u" + chat, Name: "Ann"}, Text: text}
}

func TestOrderPerConversationAndParallelism(t *testing.T) {
	const convs, per = 50, 200
	var mu sync.Mutex
	seen := map[string][]int{}
	var active, maxActive atomic.Int32
	r := newRig(t, bot.Config{Workers: 8, QueueSize: 256}, bot.WithPlugin(bot.Plugin{Name: "inspector", Inspector: bot.InspectorFunc(
		func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
			n := active.Add(1)
			for {
				old := maxActive.Load()
				if n <= old || maxActive.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(20 * time.Microsecond)
			active.Add(-1)
			var i int
			fmt.Sscanf(m.Text, "msg %d", &i)
			mu.Lock()
			seen[m.Chat.ID] = append(seen[m.Chat.ID], i)
			mu.Unlock()
			return bot.Verdict{Stop: true}, nil
		})}))
	var wg sync.WaitGroup
	for c := 0; c < convs; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				m := dm(fmt.Sprint("c", c), fmt.Sprint(i), fmt.Sprint("msg ", i))
				if err := r.e.Handle(context.Background(), m); err != nil {
					t.Error(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	r.idle(t)
	if len(seen) != convs {
		t.Fatalf("saw %d conversations, want %d", len(seen), convs)
	}
	for c, got := range seen {
		if len(got) != per {
			t.Fatalf("%s: %d messages, want %d", c, len(got), per)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("%s: message %d handled at position %d", c, v, i)
			}
		}
	}
	if maxActive.Load() < 2 {
		t.Errorf("conversations never overlapped (max concurrent %d)", maxActive.Load())
	}
}

func TestDuplicateDropped(t *testing.T) {
	var dups atomic.Int32
	r := newRig(t, bot.Config{}, bot.WithObserver(bot.ObserverFunc(func(e bot.Event) {
		if e.Kind == bot.EventDuplicate {
			dups.Add(1)
		}
	})))
	for i := 0; i < 3; i++ {
		if err := r.e.Handle(context.Background(), dm("1", "42", "hello")); err != nil {
			t.Fatal(err)
		}
	}
	r.idle(t)
	if got := len(r.store.TurnsOf("test/1")); got != 2 { // question + answer
		t.Errorf("stored %d turns, want 2", got)
	}
	if dups.Load() != 2 {
		t.Errorf("duplicates counted %d, want 2", dups.Load())
	}
}

func TestReplyPolicy(t *testing.T) {
	r := newRig(t, bot.Config{OpenChats: []string{"test/open"}, BotName: "chorusbot"})
	group := func(chat, id, text string, mod func(*bot.Message)) bot.Message {
		m := bot.Message{Platform: "test", Chat: bot.Chat{ID: chat, Kind: bot.ChatGroup}, ID: id, Author: bot.User{ID: "9", Name: "Bo"}, Text: text}
		if mod != nil {
			mod(&m)
		}
		return m
	}
	cases := []struct {
		name   string
		m      bot.Message
		answer bool
	}{
		{"dm", dm("d", "1", "hi"), true},
		{"group plain", group("g", "1", "hello all", nil), false},
		{"group mention", group("g", "2", "@chorusbot hi", func(m *bot.Message) { m.Mentioned = true }), true},
		{"group reply to bot", group("g", "3", "and?", func(m *bot.Message) { m.ReplyToBot = true }), true},
		{"open chat", group("open", "1", "anyone?", nil), true},
		{"command", group("g", "4", "/help", nil), true},
		{"command for other bot", group("g", "5", "/help@otherbot", nil), false},
		{"bot author", group("open", "2", "beep", func(m *bot.Message) { m.Author.IsBot = true }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(r.plat.Calls("send"))
			if err := r.e.Handle(context.Background(), c.m); err != nil {
				t.Fatal(err)
			}
			r.idle(t)
			got := len(r.plat.Calls("send")) > before
			if got != c.answer {
				t.Errorf("answered=%v, want %v", got, c.answer)
			}
		})
	}
}

func TestStreamedReplyFinalTextAndSplit(t *testing.T) {
	r := newRig(t, bot.Config{})
	long := strings.Repeat("Coffee is good. ", 15) // 240 chars, limit 100
	r.llm.Reply = func(bot.Request) (string, error) { return strings.TrimSpace(long), nil }
	if err := r.e.Handle(context.Background(), dm("1", "1", "tell me")); err != nil {
		t.Fatal(err)
	}
	r.idle(t)
	got := r.plat.Replies("1")
	if len(got) != 3 {
		t.Fatalf("got %d messages, want 3: %q", len(got), got)
	}
	joined := strings.Join(got, " ")
	if joined != strings.TrimSpace(long) {
		t.Errorf("pieces don't add up to the reply:\n%q\n%q", joined, long)
	}
	for _, p := range got {
		if len([]rune(p)) > 100 || !strings.HasSuffix(p, ".") {
			t.Errorf("piece %q is over the limit or not cut at a sentence", p)
		}
	}
}

func TestLLMFailureApologises(t *testing.T) {
	r := newRig(t, bot.Config{})
	r.llm.Reply = func(bot.Request) (string, error) { return "", fmt.Errorf("boom: %w", bot.ErrLLMUnavailable) }
	_ = r.e.Handle(context.Background(), dm("1", "1", "hello?"))
	r.idle(t)
	got := r.plat.Replies("1")
	if len(got) != 1 || !strings.Contains(got[0], "Sorry") {
		t.Fatalf("want one apology, got %q", got)
	}
}

func TestStreamCutMarked(t *testing.T) {
	r := newRig(t, bot.Config{})
	r.llm.Reply = func(bot.Request) (string, error) { return "one two three four five six", nil }
	r.llm.Chunk, r.llm.CutAfter = 4, 2
	_ = r.e.Handle(context.Background(), dm("1", "1", "go"))
	r.idle(t)
	got := r.plat.Replies("1")
	if len(got) != 1 || !strings.HasPrefix(got[0], "one two") || !strings.Contains(got[0], "cut short") {
		t.Fatalf("want partial reply marked as cut, got %q", got)
	}
}

func TestPanicRecovered(t *testing.T) {
	var panics atomic.Int32
	r := newRig(t, bot.Config{}, bot.WithPlugin(bot.Plugin{Name: "inspector", Inspector: bot.InspectorFunc(func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
		if m.Text == "boom" {
			panic("inspector exploded")
		}
		return bot.Verdict{}, nil
	})}), bot.WithObserver(bot.ObserverFunc(func(e bot.Event) {
		if e.Kind == bot.EventPanic {
			panics.Add(1)
		}
	})))
	_ = r.e.Handle(context.Background(), dm("1", "1", "boom"))
	_ = r.e.Handle(context.Background(), dm("1", "2", "still there?"))
	r.idle(t)
	if panics.Load() != 1 {
		t.Errorf("panics counted %d, want 1", panics.Load())
	}
	if got := r.plat.Replies("1"); len(got) != 1 || !strings.Contains(got[0], "still there?") {
		t.Errorf("the next message was not answered: %q", got)
	}
	if p, _ := r.store.Pending(context.Background()); len(p) != 0 {
		t.Errorf("%d messages left pending", len(p))
	}
}

func TestRateLimitPolite(t *testing.T) {
	r := newRig(t, bot.Config{RatePerMinute: 1, RateBurst: 2})
	for i := 0; i < 3; i++ {
		_ = r.e.Handle(context.Background(), dm("1", fmt.Sprint(i), fmt.Sprint("q", i)))
	}
	r.idle(t)
	got := r.plat.Replies("1")
	if len(got) != 3 || !strings.Contains(got[2], "faster than I can answer") {
		t.Fatalf("want two answers and a polite refusal, got %q", got)
	}
	if n := len(r.llm.Requests()); n != 2 {
		t.Errorf("LLM called %d times, want 2", n)
	}
}

func TestDailyBudget(t *testing.T) {
	r := newRig(t, bot.Config{UserDailyTokens: 5})
	_ = r.e.Handle(context.Background(), dm("1", "1", "first"))
	_ = r.e.Handle(context.Background(), dm("1", "2", "second"))
	r.idle(t)
	got := r.plat.Replies("1")
	if len(got) < 2 || got[0] != "echo: first" || !strings.Contains(strings.Join(got[1:], " "), "today's limit") {
		t.Fatalf("want an answer then the budget message, got %q", got)
	}
}

func TestCommandRoles(t *testing.T) {
	var audited []bot.AuditEntry
	var mu sync.Mutex
	r := newRig(t, bot.Config{Roles: bot.Roles{Managers: []string{"test:boss"}}}, bot.WithAuditor(auditFunc(func(a bot.AuditEntry) {
		mu.Lock()
		audited = append(audited, a)
		mu.Unlock()
	})))
	ran := 0
	if err := r.e.Register(bot.CommandSpec{Name: "secret", Role: bot.RoleManager, Help: map[string]string{"en": "x"},
		Run: func(ctx context.Context, env *bot.Env, c *bot.Command) error { ran++; return env.Reply(ctx, "done") }}); err != nil {
		t.Fatal(err)
	}
	fan := dm("1", "1", "/secret")
	boss := dm("2", "1", "/secret")
	boss.Author.ID = "boss"
	_ = r.e.Handle(context.Background(), fan)
	_ = r.e.Handle(context.Background(), boss)
	r.idle(t)
	if ran != 1 {
		t.Fatalf("command ran %d times, want 1 (the manager's)", ran)
	}
	if got := r.plat.Replies("1"); len(got) != 1 || !strings.Contains(got[0], "managers only") {
		t.Errorf("follower got %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(audited) != 1 || audited[0].Kind != "refused" || audited[0].User != "test:u1" {
		t.Errorf("audit = %+v", audited)
	}
	// /help lists only what the asker may use.
	_ = r.e.Handle(context.Background(), dm("1", "2", "/help"))
	r.idle(t)
	if h := r.plat.Replies("1"); strings.Contains(h[len(h)-1], "/secret") {
		t.Errorf("follower's /help lists /secret: %q", h[len(h)-1])
	}
}

type auditFunc func(bot.AuditEntry)

func (f auditFunc) Audit(_ context.Context, a bot.AuditEntry) error { f(a); return nil }

func TestChineseCatalogue(t *testing.T) {
	r := newRig(t, bot.Config{})
	r.llm.Reply = func(bot.Request) (string, error) { return "", bot.ErrLLMUnavailable }
	_ = r.e.Handle(context.Background(), dm("1", "1", "你好，请问怎么退货？"))
	r.idle(t)
	if got := r.plat.Replies("1"); len(got) != 1 || !strings.Contains(got[0], "抱歉") {
		t.Errorf("want a Chinese apology, got %q", got)
	}
	if reqs := r.llm.Requests(); len(reqs) != 1 || reqs[0].Lang != "zh" {
		t.Errorf("request language not zh: %+v", reqs)
	}
}

func TestBadInput(t *testing.T) {
	r := newRig(t, bot.Config{})
	inputs := map[string]string{
		"invalid utf8": "caf\xc3\x28 \xff\xfe",
		"huge":         strings.Repeat("ab ", 100<<10/3),
		"empty":        "",
		"control":      "hi\x00\x07\x1b[31m there\r\n",
	}
	i := 0
	for name, in := range inputs {
		i++
		t.Run(name, func(t *testing.T) {
			chat := fmt.Sprint("bad", i)
			if err := r.e.Handle(context.Background(), dm(chat, "1", in)); err != nil {
				t.Fatal(err)
			}
			r.idle(t)
			turns := r.store.TurnsOf("test/" + chat)
			if len(turns) == 0 {
				t.Fatal("nothing stored")
			}
			for _, tr := range turns {
				if len(tr.Text) > bot.MaxTextBytes || strings.ContainsAny(tr.Text, "\x00\x07\x1b") || !utf8Valid(tr.Text) {
					t.Errorf("stored unsafe text %q", tr.Text[:min(40, len(tr.Text))])
				}
			}
		})
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

func TestBackPressure(t *testing.T) {
	block := make(chan struct{})
	r := newRig(t, bot.Config{Workers: 1, QueueSize: 2}, bot.WithPlugin(bot.Plugin{Name: "inspector", Inspector: bot.InspectorFunc(func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
		<-block
		return bot.Verdict{Stop: true}, nil
	})}))
	_ = r.e.Handle(context.Background(), dm("1", "1", "a"))
	_ = r.e.Handle(context.Background(), dm("2", "1", "b"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := r.e.Handle(ctx, dm("3", "1", "c"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("full queue: got %v, want the caller blocked until its deadline", err)
	}
	close(block)
	r.idle(t)
}

func TestReplayPendingAfterRestart(t *testing.T) {
	store := bottest.NewMemStore()
	m := dm("1", "7", "are you there?")
	if fresh, _ := store.Accept(context.Background(), &m); !fresh {
		t.Fatal("not fresh")
	}
	// A crash left m accepted but unanswered; a new engine replays it.
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 100})
	e, _ := bot.New(bot.Config{}, store, &bottest.LLM{}, bot.WithPrompts(prompts.Default()))
	e.AddPlatform(plat)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := plat.Replies("1"); len(got) != 1 {
		t.Fatalf("replayed message answered %d times", len(got))
	}
	if err := e.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	_ = e.WaitIdle(ctx)
	if got := plat.Replies("1"); len(got) != 1 {
		t.Fatalf("redelivery after replay answered again: %d replies", len(got))
	}
}

func TestSummaryFolding(t *testing.T) {
	r := newRig(t, bot.Config{WindowTokens: 40, SummaryEvery: 4})
	r.llm.Reply = func(req bot.Request) (string, error) {
		if req.Purpose == bot.PurposeSummary {
			return fmt.Sprintf("summary of %d turns", len(req.Turns)), nil
		}
		return "ok noted", nil
	}
	for i := 0; i < 20; i++ {
		_ = r.e.Handle(context.Background(), dm("1", fmt.Sprint(i), fmt.Sprintf("message number %d about beans and roasting", i)))
	}
	r.idle(t)
	sum, _ := r.store.Summary(context.Background(), "test/1")
	if sum.UpTo == 0 || !strings.HasPrefix(sum.Text, "summary of") || len(sum.Users) == 0 {
		t.Fatalf("no summary folded: %+v", sum)
	}
	last := r.llm.Requests()[len(r.llm.Requests())-1]
	if last.Purpose == bot.PurposeChat && !strings.Contains(last.Messages[0].Content, "summary of") {
		t.Errorf("summary not in the prompt: %q", last.Messages[0].Content)
	}
}

func TestCommandLanguageFromLocale(t *testing.T) {
	r := newRig(t, bot.Config{})
	m := dm("1", "1", "/forget")
	m.Author.Lang = "zh-hans"
	_ = r.e.Handle(context.Background(), m)
	r.idle(t)
	if got := r.plat.Replies("1"); len(got) != 1 || !strings.Contains(got[0], "永久删除") {
		t.Errorf("want the Chinese confirmation for a zh user, got %q", got)
	}
}

func TestReplayDoesNotAnswerTwice(t *testing.T) {
	store := bottest.NewMemStore()
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 100})
	m := dm("1", "7", "are you there?")
	// Before the crash the message was accepted, answered and the answer
	// stored, but the done marker never made it.
	if _, err := store.Accept(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	store.Append(context.Background(), "test/1", bot.Turn{Role: bot.RoleUser, User: "test:u1", MsgID: "7", Text: m.Text, Tokens: 3})
	store.Append(context.Background(), "test/1", bot.Turn{Role: bot.RoleAssistant, User: "test:u1", MsgID: "re:7", Text: "yes", Tokens: 1})
	e, _ := bot.New(bot.Config{}, store, &bottest.LLM{}, bot.WithPrompts(prompts.Default()))
	e.AddPlatform(plat)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := plat.Replies("1"); len(got) != 0 {
		t.Fatalf("answered again after replay: %q", got)
	}
	if p, _ := store.Pending(ctx); len(p) != 0 {
		t.Errorf("still pending after replay: %d", len(p))
	}
}

func TestExportOnlyInDM(t *testing.T) {
	r := newRig(t, bot.Config{})
	m := bot.Message{Platform: "test", Chat: bot.Chat{ID: "g", Kind: bot.ChatGroup}, ID: "1", Author: bot.User{ID: "9", Name: "Bo"}, Text: "/export"}
	_ = r.e.Handle(context.Background(), m)
	_ = r.e.Handle(context.Background(), dm("9", "2", "/export"))
	r.idle(t)
	for _, c := range r.plat.Calls("send") {
		switch c.Out.Chat.ID {
		case "g":
			if len(c.Out.Attachments) != 0 || !strings.Contains(c.Out.Text, "direct message") {
				t.Errorf("group got %q with %d attachments", c.Out.Text, len(c.Out.Attachments))
			}
		case "9":
			if len(c.Out.Attachments) != 1 || c.Out.Attachments[0].MIME != "application/json" {
				t.Errorf("DM export: %+v", c.Out)
			}
		}
	}
	if n := len(r.plat.Calls("send")); n != 2 {
		t.Errorf("%d messages sent, want 2", n)
	}
}
