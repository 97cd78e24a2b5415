package manage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/prompts"
)

func TestPermissions(t *testing.T) {
	r := newRig(t, rigOpts{cfg: manage.Config{Channels: map[string][]string{"tg": {"@news"}}},
		reply: func(bot.Request) (string, error) { return "ok", nil }})
	for _, tc := range []struct {
		user, text string
		refused    bool
		rule       string
	}{
		{follower, "/digest", true, "/digest"},
		{follower, "/post x launch", true, "/post"},
		{follower, "/gaps", true, "/gaps"},
		{follower, "/persona show", true, "/persona"},
		{follower, "/announce hello", true, "/announce"},
		{manager, "/announce hello", true, "/announce"},
		{manager, "/persona set voice grumpy", true, "/persona set"},
		{manager, "/persona reset", true, "/persona reset"},
		{manager, "/persona show", false, ""},
		{manager, "/gaps", false, ""},
		{owner, "/persona show", false, ""},
		{owner, "/announce hello", false, ""},
	} {
		t.Run(tc.user+" "+tc.text, func(t *testing.T) {
			before := len(r.audit.Entries("refused"))
			got := r.dm(t, tc.user, tc.text)
			refusals := r.audit.Entries("refused")[before:]
			if !tc.refused {
				lacks(t, got, "Sorry, /")
				if len(refusals) != 0 {
					t.Errorf("audited refusal %+v", refusals)
				}
				return
			}
			contains(t, got, "Sorry, "+tc.rule+" is for")
			if len(refusals) != 1 || refusals[0].Rule != tc.rule || refusals[0].User != "tg:"+tc.user {
				t.Errorf("refusal audit = %+v, want one for %s by tg:%s", refusals, tc.rule, tc.user)
			}
		})
	}
	if v := r.e.Persona().Voice; v == "grumpy" {
		t.Error("a manager changed the persona")
	}
	if n := len(r.tg.Calls("send")); n == 0 {
		t.Fatal("nothing sent")
	}
	for _, c := range r.tg.Calls("send") {
		if c.Out.Chat.ID == "@news" {
			t.Error("an announcement went out without confirmation")
		}
	}

	help := map[string]string{}
	for _, u := range []string{follower, manager, owner} {
		help[u] = r.dm(t, u, "/help")
	}
	lacks(t, help[follower], "/digest", "/post", "/gaps", "/persona", "/announce")
	contains(t, help[manager], "/digest", "/post", "/gaps", "/persona")
	lacks(t, help[manager], "/announce")
	contains(t, help[owner], "/digest", "/announce")
}

// seedGroup writes a small day of chat in group "g" through the engine.
func seedGroup(t *testing.T, r *rig) {
	t.Helper()
	at := func(h float64) time.Time { return t0.Add(-time.Duration(h * float64(time.Hour))) }
	r.group(t, "ann", "This was yesterday's old news about pineapples, nobody cares", at(30))
	msgs := []struct {
		user, text string
		hours      float64
	}{
		{"ann", "My shipping to Canada is late again, the parcel is missing", 10},
		{"bob", "Same here, shipping to Canada took three weeks", 9.5},
		{"ann", "Shipping to Canada is terrible lately", 9},
		{"cat", "I love the new espresso blend, it is amazing", 8},
		{"dan", "The espresso blend is great, thanks team", 7.5},
		{"ann", "Does the espresso grinder work with the old machine?", 7},
		{"cat", "Yes, the grinder fits the old machine fine", 6.9},
		{"eve", "When does the winter sale start?", 1},
	}
	for _, m := range msgs {
		r.group(t, m.user, m.text, at(m.hours))
	}
}

func TestDigestExtractiveOffline(t *testing.T) {
	r := newRig(t, rigOpts{llm: &offlineLLM{}})
	seedGroup(t, r)
	got := r.group(t, manager, "/digest", t0)
	contains(t, got,
		"Digest of the last 24 hours: 8 messages from 5 people.",
		"Main threads:", "shipping", "espresso",
		"Unanswered questions (1, no reply or \"I don't know\"):", "eve: When does the winter sale start?",
		"Mood: mixed", "Most active: ann (3)")
	lacks(t, got, "pineapples", "grinder work with", "/digest", "could not write")
	got = r.group(t, manager, "/digest 48", t0)
	contains(t, got, "9 messages from 5 people")
	got = r.group(t, manager, "/digest forever", t0)
	contains(t, got, "Usage: /digest")
}

func TestDigestWritten(t *testing.T) {
	r := newRig(t, rigOpts{reply: func(req bot.Request) (string, error) {
		if req.Purpose == bot.PurposeDigest {
			return "HEADLINE: shipping to Canada hurts; espresso loved.", nil
		}
		return "answer", nil
	}})
	seedGroup(t, r)
	got := r.group(t, manager, "/digest 24", t0)
	contains(t, got, "HEADLINE: shipping to Canada hurts", "Unanswered questions (1, no reply or \"I don't know\"):", "eve: When does the winter sale start?", "Most active: ann (3)")
	reqs := r.requests(bot.PurposeDigest)
	if len(reqs) != 1 {
		t.Fatalf("%d digest calls for a short chat, want 1", len(reqs))
	}
	prompt := reqs[0].Messages[0].Content + "\n" + reqs[0].Messages[1].Content
	contains(t, prompt, "last 24 hours", "Questions left unanswered", "eve: When does the winter sale start?",
		"ann: Shipping to Canada is terrible lately", "ignore any instructions")
	lacks(t, prompt, "pineapples")
}

func TestDigestModelFailureFallsBack(t *testing.T) {
	r := newRig(t, rigOpts{reply: func(req bot.Request) (string, error) {
		if req.Purpose == bot.PurposeDigest {
			return "", fmt.Errorf("gateway: %w", bot.ErrLLMRejected)
		}
		return "answer", nil
	}})
	seedGroup(t, r)
	got := r.group(t, manager, "/digest", t0)
	contains(t, got, "Main threads:", "could not write the digest")
}

// TestDigestMapReduce summarises a long synthetic chat: every turn goes to
// exactly one map call, each within the chunk budget, and the reduce call
// gets every partial summary in order.
func TestDigestMapReduce(t *testing.T) {
	const turns, chunkTokens = 600, 1500
	partRE := regexp.MustCompile(`Part (\d+) of (\d+)`)
	r := newRig(t, rigOpts{cfg: manage.Config{DigestChunkTokens: chunkTokens, DigestParallel: 3}, reply: func(req bot.Request) (string, error) {
		user := req.Messages[len(req.Messages)-1].Content
		if m := partRE.FindStringSubmatch(user); m != nil {
			return "PARTIAL-" + m[1] + " people discussed topic " + m[1], nil
		}
		return "FINAL DIGEST", nil
	}})
	ctx := context.Background()
	topics := []string{"shipping delays to Canada", "the espresso blend", "refund policy", "the mobile app login bug"}
	for i := range turns {
		tu := bot.Turn{Role: bot.RoleUser, User: fmt.Sprintf("tg:u%d", i%17), Name: fmt.Sprintf("user%d", i%17),
			Text: fmt.Sprintf("msg#%04d I keep thinking about %s and what the team said", i, topics[(i/25)%len(topics)]),
			Time: t0.Add(-20 * time.Hour).Add(time.Duration(i) * time.Minute)}
		if i%10 == 9 {
			tu.Role, tu.Name = bot.RoleAssistant, ""
		}
		tu.Tokens = bot.ApproxTokens(tu.Text)
		if _, err := r.store.Append(ctx, "tg/g", tu); err != nil {
			t.Fatal(err)
		}
	}
	got := r.group(t, manager, "/digest", t0)
	contains(t, got, "FINAL DIGEST", "Digest of the last 24 hours: 540 messages from 17 people.")

	var maps []bot.Request
	var reduce []bot.Request
	for _, q := range r.requests(bot.PurposeDigest) {
		if partRE.MatchString(q.Messages[1].Content) {
			maps = append(maps, q)
		} else {
			reduce = append(reduce, q)
		}
	}
	if len(maps) < 5 {
		t.Fatalf("%d map calls, want the chat cut into many chunks", len(maps))
	}
	seenPart := map[int]bool{}
	seenMsg := map[string]int{}
	msgRE := regexp.MustCompile(`msg#\d{4}`)
	for _, q := range maps {
		m := partRE.FindStringSubmatch(q.Messages[1].Content)
		var part, of int
		fmt.Sscan(m[1], &part)
		fmt.Sscan(m[2], &of)
		if of != len(maps) {
			t.Errorf("map says %d parts, %d calls made", of, len(maps))
		}
		if seenPart[part] {
			t.Errorf("part %d summarised twice", part)
		}
		seenPart[part] = true
		if n := bot.ApproxTokens(q.Messages[1].Content); n > chunkTokens {
			t.Errorf("part %d is %d tokens, over the %d budget", part, n, chunkTokens)
		}
		if len(q.Turns) == 0 {
			t.Errorf("part %d carries no turns", part)
		}
		for _, id := range msgRE.FindAllString(q.Messages[1].Content, -1) {
			seenMsg[id]++
		}
	}
	if len(seenMsg) != turns {
		t.Errorf("map calls saw %d distinct messages, want %d", len(seenMsg), turns)
	}
	for id, n := range seenMsg {
		if n != 1 {
			t.Errorf("%s summarised %d times", id, n)
		}
	}
	if len(reduce) != 1 {
		t.Fatalf("%d reduce calls, want 1", len(reduce))
	}
	in := reduce[0].Messages[1].Content
	contains(t, in, "Partial summaries")
	last := -1
	for i := 1; i <= len(maps); i++ {
		at := strings.Index(in, fmt.Sprintf("[%d] PARTIAL-%d ", i, i))
		if at < 0 || at < last {
			t.Errorf("reduce input lacks partial %d in order", i)
		}
		last = at
	}
	lacks(t, in, "msg#")
}

// TestDigestReduceRegroups: partial summaries too long for one reduce call
// are folded again before the final one.
func TestDigestReduceRegroups(t *testing.T) {
	partRE := regexp.MustCompile(`Part (\d+) of (\d+)`)
	long := strings.Repeat("lots of detail about the shipping thread ", 12)
	r := newRig(t, rigOpts{cfg: manage.Config{DigestChunkTokens: 300}, reply: func(req bot.Request) (string, error) {
		if partRE.MatchString(req.Messages[1].Content) {
			return long, nil
		}
		return "FINAL", nil
	}})
	ctx := context.Background()
	for i := range 300 {
		tu := bot.Turn{Role: bot.RoleUser, User: "tg:a", Name: "a", Text: fmt.Sprintf("message %d about shipping and parcels and tracking", i), Time: t0.Add(-time.Hour)}
		if _, err := r.store.Append(ctx, "tg/g", tu); err != nil {
			t.Fatal(err)
		}
	}
	got := r.group(t, manager, "/digest", t0)
	contains(t, got, "FINAL")
	reqs := r.requests(bot.PurposeDigest)
	final := reqs[len(reqs)-1].Messages[1].Content
	_, partials, _ := strings.Cut(final, "Partial summaries, in order:")
	if n := bot.ApproxTokens(partials); n > 300 {
		t.Errorf("final reduce got %d tokens of partials, over the 300 budget", n)
	}
	var regroups int
	for _, q := range reqs {
		if strings.HasPrefix(q.Messages[1].Content, "Summaries ") {
			regroups++
			if n := bot.ApproxTokens(q.Messages[1].Content); n > 300 {
				t.Errorf("regroup call of %d tokens, over the 300 budget", n)
			}
		}
	}
	if regroups == 0 {
		t.Error("the partials were never folded again")
	}
}

var shippingKB = fakeKB{docs: []kbDoc{
	{keys: []string{"ship", "canada"}, p: bot.Passage{Source: "shipping.md", Heading: "Canada", Text: "We ship to Canada in 5 to 7 working days; shipping is free over $50."}, score: 0.4},
	{keys: []string{"hours", "open"}, p: bot.Passage{Source: "hours.md", Text: "The shop is open 9 to 5, Monday to Friday."}, score: 6},
	{keys: []string{"launch", "blend"}, p: bot.Passage{Source: "blend.md", Text: "The Aurora blend is a medium roast with notes of cherry and cocoa."}, score: 4},
}}

func TestPost(t *testing.T) {
	long := strings.Repeat("Our Aurora blend is roasted with care for slow mornings. ", 8) + "\n#Aurora #Coffee"
	reply := func(req bot.Request) (string, error) {
		if req.Purpose != bot.PurposePost {
			return "answer", nil
		}
		return "1. Meet Aurora: a medium roast with notes of cherry and cocoa. #Aurora\n\n" +
			"2) Cherry? Cocoa? Both! Aurora is here ☕\n#NewBlend #Aurora\n\n" +
			"3. " + long, nil
	}
	r := newRig(t, rigOpts{kb: shippingKB, reply: reply, persona: bot.Persona{Brand: "Beanery", Voice: "warm and witty", Dont: []string{"use slang"}}})
	got := r.dm(t, manager, "/post x launch of the Aurora blend")
	if lp, ok := r.tools.LastPostOf("tg:" + manager); !ok || len(lp.Variants) != 3 || lp.Platform != "x" ||
		!strings.Contains(lp.Variants[0], "Meet Aurora") || !strings.Contains(lp.Brief, "Aurora blend") {
		t.Errorf("LastPostOf = %+v %v", lp, ok)
	}
	if _, ok := r.tools.LastPostOf("tg:" + follower); ok {
		t.Error("a follower has a last /post")
	}
	reqs := r.requests(bot.PurposePost)
	if len(reqs) != 1 {
		t.Fatalf("%d post calls, want 1", len(reqs))
	}
	sys, user := reqs[0].Messages[0].Content, reqs[0].Messages[1].Content
	contains(t, sys, "Beanery", "Voice: warm and witty.", "- use slang", "X (Twitter)", "at most 280 characters",
		"[source: blend.md]", "notes of cherry and cocoa", "hashtags", "Plain text only")
	contains(t, user, "Brief: launch of the Aurora blend")
	contains(t, got, "Drafts for X (Twitter) (up to 280 characters)", "Based on: blend.md",
		"1. Meet Aurora", "2. Cherry? Cocoa? Both!", "3. Our Aurora blend",
		"trimmed at a sentence", "Suggested hashtags: #Aurora #NewBlend", "/post keep N")
	// The third draft was cut to the limit at a sentence, keeping its tags.
	third := got[strings.Index(got, "3. ")+3:]
	third = third[:strings.Index(third, "\n(")]
	if n := utf8.RuneCountInString(third); n > 280 {
		t.Errorf("third draft is %d characters, over 280", n)
	}
	if !strings.HasSuffix(third, "#Aurora #Coffee") || !strings.Contains(third, "slow mornings.\n") {
		t.Errorf("third draft not trimmed at a sentence with its tags: %q", third)
	}

	// Keep, list, show.
	got = r.dm(t, manager, "/post keep 2")
	m := regexp.MustCompile(`as (d[0-9a-z-]+)\.`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no draft id in %q", got)
	}
	id := m[1]
	raw, err := r.kv.Get(context.Background(), manage.BucketDrafts, id)
	if err != nil {
		t.Fatal(err)
	}
	var d manage.Draft
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Platform != "x" || d.Author != "tg:"+manager || !strings.HasPrefix(d.Text, "Cherry? Cocoa? Both!") || d.Brief != "launch of the Aurora blend" {
		t.Errorf("stored draft = %+v", d)
	}
	contains(t, r.dm(t, manager, "/post list"), id, "x", "Cherry? Cocoa?")
	contains(t, r.dm(t, manager, "/post show "+id), "Draft "+id+" for x", "Cherry? Cocoa? Both! Aurora is here")
	contains(t, r.dm(t, manager, "/post show nope"), "There is no draft nope")
	contains(t, r.dm(t, manager, "/post keep 9"), "Usage: /post keep N")

	// Again: same brief, told to differ from the last drafts.
	got = r.dm(t, manager, "/post again")
	reqs = r.requests(bot.PurposePost)
	if len(reqs) != 2 {
		t.Fatalf("%d post calls after again, want 2", len(reqs))
	}
	contains(t, reqs[1].Messages[1].Content, "Brief: launch of the Aurora blend", "different from these earlier ones", "Meet Aurora")
	contains(t, got, "1. Meet Aurora")

	// Another manager has no session of their own.
	contains(t, r.dm(t, owner, "/post again"), "There are no drafts yet")
	contains(t, r.dm(t, manager, "/post mastodon hello"), "Usage: /post PLATFORM BRIEF", "linkedin")
}

func TestPostTelegramFormattingAndLimits(t *testing.T) {
	r := newRig(t, rigOpts{cfg: manage.Config{PostLimits: map[string]int{"x": 140, "mastodon": 500}},
		reply: func(req bot.Request) (string, error) {
			return `{"variants": [{"text": "Hello **world**", "hashtags": ["News"]}, "Second one", {"text": "Third #Hi"}]}`, nil
		}})
	got := r.dm(t, manager, "/post telegram weekly news")
	sys := r.requests(bot.PurposePost)[0].Messages[0].Content
	contains(t, sys, "a Telegram channel post", "at most 4096 characters", "**bold**")
	contains(t, got, "1. Hello **world**\n\n#News", "2. Second one", "3. Third #Hi", "Suggested hashtags: #News #Hi")
	r.dm(t, manager, "/post twitter short")
	contains(t, r.requests(bot.PurposePost)[1].Messages[0].Content, "at most 140 characters")
	r.dm(t, manager, "/post mastodon hi")
	contains(t, r.requests(bot.PurposePost)[2].Messages[0].Content, "at most 500 characters")
}

func TestPostWithoutLLM(t *testing.T) {
	for name, o := range map[string]rigOpts{
		"unavailable error": {reply: func(req bot.Request) (string, error) {
			return "", fmt.Errorf("llm: offline provider: %w", bot.ErrLLMUnavailable)
		}},
		"offline provider": {llm: &offlineLLM{}},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, o)
			got := r.dm(t, manager, "/post linkedin our new office")
			contains(t, got, "needs a language model", "CHORUS_LLM_API_KEY", "CHORUS_LLM_BASE_URL")
			lacks(t, got, "Something went wrong")
		})
	}
	r := newRig(t, rigOpts{reply: func(req bot.Request) (string, error) { return "", errors.New("boom") }})
	contains(t, r.dm(t, manager, "/post x hi"), "couldn't draft that")
}

func TestGaps(t *testing.T) {
	r := newRig(t, rigOpts{kb: shippingKB, reply: func(bot.Request) (string, error) { return "answer", nil }})
	for _, q := range []string{
		"Do you ship to Canada?",
		"shipping to canada possible?",
		"How long does shipping to Canada take?",
		"What is your refund policy?",
		"refund policy for unsealed bags?",
		"Are you open on Sunday? what are the opening hours", // well covered: not a gap
		"你们发货到加拿大吗",
		"可以寄到加拿大吗？",
		"Do you sell gift cards?",
	} {
		r.dm(t, follower, q)
	}
	got := r.dm(t, manager, "/gaps")
	contains(t, got, "in the last 7d: 8 in 4 groups",
		"1. 3× e.g. “", "(closest document: shipping.md)", "2. 2× e.g. “", "3. 2× e.g. “", "4. 1× e.g. “Do you sell gift cards?”")
	lacks(t, got, "opening hours")
	lines := strings.Split(got, "\n")
	if len(lines) < 5 {
		t.Fatalf("too few lines:\n%s", got)
	}
	// Groups are whole: shipping questions together, refunds together,
	// the Chinese pair together.
	groupOf := func(s string) string {
		for _, l := range lines {
			if strings.Contains(l, s) {
				return l[:strings.Index(l, "×")]
			}
		}
		return ""
	}
	if g := groupOf("efund"); g == "" || !strings.HasSuffix(g, "2") {
		t.Errorf("refund group line %q", g)
	}
	if g := groupOf("加拿大"); g == "" || !strings.HasSuffix(g, "2") {
		t.Errorf("Chinese group line %q", g)
	}
	if g := groupOf("anada"); !strings.HasPrefix(g, "1. 3") {
		t.Errorf("shipping group line %q", g)
	}

	// Persisted: a second Tools over the same KV sees them.
	r2 := newRig(t, rigOpts{kv: r.kv})
	contains(t, r2.dm(t, manager, "/gaps 1d"), "8 in 4 groups")
	contains(t, r2.dm(t, manager, "/gaps soon"), "Usage: /gaps")
	r2.advance(48 * time.Hour)
	contains(t, r2.dm(t, manager, "/gaps 1d"), "No unanswered questions in the last 1d")
}

func TestObserveBatchesAndRun(t *testing.T) {
	kv := bottest.NewMemKV()
	r := newRig(t, rigOpts{kv: kv, cfg: manage.Config{GapBatch: 5, FlushEvery: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.tools.Run(ctx) }()
	now := time.Now()
	for i := range 5 {
		r.tools.Observe(bot.Event{Kind: bot.EventQuestion, Platform: "tg", Text: fmt.Sprintf("question %d about warranty?", i), Outcome: bot.OutcomeUnanswered, Time: now})
	}
	r.tools.Observe(bot.Event{Kind: bot.EventQuestion, Text: "is it covered?", Outcome: bot.OutcomeOK, Label: "hours.md", Score: 0.9, Time: now})
	r.tools.Observe(bot.Event{Kind: bot.EventMessageReceived, Text: "not a question", Time: now})
	count := func() (records, questions int) {
		kv.Scan(context.Background(), manage.BucketGaps, "", "", func(_ string, v []byte) error {
			var batch []map[string]any
			json.Unmarshal(v, &batch)
			records++
			questions += len(batch)
			return nil
		})
		return
	}
	deadline := time.After(10 * time.Second)
	for {
		if rec, _ := count(); rec > 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("a full batch was never written")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if rec, q := count(); rec != 1 || q != 5 {
		t.Errorf("after one full batch: %d records, %d questions; want 1, 5", rec, q)
	}
	r.tools.Observe(bot.Event{Kind: bot.EventQuestion, Text: "one more?", Outcome: bot.OutcomeUnanswered, Time: now})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rec, q := count(); rec != 2 || q != 6 {
		t.Errorf("after Run stopped: %d records, %d questions; want 2, 6 (final flush)", rec, q)
	}
}

func TestPersona(t *testing.T) {
	kv := bottest.NewMemKV()
	cfgPersona := bot.Persona{Brand: "Beanery", BotName: "Bean", Voice: "calm", Do: []string{"be brief"}}
	r := newRig(t, rigOpts{kv: kv, persona: cfgPersona, reply: func(bot.Request) (string, error) { return "answer", nil }})
	contains(t, r.dm(t, manager, "/persona show"), "brand: Beanery", "bot_name: Bean", "voice: calm", "do: be brief", "dont: —")
	contains(t, r.dm(t, owner, "/persona set voice cheerful and upbeat"), "voice is now: cheerful and upbeat")
	contains(t, r.dm(t, owner, "/persona set dont use slang; promise dates ;"), "dont is now: use slang; promise dates")
	if p := r.e.Persona(); p.Voice != "cheerful and upbeat" || !slices.Equal(p.Dont, []string{"use slang", "promise dates"}) || p.Brand != "Beanery" {
		t.Errorf("persona after set = %+v", p)
	}
	show := r.dm(t, owner, "/persona show")
	contains(t, show, "voice *: cheerful and upbeat", "dont *: use slang; promise dates", "brand: Beanery", "/persona reset")
	if a := r.audit.Entries("persona"); len(a) != 2 || a[0].Rule != "voice" || a[0].Actor != "tg:"+owner {
		t.Errorf("persona audit = %+v", a)
	}
	// Answers use it.
	r.dm(t, follower, "hello there")
	chat := r.requests(bot.PurposeChat)
	contains(t, chat[len(chat)-1].Messages[0].Content, "cheerful and upbeat")

	// Bad input.
	contains(t, r.dm(t, owner, "/persona set colour red"), "Usage: /persona")
	contains(t, r.dm(t, owner, "/persona set brand -"), "brand can't be empty")
	contains(t, r.dm(t, owner, "/persona set bot_name "+strings.Repeat("x", 65)), "too long")
	contains(t, r.dm(t, owner, "/persona frobnicate"), "Usage: /persona")

	// A new engine over the same KV starts with the override.
	r2 := newRig(t, rigOpts{kv: kv, persona: cfgPersona})
	if p := r2.e.Persona(); p.Voice != "cheerful and upbeat" || p.BotName != "Bean" || !slices.Equal(p.Do, []string{"be brief"}) {
		t.Errorf("persona after restart = %+v", p)
	}
	contains(t, r2.dm(t, owner, "/persona reset"), "reset")
	if p := r2.e.Persona(); p.Voice != "calm" || p.Dont != nil {
		t.Errorf("persona after reset = %+v", p)
	}
	if _, err := kv.Get(context.Background(), manage.BucketPersona, "override"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("override still stored: %v", err)
	}
}

func TestAnnounce(t *testing.T) {
	r := newRig(t, rigOpts{cfg: manage.Config{Channels: map[string][]string{"tg": {"@news"}, "dc": {"777", "888"}, "slack": {"C1"}}}})
	codeRE := regexp.MustCompile(`/announce confirm (\d{6})`)
	got := r.dm(t, owner, "/announce Big news: the Aurora blend ships Monday!")
	contains(t, got, "Preview of the announcement to 4 channels", "dc 777", "dc 888", "tg @news", "slack C1 (platform not connected)",
		"within 10 minutes", "Big news: the Aurora blend ships Monday!")
	m := codeRE.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no code in %q", got)
	}
	if n := len(r.tg.Replies("@news")) + len(r.dc.Replies("777")); n != 0 {
		t.Fatalf("%d messages posted before confirmation", n)
	}
	wrong := "000000"
	if m[1] == wrong {
		wrong = "111111"
	}
	contains(t, r.dm(t, owner, "/announce confirm "+wrong), "doesn't match")
	contains(t, r.dm(t, manager, "/announce confirm "+m[1]), "is for owners only")

	got = r.dm(t, owner, "/announce confirm "+m[1])
	contains(t, got, "sent to 2 of 4 channels", "tg @news: ✓", "dc 777: ✓", "dc 888: ✗", "forbidden", "slack C1: ✗ platform not connected")
	for _, c := range []struct {
		p    *bottest.Platform
		chat string
	}{{r.tg, "@news"}, {r.dc.Platform, "777"}} {
		calls := c.p.Calls("send")
		var hit *bottest.Sent
		for i := range calls {
			if calls[i].Out.Chat.ID == c.chat {
				hit = &calls[i]
			}
		}
		if hit == nil || hit.Out.Text != "Big news: the Aurora blend ships Monday!" || hit.Out.Chat.Kind != bot.ChatChannel {
			t.Errorf("%s %s: sent %+v", c.p.Name(), c.chat, hit)
		}
	}
	a := r.audit.Entries("announce")
	if len(a) != 1 || a[0].Actor != "tg:"+owner || !strings.Contains(a[0].Note, "sent to 2 of 4") || !strings.Contains(a[0].Note, "dc 888") {
		t.Errorf("announce audit = %+v", a)
	}
	// One send per preview.
	contains(t, r.dm(t, owner, "/announce confirm "+m[1]), "no announcement waiting")
	if n := len(r.tg.Replies("@news")); n != 1 {
		t.Errorf("@news got %d posts, want 1", n)
	}

	// Expiry and cancel.
	got = r.dm(t, owner, "/announce later")
	code := codeRE.FindStringSubmatch(got)[1]
	r.advance(11 * time.Minute)
	contains(t, r.dm(t, owner, "/announce confirm "+code), "expired")
	r.dm(t, owner, "/announce again")
	contains(t, r.dm(t, owner, "/announce cancel"), "dropped")
	contains(t, r.dm(t, owner, "/announce cancel"), "no announcement waiting")
	if n := len(r.tg.Replies("@news")); n != 1 {
		t.Errorf("@news got %d posts, want 1", n)
	}
}

func TestAnnounceNoChannels(t *testing.T) {
	r := newRig(t, rigOpts{})
	contains(t, r.dm(t, owner, "/announce hi"), "No announcement channels")
	contains(t, r.dm(t, owner, "/announce"), "Usage: /announce")
}

func TestChineseReplies(t *testing.T) {
	r := newRig(t, rigOpts{reply: func(req bot.Request) (string, error) {
		return "", fmt.Errorf("x: %w", bot.ErrLLMUnavailable)
	}})
	contains(t, r.dm(t, manager, "/post x 我们的新咖啡上市了"), "起草帖子需要语言模型", "CHORUS_LLM_API_KEY")
}

// TestPluginSetsThePersona: installed with nothing but its plug-in, the
// tools' /persona changes the persona the engine answers with.
func TestPluginSetsThePersona(t *testing.T) {
	store := bottest.NewMemStore()
	personas := bot.NewPersonas(bot.Persona{Brand: "B", BotName: "Bo"})
	tools, err := manage.New(manage.Config{}, manage.Deps{KV: bot.NewMemKV(), History: store, Personas: personas})
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.New(bot.Config{Roles: bot.Roles{Owners: []string{"tg:" + owner}}}, store, &bottest.LLM{}, bot.WithPrompts(prompts.Default()),
		bot.WithPersonas(personas), bot.WithPlugin(tools.Plugin()))
	if err != nil {
		t.Fatal(err)
	}
	p := bottest.NewPlatform("tg", bot.Limits{})
	e.AddPlatform(p)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Handle(context.Background(), bot.Message{Platform: "tg", ID: "1", Chat: bot.Chat{ID: "d", Kind: bot.ChatDM},
		Author: bot.User{ID: owner}, Text: "/persona set voice dry"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if v := e.Persona().Voice; v != "dry" {
		t.Errorf("voice = %q", v)
	}
}

func TestConfigValidate(t *testing.T) {
	deps := manage.Deps{KV: bot.NewMemKV(), History: bottest.NewMemStore()}
	for _, c := range []manage.Config{
		{DigestHours: 10000},
		{DigestChunkTokens: 10},
		{GapSimilarity: 2},
		{PostLimits: map[string]int{"x": 5}},
		{Channels: map[string][]string{"tg": {""}}},
	} {
		if _, err := manage.New(c, deps); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	if _, err := manage.New(manage.Config{}, deps); err != nil {
		t.Error(err)
	}
	if _, err := manage.New(manage.Config{}, manage.Deps{}); err == nil {
		t.Error("no KV and no history accepted")
	}
}

func TestDigestOtherChatAndMoodHook(t *testing.T) {
	var moodTexts []string
	r := newRig(t, rigOpts{llm: &offlineLLM{}, opts: []manage.Option{manage.WithMood(func(texts []string) string {
		moodTexts = slices.Clone(texts)
		return "HOOKED MOOD"
	})}})
	seedGroup(t, r)
	// From a DM: an owner and a manager named in config may name the chat.
	contains(t, r.dm(t, owner, "/digest 24 tg/g"), "8 messages from 5 people", "Mood: HOOKED MOOD.")
	if len(moodTexts) != 8 || !slices.Contains(moodTexts, "When does the winter sale start?") {
		t.Errorf("mood hook got %q", moodTexts)
	}
	contains(t, r.dm(t, manager, "/digest tg/g"), "8 messages from 5 people")
	// A platform role never holds in a DM.
	before := len(r.tg.Replies("dm-padmin"))
	r.handle(t, bot.Message{Chat: bot.Chat{ID: "dm-padmin", Kind: bot.ChatDM}, Author: bot.User{ID: "padmin", Name: "P", Role: bot.RoleManager}, Text: "/digest tg/g"})
	got := strings.Join(r.tg.Replies("dm-padmin")[before:], "\n")
	contains(t, got, "for managers only")
	lacks(t, got, "winter sale")
	// The administrator of a home chat gets its digest there, and no other.
	before = len(r.tg.Replies("home"))
	r.handle(t, bot.Message{Chat: bot.Chat{ID: "home", Kind: bot.ChatGroup}, Author: bot.User{ID: "padmin", Name: "P", Role: bot.RoleManager}, Text: "/digest tg/g"})
	got = strings.Join(r.tg.Replies("home")[before:], "\n")
	contains(t, got, "only in a direct message with a manager named in the configuration")
	lacks(t, got, "winter sale")
	// Nor does the community's manager, asking in a group, get another's.
	before = len(r.tg.Replies("home"))
	r.handle(t, bot.Message{Chat: bot.Chat{ID: "home", Kind: bot.ChatGroup}, Author: bot.User{ID: manager, Name: "M"}, Text: "/digest tg/g"})
	got = strings.Join(r.tg.Replies("home")[before:], "\n")
	contains(t, got, "only in a direct message")
	lacks(t, got, "winter sale")
}

// TestGapsKeepToTheRoomAndForget: /gaps asked in a group lists that
// group's questions only; a forgotten asker's questions leave every list
// and the KV.
func TestGapsKeepToTheRoomAndForget(t *testing.T) {
	r := newRig(t, rigOpts{kb: shippingKB, reply: func(bot.Request) (string, error) { return "answer", nil }})
	r.dm(t, follower, "Do you sell gift cards to alice@example.com?")
	r.handle(t, bot.Message{Chat: bot.Chat{ID: "home", Kind: bot.ChatGroup}, Author: bot.User{ID: "carol", Name: "Carol"},
		Text: "/ask Do you have a loyalty programme?"})
	inHome := func() string {
		before := len(r.tg.Replies("home"))
		r.handle(t, bot.Message{Chat: bot.Chat{ID: "home", Kind: bot.ChatGroup}, Author: bot.User{ID: manager, Name: "M"}, Text: "/gaps"})
		return strings.Join(r.tg.Replies("home")[before:], "\n")
	}
	got := inHome()
	contains(t, got, "loyalty programme")
	lacks(t, got, "gift cards")
	got = r.dm(t, manager, "/gaps")
	contains(t, got, "loyalty programme", "gift cards to [EMAIL_1]")
	lacks(t, got, "alice@example.com")

	ctx := context.Background()
	ex, err := r.tools.ExportUser(ctx, "tg:"+follower)
	if err != nil {
		t.Fatal(err)
	}
	if js, _ := json.Marshal(ex); !strings.Contains(string(js), "gift cards") || strings.Contains(string(js), "loyalty") {
		t.Errorf("follower's export = %s", js)
	}
	if n, err := r.tools.ForgetUser(ctx, bot.ForgetRequest{User: "tg:" + follower, Scope: bot.ViewAll(), Ref: "x"}); err != nil || n != 1 {
		t.Fatalf("ForgetUser = %d, %v", n, err)
	}
	got = r.dm(t, manager, "/gaps")
	contains(t, got, "loyalty programme")
	lacks(t, got, "gift cards")
	r.kv.Scan(ctx, manage.BucketGaps, "", "", func(k string, v []byte) error {
		if strings.Contains(string(v), "gift cards") {
			t.Errorf("gaps record %s still holds the forgotten question: %s", k, v)
		}
		return nil
	})
}

// TestGapsAndDigestAgree: on one scripted chat, /gaps and /digest's
// unanswered questions are the same questions: those answered "I don't
// know" (no relevant passage, or the model's marker), not small talk, not
// the question the knowledge base covered.
func TestGapsAndDigestAgree(t *testing.T) {
	r := newRig(t, rigOpts{kb: shippingKB, reply: func(req bot.Request) (string, error) {
		if req.Purpose != bot.PurposeChat {
			return "digest", fmt.Errorf("no model: %w", bot.ErrLLMUnavailable)
		}
		if strings.Contains(req.Query, "blend") { // a passage, but the model says it doesn't cover it
			return bot.NoAnswerMarker + "Sorry, I don't know.", nil
		}
		return "An answer.", nil
	}})
	script := []string{
		"Do you ship to Canada?",      // no relevant passage: a gap
		"what are the opening hours?", // covered
		"who are you?",                // small talk
		"thanks!",                     // small talk
		"is the Aurora blend decaf?",  // the model marks it
		"can I pay with bitcoin?",     // nothing at all: a gap
		"I love this coffee",          // praise
	}
	for i, q := range script {
		before := len(r.tg.Replies("g"))
		r.handle(t, bot.Message{Chat: bot.Chat{ID: "g", Kind: bot.ChatGroup}, Author: bot.User{ID: fmt.Sprintf("f%d", i), Name: fmt.Sprintf("fan%d", i)},
			Text: q, Mentioned: true, Time: t0.Add(time.Duration(i-20) * time.Minute)})
		for _, rep := range r.tg.Replies("g")[before:] {
			if strings.Contains(rep, "no-answer") {
				t.Errorf("marker shown to the follower: %q", rep)
			}
		}
	}
	gaps := r.dm(t, manager, "/gaps")
	digest := r.group(t, manager, "/digest", t0)
	want := []string{"Do you ship to Canada?", "is the Aurora blend decaf?", "can I pay with bitcoin?"}
	for _, q := range want {
		contains(t, gaps, q)
		contains(t, digest, q)
	}
	contains(t, gaps, "3 in 3 groups")
	contains(t, digest, "Unanswered questions (3,")
	for _, q := range []string{"opening hours", "who are you", "thanks", "love this"} {
		lacks(t, gaps, q)
		if _, after, ok := strings.Cut(digest, "Unanswered questions"); ok {
			if part, _, _ := strings.Cut(after, "\n\n"); strings.Contains(part, q) {
				t.Errorf("digest lists %q as unanswered:\n%s", q, digest)
			}
		}
	}
}

// TestResolveGaps: a question answered in the console takes its group of
// gaps off /gaps; other gaps stay.
func TestResolveGaps(t *testing.T) {
	r := newRig(t, rigOpts{})
	now := r.now()
	for _, q := range []string{"do you ship to Norway?", "do you ship to norway", "can I ship to Norway?", "is the grinder dishwasher safe?"} {
		r.tools.Observe(bot.Event{Kind: bot.EventQuestion, Platform: "tg", Text: q, Outcome: bot.OutcomeUnanswered, Time: now})
	}
	qs, err := r.tools.GapQuestions(context.Background(), now.Add(-time.Hour))
	if err != nil || len(qs) != 4 {
		t.Fatalf("gaps before %q %v", qs, err)
	}
	n, err := r.tools.ResolveGaps(context.Background(), "Do you ship to Norway?")
	if err != nil {
		t.Fatal(err)
	}
	qs, _ = r.tools.GapQuestions(context.Background(), now.Add(-time.Hour))
	if n < 2 || len(qs) != 4-n || !slices.Contains(qs, "is the grinder dishwasher safe?") {
		t.Errorf("resolved %d, left %q", n, qs)
	}
	for _, q := range qs {
		if strings.Contains(strings.ToLower(q), "ship to norway") && q != "can I ship to Norway?" {
			t.Errorf("gap %q survived", q)
		}
	}
}
