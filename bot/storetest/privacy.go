package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func isNotFound(err error) bool { return errors.Is(err, bot.ErrNotFound) }

// forgetAll is a forget of everything about user.
func forgetAll(user string) bot.ForgetRequest {
	return bot.ForgetRequest{User: user, Scope: bot.ViewAll(), Ref: "r1"}
}

// SeedPrivacy stores two users, tg:alice and tg:bob, talking in three
// conversations (tg/1 together, tg/2 and tg/3 alone), with summaries and
// (when the store keeps one) an audit entry about alice. It reports
// whether the audit entry was written. Store tests of their own (what a
// forget leaves on disk) start from it too.
func SeedPrivacy(t *testing.T, s bot.Store) bool {
	t.Helper()
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
	for conv, sum := range map[string]bot.Summary{
		"tg/1": {Text: "alice and bob talked", UpTo: 2, Users: []string{"tg:alice", "tg:bob"}},
		"tg/2": {Text: "alice alone", UpTo: 1, Users: []string{"tg:alice"}},
		"tg/3": {Text: "bob alone", UpTo: 1, Users: []string{"tg:bob"}},
	} {
		if err := s.SetSummary(ctx, conv, sum); err != nil {
			t.Fatal(err)
		}
	}
	a, ok := s.(bot.Auditor)
	if !ok {
		return false
	}
	if err := a.Audit(ctx, bot.AuditEntry{Platform: "tg", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "alice's bad words", Time: t0}); err != nil {
		t.Fatal(err)
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testForget(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	audited := SeedPrivacy(t, s.Store)
	n, err := s.Forget(ctx, forgetAll("tg:alice"))
	if err != nil {
		t.Fatal(err)
	}
	// 3 turns + 2 summaries + 1 profile (+ 1 audit entry anonymised)
	if want := 6 + b2i(audited); n != want {
		t.Errorf("Forget = %d, want %d", n, want)
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
	if _, err := s.Profile(ctx, "tg:alice"); !isNotFound(err) {
		t.Errorf("profile after forget: %v", err)
	}
	if _, err := s.Profile(ctx, "tg:bob"); err != nil {
		t.Errorf("bob's profile: %v", err)
	}
	d, _ := s.Export(ctx, "tg:alice")
	if len(d.Messages) != 0 || d.Profile != nil {
		t.Errorf("export after forget = %+v", d)
	}
	if ps, _ := s.FindUsers(ctx, "tg", "alice", 5); len(ps) != 0 {
		t.Errorf("alice still found by name: %+v", ps)
	}
	if al, ok := s.Store.(bot.AuditLog); ok && audited {
		if es, _ := al.AuditLog(ctx, bot.AuditQuery{User: "tg:alice"}); len(es) != 0 {
			t.Errorf("audit still names alice after forget: %+v", es)
		}
		es, _ := al.AuditLog(ctx, bot.AuditQuery{User: "forgotten:r1"})
		if len(es) != 1 || es[0].Excerpt != "" || es[0].Kind != "moderation" || es[0].Actor != "rules" {
			t.Errorf("audit after forget = %+v, want the entry without id or excerpt", es)
		}
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

func testForgetScoped(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	audited := SeedPrivacy(t, s.Store)
	if a, ok := s.Store.(bot.Auditor); ok {
		a.Audit(ctx, bot.AuditEntry{Platform: "tg", Chat: "tg/1", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "in one", Time: t0})
		a.Audit(ctx, bot.AuditEntry{Platform: "tg", Chat: "tg/2", User: "tg:alice", Actor: "rules", Kind: "moderation", Excerpt: "in two", Time: t0})
	}
	n, err := s.Forget(ctx, bot.ForgetRequest{User: "tg:alice", Scope: bot.ViewChat("tg", "1"), Ref: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	// 2 turns + the tg/1 summary (+ the tg/1 audit entry).
	if want := 3 + b2i(audited); n != want {
		t.Errorf("scoped forget = %d, want %d", n, want)
	}
	d, _ := s.Export(ctx, "tg:alice")
	var texts []string
	for _, m := range d.Messages {
		texts = append(texts, m.Conversation+": "+m.Text)
	}
	if !slices.Equal(texts, []string{"tg/2: alice in dm"}) {
		t.Errorf("left after forgetting chat tg/1: %q", texts)
	}
	if d.Profile == nil {
		t.Error("a forget of one chat deleted the profile")
	}
	if sum, _ := s.Summary(ctx, "tg/2"); sum.Text != "alice alone" {
		t.Errorf("tg/2 summary = %q", sum.Text)
	}
	if al, ok := s.Store.(bot.AuditLog); ok && audited {
		es, _ := al.AuditLog(ctx, bot.AuditQuery{User: "tg:alice"})
		if len(es) != 2 { // the chat-less seed entry and tg/2's
			t.Errorf("alice's audit entries outside tg/1: %+v", es)
		}
	}
	// Running it again changes nothing; the rest goes with a full forget.
	if n, _ := s.Forget(ctx, bot.ForgetRequest{User: "tg:alice", Scope: bot.ViewChat("tg", "1"), Ref: "r2"}); n != 0 {
		t.Errorf("second scoped forget = %d, want 0", n)
	}
	if n, _ := s.Forget(ctx, forgetAll("tg:alice")); n != 1+1+1+2*b2i(audited) {
		t.Errorf("full forget after scoped = %d, want %d", n, 3+2*b2i(audited))
	}
	d, _ = s.Export(ctx, "tg:alice")
	if raw, _ := json.Marshal([]any{d.Messages, d.Profile, d.Extra}); strings.Contains(string(raw), "alice") {
		t.Errorf("export after the full forget still names alice: %s", raw)
	}
}

func testExport(t *testing.T, h *harness) {
	ctx := context.Background()
	s := h.newStore(t, Options{})
	audited := SeedPrivacy(t, s.Store)
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
	if a, _ := d.Extra["audit"].([]bot.AuditEntry); audited && (len(a) != 1 || a[0].Excerpt != "alice's bad words") {
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
	if !reflect.DeepEqual(back.Messages, d.Messages) || back.User != d.User {
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

func testAuditLog(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	s := auditLog(t, st.Store)
	for i := range 6 {
		kind := bot.AuditModeration
		if i%2 == 1 {
			kind = bot.AuditCommand
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
		q    bot.AuditQuery
		want string
	}{
		{bot.AuditQuery{}, "543210"},
		{bot.AuditQuery{Limit: 2}, "54"},
		{bot.AuditQuery{Kind: "command"}, "531"},
		{bot.AuditQuery{User: "u:0"}, "30"},
		{bot.AuditQuery{Since: t0.Add(time.Minute)}, "5432"},
		{bot.AuditQuery{Kind: "moderation", Since: t0.Add(time.Minute), User: "u:1"}, "4"},
	} {
		got, err := s.AuditLog(ctx, tc.q)
		if err != nil || notes(got) != tc.want {
			t.Errorf("AuditLog(%+v) = %q, %v; want %q", tc.q, notes(got), err, tc.want)
		}
	}
	got, _ := s.AuditLog(ctx, bot.AuditQuery{Limit: 1})
	if len(got) != 1 || !got[0].Time.Equal(t0.Add(2*time.Minute)) || got[0].User != "u:2" {
		t.Errorf("newest entry = %+v", got)
	}
}

func testAuditActors(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	s := auditLog(t, st.Store)
	s.Audit(ctx, bot.AuditEntry{Chat: "tg/1", User: "tg:alice", Name: "Alice", Actor: "rules", Kind: "moderation",
		Excerpt: "write me at alice@example.com or +44 20 7946 0958", Time: t0})
	s.Audit(ctx, bot.AuditEntry{Chat: "tg/1", User: "tg:alice", Actor: "tg:mgr", Kind: "command", Rule: "/mod pardon", Note: "pardoned tg:alice", Time: t0})
	es, _ := s.AuditLog(ctx, bot.AuditQuery{Kind: "moderation"})
	if len(es) != 1 || strings.Contains(es[0].Excerpt, "alice@example.com") || strings.Contains(es[0].Excerpt, "7946") {
		t.Errorf("stored excerpt not masked: %+v", es)
	}
	// The manager's export holds their action, without alice's id.
	d, _ := st.Export(ctx, "tg:mgr")
	a, _ := d.Extra["audit"].([]bot.AuditEntry)
	if len(a) != 1 || a[0].Rule != "/mod pardon" || a[0].User != "" || a[0].Actor != "tg:mgr" {
		t.Errorf("manager's export audit = %+v", a)
	}
	// Forgetting the manager takes their id out of the entry they made;
	// forgetting alice takes hers out of the note.
	if _, err := st.Forget(ctx, forgetAll("tg:mgr")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Forget(ctx, bot.ForgetRequest{User: "tg:alice", Scope: bot.ViewAll(), Ref: "r9"}); err != nil {
		t.Fatal(err)
	}
	es, _ = s.AuditLog(ctx, bot.AuditQuery{})
	raw, _ := json.Marshal(es)
	for _, gone := range []string{"tg:mgr", "tg:alice", "Alice"} {
		if strings.Contains(string(raw), gone) {
			t.Errorf("the audit log still holds %q: %s", gone, raw)
		}
	}
	if len(es) != 2 || es[0].Rule != "/mod pardon" && es[1].Rule != "/mod pardon" {
		t.Errorf("the entries themselves went: %s", raw)
	}
}

func testPrune(t *testing.T, h *harness) {
	ctx := context.Background()
	clk := newClock(t0)
	st := h.newStore(t, Options{Now: clk.Now, RetentionDays: 30})
	pr, ok := st.Store.(Pruner)
	if !ok {
		t.Skipf("%T has no retention (Pruner)", st.Store)
	}
	s := st.Store
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
	n, err := pr.Prune(ctx, t0.Add(4*day))
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
	if n, _ := pr.Prune(ctx, t0.Add(4*day)); n != 0 {
		t.Errorf("second prune = %d", n)
	}
	// A pruned edit target is gone: the same id is a new turn.
	if seq, _ := s.Append(ctx, "c/1", bot.Turn{Role: bot.RoleUser, User: "u:1", MsgID: "0", Text: "again", Time: t0.Add(20 * day), Tokens: 1}); seq != 11 {
		t.Errorf("append of a pruned message id: seq %d, want 11", seq)
	}
	// Forget after prune counts only what is left.
	if n, _ := s.Forget(ctx, forgetAll("u:1")); n != 7 {
		t.Errorf("forget after prune = %d, want 7", n)
	}

	// RunRetention prunes by the configured 30 days at once.
	s.Append(ctx, "c/2", bot.Turn{Role: bot.RoleUser, Text: "old", Time: t0})
	s.Append(ctx, "c/2", bot.Turn{Role: bot.RoleUser, Text: "new", Time: t0.Add(40 * day)})
	clk.Set(t0.Add(45 * day))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pr.RunRetention(rctx, time.Hour) }()
	deadline := time.Now().Add(10 * time.Second)
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

func testKV(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	s := kv(t, st.Store)
	if _, err := s.Get(ctx, "strikes", "a"); !isNotFound(err) {
		t.Fatalf("get absent: %v", err)
	}
	for _, k := range []string{"b", "a", "c", "ab", "d", "\xff\x00", "Z"} {
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
	if v, err := s.Get(ctx, "strikes", "e"); err != nil || len(v) != 0 {
		t.Errorf("get empty value = %q, %v", v, err)
	}
	if err := s.Put(ctx, "strikes", "ab", []byte("replaced")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(ctx, "strikes", "ab"); string(v) != "replaced" {
		t.Errorf("get after replace = %q", v)
	}
	s.Delete(ctx, "strikes", "d")
	if err := s.Delete(ctx, "strikes", "nope"); err != nil {
		t.Errorf("delete absent: %v", err)
	}
	if err := s.Delete(ctx, "nobucket", "nope"); err != nil {
		t.Errorf("delete from absent bucket: %v", err)
	}
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
		{"", "", []string{"Z", "a", "ab", "b", "c", "e", "\xff\x00"}},
		{"a", "b", []string{"a", "ab"}},
		{"ab", "", []string{"ab", "b", "c", "e", "\xff\x00"}},
		{"b", "b", nil},
		{"z", "", []string{"\xff\x00"}},
		{"", "a", []string{"Z"}},
	} {
		if got := scan(tc.from, tc.to); !slices.Equal(got, tc.want) {
			t.Errorf("Scan(%q,%q) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Scan(ctx, "strikes", "", "", func(string, []byte) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("scan error = %v after %d calls", err, calls)
	}
	if err := s.Scan(ctx, "nobucket", "", "", func(string, []byte) error { return stop }); err != nil {
		t.Errorf("scan of an absent bucket = %v", err)
	}
}

// testKVPages: a scan longer than a store's page sees every key once, in
// order, with fn writing to the store as it goes.
func testKVPages(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	s := kv(t, st.Store)
	const n = 600
	for i := range n {
		if err := s.Put(ctx, "big", fmt.Sprintf("k%05d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	err := s.Scan(ctx, "big", "", "", func(k string, v []byte) error {
		if k != fmt.Sprintf("k%05d", i) || len(v) != 1 || v[0] != byte(i) {
			return fmt.Errorf("key %q = %v at %d", k, v, i)
		}
		i++
		return s.Put(ctx, "copy", k, v)
	})
	if err != nil || i != n {
		t.Errorf("big scan: %d keys, %v", i, err)
	}
	if v, err := s.Get(ctx, "copy", "k00599"); err != nil || v[0] != byte(599%256) {
		t.Errorf("copy written during the scan: %v, %v", v, err)
	}
}

func testHealthy(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	c, ok := st.Store.(Checker)
	if !ok {
		t.Skipf("%T has no Healthy", st.Store)
	}
	if err := c.Healthy(ctx); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	// A refusal of the caller's data is not a storage failure.
	if _, err := st.Append(ctx, "", bot.Turn{Text: "x"}); err == nil {
		t.Fatal("append to an empty conversation key succeeded")
	}
	if err := c.Healthy(ctx); err != nil {
		t.Fatalf("after a refused append: %v", err)
	}
	if cl, ok := st.Store.(interface{ Close() error }); ok {
		cl.Close()
		if err := c.Healthy(ctx); err == nil {
			t.Fatal("a closed store is healthy")
		}
	}
}

// testKVBatch: a store that groups KV writes in one transaction
// (bot.KVBatch) keeps all of them when fn succeeds, none when it fails,
// and reads its own writes inside the transaction.
func testKVBatch(t *testing.T, h *harness) {
	ctx := context.Background()
	st := h.newStore(t, Options{})
	s := kv(t, st.Store)
	b, ok := st.Store.(bot.KVBatch)
	if !ok {
		t.Skipf("%T is not a bot.KVBatch", st.Store)
	}
	if err := s.Put(ctx, "rollups", "h1", []byte("1")); err != nil {
		t.Fatal(err)
	}
	err := b.Update(ctx, func(tx bot.KV) error {
		v, err := tx.Get(ctx, "rollups", "h1")
		if err != nil || string(v) != "1" {
			return fmt.Errorf("read before write: %q, %v", v, err)
		}
		for i := range 50 {
			if err := tx.Put(ctx, "rollups", fmt.Sprintf("h%02d", i+2), []byte{byte(i)}); err != nil {
				return err
			}
		}
		if v, err := tx.Get(ctx, "rollups", "h02"); err != nil || len(v) != 1 || v[0] != 0 {
			return fmt.Errorf("read own write: %q, %v", v, err)
		}
		if _, err := tx.Get(ctx, "rollups", "none"); !isNotFound(err) {
			return fmt.Errorf("absent key inside: %v", err)
		}
		n := 0
		if err := tx.Scan(ctx, "rollups", "h0", "h1", func(string, []byte) error { n++; return nil }); err != nil || n != 8 { // h02 to h09
			return fmt.Errorf("scan inside: %d keys, %v", n, err)
		}
		return tx.Delete(ctx, "rollups", "h1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "rollups", "h1"); !isNotFound(err) {
		t.Errorf("deleted in the batch, still there: %v", err)
	}
	if v, err := s.Get(ctx, "rollups", "h51"); err != nil || len(v) != 1 || v[0] != 49 {
		t.Errorf("last write of the batch: %q, %v", v, err)
	}
	boom := errors.New("boom")
	err = b.Update(ctx, func(tx bot.KV) error {
		if err := tx.Put(ctx, "rollups", "h02", []byte("changed")); err != nil {
			return err
		}
		if err := tx.Put(ctx, "rollups", "new", []byte("x")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("failed batch returned %v, want its error", err)
	}
	if v, _ := s.Get(ctx, "rollups", "h02"); len(v) != 1 || v[0] != 0 {
		t.Errorf("a failed batch changed a value: %q", v)
	}
	if _, err := s.Get(ctx, "rollups", "new"); !isNotFound(err) {
		t.Errorf("a failed batch added a key: %v", err)
	}
}
