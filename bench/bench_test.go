package bench

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/llm"
)

func TestRunPaths(t *testing.T) {
	for _, path := range []Path{PathInProcess, PathTelegram, PathDiscord} {
		t.Run(string(path), func(t *testing.T) {
			cfg := Config{Path: path, Users: 8, Conversations: 8, Messages: 40, Duration: 3 * time.Minute, TTFT: time.Millisecond, TPS: 2000}
			if path == PathDiscord {
				cfg.Conversations = 3 // group channels with mentions
			}
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.TimedOut || rep.Sent != 40 || rep.Answered != 40 || rep.Outcomes[string(bot.OutcomeOK)] != 40 || rep.Errors != 0 {
				t.Fatalf("report: %+v", rep)
			}
			if rep.Reply.Count != 40 || rep.FirstToken.Count != 40 || rep.Reply.P50 <= 0 || rep.Reply.Max < rep.Reply.P99 || rep.Overhead.P50 > rep.Reply.P50 {
				t.Errorf("latencies: first %+v reply %+v overhead %+v", rep.FirstToken, rep.Reply, rep.Overhead)
			}
			if rep.DBBytes == 0 || rep.PeakRSS == 0 || rep.CPUSeconds <= 0 {
				t.Errorf("resources: %+v", rep)
			}
		})
	}
}

func TestIdleConversations(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Users: 2, Messages: 4, IdleConversations: 300, DataDir: dir, NoAnalytics: true, NoModeration: true, Duration: 3 * time.Minute}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.IdlePreloaded || rep.IdleRSS == 0 || rep.Answered != 4 {
		t.Fatalf("first run: %+v", rep)
	}
	size := rep.DBBytes
	rep, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.IdlePreloaded || rep.DBBytes < size {
		t.Fatalf("second run preloaded again or lost data: %+v", rep)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Path: "pigeon"}, {ErrorRate: 2}, {Rate: -1}, {Messages: -1}, {Messages: 20_000_000}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := Run(context.Background(), Config{Path: "pigeon"}); err == nil {
		t.Error("Run accepted a bad path")
	}
}

func TestMessageText(t *testing.T) {
	c := Config{MessageBytes: 200}.withDefaults()
	s := c.text(12345)
	if len(s) < 190 || len(s) > 200 {
		t.Errorf("text of %d bytes, want about 200", len(s))
	}
	if i, ok := msgIndex("@benchbot " + s); !ok || i != 12345 {
		t.Errorf("msgIndex = %d, %v", i, ok)
	}
}

// TestOpenAIServer: the fake server speaks the chat-completions protocol
// to the real client, streamed and not, with the FakeLLM's reply, usage
// and failures, and hands the FakeLLM the last user message as the query.
func TestOpenAIServer(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	fake := &FakeLLM{Tokens: 5, OnDone: func(q string, _ time.Duration) { mu.Lock(); queries = append(queries, q); mu.Unlock() }}
	srv := NewOpenAIServer(fake)
	defer srv.Close()
	lc := llm.DefaultConfig()
	lc.BaseURL, lc.MaxRetries = srv.URL, 0
	c, err := llm.New(lc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := bot.Request{Messages: []bot.ChatMessage{{Role: bot.RoleSystem, Content: "be brief"}, {Role: bot.RoleUser, Content: "q1 old"},
		{Role: bot.RoleAssistant, Content: "ok"}, {Role: bot.RoleUser, Content: "q7 mail me at ann@example.com \"now\""}}}
	st, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for {
		d, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got.WriteString(d)
	}
	st.Close()
	if want := strings.Join(replyWords[:5], " ") + " "; got.String() != want {
		t.Errorf("streamed %q, want %q", got.String(), want)
	}
	if u := st.Usage(); u.PromptTokens != 200 || u.CompletionTokens != 5 {
		t.Errorf("usage %+v", u)
	}
	mu.Lock()
	// The client masked the address before it left; the query is the
	// last user message as sent.
	if len(queries) != 1 || !strings.HasPrefix(queries[0], "q7 mail me at [EMAIL_1]") {
		t.Errorf("queries %q", queries)
	}
	mu.Unlock()
	if i, ok := msgIndex(queries[0]); !ok || i != 7 {
		t.Errorf("msgIndex(%q) = %d, %v", queries[0], i, ok)
	}
	resp, err := c.Complete(ctx, req)
	if err != nil || resp.Text == "" || resp.Usage.CompletionTokens != 8 {
		t.Errorf("complete: %+v, %v", resp, err)
	}
	fake.ErrorRate = 1
	if _, err := c.Stream(ctx, req); !errors.Is(err, bot.ErrLLMUnavailable) {
		t.Errorf("failing stream: %v", err)
	}
	if _, err := c.Complete(ctx, req); !errors.Is(err, bot.ErrLLMUnavailable) {
		t.Errorf("failing complete: %v", err)
	}
}
