package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

func testInbox(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	a, b := msg("1", "10", "7", "hello"), msg("1", "11", "7", "again")
	edit := *a
	edit.Edited, edit.Time, edit.Text = true, t0.Add(time.Minute), "hello (edited)"
	for _, tc := range []struct {
		m     *bot.Message
		fresh bool
	}{{a, true}, {a, false}, {b, true}, {&edit, true}, {&edit, false}} {
		got, err := s.Accept(ctx, tc.m)
		if err != nil || got != tc.fresh {
			t.Fatalf("Accept(%s edited=%v) = %v, %v; want %v", tc.m.ID, tc.m.Edited, got, err, tc.fresh)
		}
	}
	if err := s.Done(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, b); err != nil {
		t.Fatalf("second Done: %v", err)
	}
	if err := s.Done(ctx, msg("1", "99", "7", "never accepted")); err != nil {
		t.Fatalf("Done of a message never accepted: %v", err)
	}
	p, err := s.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || p[0].Text != "hello" || p[1].Text != "hello (edited)" || !p[1].Edited {
		t.Fatalf("pending = %+v, want a then its edit", p)
	}
	if !p[0].Time.Equal(t0) || p[0].Author.Name != "User 7" || p[0].Chat.Kind != bot.ChatGroup {
		t.Errorf("pending message = %+v, want it as accepted", p[0])
	}
}

// testInboxRestart: dedup records and pending messages survive a restart.
func testInboxRestart(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	a, b := msg("1", "10", "7", "hello"), msg("1", "11", "7", "again")
	for _, m := range []*bot.Message{a, b} {
		if fresh, err := s.Accept(ctx, m); err != nil || !fresh {
			t.Fatalf("Accept = %v, %v", fresh, err)
		}
	}
	if err := s.Done(ctx, b); err != nil {
		t.Fatal(err)
	}
	h.reopen(t, s)
	for _, m := range []*bot.Message{a, b} {
		if fresh, err := s.Accept(ctx, m); err != nil || fresh {
			t.Errorf("after restart Accept(%s) = %v, %v; want not fresh", m.ID, fresh, err)
		}
	}
	p, err := s.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].ID != "10" || !p[0].Time.Equal(t0) {
		t.Fatalf("pending after restart = %+v, want message 10", p)
	}
}

func testHistory(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	const conv = "telegram/1"
	for i := 1; i <= 10; i++ {
		role := bot.RoleUser
		if i%2 == 0 {
			role = bot.RoleAssistant
		}
		seq, err := s.Append(ctx, conv, bot.Turn{Role: role, User: "telegram:7", MsgID: fmt.Sprint(i),
			Text: fmt.Sprintf("turn %d", i), Time: t0.Add(time.Duration(i) * time.Minute), Tokens: i})
		if err != nil || seq != uint64(i) {
			t.Fatalf("Append %d = %d, %v", i, seq, err)
		}
	}
	for _, tc := range []struct {
		budget int
		want   []uint64
	}{
		{0, nil}, {9, nil}, {10, []uint64{10}}, {18, []uint64{10}}, {19, []uint64{9, 10}},
		{27, []uint64{8, 9, 10}}, {55, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, {1000, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	} {
		w, err := s.Window(ctx, conv, tc.budget)
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(w); !slices.Equal(got, tc.want) {
			t.Errorf("Window(budget %d) = %v, want %v", tc.budget, got, tc.want)
		}
	}
	w, _ := s.Window(ctx, conv, 10)
	want := bot.Turn{Seq: 10, Role: bot.RoleAssistant, User: "telegram:7", MsgID: "10", Text: "turn 10", Time: t0.Add(10 * time.Minute), Tokens: 10}
	if len(w) != 1 || !w[0].Time.Equal(want.Time) {
		t.Fatalf("window = %+v", w)
	}
	w[0].Time = want.Time
	if !reflect.DeepEqual(w[0], want) {
		t.Errorf("turn = %+v, want %+v", w[0], want)
	}
	if w, err := s.Window(ctx, "telegram/none", 100); err != nil || len(w) != 0 {
		t.Errorf("unknown conv window = %v, %v", w, err)
	}
	// The flag of an answer that said it didn't know is kept.
	seq, err := s.Append(ctx, "telegram/2", bot.Turn{Role: bot.RoleAssistant, User: "telegram:7", Text: "I don't know", Tokens: 3, Unanswered: true, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.Turns(ctx, "telegram/2", seq, seq, 1); len(ts) != 1 || !ts[0].Unanswered {
		t.Errorf("unanswered turn = %+v", ts)
	}

	for _, tc := range []struct {
		from, to uint64
		max      int
		want     []uint64
	}{
		{1, 3, 10, []uint64{1, 2, 3}}, {8, 100, 10, []uint64{8, 9, 10}}, {2, 9, 2, []uint64{2, 3}},
		{5, 4, 10, nil}, {0, 0, 10, nil}, {11, 20, 10, nil}, {1, 10, 0, nil},
	} {
		got, err := s.Turns(ctx, conv, tc.from, tc.to, tc.max)
		if err != nil || !slices.Equal(seqs(got), tc.want) {
			t.Errorf("Turns(%d,%d,%d) = %v, %v; want %v", tc.from, tc.to, tc.max, seqs(got), err, tc.want)
		}
	}
}

// testWindowLongHistory: a window over a long history holds the latest
// turns that fit, whatever lies before them.
func testWindowLongHistory(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	const conv, n = "telegram/long", 300
	for i := 1; i <= n; i++ {
		if _, err := s.Append(ctx, conv, bot.Turn{Role: bot.RoleUser, User: "telegram:1", Text: fmt.Sprint(i), Time: t0, Tokens: 7}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := s.Window(ctx, conv, 7*200+6)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 200 || w[0].Seq != n-199 || w[199].Seq != n {
		t.Fatalf("window over %d turns = %d turns from %v", n, len(w), seqs(w[:min(3, len(w))]))
	}
}

func testAppendEdit(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	const conv = "discord/9/3"
	s1, _ := s.Append(ctx, conv, bot.Turn{Role: bot.RoleUser, User: "discord:1", MsgID: "m1", Text: "helo", Tokens: 1})
	s2, _ := s.Append(ctx, conv, bot.Turn{Role: bot.RoleAssistant, User: "discord:1", MsgID: "b1", Text: "hi", Tokens: 1})
	// The edit (and a replay of it) keeps the seq and replaces the text.
	for range 2 {
		seq, err := s.Append(ctx, conv, bot.Turn{Role: bot.RoleUser, User: "discord:1", MsgID: "m1", Text: "hello there", Tokens: 2})
		if err != nil || seq != s1 {
			t.Fatalf("edit Append = %d, %v; want %d", seq, err, s1)
		}
	}
	// An assistant turn is never replaced, even with a repeated id.
	s3, _ := s.Append(ctx, conv, bot.Turn{Role: bot.RoleAssistant, User: "discord:1", MsgID: "b1", Text: "hi again", Tokens: 2})
	if s3 == s2 {
		t.Errorf("assistant turn was replaced")
	}
	// The same message id in another conversation is a different message.
	if seq, _ := s.Append(ctx, "discord/9/4", bot.Turn{Role: bot.RoleUser, MsgID: "m1", Text: "x"}); seq != 1 {
		t.Errorf("other conversation seq = %d", seq)
	}
	ts, _ := s.Turns(ctx, conv, 1, 100, 100)
	if len(ts) != 3 || ts[0].Text != "hello there" || ts[0].Tokens != 2 || ts[2].Text != "hi again" {
		t.Fatalf("turns = %+v", ts)
	}
}

func testConcurrentAppend(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	const goroutines, per, convs = 20, 10, 5
	type rec struct {
		g, i int
		seq  uint64
	}
	results := make([][]rec, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conv := fmt.Sprintf("c/%d", g%convs)
			for i := range per {
				seq, err := s.Append(ctx, conv, bot.Turn{Role: bot.RoleUser, User: fmt.Sprintf("u:%d", g),
					MsgID: fmt.Sprintf("%d-%d", g, i), Text: fmt.Sprintf("%d-%d", g, i), Tokens: 1})
				if err != nil {
					t.Error(err)
					return
				}
				results[g] = append(results[g], rec{g, i, seq})
			}
		}()
	}
	wg.Wait()
	for g, rs := range results {
		for i := 1; i < len(rs); i++ {
			if rs[i].seq <= rs[i-1].seq {
				t.Errorf("goroutine %d: seq %d after %d", g, rs[i].seq, rs[i-1].seq)
			}
		}
	}
	for c := range convs {
		conv := fmt.Sprintf("c/%d", c)
		ts, err := s.Turns(ctx, conv, 0, 1<<62, 10000)
		if err != nil {
			t.Fatal(err)
		}
		want := goroutines / convs * per
		if len(ts) != want {
			t.Fatalf("%s has %d turns, want %d", conv, len(ts), want)
		}
		last := map[string]int{}
		for i, tr := range ts {
			if tr.Seq != uint64(i+1) {
				t.Fatalf("%s: turn %d has seq %d", conv, i, tr.Seq)
			}
			var g, n int
			fmt.Sscanf(tr.Text, "%d-%d", &g, &n)
			if p, ok := last[tr.User]; ok && n <= p {
				t.Errorf("%s: %s's message %d stored after %d", conv, tr.User, n, p)
			}
			last[tr.User] = n
		}
	}
}

func testSummaries(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	if sum, err := s.Summary(ctx, "tg/none"); err != nil || sum.Text != "" || sum.UpTo != 0 {
		t.Fatalf("no summary = %+v, %v", sum, err)
	}
	want := bot.Summary{Text: "they talked about beans", UpTo: 4, Users: []string{"tg:a", "tg:b"}, Updated: t0}
	if err := s.SetSummary(ctx, "tg/1", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Summary(ctx, "tg/1")
	if err != nil || got.Text != want.Text || got.UpTo != 4 || !slices.Equal(got.Users, want.Users) || !got.Updated.Equal(t0) {
		t.Fatalf("summary = %+v, %v", got, err)
	}
	// Replaced whole: a summary built from b alone no longer names a.
	if err := s.SetSummary(ctx, "tg/1", bot.Summary{Text: "b alone", UpTo: 6, Users: []string{"tg:b"}, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Forget(ctx, forgetAll("tg:a")); err != nil || n != 0 {
		t.Errorf("forget a after the summary no longer names them = %d, %v", n, err)
	}
	if got, _ := s.Summary(ctx, "tg/1"); got.Text != "b alone" {
		t.Errorf("summary = %+v", got)
	}
}

// testRecorder: Incoming and Outgoing have the effect of the calls they
// stand for.
func testRecorder(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	m := msg("5", "50", "8", "where is my order?")
	conv := m.ConversationKey()
	if fresh, err := s.Accept(ctx, m); err != nil || !fresh {
		t.Fatal(fresh, err)
	}
	seq, err := s.Incoming(ctx, m, "en", conv, bot.Turn{Role: bot.RoleUser, User: m.UserKey(), Name: m.Author.Name, MsgID: m.ID, Text: m.Text, Time: m.Time, Tokens: 5})
	if err != nil || seq != 1 {
		t.Fatalf("Incoming = %d, %v", seq, err)
	}
	p, err := s.Profile(ctx, m.UserKey())
	if err != nil || p.Messages != 1 || p.Lang != "en" {
		t.Fatalf("profile after Incoming = %+v, %v", p, err)
	}
	seq, err = s.Outgoing(ctx, m, conv, bot.Turn{Role: bot.RoleAssistant, User: m.UserKey(), Name: "Bot", MsgID: "r1", Text: "it ships today", Time: m.Time, Tokens: 4}, []string{"shipping.md"})
	if err != nil || seq != 2 {
		t.Fatalf("Outgoing = %d, %v", seq, err)
	}
	if p, _ := s.Profile(ctx, m.UserKey()); p.Topics["shipping.md"] != 1 {
		t.Errorf("topics after Outgoing = %v", p.Topics)
	}
	if pend, _ := s.Pending(ctx); len(pend) != 0 {
		t.Errorf("pending after Outgoing = %+v", pend)
	}
	w, _ := s.Window(ctx, conv, 100)
	if len(w) != 2 || w[0].Text != m.Text || w[1].Text != "it ships today" {
		t.Errorf("window = %+v", w)
	}
}

func testProfiles(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	if _, err := s.Profile(ctx, "telegram:7"); !isNotFound(err) {
		t.Fatalf("unknown profile: %v", err)
	}
	m := msg("1", "1", "7", "hi")
	if err := s.AddTopics(ctx, m.UserKey(), []string{"x.md"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, m, "en"); err != nil {
		t.Fatal(err)
	}
	m2 := *m
	m2.Author.Name, m2.Author.Handle, m2.Time = "Seven", "@seven", t0.Add(time.Hour)
	s.Touch(ctx, &m2, "")
	m3 := *m
	m3.Time = t0.Add(-time.Hour)
	s.Touch(ctx, &m3, "zh")
	s.AddTopics(ctx, m.UserKey(), []string{"shipping.md", "returns.md"})
	s.AddTopics(ctx, m.UserKey(), []string{"shipping.md"})
	p, err := s.Profile(ctx, m.UserKey())
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Profile{User: "telegram:7", Names: []string{"Seven", "User 7"}, FirstSeen: t0.Add(-time.Hour),
		LastSeen: t0.Add(time.Hour), Messages: 3, Lang: "zh", Handle: "seven", Topics: map[string]int{"shipping.md": 2, "returns.md": 1}}
	if !p.FirstSeen.Equal(want.FirstSeen) || !p.LastSeen.Equal(want.LastSeen) {
		t.Errorf("seen = %v..%v", p.FirstSeen, p.LastSeen)
	}
	p.FirstSeen, p.LastSeen = want.FirstSeen, want.LastSeen
	if !reflect.DeepEqual(p, want) {
		t.Errorf("profile = %+v\nwant      %+v", p, want)
	}
	// Names are bounded: the latest twenty are kept, the latest last.
	for i := range 30 {
		n := *m
		n.Author.Name = fmt.Sprintf("name %02d", i)
		if err := s.Touch(ctx, &n, ""); err != nil {
			t.Fatal(err)
		}
	}
	p, _ = s.Profile(ctx, m.UserKey())
	if len(p.Names) != 20 || p.Names[19] != "name 29" || p.Names[0] != "name 10" {
		t.Errorf("names after 30 renames = %q", p.Names)
	}
}

func testFindUsers(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	touch := func(id, name, handle string) {
		m := &bot.Message{Platform: "telegram", Author: bot.User{ID: id, Name: name, Handle: handle}, Time: t0}
		if err := s.Touch(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
	}
	touch("1", "Alice", "alice_w")
	touch("2", "Alice", "")
	touch("3", "Bob", "bobby")
	find := func(name string) []string {
		ps, err := s.FindUsers(ctx, "telegram", name, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.User)
		}
		return out
	}
	for name, want := range map[string][]string{
		"alice": {"telegram:1", "telegram:2"}, "ALICE_W": {"telegram:1"}, "bobby": {"telegram:3"}, "bob": {"telegram:3"}, "carol": nil,
	} {
		if got := find(name); !slices.Equal(got, want) {
			t.Errorf("FindUsers(%q) = %v, want %v", name, got, want)
		}
	}
	if ps, _ := s.FindUsers(ctx, "telegram", "alice", 1); len(ps) != 1 || ps[0].User != "telegram:1" {
		t.Errorf("FindUsers limit 1 = %+v", ps)
	}
	if ps, _ := s.FindUsers(ctx, "discord", "alice", 10); len(ps) != 0 {
		t.Errorf("another platform's users found: %+v", ps)
	}
	// A rename moves the index: the old name no longer finds them.
	touch("2", "Alicia", "")
	if got := find("alice"); !slices.Equal(got, []string{"telegram:1"}) {
		t.Errorf("after rename FindUsers(alice) = %v", got)
	}
	if got := find("alicia"); !slices.Equal(got, []string{"telegram:2"}) {
		t.Errorf("after rename FindUsers(alicia) = %v", got)
	}
	if _, err := s.Forget(ctx, forgetAll("telegram:1")); err != nil {
		t.Fatal(err)
	}
	if got := find("alice_w"); len(got) != 0 {
		t.Errorf("a forgotten user is still found: %v", got)
	}
}

func testBadInput(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	big := strings.Repeat("咖啡 coffee ", 100<<10/14)
	for _, tc := range []struct {
		name, text, want string
	}{
		{"invalid utf8", "caf\xe9 \xff\xfe ok", "caf\uFFFD \uFFFD ok"},
		{"control", "a\x00b\x07c\x1b[31mred\r\n", "a\x00b\x07c\x1b[31mred\r\n"},
		{"empty", "", ""},
		{"100KB", big, big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conv := "bad/" + tc.name
			m := msg(conv, "\xff\x00id", "\xfe", tc.text)
			if fresh, err := s.Accept(ctx, m); err != nil || !fresh {
				t.Fatalf("accept = %v, %v", fresh, err)
			}
			if err := s.Touch(ctx, m, ""); err != nil {
				t.Fatal(err)
			}
			seq, err := s.Append(ctx, conv, bot.Turn{Role: bot.RoleUser, User: m.UserKey(), Name: m.Author.Name, MsgID: m.ID, Text: tc.text, Tokens: bot.ApproxTokens(tc.text)})
			if err != nil {
				t.Fatal(err)
			}
			w, err := s.Window(ctx, conv, 1<<30)
			if err != nil || len(w) != 1 || w[0].Seq != seq {
				t.Fatalf("window = %d turns, %v", len(w), err)
			}
			if w[0].Text != tc.want {
				t.Errorf("stored text differs (len %d, want %d)", len(w[0].Text), len(tc.want))
			}
			d, err := s.Export(ctx, m.UserKey())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jsonMarshal(d); err != nil {
				t.Fatal(err)
			}
			if n, err := s.Forget(ctx, forgetAll(m.UserKey())); err != nil || n != 2 {
				t.Errorf("forget = %d, %v", n, err)
			}
		})
	}
	// Ids longer than any index key are still found again.
	long := strings.Repeat("x", 40000)
	m := msg(long, long, long, "hi")
	if fresh, err := s.Accept(ctx, m); err != nil || !fresh {
		t.Fatalf("accept long ids = %v, %v", fresh, err)
	}
	if fresh, _ := s.Accept(ctx, m); fresh {
		t.Error("long id not deduplicated")
	}
	if err := s.Touch(ctx, m, ""); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Append(ctx, long, bot.Turn{Role: bot.RoleUser, User: long, MsgID: long, Text: "hi", Tokens: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := s.Export(ctx, long); len(d.Messages) != 1 || d.Messages[0].Conversation != long {
		t.Errorf("long conversation key not exported intact, or its edit not found")
	}
	if _, err := s.Profile(ctx, m.UserKey()); err != nil {
		t.Errorf("profile of a long user key: %v", err)
	}
	if _, err := s.Append(ctx, "", bot.Turn{}); err == nil {
		t.Error("empty conversation accepted")
	}
}

func intake(t *testing.T, s bot.Store) bot.IntakeRecorder {
	t.Helper()
	ir, ok := s.(bot.IntakeRecorder)
	if !ok {
		t.Skipf("%T is not a bot.IntakeRecorder", s)
	}
	return ir
}

// userTurn is the turn the engine stores for m.
func userTurn(m *bot.Message) bot.Turn {
	return bot.Turn{Role: bot.RoleUser, User: m.UserKey(), Name: m.Author.Name, MsgID: m.ID, Text: m.Text, Time: m.Time, Tokens: 5}
}

// testIntakeRecorder: AcceptIncoming is Accept and Incoming at once, and
// does nothing for a delivery accepted before; the message stays pending,
// its replay stores its turn once; Dismiss takes the turn back and marks
// it done; export and forget see what it stored.
func testIntakeRecorder(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	ir := intake(t, s.Store)
	m, stopped := msg("6", "60", "9", "where is my parcel?"), msg("6", "61", "9", "buy cheap followers")
	conv := m.ConversationKey()
	if fresh, err := ir.AcceptIncoming(ctx, m, "en", conv, userTurn(m)); err != nil || !fresh {
		t.Fatalf("AcceptIncoming = %v, %v", fresh, err)
	}
	for _, again := range []func() (bool, error){
		func() (bool, error) { return ir.AcceptIncoming(ctx, m, "en", conv, userTurn(m)) },
		func() (bool, error) { return s.Accept(ctx, m) },
	} {
		if fresh, err := again(); err != nil || fresh {
			t.Fatalf("the same delivery again: fresh %v, %v", fresh, err)
		}
	}
	if p, err := s.Profile(ctx, m.UserKey()); err != nil || p.Messages != 1 || p.Lang != "en" {
		t.Errorf("profile = %+v, %v; want one message, en", p, err)
	}
	if pend, _ := s.Pending(ctx); len(pend) != 1 || pend[0].ID != m.ID {
		t.Fatalf("pending = %+v, want the message", pend)
	}
	// A crash, then the replay records it again: still one turn.
	if _, err := s.Incoming(ctx, m, "en", conv, userTurn(m)); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.Window(ctx, conv, 100); len(w) != 1 || w[0].Text != m.Text || w[0].Seq != 1 {
		t.Fatalf("window = %+v, want the one turn", w)
	}
	if _, err := s.Outgoing(ctx, m, conv, bot.Turn{Role: bot.RoleAssistant, User: m.UserKey(), MsgID: "re:60", Text: "on its way", Time: m.Time, Tokens: 3}, nil); err != nil {
		t.Fatal(err)
	}

	if fresh, err := ir.AcceptIncoming(ctx, stopped, "en", conv, userTurn(stopped)); err != nil || !fresh {
		t.Fatalf("AcceptIncoming = %v, %v", fresh, err)
	}
	for range 2 {
		if err := ir.Dismiss(ctx, stopped, conv); err != nil {
			t.Fatalf("Dismiss: %v", err)
		}
	}
	if err := ir.Dismiss(ctx, msg("6", "69", "9", "never accepted"), conv); err != nil {
		t.Fatalf("Dismiss of a message never accepted: %v", err)
	}
	if pend, _ := s.Pending(ctx); len(pend) != 0 {
		t.Errorf("pending after Outgoing and Dismiss = %+v", pend)
	}
	w, _ := s.Window(ctx, conv, 100)
	if len(w) != 2 || w[0].MsgID != m.ID || w[1].MsgID != "re:60" {
		t.Errorf("window after Dismiss = %+v, want the question and its answer", w)
	}
	if fresh, _ := s.Accept(ctx, stopped); fresh {
		t.Errorf("a dismissed delivery accepted again")
	}
	// Counted: the question twice (its intake and its replay's Incoming:
	// a replay counts its message again), the dismissed one once (the
	// author was seen).
	if p, _ := s.Profile(ctx, m.UserKey()); p.Messages != 3 {
		t.Errorf("profile after a dismissed message: %d messages, want 3", p.Messages)
	}
	d, err := s.Export(ctx, m.UserKey())
	if err != nil || len(d.Messages) != 2 {
		t.Fatalf("export = %+v, %v; want the question and its answer", d.Messages, err)
	}
	if _, err := s.Forget(ctx, forgetAll(m.UserKey())); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.Window(ctx, conv, 100); len(w) != 0 {
		t.Errorf("window after forget = %+v", w)
	}
}

// testIntakeRecorderRestart: a message recorded at intake is pending after
// a restart, with its turn, and still known to dedup.
func testIntakeRecorderRestart(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	m := msg("7", "70", "9", "is it in stock?")
	conv := m.ConversationKey()
	if fresh, err := intake(t, s.Store).AcceptIncoming(ctx, m, "en", conv, userTurn(m)); err != nil || !fresh {
		t.Fatalf("AcceptIncoming = %v, %v", fresh, err)
	}
	h.reopen(t, s)
	if pend, _ := s.Pending(ctx); len(pend) != 1 || pend[0].ID != m.ID || pend[0].Text != m.Text {
		t.Fatalf("pending after restart = %+v", pend)
	}
	if w, _ := s.Window(ctx, conv, 100); len(w) != 1 || w[0].MsgID != m.ID {
		t.Errorf("window after restart = %+v", w)
	}
	if fresh, err := intake(t, s.Store).AcceptIncoming(ctx, m, "en", conv, userTurn(m)); err != nil || fresh {
		t.Errorf("after restart AcceptIncoming = %v, %v; want not fresh", fresh, err)
	}
}
