package bot_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// intakeStore counts the engine's intake calls on a MemStore.
type intakeStore struct {
	*bottest.MemStore
	accepts, intakes, incomings, dismisses atomic.Int32
}

func (s *intakeStore) Accept(ctx context.Context, m *bot.Message) (bool, error) {
	s.accepts.Add(1)
	return s.MemStore.Accept(ctx, m)
}

func (s *intakeStore) AcceptIncoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (bool, error) {
	s.intakes.Add(1)
	return s.MemStore.AcceptIncoming(ctx, m, lang, conv, t)
}

func (s *intakeStore) Incoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (uint64, error) {
	s.incomings.Add(1)
	return s.MemStore.Incoming(ctx, m, lang, conv, t)
}

func (s *intakeStore) Dismiss(ctx context.Context, m *bot.Message, conv string) error {
	s.dismisses.Add(1)
	return s.MemStore.Dismiss(ctx, m, conv)
}

func echoLLM() *bottest.LLM {
	return &bottest.LLM{Reply: func(req bot.Request) (string, error) {
		return "echo: " + req.Messages[len(req.Messages)-1].Content, nil
	}}
}

func (s *intakeStore) counts() [4]int32 {
	return [4]int32{s.accepts.Load(), s.intakes.Load(), s.incomings.Load(), s.dismisses.Load()}
}

// windowOf is the texts of conv's turns, oldest first.
func windowOf(t *testing.T, s bot.Store, conv string) []string {
	t.Helper()
	w, err := s.Window(context.Background(), conv, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, turn := range w {
		out = append(out, turn.Text)
	}
	return out
}

// TestIntakeRecordsAnIdleConversationAtOnce: a message whose conversation
// is idle is accepted and recorded in one store call (AcceptIncoming) and
// not recorded again by the worker; one arriving while its conversation
// is busy takes the ordinary path (Accept, then Incoming when its turn
// comes), so the history keeps each question before its answer.
func TestIntakeRecordsAnIdleConversationAtOnce(t *testing.T) {
	store := &intakeStore{MemStore: bottest.NewMemStore()}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	gate := make(chan struct{})
	hold := bot.WithPlugin(bot.Plugin{Name: "hold", Inspector: bot.InspectorFunc(
		func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
			if m.ID == "1" {
				<-gate
			}
			return bot.Verdict{}, nil
		})})
	e := engineOver(t, bot.Config{Workers: 2}, store, plat, echoLLM(), hold)
	ctx := context.Background()
	if err := e.Handle(ctx, dm("a", "1", "first")); err != nil {
		t.Fatal(err)
	}
	// Message 1 is held by the inspector: its conversation is busy.
	if err := e.Handle(ctx, dm("a", "2", "second")); err != nil {
		t.Fatal(err)
	}
	close(gate)
	waitIdle(t, e)
	if err := e.Handle(ctx, dm("a", "3", "third")); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, e)
	// A redelivery of a message accepted at intake is dropped.
	if err := e.Handle(ctx, dm("a", "3", "third")); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, e)
	// accepts, intakes, incomings, dismisses: 1 and 3 (and 3's
	// redelivery, refused) at intake, 2 the ordinary way.
	if got, want := store.counts(), [4]int32{1, 3, 1, 0}; got != want {
		t.Errorf("store calls %v, want %v", got, want)
	}
	want := []string{"first", "echo: first", "second", "echo: second", "third", "echo: third"}
	if got := windowOf(t, store, bot.ConversationKey("test", "a", "")); !slices.Equal(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := plat.Replies("a"); len(got) != 3 {
		t.Errorf("replies %q, want 3", got)
	}
	if p, _ := store.Pending(ctx); len(p) != 0 {
		t.Errorf("%d pending", len(p))
	}
}

// TestIntakeStoppedMessageLeavesNoTurn: a message recorded at intake that
// an inspector stops is taken out of the conversation, as one stopped
// before it was recorded never enters it; its author was seen.
func TestIntakeStoppedMessageLeavesNoTurn(t *testing.T) {
	store := &intakeStore{MemStore: bottest.NewMemStore()}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	stop := bot.WithPlugin(bot.Plugin{Name: "stop", Inspector: bot.InspectorFunc(
		func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
			return bot.Verdict{Stop: strings.Contains(m.Text, "spam")}, nil
		})})
	e := engineOver(t, bot.Config{Workers: 2}, store, plat, echoLLM(), stop)
	ctx := context.Background()
	for _, m := range []bot.Message{dm("b", "1", "buy spam now"), dm("b", "2", "a question")} {
		if err := e.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, e)
	}
	if got, want := store.counts(), [4]int32{0, 2, 0, 1}; got != want {
		t.Errorf("store calls %v, want %v", got, want)
	}
	if got, want := windowOf(t, store, bot.ConversationKey("test", "b", "")), []string{"a question", "echo: a question"}; !slices.Equal(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
	if p, err := store.Profile(ctx, "test:ub"); err != nil || p.Messages != 2 {
		t.Errorf("profile %+v, %v; want both messages seen", p, err)
	}
	if p, _ := store.Pending(ctx); len(p) != 0 {
		t.Errorf("%d pending", len(p))
	}
}

// TestIntakeReplayedAfterACrash: a message accepted and recorded at intake
// whose process died before handling it is replayed at the next start:
// answered once, its turn stored once.
func TestIntakeReplayedAfterACrash(t *testing.T) {
	store := &intakeStore{MemStore: bottest.NewMemStore()}
	ctx := context.Background()
	m := dm("c", "1", "still there?")
	m.Time = time.Now()
	// What handleRecorded wrote before the crash.
	if fresh, err := store.AcceptIncoming(ctx, &m, "en", m.ConversationKey(), bot.Turn{Role: bot.RoleUser, User: m.UserKey(),
		Name: m.Author.Name, MsgID: m.ID, Text: m.Text, Time: m.Time, Tokens: 3}); err != nil || !fresh {
		t.Fatal(fresh, err)
	}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	e := engineOver(t, bot.Config{Workers: 2}, store, plat, echoLLM())
	waitIdle(t, e)
	if got := plat.Replies("c"); !slices.Equal(got, []string{"echo: still there?"}) {
		t.Errorf("replies %q", got)
	}
	if got, want := windowOf(t, store, m.ConversationKey()), []string{"still there?", "echo: still there?"}; !slices.Equal(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
	if err := e.Handle(ctx, m); err != nil { // delivered again by the platform
		t.Fatal(err)
	}
	waitIdle(t, e)
	if got := plat.Replies("c"); len(got) != 1 {
		t.Errorf("replies after a redelivery %q", got)
	}
}

// TestIntakeReplayedThenStopped: a message recorded at intake whose
// process died before the inspectors judged it is stopped on replay: the
// turn stored at intake is taken back, and it is no longer pending.
func TestIntakeReplayedThenStopped(t *testing.T) {
	store := &intakeStore{MemStore: bottest.NewMemStore()}
	ctx := context.Background()
	m := dm("d", "1", "buy spam now")
	m.Time = time.Now()
	if fresh, err := store.AcceptIncoming(ctx, &m, "en", m.ConversationKey(), bot.Turn{Role: bot.RoleUser, User: m.UserKey(),
		Name: m.Author.Name, MsgID: m.ID, Text: m.Text, Time: m.Time, Tokens: 3}); err != nil || !fresh {
		t.Fatal(fresh, err)
	}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	stop := bot.WithPlugin(bot.Plugin{Name: "stop", Inspector: bot.InspectorFunc(
		func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
			return bot.Verdict{Stop: strings.Contains(m.Text, "spam")}, nil
		})})
	e := engineOver(t, bot.Config{Workers: 2}, store, plat, echoLLM(), stop)
	waitIdle(t, e)
	if got := plat.Replies("d"); len(got) != 0 {
		t.Errorf("replies %q to a stopped message", got)
	}
	if got := windowOf(t, store, m.ConversationKey()); len(got) != 0 {
		t.Errorf("history %q, want the intake's turn taken back", got)
	}
	if p, _ := store.Pending(ctx); len(p) != 0 {
		t.Errorf("%d pending", len(p))
	}
}
