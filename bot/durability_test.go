package bot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

// engineOver builds and starts an engine over store and plat, closed when
// the test ends.
func engineOver(t *testing.T, store bot.Store, plat *bottest.Platform, llm bot.LLM, opts ...bot.Option) *bot.Engine {
	t.Helper()
	e, err := bot.New(bot.Config{Workers: 2}, store, llm, append([]bot.Option{bot.WithPrompts(prompts.Default())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.AddPlatform(plat)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func waitIdle(t *testing.T, e *bot.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatal("engine never went idle:", err)
	}
}

// TestStoreFullDisk: while the store cannot write, a message is refused
// by Handle (so the adapter does not confirm it and the platform delivers
// it again), and a message accepted just before is not marked done: its
// author hears that the answer will come, and it is answered once the
// store writes again and the engine starts again.
func TestStoreFullDisk(t *testing.T) {
	store := &bottest.FailingStore{Store: bottest.NewMemStore()}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	llm := &bottest.LLM{}
	ctx := context.Background()

	// Message 1's turn comes once the disk is full.
	release := make(chan struct{})
	held := bot.WithPlugin(bot.Plugin{Name: "hold", Inspector: bot.InspectorFunc(
		func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
			<-release
			return bot.Verdict{}, nil
		})})
	first := engineOver(t, store, plat, llm, held)
	if err := first.Handle(ctx, dm("a", "1", "accepted before the disk filled")); err != nil {
		t.Fatal(err)
	}
	store.Fail.Store(true)
	err := first.Handle(ctx, dm("b", "2", "arrived on a full disk"))
	if !errors.Is(err, bottest.ErrDiskFull) {
		t.Fatalf("Handle on a full disk = %v, want the store's error (the message is not taken)", err)
	}
	close(release)
	waitIdle(t, first)
	if got := plat.Replies("a"); len(got) != 1 || !strings.Contains(got[0], "as soon as I can") {
		t.Errorf("replies to the accepted message on a full disk: %q, want the notice that it will be answered", got)
	}
	if len(llm.Requests()) != 0 {
		t.Errorf("the model was asked %d times for a message that could not be recorded", len(llm.Requests()))
	}
	first.Close()
	pending, _ := store.Pending(ctx)
	if len(pending) != 1 || pending[0].ID != "1" {
		t.Fatalf("pending after the failure: %+v, want message 1 only", pending)
	}

	// Space is freed; Chorus starts again; the platform delivers message
	// 2 again.
	store.Fail.Store(false)
	second := engineOver(t, store, plat, llm)
	if err := second.Handle(ctx, dm("b", "2", "arrived on a full disk")); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, second)
	if got := plat.Replies("a"); len(got) != 2 || got[1] != "echo: accepted before the disk filled" {
		t.Errorf("replies to message 1 after recovery: %q", got)
	}
	if got := plat.Replies("b"); !slices.Equal(got, []string{"echo: arrived on a full disk"}) {
		t.Errorf("replies to message 2 after recovery: %q", got)
	}
	if pending, _ := store.Pending(ctx); len(pending) != 0 {
		t.Errorf("%d messages still pending after recovery", len(pending))
	}
}
