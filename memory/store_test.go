package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func openTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "chorus.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func msg(chat, id, user, text string) *bot.Message {
	return &bot.Message{Platform: "telegram", Chat: bot.Chat{ID: chat, Kind: bot.ChatGroup}, ID: id,
		Author: bot.User{ID: user, Name: "User " + user}, Text: text, Time: t0}
}

func TestOpenTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "chorus.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(path, WithTimeout(50*time.Millisecond))
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second open: err = %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %q should name the file and say it is in use", err)
	}
	if s.Path() != path {
		t.Errorf("Path = %q", s.Path())
	}
	if n, err := s.Size(); err != nil || n <= 0 {
		t.Errorf("Size = %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, WithReadOnly())
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	defer s2.Close()
	if _, err := s2.Append(context.Background(), "c", bot.Turn{Text: "x"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("append read-only: %v", err)
	}
}

func TestInboxDedupSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chorus.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
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
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, m := range []*bot.Message{a, b, &edit} {
		if fresh, err := s.Accept(ctx, m); err != nil || fresh {
			t.Errorf("after reopen Accept(%s) = %v, %v; want not fresh", m.ID, fresh, err)
		}
	}
	p, err := s.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || p[0].Text != "hello" || p[1].Text != "hello (edited)" {
		t.Fatalf("pending after reopen = %+v, want a then its edit", p)
	}
	if !p[0].Time.Equal(t0) {
		t.Errorf("pending message time = %v", p[0].Time)
	}
}

func TestHistoryAppendWindowTurns(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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
	seqs := func(ts []bot.Turn) []uint64 {
		var out []uint64
		for _, t := range ts {
			out = append(out, t.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		budget int
		want   []uint64
	}{
		{0, nil}, {9, nil}, {10, []uint64{10}}, {18, []uint64{10}}, {19, []uint64{9, 10}},
		{27, []uint64{8, 9, 10}}, {55, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, {1000, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	} {
		t.Run(fmt.Sprint("budget", tc.budget), func(t *testing.T) {
			w, err := s.Window(ctx, conv, tc.budget)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(w); !slices.Equal(got, tc.want) {
				t.Errorf("Window = %v, want %v", got, tc.want)
			}
		})
	}
	w, _ := s.Window(ctx, conv, 10)
	want := bot.Turn{Seq: 10, Role: bot.RoleAssistant, User: "telegram:7", MsgID: "10", Text: "turn 10", Time: t0.Add(10 * time.Minute), Tokens: 10}
	if !reflect.DeepEqual(w[0], want) {
		t.Errorf("turn = %+v, want %+v", w[0], want)
	}
	if w, err := s.Window(ctx, "telegram/none", 100); err != nil || len(w) != 0 {
		t.Errorf("unknown conv window = %v, %v", w, err)
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

func TestAppendEditReplacesUserTurn(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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

func TestConcurrentAppend(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const goroutines, per, convs = 50, 20, 5
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

func TestProfiles(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Profile(ctx, "telegram:7"); !errors.Is(err, bot.ErrNotFound) {
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
	m2.Author.Name, m2.Time = "Seven", t0.Add(time.Hour)
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
		LastSeen: t0.Add(time.Hour), Messages: 3, Lang: "zh", Topics: map[string]int{"shipping.md": 2, "returns.md": 1}}
	if !p.FirstSeen.Equal(want.FirstSeen) || !p.LastSeen.Equal(want.LastSeen) {
		t.Errorf("seen = %v..%v", p.FirstSeen, p.LastSeen)
	}
	p.FirstSeen, p.LastSeen = want.FirstSeen, want.LastSeen
	if !reflect.DeepEqual(p, want) {
		t.Errorf("profile = %+v\nwant      %+v", p, want)
	}
}

// seedPrivacy stores two users talking in two conversations, with
// summaries, and returns the store.
func seedPrivacy(t *testing.T, s *Store) {
	ctx := context.Background()
	add := func(conv, role, user, id, text string) {
		if _, err := s.Append(ctx, conv, bot.Turn{Role: role, User: user, MsgID: id, Text: text, Time: t0, Tokens: 3}); err != nil {
			t.Fatal(err)
		}
	}
	add("tg/1", bot.RoleUser, "tg:alice", "1", "alice asks about beans")
	add("tg/1", bot.RoleAssistant, "tg:alice", "2", "answer to alice")
	add("tg/1", bot.RoleUser, "tg:bob", "3", "bob asks about grinders")
	add("tg/1", bot.RoleAssistant, "tg:bob", "4", "answer to bob")
	add("tg/2", bot.RoleUser, "tg:alice", "1", "alice in dm")
	add("tg/3", bot.RoleUser, "tg:bob", "1", "bob alone")
	for _, u := range []string{"alice", "bob"} {
		m := &bot.Message{Platform: "tg", Author: bot.User{ID: u, Name: u}, Time: t0}
		if err := s.Touch(ctx, m, "en"); err != nil {
			t.Fatal(err)
		}
	}
	s.SetSummary(ctx, "tg/1", bot.Summary{Text: "alice and bob talked", UpTo: 2, Users: []string{"tg:alice", "tg:bob"}})
	s.SetSummary(ctx, "tg/2", bot.Summary{Text: "alice alone", UpTo: 1, Users: []string{"tg:alice"}})
	s.SetSummary(ctx, "tg/3", bot.Summary{Text: "bob alone", UpTo: 1, Users: []string{"tg:bob"}})
	s.Audit(ctx, bot.AuditEntry{Platform: "tg", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "alice's bad words", Time: t0})
}

// forgetAll is a forget of everything about user.
func forgetAll(user string) bot.ForgetRequest {
	return bot.ForgetRequest{User: user, Scope: bot.ViewAll(), Ref: "r1"}
}

func TestForget(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	seedPrivacy(t, s)
	n, err := s.Forget(ctx, forgetAll("tg:alice"))
	if err != nil {
		t.Fatal(err)
	}
	// 3 turns + 2 summaries + 1 profile + 1 audit entry anonymised
	if n != 7 {
		t.Errorf("Forget = %d, want 7", n)
	}
	ts, _ := s.Turns(ctx, "tg/1", 0, 100, 100)
	if len(ts) != 2 || ts[0].User != "tg:bob" || ts[1].User != "tg:bob" {
		t.Errorf("tg/1 after forget = %+v", ts)
	}
	if ts, _ := s.Turns(ctx, "tg/2", 0, 100, 100); len(ts) != 0 {
		t.Errorf("tg/2 after forget = %+v", ts)
	}
	for conv, want := range map[string]string{"tg/1": "", "tg/2": "", "tg/3": "bob alone"} {
		if sum, _ := s.Summary(ctx, conv); sum.Text != want {
			t.Errorf("summary %s = %q, want %q", conv, sum.Text, want)
		}
	}
	if _, err := s.Profile(ctx, "tg:alice"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("profile after forget: %v", err)
	}
	if _, err := s.Profile(ctx, "tg:bob"); err != nil {
		t.Errorf("bob's profile: %v", err)
	}
	d, _ := s.Export(ctx, "tg:alice")
	if len(d.Messages) != 0 || d.Profile != nil {
		t.Errorf("export after forget = %+v", d)
	}
	if es, _ := s.AuditLog(ctx, AuditQuery{User: "tg:alice"}); len(es) != 0 {
		t.Errorf("audit still names alice after forget: %+v", es)
	}
	es, _ := s.AuditLog(ctx, AuditQuery{User: "forgotten:r1"})
	if len(es) != 1 || es[0].Excerpt != "" || es[0].Kind != "moderation" || es[0].Actor != "rules" {
		t.Errorf("audit after forget = %+v, want the entry without id or excerpt", es)
	}
	// tg/2 held only alice's words: the conversation went whole, and the
	// same message id is a new message of a new conversation now.
	if seq, _ := s.Append(ctx, "tg/2", bot.Turn{Role: bot.RoleUser, User: "tg:alice", MsgID: "1", Text: "new"}); seq != 1 {
		t.Errorf("append after forget: seq %d, want 1", seq)
	}
	// In tg/1, bob's turns stay; the msgid index of alice's went with it.
	if seq, _ := s.Append(ctx, "tg/1", bot.Turn{Role: bot.RoleUser, User: "tg:alice", MsgID: "1", Text: "new"}); seq != 5 {
		t.Errorf("append to tg/1 after forget: seq %d, want 5", seq)
	}
	if n, err := s.Forget(ctx, forgetAll("tg:nobody")); err != nil || n != 0 {
		t.Errorf("forget unknown = %d, %v", n, err)
	}
	// Bob's summary index no longer references the deleted tg/1 summary,
	// so forgetting bob deletes exactly his turns, one summary and profile.
	if n, _ := s.Forget(ctx, forgetAll("tg:alice")); n != 2 {
		t.Errorf("forget alice's new messages = %d, want 2", n)
	}
	if n, _ := s.Forget(ctx, forgetAll("tg:bob")); n != 3+1+1 {
		t.Errorf("forget bob = %d, want 5", n)
	}
}

func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	seedPrivacy(t, s)
	d, err := s.Export(ctx, "tg:alice")
	if err != nil {
		t.Fatal(err)
	}
	if d.Profile == nil || d.Profile.User != "tg:alice" {
		t.Fatalf("profile = %+v", d.Profile)
	}
	var texts []string
	for _, m := range d.Messages {
		texts = append(texts, m.Conversation+": "+m.Text)
	}
	want := []string{"tg/1: alice asks about beans", "tg/1: answer to alice", "tg/2: alice in dm"}
	if !slices.Equal(texts, want) {
		t.Errorf("messages = %q, want %q", texts, want)
	}
	if _, ok := d.Extra["summaries"]; ok {
		t.Errorf("the export holds summaries, which mix other people's words: %+v", d.Extra["summaries"])
	}
	if a, _ := d.Extra["audit"].([]bot.AuditEntry); len(a) != 1 || a[0].Excerpt != "alice's bad words" {
		t.Errorf("audit = %+v", d.Extra["audit"])
	}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back bot.UserData
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Messages, d.Messages) || !reflect.DeepEqual(*back.Profile, *d.Profile) || back.User != d.User {
		t.Errorf("round trip changed the data:\n%+v\n%+v", back, d)
	}
	raw2, _ := json.Marshal(back)
	var v1, v2 any
	json.Unmarshal(raw, &v1)
	json.Unmarshal(raw2, &v2)
	if !reflect.DeepEqual(v1, v2) {
		t.Errorf("re-marshalled JSON differs:\n%s\n%s", raw, raw2)
	}
	if d, err := s.Export(ctx, "tg:nobody"); err != nil || d.Messages == nil || len(d.Messages) != 0 || d.Profile != nil {
		t.Errorf("export unknown = %+v, %v", d, err)
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: t0}
	s := openTest(t, WithClock(clk.Now), WithRetention(30))
	day := 24 * time.Hour
	for i := range 10 {
		at := t0.Add(time.Duration(i) * day)
		if _, err := s.Append(ctx, "c/1", bot.Turn{Role: bot.RoleUser, User: "u:1", MsgID: fmt.Sprint(i), Text: fmt.Sprint(i), Time: at, Tokens: 1}); err != nil {
			t.Fatal(err)
		}
		clk.Set(at)
		if _, err := s.Accept(ctx, msg("1", fmt.Sprint(i), "1", "x")); err != nil {
			t.Fatal(err)
		}
	}
	s.SetSummary(ctx, "c/1", bot.Summary{Text: "old", Users: []string{"u:1"}, Updated: t0})
	// Before day 4: turns 0-3, dedup 0-3, the summary.
	n, err := s.Prune(ctx, t0.Add(4*day))
	if err != nil || n != 4+4+1 {
		t.Fatalf("Prune = %d, %v; want 9", n, err)
	}
	ts, _ := s.Turns(ctx, "c/1", 0, 100, 100)
	if len(ts) != 6 || ts[0].Text != "4" {
		t.Errorf("after prune turns = %+v", ts)
	}
	if sum, _ := s.Summary(ctx, "c/1"); sum.Text != "" {
		t.Errorf("summary survived: %+v", sum)
	}
	if d, _ := s.Export(ctx, "u:1"); len(d.Messages) != 6 {
		t.Errorf("export after prune has %d messages", len(d.Messages))
	}
	for i, want := range map[int]bool{3: true, 4: false} {
		if fresh, _ := s.Accept(ctx, msg("1", fmt.Sprint(i), "1", "x")); fresh != want {
			t.Errorf("accept %d after prune fresh = %v, want %v", i, fresh, want)
		}
	}
	if n, _ := s.Prune(ctx, t0.Add(4*day)); n != 0 {
		t.Errorf("second prune = %d", n)
	}
	// Forget after prune counts only what is left.
	if n, _ := s.Forget(ctx, forgetAll("u:1")); n != 6 {
		t.Errorf("forget after prune = %d, want 6", n)
	}

	// RunRetention prunes by the configured 30 days at once.
	s.Append(ctx, "c/2", bot.Turn{Role: bot.RoleUser, Text: "old", Time: t0})
	s.Append(ctx, "c/2", bot.Turn{Role: bot.RoleUser, Text: "new", Time: t0.Add(40 * day)})
	clk.Set(t0.Add(45 * day))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.RunRetention(rctx, time.Hour) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts, _ := s.Turns(ctx, "c/2", 0, 10, 10)
		if len(ts) == 1 && ts[0].Text == "new" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention did not prune: %+v", ts)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunRetention = %v", err)
	}
}

func TestPruneManyChunks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const n = pruneChunk*2 + 7
	turns := make([]bot.Turn, n)
	for i := range turns {
		turns[i] = bot.Turn{Role: bot.RoleUser, User: "u:1", Text: "x", Time: t0.Add(time.Duration(i) * time.Second), Tokens: 1}
	}
	if err := s.bulkAppend("c/1", turns); err != nil {
		t.Fatal(err)
	}
	got, err := s.Prune(ctx, t0.Add(time.Duration(n-1)*time.Second))
	if err != nil || got != n-1 {
		t.Fatalf("Prune = %d, %v; want %d", got, err, n-1)
	}
	if d, _ := s.Export(ctx, "u:1"); len(d.Messages) != 1 {
		t.Errorf("export after prune has %d messages", len(d.Messages))
	}
}

func TestKV(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Get(ctx, "strikes", "a"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("get absent: %v", err)
	}
	for _, k := range []string{"b", "a", "c", "ab", "d"} {
		if err := s.Put(ctx, "strikes", k, []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	s.Put(ctx, "other", "a", []byte("other"))
	s.Put(ctx, "strikes", "e", nil)
	if err := s.Put(ctx, "", "x", nil); err == nil {
		t.Error("empty bucket accepted")
	}
	if v, err := s.Get(ctx, "strikes", "ab"); err != nil || string(v) != "vab" {
		t.Errorf("get = %q, %v", v, err)
	}
	if v, err := s.Get(ctx, "strikes", "e"); err != nil || len(v) != 0 || v == nil {
		t.Errorf("get empty value = %q, %v", v, err)
	}
	s.Delete(ctx, "strikes", "d")
	s.Delete(ctx, "strikes", "nope")
	s.Delete(ctx, "nobucket", "nope")
	scan := func(from, to string) []string {
		var keys []string
		if err := s.Scan(ctx, "strikes", from, to, func(k string, v []byte) error {
			keys = append(keys, k)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	for _, tc := range []struct {
		from, to string
		want     []string
	}{
		{"", "", []string{"a", "ab", "b", "c", "e"}},
		{"a", "b", []string{"a", "ab"}},
		{"ab", "", []string{"ab", "b", "c", "e"}},
		{"b", "b", nil},
		{"z", "", nil},
	} {
		if got := scan(tc.from, tc.to); !slices.Equal(got, tc.want) {
			t.Errorf("Scan(%q,%q) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Scan(ctx, "strikes", "", "", func(string, []byte) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("scan error = %v after %d calls", err, calls)
	}
	// Pages: more keys than one page, and fn writing to the store.
	defer func(n int) { scanPage = n }(scanPage)
	scanPage = 4
	for i := range scanPage*2 + 3 {
		s.Put(ctx, "big", fmt.Sprintf("k%05d", i), []byte{byte(i)})
	}
	var n int
	err := s.Scan(ctx, "big", "", "", func(k string, v []byte) error {
		if k != fmt.Sprintf("k%05d", n) {
			return fmt.Errorf("key %q at %d", k, n)
		}
		n++
		return s.Put(ctx, "copy", k, v)
	})
	if err != nil || n != scanPage*2+3 {
		t.Errorf("big scan: %d keys, %v", n, err)
	}
}

func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for i := range 6 {
		kind := "moderation"
		if i%2 == 1 {
			kind = "command"
		}
		e := bot.AuditEntry{Time: t0.Add(time.Duration(i/2) * time.Minute), User: fmt.Sprintf("u:%d", i%3), Kind: kind, Note: fmt.Sprint(i)}
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	notes := func(es []bot.AuditEntry) string {
		var b strings.Builder
		for _, e := range es {
			b.WriteString(e.Note)
		}
		return b.String()
	}
	for _, tc := range []struct {
		q    AuditQuery
		want string
	}{
		{AuditQuery{}, "543210"},
		{AuditQuery{Limit: 2}, "54"},
		{AuditQuery{Kind: "command"}, "531"},
		{AuditQuery{User: "u:0"}, "30"},
		{AuditQuery{Since: t0.Add(time.Minute)}, "5432"},
		{AuditQuery{Kind: "moderation", Since: t0.Add(time.Minute), User: "u:1"}, "4"},
	} {
		got, err := s.AuditLog(ctx, tc.q)
		if err != nil || notes(got) != tc.want {
			t.Errorf("AuditLog(%+v) = %q, %v; want %q", tc.q, notes(got), err, tc.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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
			if _, err := json.Marshal(d); err != nil {
				t.Fatal(err)
			}
			if n, err := s.Forget(ctx, forgetAll(m.UserKey())); err != nil || n != 2 {
				t.Errorf("forget = %d, %v", n, err)
			}
		})
	}
	// Keys longer than bbolt allows are hashed.
	long := strings.Repeat("x", 40000)
	m := msg(long, long, long, "hi")
	if fresh, err := s.Accept(ctx, m); err != nil || !fresh {
		t.Fatalf("accept long ids = %v, %v", fresh, err)
	}
	if fresh, _ := s.Accept(ctx, m); fresh {
		t.Error("long id not deduplicated")
	}
	if _, err := s.Append(ctx, long, bot.Turn{Role: bot.RoleUser, User: long, MsgID: long, Text: "hi", Tokens: 1}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Export(ctx, long); len(d.Messages) != 1 || d.Messages[0].Conversation != long {
		t.Errorf("long conversation key not exported intact")
	}
	if _, err := s.Append(ctx, "", bot.Turn{}); err == nil {
		t.Error("empty conversation accepted")
	}
}
