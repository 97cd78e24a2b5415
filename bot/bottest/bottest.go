// Package bottest holds real in-memory implementations of the bot
// interfaces (Store, Platform, LLM) for tests of the engine and of the
// packages that plug into it. They behave like the real ones, only without
// disk, network or model.
package bottest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// MemStore is an in-memory bot.Store.
type MemStore struct {
	mu        sync.Mutex
	seen      map[string]bool
	pending   map[string]bot.Message
	order     []string
	convs     map[string][]bot.Turn
	summaries map[string]bot.Summary
	profiles  map[string]bot.Profile
}

var (
	_ bot.Store          = (*MemStore)(nil)
	_ bot.IntakeRecorder = (*MemStore)(nil)
)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{seen: map[string]bool{}, pending: map[string]bot.Message{}, convs: map[string][]bot.Turn{},
		summaries: map[string]bot.Summary{}, profiles: map[string]bot.Profile{}}
}

// Accept implements bot.Inbox.
func (s *MemStore) Accept(_ context.Context, m *bot.Message) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := m.DedupKey()
	if s.seen[k] {
		return false, nil
	}
	s.seen[k] = true
	s.pending[k] = *m
	s.order = append(s.order, k)
	return true, nil
}

// Done implements bot.Inbox.
func (s *MemStore) Done(_ context.Context, m *bot.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, m.DedupKey())
	return nil
}

// Pending implements bot.Inbox.
func (s *MemStore) Pending(context.Context) ([]bot.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bot.Message
	for _, k := range s.order {
		if m, ok := s.pending[k]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// Append implements bot.History. A user turn with a MsgID already stored in
// the conversation replaces that turn's text (an edit).
func (s *MemStore) Append(_ context.Context, conv string, t bot.Turn) (uint64, error) {
	if conv == "" {
		return 0, errors.New("bottest: append: empty conversation key")
	}
	t.Text, t.Name = strings.ToValidUTF8(t.Text, "\uFFFD"), strings.ToValidUTF8(t.Name, "\uFFFD")
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.convs[conv]
	if t.Role == bot.RoleUser && t.MsgID != "" {
		for i := range ts {
			if ts[i].Role == bot.RoleUser && ts[i].MsgID == t.MsgID {
				ts[i].Text, ts[i].Tokens = t.Text, t.Tokens
				return ts[i].Seq, nil
			}
		}
	}
	t.Seq = uint64(len(ts)) + 1
	if len(ts) > 0 {
		t.Seq = ts[len(ts)-1].Seq + 1
	}
	s.convs[conv] = append(ts, t)
	return t.Seq, nil
}

// Window implements bot.History.
func (s *MemStore) Window(_ context.Context, conv string, budget int) ([]bot.Turn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.convs[conv]
	used, i := 0, len(ts)
	for i > 0 && used+ts[i-1].Tokens <= budget {
		used += ts[i-1].Tokens
		i--
	}
	return slices.Clone(ts[i:]), nil
}

// Turns implements bot.History.
func (s *MemStore) Turns(_ context.Context, conv string, from, to uint64, max int) ([]bot.Turn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bot.Turn
	for _, t := range s.convs[conv] {
		if t.Seq >= from && t.Seq <= to && len(out) < max {
			out = append(out, t)
		}
	}
	return out, nil
}

// Summary implements bot.History.
func (s *MemStore) Summary(_ context.Context, conv string) (bot.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.summaries[conv], nil
}

// SetSummary implements bot.History.
func (s *MemStore) SetSummary(_ context.Context, conv string, sum bot.Summary) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.summaries[conv] = sum
	return nil
}

// Incoming implements bot.Recorder. Nothing in memory survives a crash, so
// doing the two writes one after the other is as good as atomically.
func (s *MemStore) Incoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (uint64, error) {
	if err := s.Touch(ctx, m, lang); err != nil {
		return 0, err
	}
	return s.Append(ctx, conv, t)
}

// AcceptIncoming implements bot.IntakeRecorder (not atomically: nothing
// in memory outlives a crash).
func (s *MemStore) AcceptIncoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (bool, error) {
	fresh, err := s.Accept(ctx, m)
	if err != nil || !fresh {
		return false, err
	}
	if _, err := s.Incoming(ctx, m, lang, conv, t); err != nil {
		return false, err
	}
	return true, nil
}

// Dismiss implements bot.IntakeRecorder.
func (s *MemStore) Dismiss(ctx context.Context, m *bot.Message, conv string) error {
	s.mu.Lock()
	s.convs[conv] = slices.DeleteFunc(s.convs[conv], func(t bot.Turn) bool {
		return t.Role == bot.RoleUser && t.MsgID != "" && t.MsgID == m.ID
	})
	s.mu.Unlock()
	return s.Done(ctx, m)
}

// Outgoing implements bot.Recorder.
func (s *MemStore) Outgoing(ctx context.Context, m *bot.Message, conv string, reply bot.Turn, topics []string) (uint64, error) {
	seq, err := s.Append(ctx, conv, reply)
	if err != nil {
		return 0, err
	}
	if err := s.AddTopics(ctx, m.UserKey(), topics); err != nil {
		return 0, err
	}
	return seq, s.Done(ctx, m)
}

// Touch implements bot.Profiles.
func (s *MemStore) Touch(_ context.Context, m *bot.Message, lang string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := m.UserKey()
	p, ok := s.profiles[k]
	if !ok {
		p = bot.Profile{User: k, FirstSeen: m.Time}
	}
	if name := strings.ToValidUTF8(m.Author.Name, "\uFFFD"); name != "" {
		if i := slices.Index(p.Names, name); i >= 0 {
			p.Names = slices.Delete(p.Names, i, i+1)
		}
		// The latest twenty, as the durable stores keep.
		p.Names = append(p.Names, name)
		if len(p.Names) > 20 {
			p.Names = slices.Delete(p.Names, 0, len(p.Names)-20)
		}
	}
	if h := strings.TrimPrefix(m.Author.Handle, "@"); h != "" {
		p.Handle = h
	}
	if m.Time.Before(p.FirstSeen) {
		p.FirstSeen = m.Time
	}
	if m.Time.After(p.LastSeen) {
		p.LastSeen = m.Time
	}
	if lang != "" {
		p.Lang = lang
	}
	p.Messages++
	s.profiles[k] = p
	return nil
}

// Profile implements bot.Profiles.
func (s *MemStore) Profile(_ context.Context, user string) (bot.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[user]
	if !ok {
		return bot.Profile{}, bot.ErrNotFound
	}
	return p, nil
}

// AddTopics implements bot.Profiles.
func (s *MemStore) AddTopics(_ context.Context, user string, topics []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[user]
	if !ok {
		return nil
	}
	if p.Topics == nil {
		p.Topics = map[string]int{}
	}
	for _, t := range topics {
		p.Topics[t]++
	}
	s.profiles[user] = p
	return nil
}

// FindUsers implements bot.Directory.
func (s *MemStore) FindUsers(_ context.Context, platform, name string, limit int) ([]bot.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bot.Profile
	for k, p := range s.profiles {
		if pl, _, ok := bot.SplitUserKey(k); !ok || pl != platform {
			continue
		}
		cur := ""
		if n := len(p.Names); n > 0 {
			cur = p.Names[n-1]
		}
		if strings.EqualFold(cur, name) || (p.Handle != "" && strings.EqualFold(p.Handle, name)) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b bot.Profile) int { return strings.Compare(a.User, b.User) })
	return out[:min(len(out), max(limit, 0))], nil
}

// Forget implements bot.Privacy.
func (s *MemStore) Forget(_ context.Context, req bot.ForgetRequest) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c, ts := range s.convs {
		if !req.Scope.Covers(c) {
			continue
		}
		kept := ts[:0]
		for _, t := range ts {
			if t.User == req.User {
				n++
				continue
			}
			kept = append(kept, t)
		}
		s.convs[c] = kept
	}
	for c, sum := range s.summaries {
		if req.Scope.Covers(c) && slices.Contains(sum.Users, req.User) {
			delete(s.summaries, c)
			n++
		}
	}
	if _, ok := s.profiles[req.User]; ok && req.Scope.All() {
		delete(s.profiles, req.User)
		n++
	}
	return n, nil
}

// Export implements bot.Privacy.
func (s *MemStore) Export(_ context.Context, user string) (bot.UserData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := bot.UserData{User: user, Messages: []bot.ExportedTurn{}}
	if p, ok := s.profiles[user]; ok {
		d.Profile = &p
	}
	convs := make([]string, 0, len(s.convs))
	for c := range s.convs {
		convs = append(convs, c)
	}
	slices.Sort(convs)
	for _, c := range convs {
		for _, t := range s.convs[c] {
			if t.User == user {
				d.Messages = append(d.Messages, bot.ExportedTurn{Conversation: c, Turn: t})
			}
		}
	}
	return d, nil
}

// Turnsof returns a copy of every turn of conv, for assertions.
func (s *MemStore) TurnsOf(conv string) []bot.Turn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.convs[conv])
}

// Sent is one call recorded by Platform.
type Sent struct {
	Op    string // "send", "edit", "delete", "typing", "restrict", "ban"
	Out   bot.Out
	ID    string
	User  string
	Until time.Time
	At    time.Time
}

// Platform is an in-memory bot.Platform that records every call. Hooks
// may inject errors.
type Platform struct {
	PlatformName string
	Lim          bot.Limits
	// Fail, when set, is called before each operation; a non-nil error is
	// returned instead of doing it.
	Fail func(op string) error

	mu     sync.Mutex
	calls  []Sent
	texts  map[string]string
	next   int
	notify chan struct{}
}

var _ bot.Platform = (*Platform)(nil)

// NewPlatform returns a platform called name with the given limits.
func NewPlatform(name string, lim bot.Limits) *Platform {
	return &Platform{PlatformName: name, Lim: lim, texts: map[string]string{}, notify: make(chan struct{}, 1)}
}

func (p *Platform) record(s Sent) {
	s.At = time.Now()
	p.calls = append(p.calls, s)
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func (p *Platform) fail(op string) error {
	if p.Fail == nil {
		return nil
	}
	return p.Fail(op)
}

// Name implements bot.Platform.
func (p *Platform) Name() string { return p.PlatformName }

// Limits implements bot.Platform.
func (p *Platform) Limits() bot.Limits { return p.Lim }

// Send implements bot.Platform.
func (p *Platform) Send(_ context.Context, out bot.Out) (string, error) {
	if err := p.fail("send"); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	id := "m" + strconv.Itoa(p.next)
	p.texts[id] = out.Text
	p.record(Sent{Op: "send", Out: out, ID: id})
	return id, nil
}

// Edit implements bot.Platform.
func (p *Platform) Edit(_ context.Context, out bot.Out, id string) error {
	if err := p.fail("edit"); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.texts[id]; !ok {
		return fmt.Errorf("fake platform: edit of unknown message %q", id)
	}
	p.texts[id] = out.Text
	p.record(Sent{Op: "edit", Out: out, ID: id})
	return nil
}

// Delete implements bot.Platform.
func (p *Platform) Delete(_ context.Context, chat bot.Chat, id string) error {
	if err := p.fail("delete"); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.texts, id)
	p.record(Sent{Op: "delete", Out: bot.Out{Chat: chat}, ID: id})
	return nil
}

// Typing implements bot.Platform.
func (p *Platform) Typing(_ context.Context, chat bot.Chat) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record(Sent{Op: "typing", Out: bot.Out{Chat: chat}})
	return nil
}

// Restrict implements bot.Platform.
func (p *Platform) Restrict(_ context.Context, chat bot.Chat, user string, until time.Time) error {
	if err := p.fail("restrict"); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record(Sent{Op: "restrict", Out: bot.Out{Chat: chat}, User: user, Until: until})
	return nil
}

// Ban implements bot.Platform.
func (p *Platform) Ban(_ context.Context, chat bot.Chat, user string) error {
	if err := p.fail("ban"); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record(Sent{Op: "ban", Out: bot.Out{Chat: chat}, User: user})
	return nil
}

// Calls returns the calls recorded so far, optionally only of the ops named.
func (p *Platform) Calls(ops ...string) []Sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Sent
	for _, c := range p.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// Text returns the current text of a message the bot sent.
func (p *Platform) Text(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.texts[id]
}

// Replies returns the current text of every message sent to chat and not
// deleted since, in order.
func (p *Platform) Replies(chat string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.calls {
		if t, ok := p.texts[c.ID]; ok && c.Op == "send" && c.Out.Chat.ID == chat {
			out = append(out, t)
		}
	}
	return out
}

// LLM is a scriptable bot.LLM. Reply computes the answer (default: echo the
// query); it streams the answer in Chunk-sized pieces, Delay apart.
type LLM struct {
	Reply func(req bot.Request) (string, error)
	Chunk int
	Delay time.Duration
	// CutAfter, when > 0, cuts the stream with bot.ErrStreamCut after that
	// many pieces.
	CutAfter int

	mu       sync.Mutex
	requests []bot.Request
}

var _ bot.LLM = (*LLM)(nil)

// Requests returns the requests seen.
func (l *LLM) Requests() []bot.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.requests)
}

func (l *LLM) answer(req bot.Request) (string, error) {
	l.mu.Lock()
	l.requests = append(l.requests, req)
	l.mu.Unlock()
	if l.Reply != nil {
		return l.Reply(req)
	}
	return "echo: " + req.Query, nil
}

// Complete implements bot.LLM.
func (l *LLM) Complete(ctx context.Context, req bot.Request) (bot.Response, error) {
	text, err := l.answer(req)
	if err != nil {
		return bot.Response{}, err
	}
	return bot.Response{Text: text, Model: "fake", Usage: bot.Usage{PromptTokens: 10, CompletionTokens: len(strings.Fields(text))}}, nil
}

// Stream implements bot.LLM.
func (l *LLM) Stream(ctx context.Context, req bot.Request) (bot.Stream, error) {
	text, err := l.answer(req)
	if err != nil {
		return nil, err
	}
	chunk := l.Chunk
	if chunk <= 0 {
		chunk = 8
	}
	var pieces []string
	r := []rune(text)
	for i := 0; i < len(r); i += chunk {
		pieces = append(pieces, string(r[i:min(i+chunk, len(r))]))
	}
	return &stream{ctx: ctx, pieces: pieces, delay: l.Delay, cutAfter: l.CutAfter, usage: bot.Usage{PromptTokens: 10, CompletionTokens: len(pieces)}}, nil
}

type stream struct {
	ctx      context.Context
	pieces   []string
	i        int
	delay    time.Duration
	cutAfter int
	usage    bot.Usage
}

func (s *stream) Recv() (string, error) {
	if s.cutAfter > 0 && s.i >= s.cutAfter {
		return "", bot.ErrStreamCut
	}
	if s.i >= len(s.pieces) {
		return "", io.EOF
	}
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return "", s.ctx.Err()
		case <-t.C:
		}
	}
	p := s.pieces[s.i]
	s.i++
	return p, nil
}

func (s *stream) Usage() bot.Usage { return s.usage }
func (s *stream) Close() error     { return nil }
func (s *stream) Model() string    { return "fake" }

// MemKV is bot.MemKV, kept here for the tests that use it.
type MemKV = bot.MemKV

// NewMemKV returns an empty in-memory KV.
func NewMemKV() *MemKV { return bot.NewMemKV() }

// AuditLog is an in-memory bot.Auditor that keeps every entry.
type AuditLog struct {
	mu sync.Mutex
	es []bot.AuditEntry
}

var _ bot.Auditor = (*AuditLog)(nil)

// Audit implements bot.Auditor.
func (a *AuditLog) Audit(_ context.Context, e bot.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.es = append(a.es, e)
	return nil
}

// Entries returns the entries of kind, all of them when kind is "".
func (a *AuditLog) Entries(kind bot.AuditKind) []bot.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []bot.AuditEntry
	for _, e := range a.es {
		if kind == "" || e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// EventLog is a bot.Observer that keeps every event.
type EventLog struct {
	mu sync.Mutex
	ev []bot.Event
}

var _ bot.Observer = (*EventLog)(nil)

// Observe implements bot.Observer.
func (o *EventLog) Observe(e bot.Event) {
	o.mu.Lock()
	o.ev = append(o.ev, e)
	o.mu.Unlock()
}

// Of returns the events of kind k, in order.
func (o *EventLog) Of(k bot.EventKind) []bot.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []bot.Event
	for _, e := range o.ev {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}
