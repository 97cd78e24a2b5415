package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

// engineOver builds and starts an engine over store and plat, closed when
// the test ends.
func engineOver(t *testing.T, cfg bot.Config, store bot.Store, plat *bottest.Platform, llm bot.LLM, opts ...bot.Option) *bot.Engine {
	t.Helper()
	e, err := bot.New(cfg, store, llm, append([]bot.Option{bot.WithPrompts(prompts.Default())}, opts...)...)
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

// held returns an engine option whose inspector holds every message until
// the channel is closed.
func held() (bot.Option, chan struct{}) {
	release := make(chan struct{})
	return bot.WithPlugin(bot.Plugin{Name: "hold", Inspector: bot.InspectorFunc(
		func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
			<-release
			return bot.Verdict{}, nil
		})}), release
}

// waitReplies waits until chat has n replies and returns them.
func waitReplies(t *testing.T, plat *bottest.Platform, chat string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(plat.Replies(chat)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("chat %s has replies %q, want %d", chat, plat.Replies(chat), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return plat.Replies(chat)
}

// TestStoreFullDisk: while the store cannot write, a message is refused
// by Handle (so the adapter does not confirm it and the platform delivers
// it again), and a message accepted just before is not marked done: its
// author hears once that the answer will come, and it is answered once the
// store writes again, without a restart, or after one if the engine
// stopped meanwhile.
func TestStoreFullDisk(t *testing.T) {
	store := &bottest.FailingStore{Store: bottest.NewMemStore()}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	llm := &bottest.LLM{}
	ctx := context.Background()
	notice := "Sorry, I can't answer right now. I'll answer this message as soon as I can."

	// Message 1's turn comes once the disk is full.
	hold, release := held()
	e := engineOver(t, bot.Config{Workers: 2}, store, plat, llm, hold)
	if err := e.Handle(ctx, dm("a", "1", "accepted before the disk filled")); err != nil {
		t.Fatal(err)
	}
	store.Fail.Store(true)
	err := e.Handle(ctx, dm("b", "2", "arrived on a full disk"))
	if !errors.Is(err, bottest.ErrDiskFull) {
		t.Fatalf("Handle on a full disk = %v, want the store's error (the message is not taken)", err)
	}
	close(release)
	waitReplies(t, plat, "a", 1)
	time.Sleep(1500 * time.Millisecond) // a few tries on the full disk
	if got := plat.Replies("a"); !slices.Equal(got, []string{notice}) {
		t.Errorf("replies to the accepted message on a full disk: %q, want the notice once", got)
	}
	if len(llm.Requests()) != 0 {
		t.Errorf("the model was asked %d times for a message that could not be recorded", len(llm.Requests()))
	}
	// Space is freed: message 1 is answered; the platform delivers
	// message 2 again and it is taken.
	store.Fail.Store(false)
	if err := e.Handle(ctx, dm("b", "2", "arrived on a full disk")); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, e)
	if got := plat.Replies("a"); !slices.Equal(got, []string{notice, "echo: accepted before the disk filled"}) {
		t.Errorf("replies to message 1 after recovery: %q", got)
	}
	if got := plat.Replies("b"); !slices.Equal(got, []string{"echo: arrived on a full disk"}) {
		t.Errorf("replies to message 2 after recovery: %q", got)
	}

	// The engine stops while the disk is full: the message stays pending
	// and the next start answers it.
	hold, release = held()
	stopped := engineOver(t, bot.Config{Workers: 2}, store, plat, llm, hold)
	if err := stopped.Handle(ctx, dm("c", "3", "accepted before a stop")); err != nil {
		t.Fatal(err)
	}
	store.Fail.Store(true)
	close(release)
	waitReplies(t, plat, "c", 1)
	stopped.Close()
	if pending, _ := store.Pending(ctx); len(pending) != 1 || pending[0].ID != "3" {
		t.Fatalf("pending after a stop on a full disk: %+v, want message 3", pending)
	}
	store.Fail.Store(false)
	waitIdle(t, engineOver(t, bot.Config{Workers: 2}, store, plat, llm))
	if got := plat.Replies("c"); !slices.Equal(got, []string{notice, "echo: accepted before a stop"}) {
		t.Errorf("replies to message 3 after the restart: %q", got)
	}
	if pending, _ := store.Pending(ctx); len(pending) != 0 {
		t.Errorf("%d messages still pending after recovery", len(pending))
	}
}

// marksKV is a KV that keeps pending-send markers apart (bot.SendMarks),
// as the bbolt store does in a file of its own.
type marksKV struct {
	*bottest.MemKV
	mu    sync.Mutex
	marks map[string][]string
}

func newMarksKV(kv *bottest.MemKV) *marksKV { return &marksKV{MemKV: kv, marks: map[string][]string{}} }

func (k *marksKV) MarkSent(_ context.Context, key string, ids []string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.marks[key] = slices.Clone(ids)
	return nil
}

func (k *marksKV) SentIDs(_ context.Context, key string) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.marks[key], nil
}

func (k *marksKV) ClearSent(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.marks, key)
	return nil
}

func (k *marksKV) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.marks)
}

// bucketLen counts the markers kept in a KV's bucket "sending".
func bucketLen(kv bot.KV) int {
	n := 0
	kv.Scan(context.Background(), "sending", "", "", func(string, []byte) error { n++; return nil })
	return n
}

// TestReplayEditsTheReplySentBeforeACrash: the process dies after the
// reply reached the user but before it was stored (here the store stops
// writing once the reply is sent, so the message stays pending, as a kill
// leaves it). Replayed at the next start, the message is answered by
// editing the message already sent, not by sending a second one: with the
// markers in a KV's bucket, in a SendMarks, and in the bucket written by a
// version before SendMarks and read by one after.
func TestReplayEditsTheReplySentBeforeACrash(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second func(*bottest.MemKV) bot.KV
	}{
		{"bucket", func(kv *bottest.MemKV) bot.KV { return kv }, func(kv *bottest.MemKV) bot.KV { return kv }},
		{"SendMarks", func(kv *bottest.MemKV) bot.KV { return newMarksKV(kv) }, nil},
		{"bucket then SendMarks", func(kv *bottest.MemKV) bot.KV { return kv }, func(kv *bottest.MemKV) bot.KV { return newMarksKV(kv) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := bottest.NewMemKV()
			first := tc.first(kv)
			second := first
			if tc.second != nil {
				second = tc.second(kv)
			}
			testReplayEdits(t, first, second)
		})
	}
}

func testReplayEdits(t *testing.T, kv1, kv2 bot.KV) {
	store := &bottest.FailingStore{Store: bottest.NewMemStore()}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000, Stream: true, EditEvery: time.Millisecond})
	plat.Fail = func(op string) error {
		if op == "send" {
			store.Fail.Store(true) // "the crash": nothing after the send is stored
		}
		return nil
	}
	llm := &bottest.LLM{Reply: func(req bot.Request) (string, error) {
		return "First sentence of the answer. Second sentence of the answer.", nil
	}}
	markers := func(kv bot.KV) int {
		if m, ok := kv.(*marksKV); ok {
			return m.len()
		}
		return bucketLen(kv)
	}
	ctx := context.Background()
	first := engineOver(t, bot.Config{Workers: 2}, store, plat, llm, bot.WithKV(kv1))
	if err := first.Handle(ctx, dm("a", "1", "question")); err != nil {
		t.Fatal(err)
	}
	// The reply is sent and its marker recorded; storing the reply
	// fails (and is tried again) until the process dies.
	deadline := time.Now().Add(20 * time.Second)
	for markers(kv1) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no pending-send marker recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.Close()
	if pending, _ := store.Pending(ctx); len(pending) != 1 {
		t.Fatalf("%d pending after the crash, want the message", len(pending))
	}
	if n := len(plat.Calls("send")); n != 1 {
		t.Fatalf("%d sends before the crash, want 1", n)
	}
	if _, ok := kv1.(*marksKV); ok && bucketLen(kv1) != 0 {
		t.Errorf("a SendMarks KV had the marker written to its bucket too")
	}

	store.Fail.Store(false)
	plat.Fail = nil
	llm.Reply = func(req bot.Request) (string, error) { return "The answer, written again after the restart.", nil }
	second := engineOver(t, bot.Config{Workers: 2}, store, plat, llm, bot.WithKV(kv2))
	waitIdle(t, second)
	if n := len(plat.Calls("send")); n != 1 {
		t.Errorf("%d messages sent in all, want 1: the replay must edit the reply already sent", n)
	}
	if got := plat.Replies("a"); !slices.Equal(got, []string{"The answer, written again after the restart."}) {
		t.Errorf("the user sees %q", got)
	}
	if pending, _ := store.Pending(ctx); len(pending) != 0 {
		t.Errorf("%d pending after the replay", len(pending))
	}
	if n := markers(kv2) + bucketLen(kv2); n != 0 {
		t.Errorf("%d pending-send markers left after the reply was stored", n)
	}
}

// TestReplayResumesADeletedReply: a reply sent before the crash and
// deleted since is sent anew.
func TestReplayResumesADeletedReply(t *testing.T) {
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000, Stream: true, EditEvery: time.Millisecond})
	w := bot.NewStreamWriter(plat, bot.Out{Chat: bot.Chat{ID: "a", Kind: bot.ChatDM}, ReplyTo: "1"})
	w.Resume([]string{"gone"})
	var recorded []string
	w.OnSent = func(ids []string) { recorded = ids }
	w.Write(context.Background(), "Hello again.")
	w.End(context.Background())
	if err := w.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := plat.Replies("a"); !slices.Equal(got, []string{"Hello again."}) {
		t.Errorf("replies %q", got)
	}
	if len(recorded) != 1 || recorded[0] == "gone" {
		t.Errorf("recorded ids %v, want the new message's", recorded)
	}
}

// endlessLLM streams piece for ever and counts the bytes it handed out.
type endlessLLM struct {
	piece string
	read  atomic.Int64
}

func (l *endlessLLM) Complete(context.Context, bot.Request) (bot.Response, error) {
	return bot.Response{Text: "a summary"}, nil
}

func (l *endlessLLM) Stream(ctx context.Context, req bot.Request) (bot.Stream, error) {
	return &endlessStream{l: l, ctx: ctx}, nil
}

type endlessStream struct {
	l   *endlessLLM
	ctx context.Context
}

func (s *endlessStream) Recv() (string, error) {
	if err := s.ctx.Err(); err != nil {
		return "", err
	}
	s.l.read.Add(int64(len(s.l.piece)))
	return s.l.piece, nil
}
func (s *endlessStream) Usage() bot.Usage { return bot.Usage{} }
func (s *endlessStream) Close() error     { return nil }

// TestEndlessStreamIsCut: a model that never stops is read up to
// engine.reply_max_bytes, and the reply ends with the note (or, when
// nothing could be shown, the apology), even where the platform would
// take a reply of any length.
func TestEndlessStreamIsCut(t *testing.T) {
	for _, tc := range []struct {
		name, piece, want string
	}{
		{"sentences", "On and on it goes. ", "(reply shortened: it was getting too long)"},
		{"nothing to show", " ", "Sorry, I can't answer right now. Please try again in a little while."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			llm := &endlessLLM{piece: tc.piece}
			plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 1 << 30})
			e := engineOver(t, bot.Config{Workers: 1, ReplyMaxBytes: 4096, ReplyMaxMessages: 1000}, bottest.NewMemStore(), plat, llm)
			if err := e.Handle(context.Background(), dm("a", "1", "tell me everything")); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, e)
			got := plat.Replies("a")
			if len(got) != 1 || !strings.HasSuffix(got[0], tc.want) {
				t.Fatalf("replies %q, want one ending %q", got, tc.want)
			}
			if n := llm.read.Load(); n > 4096+int64(len(tc.piece)) {
				t.Errorf("read %d bytes from the model, want at most reply_max_bytes (4096) and one piece", n)
			}
			if len(got[0]) > 4096+200 {
				t.Errorf("a reply of %d bytes", len(got[0]))
			}
		})
	}
}

// TestGroupMembersAnsweredInParallel: in a group, different members'
// messages are answered at once by the pool, each member's in the order
// sent; the shared history holds every question once and every answer
// after its question, and the summary is folded by one answer at a time.
func TestGroupMembersAnsweredInParallel(t *testing.T) {
	const members, per = 12, 4
	var (
		mu                   sync.Mutex
		order                = map[string][]string{}
		active, most         int
		folding, mostFolding int
	)
	track := func(cur, top *int, d int) {
		mu.Lock()
		*cur += d
		*top = max(*top, *cur)
		mu.Unlock()
	}
	llm := &bottest.LLM{Reply: func(req bot.Request) (string, error) {
		if req.Purpose == bot.PurposeSummary {
			track(&folding, &mostFolding, 1)
			time.Sleep(20 * time.Millisecond)
			track(&folding, &mostFolding, -1)
			return "They asked things.", nil
		}
		track(&active, &most, 1)
		mu.Lock()
		who, _, _ := strings.Cut(req.Query, ":")
		order[who] = append(order[who], req.Query)
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		track(&active, &most, -1)
		return "Answer to " + req.Query + ".", nil
	}}
	store := bottest.NewMemStore()
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	e := engineOver(t, bot.Config{Workers: 8, WindowTokens: 60, SummaryEvery: 2}, store, plat, llm)
	group := bot.Chat{ID: "g1", Kind: bot.ChatGroup}
	for i := range per {
		for u := range members {
			m := bot.Message{Platform: "test", Chat: group, ID: fmt.Sprintf("%d-%d", u, i), Mentioned: true,
				Author: bot.User{ID: fmt.Sprint("m", u), Name: fmt.Sprint("Member", u)}, Text: fmt.Sprintf("m%d: question %d", u, i)}
			if err := e.Handle(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitIdle(t, e)
	if most < 2 {
		t.Errorf("at most %d members answered at once, want the pool to answer several", most)
	}
	if mostFolding != 1 {
		t.Errorf("up to %d summaries folded at once in one conversation, want one at a time (and some)", mostFolding)
	}
	for u := range members {
		who := fmt.Sprint("m", u)
		var want []string
		for i := range per {
			want = append(want, fmt.Sprintf("m%d: question %d", u, i))
		}
		if !slices.Equal(order[who], want) {
			t.Errorf("member %d answered in the order %q", u, order[who])
		}
	}
	turns := store.TurnsOf(bot.ConversationKey("test", "g1", ""))
	asked := map[string]uint64{}
	for _, tr := range turns {
		if tr.Role == bot.RoleUser {
			if _, dup := asked[tr.MsgID]; dup {
				t.Errorf("question %s stored twice", tr.MsgID)
			}
			asked[tr.MsgID] = tr.Seq
		}
	}
	answers := 0
	for _, tr := range turns {
		if q, ok := strings.CutPrefix(tr.MsgID, "re:"); ok && tr.Role == bot.RoleAssistant {
			answers++
			if s, ok := asked[q]; !ok || s >= tr.Seq {
				t.Errorf("answer to %s stored at %d, its question at %d", q, tr.Seq, s)
			}
		}
	}
	if len(asked) != members*per || answers != members*per {
		t.Errorf("%d questions and %d answers stored, want %d each", len(asked), answers, members*per)
	}
	t.Logf("up to %d members answered at once", most)
}

// TestReplyStoredOnceTheDiskFrees: a reply shown while the store cannot
// write is stored once it writes again, without a restart: the message is
// not left pending to be answered a second time.
func TestReplyStoredOnceTheDiskFrees(t *testing.T) {
	mem := bottest.NewMemStore()
	store := &bottest.FailingStore{Store: mem}
	plat := bottest.NewPlatform("test", bot.Limits{MaxLen: 4000})
	var filled atomic.Bool
	plat.Fail = func(op string) error {
		if op == "send" && !filled.Swap(true) {
			store.Fail.Store(true) // the disk fills as the reply goes out
		}
		return nil
	}
	e := engineOver(t, bot.Config{Workers: 1}, store, plat, &bottest.LLM{})
	ctx := context.Background()
	if err := e.Handle(ctx, dm("a", "1", "question")); err != nil {
		t.Fatal(err)
	}
	waitReplies(t, plat, "a", 1)
	time.Sleep(700 * time.Millisecond) // a try or two on the full disk
	store.Fail.Store(false)
	waitIdle(t, e)
	if got := plat.Replies("a"); !slices.Equal(got, []string{"echo: question"}) {
		t.Errorf("replies %q, want one", got)
	}
	if pending, _ := store.Pending(ctx); len(pending) != 0 {
		t.Errorf("%d pending once the reply could be stored", len(pending))
	}
	if turns := mem.TurnsOf(bot.ConversationKey("test", "a", "")); len(turns) != 2 {
		t.Errorf("%d turns stored, want the question and the reply", len(turns))
	}
}
