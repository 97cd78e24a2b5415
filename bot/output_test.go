package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

func TestSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello there. How are you?", []string{"Hello there. ", "How are you?"}},
		{"It costs $5.95 per bag. Shipping is free.", []string{"It costs $5.95 per bag. ", "Shipping is free."}},
		{"Use e.g. a V60. Then pour.", []string{"Use e.g. a V60. ", "Then pour."}},
		{"He said \"stop.\" Then left.", []string{"He said \"stop.\" ", "Then left."}},
		{"1. Grind\n2. Pour\n", []string{"1. Grind\n", "2. Pour\n"}},
		{"你好。我是小助手！有问题吗？好", []string{"你好。", "我是小助手！", "有问题吗？", "好"}},
		{"Wait... what? Yes!", []string{"Wait... ", "what? ", "Yes!"}},
		{"lumen.coffee is our site. Visit it.", []string{"lumen.coffee is our site. ", "Visit it."}},
		{"Line one\n\nLine two", []string{"Line one\n\n", "Line two"}},
	}
	for _, tt := range tests {
		got := bot.Sentences(tt.in, bot.HardSentenceRunes)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Sentences(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	// A sentence that never ends is cut at a clause near the hard limit.
	long := strings.Repeat("word ", 30) + "and then, " + strings.Repeat("more ", 100)
	pieces := bot.Sentences(long, 200)
	if len(pieces) < 2 || utf8.RuneCountInString(strings.TrimSpace(pieces[0])) > 200 {
		t.Fatalf("long text pieces %q", pieces)
	}
	if !strings.HasSuffix(strings.TrimSpace(pieces[0]), "then,") {
		t.Errorf("first clause %q does not end at the comma", pieces[0])
	}
	// Streaming: an unfinished sentence is not complete yet.
	for _, s := range []string{"Hello there", "Costs $5.", "Costs $5.9", "Hi."} {
		if n := bot.SentenceEnd(s, bot.HardSentenceRunes); n != -1 {
			t.Errorf("SentenceEnd(%q) = %d, want -1 (more may come)", s, n)
		}
	}
}

func FuzzSentences(f *testing.F) {
	for _, s := range []string{"Hello. World!", "a\n\nb", "你好。世界", "x." + strings.Repeat("\"", 10) + " y", strings.Repeat("a", 600),
		"e.g. 1. 2. 3.", "\xff\xfe. \n", "…… ok", "$5.95. Next"} {
		f.Add(s, 40)
	}
	f.Fuzz(func(t *testing.T, s string, hard int) {
		hard = int(uint(hard)%500) + 1
		pieces := bot.Sentences(s, hard)
		if strings.Join(pieces, "") != s {
			t.Fatalf("pieces of %q don't join back: %q", s, pieces)
		}
		for _, p := range pieces {
			if p == "" {
				t.Fatalf("empty piece in %q", pieces)
			}
			if n := utf8.RuneCountInString(strings.TrimRightFunc(p, unicode.IsSpace)); n > hard+3 {
				t.Fatalf("piece of %d runes over the hard limit %d: %q", n, hard, p)
			}
		}
		if n := bot.SentenceEnd(s, hard); n > len(s) || n == 0 {
			t.Fatalf("SentenceEnd = %d for %d bytes", n, len(s))
		}
	})
}

func TestStripPings(t *testing.T) {
	tests := []struct{ reply, msg, want string }{
		{"Hey @everyone, beans are back!", "any beans?", "Hey everyone, beans are back!"},
		{"Hey @everyone, beans!", "tell @everyone", "Hey @everyone, beans!"},
		{"Ask <@123> or <@&456> or <@!789>.", "who?", "Ask  or  or ."},
		{"Ask <@123>.", "is <@123> here?", "Ask <@123>."},
		{"Write to [the boss](tg://user?id=42) now", "who?", "Write to the boss now"},
		{"or tg://user?id=42 directly", "", "or  directly"},
		{"Mail hello@lumen.coffee", "", "Mail hello@lumen.coffee"},
		{"@here you go", "", "here you go"},
	}
	for _, tt := range tests {
		if got := bot.StripPings(tt.reply, tt.msg); got != tt.want {
			t.Errorf("StripPings(%q, %q) = %q, want %q", tt.reply, tt.msg, got, tt.want)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[Claim refund](https://evil.example)", `\[Claim refund\]\(https://evil.example\)`},
		{"**Bob** _the_ `builder`", `\*\*Bob\*\* \_the\_ \` + "`" + `builder\` + "`"},
		{"- item\n# head", "\\- item\n\\# head"},
		{"1. first", `1\. first`},
		{"@admin hi", "@\u2060admin hi"},
		{"Ann", "Ann"},
		{"李雷", "李雷"},
	}
	for _, tt := range tests {
		if got := bot.EscapeMarkdown(tt.in); got != tt.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := bot.Escape(bot.MarkupPlain, "[x](y)"); got != "[x](y)" {
		t.Errorf("plain text escaped: %q", got)
	}
}

// blockChecker blocks every sentence holding one of its words, counting
// the sentences it saw.
type blockChecker struct {
	words []string
	mu    sync.Mutex
	seen  []string
}

func (c *blockChecker) CheckSentence(_ context.Context, s string, g *bot.Grounding) bot.Violation {
	c.mu.Lock()
	c.seen = append(c.seen, s)
	c.mu.Unlock()
	for _, w := range c.words {
		if strings.Contains(s, w) {
			return bot.Violation{Check: bot.CheckUngrounded, Reason: "your draft stated " + w, Detail: "word " + w, Masked: strings.ReplaceAll(s, w, "***")}
		}
	}
	return bot.Violation{}
}

// outputRig is an engine with a checker and a recording platform that
// streams every edit (no pacing), an audit log and an event log.
type outputRig struct {
	*rig
	audit  *bottest.AuditLog
	events *bottest.EventLog
}

func newOutputRig(t *testing.T, cfg bot.Config, c bot.OutputChecker, lim bot.Limits) *outputRig {
	t.Helper()
	o := &outputRig{audit: &bottest.AuditLog{}, events: &bottest.EventLog{}}
	o.rig = newRig(t, cfg, bot.WithPlugin(bot.Plugin{Name: "checks", Checker: c}), bot.WithAuditor(o.audit), bot.WithObserver(o.events))
	o.plat.Lim = lim
	o.llm.Chunk = 3
	return o
}

// shown is every text the platform was ever given, sends and edits.
func (r *rig) shown() []string {
	var out []string
	for _, c := range r.plat.Calls("send", "edit") {
		out = append(out, c.Out.Text)
	}
	return out
}

// TestBlockedSentenceNeverShownThenReasked: the model's third sentence is
// blocked; the two before it may show while it streams, the blocked one
// never does, not in one edit. The model is asked again with the reason
// and its clean answer is what the follower is left with.
func TestBlockedSentenceNeverShownThenReasked(t *testing.T) {
	c := &blockChecker{words: []string{"SAVE20"}}
	r := newOutputRig(t, bot.Config{}, c, bot.Limits{MaxLen: 100, Stream: true})
	r.llm.Reply = func(req bot.Request) (string, error) {
		if req.Reask != "" {
			return "Sorry, there is no promo code right now. Our beans are roasted fresh.", nil
		}
		return "Great question! Our beans are roasted fresh. Use code SAVE20 for a discount. Enjoy!", nil
	}
	if err := r.e.Handle(context.Background(), dm("1", "1", "any discount?")); err != nil {
		t.Fatal(err)
	}
	r.idle(t)
	for _, s := range r.shown() {
		if strings.Contains(s, "SAVE20") || strings.Contains(s, "Enjoy") {
			t.Fatalf("a send or edit showed the blocked sentence or what followed it: %q", s)
		}
	}
	if len(r.shown()) < 2 {
		t.Errorf("the clean sentences were not streamed before the block: %q", r.shown())
	}
	got := r.plat.Replies("1")
	if len(got) != 1 || got[0] != "Sorry, there is no promo code right now. Our beans are roasted fresh." {
		t.Fatalf("final reply %q, want the re-asked answer", got)
	}
	reqs := r.llm.Requests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].Messages[0].Content, "your draft stated SAVE20") {
		t.Fatalf("re-ask request lacks the reason: %+v", reqs)
	}
	es := r.audit.Entries(bot.AuditOutputBlocked)
	if len(es) != 1 || es[0].Rule != "ungrounded" || es[0].Action != "reask" || strings.Contains(es[0].Excerpt, "SAVE20") || !strings.Contains(es[0].Excerpt, "***") {
		t.Errorf("audit %+v, want one masked ungrounded re-ask", es)
	}
	if ev := r.events.Of(bot.EventOutputBlocked); len(ev) != 1 || ev[0].Label != "ungrounded" {
		t.Errorf("events %+v", ev)
	}
	if rs := r.events.Of(bot.EventReplySent); len(rs) != 1 || rs[0].Outcome != bot.OutcomeOK {
		t.Errorf("reply outcome %+v, want ok", rs)
	}
	if turns := r.store.TurnsOf("test/1"); len(turns) != 2 || strings.Contains(turns[1].Text, "SAVE20") {
		t.Errorf("stored turns %+v", turns)
	}
}

// TestBlockedTwiceEndsWithFallback: a model that keeps writing the bad
// sentence gets asked once more; then the reply is what passed plus the
// catalogue's fallback in the user's language.
func TestBlockedTwiceEndsWithFallback(t *testing.T) {
	c := &blockChecker{words: []string{"idiot"}}
	r := newOutputRig(t, bot.Config{}, c, bot.Limits{MaxLen: 300, Stream: true})
	r.llm.Reply = func(bot.Request) (string, error) { return "你好！You idiot, read the FAQ.", nil }
	m := dm("2", "1", "你好，请问怎么退货？")
	if err := r.e.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r.idle(t)
	for _, s := range r.shown() {
		if strings.Contains(s, "idiot") {
			t.Fatalf("blocked sentence shown: %q", s)
		}
	}
	got := r.plat.Replies("2")
	want := bot.NewCatalog().T("zh", "output_fallback")
	if len(got) != 1 || !strings.HasSuffix(got[0], want) || !strings.HasPrefix(got[0], "你好！") {
		t.Fatalf("final reply %q, want the clean start and the Chinese fallback", got)
	}
	if es := r.audit.Entries(bot.AuditOutputBlocked); len(es) != 2 || es[1].Action != "fallback" {
		t.Errorf("audit %+v, want re-ask then fallback", es)
	}
	if rs := r.events.Of(bot.EventReplySent); len(rs) != 1 || rs[0].Outcome != bot.OutcomeBlocked {
		t.Errorf("reply outcome %+v, want blocked", rs)
	}
}

// TestShorterRetryClearsExtraMessages: a first attempt that filled two
// messages before it was blocked, and a short clean retry: the second
// message goes.
func TestShorterRetryClearsExtraMessages(t *testing.T) {
	c := &blockChecker{words: []string{"BAD"}}
	r := newOutputRig(t, bot.Config{}, c, bot.Limits{MaxLen: 80, Stream: true})
	r.llm.Reply = func(req bot.Request) (string, error) {
		if req.Reask != "" {
			return "Short and clean.", nil
		}
		return strings.Repeat("This sentence is fine and clean. ", 4) + "BAD one.", nil
	}
	_ = r.e.Handle(context.Background(), dm("3", "1", "hi"))
	r.idle(t)
	if got := r.plat.Replies("3"); len(got) != 1 || got[0] != "Short and clean." {
		t.Fatalf("replies %q, want only the retry", got)
	}
	if d := r.plat.Calls("delete"); len(d) == 0 {
		t.Error("the first attempt's second message was not deleted")
	}
}

// TestReplyCapped: a model that never stops is cut after
// ReplyMaxMessages messages, which end with the note.
func TestReplyCapped(t *testing.T) {
	r := newOutputRig(t, bot.Config{ReplyMaxMessages: 3}, &blockChecker{}, bot.Limits{MaxLen: 100, Stream: true})
	r.llm.Reply = func(bot.Request) (string, error) { return strings.Repeat("Coffee is a joy to brew well. ", 2000), nil }
	r.llm.Chunk = 64
	_ = r.e.Handle(context.Background(), dm("4", "1", "talk"))
	r.idle(t)
	got := r.plat.Replies("4")
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("%d messages, want at most 3", len(got))
	}
	note := bot.NewCatalog().T("en", "reply_capped")
	if !strings.HasSuffix(got[len(got)-1], note) {
		t.Errorf("last message %q lacks the cap note", got[len(got)-1])
	}
	if n := len(r.plat.Calls("send")); n > 3 {
		t.Errorf("%d sends", n)
	}
}

// TestPingsStrippedInAnswers: @everyone and a tg:// mention the model
// wrote, and the user didn't, are gone from every send and edit.
func TestPingsStrippedInAnswers(t *testing.T) {
	r := newOutputRig(t, bot.Config{}, &blockChecker{}, bot.Limits{MaxLen: 300, Stream: true})
	r.llm.Reply = func(bot.Request) (string, error) {
		return "Hey @everyone! Ask [the owner](tg://user?id=1) or <@&55> about it.", nil
	}
	_ = r.e.Handle(context.Background(), dm("5", "1", "who runs this?"))
	r.idle(t)
	for _, s := range r.shown() {
		if strings.Contains(s, "@everyone") || strings.Contains(s, "tg://") || strings.Contains(s, "<@&") {
			t.Fatalf("a ping reached the platform: %q", s)
		}
	}
	if got := r.plat.Replies("5"); len(got) != 1 || !strings.Contains(got[0], "Ask the owner or") {
		t.Errorf("reply %q", got)
	}
}

// TestGroundingGivenToChecker: the checker sees the user's question, the
// persona and the passages the prompt was built from.
func TestGroundingGivenToChecker(t *testing.T) {
	var got *bot.Grounding
	var mu sync.Mutex
	c := bot.OutputCheckerFunc(func(_ context.Context, s string, g *bot.Grounding) bot.Violation {
		mu.Lock()
		got = g
		mu.Unlock()
		return bot.Violation{}
	})
	kb := knowledgeFunc(func(context.Context, string, int) ([]bot.Passage, error) {
		return []bot.Passage{{Source: "returns.md", Text: "Returns within 30 days.", Relevance: 1}}, nil
	})
	r := newRig(t, bot.Config{Persona: bot.Persona{Brand: "Lumen", Dont: []string{"discuss competitors"}}},
		bot.WithPlugin(bot.Plugin{Name: "checks", Checker: c}), bot.WithKnowledge(kb))
	e := r.e
	_ = e.Handle(context.Background(), dm("6", "1", "refund window?"))
	r.idle(t)
	mu.Lock()
	defer mu.Unlock()
	if got == nil || got.Query != "refund window?" || got.Persona.Brand != "Lumen" || len(got.Passages) != 1 || got.Passages[0].Source != "returns.md" {
		t.Fatalf("grounding %+v", got)
	}
}

type knowledgeFunc func(ctx context.Context, q string, k int) ([]bot.Passage, error)

func (f knowledgeFunc) Search(ctx context.Context, q string, k int) ([]bot.Passage, error) {
	return f(ctx, q, k)
}

func TestCheckText(t *testing.T) {
	c := &blockChecker{words: []string{"SAVE20", "$5"}}
	flags := bot.CheckText(context.Background(), c, "Hello. Use SAVE20 today! It is only $5.\nBye.", nil)
	if len(flags) != 2 || flags[0].Sentence != "Use SAVE20 today!" || flags[1].Sentence != "It is only $5." {
		t.Errorf("flags %+v", flags)
	}
	if bot.CheckText(context.Background(), nil, "anything", nil) != nil {
		t.Error("a nil checker flagged")
	}
}

// TestNamesEscapedInGreeting: a display name made of Markdown reaches a
// Markdown platform escaped (it shows as written, links nowhere) and on
// one line; on a plain-text platform it is left as it is.
func TestNamesEscapedInGreeting(t *testing.T) {
	name := "[Claim refund](https://evil.example)\n# HEADLINE"
	for _, tc := range []struct {
		markup bot.Markup
		want   string
	}{
		{bot.MarkupMarkdown, `\[Claim refund\]\(https://evil.example\) \# HEADLINE`},
		{bot.MarkupHTML, `\[Claim refund\]\(https://evil.example\) \# HEADLINE`},
		{bot.MarkupPlain, "[Claim refund](https://evil.example) # HEADLINE"},
	} {
		store := bottest.NewMemStore()
		plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000, Markup: tc.markup})
		e, err := bot.New(bot.Config{}, store, &bottest.LLM{}, bot.WithPrompts(prompts.Default()))
		if err != nil {
			t.Fatal(err)
		}
		e.AddPlatform(plat)
		e.Start(context.Background())
		m := bot.Message{Platform: "test", Chat: bot.Chat{ID: "c", Kind: bot.ChatDM}, ID: "1", Author: bot.User{ID: "u", Name: name}, Text: "/start"}
		if err := e.Handle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		e.WaitIdle(ctx)
		cancel()
		e.Close()
		got := plat.Replies("c")
		if len(got) != 1 || !strings.Contains(got[0], "Hi "+tc.want+"!") {
			t.Errorf("markup %v: greeting %q, want the name as %q", tc.markup, got, tc.want)
		}
	}
}
