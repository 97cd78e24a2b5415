package bench

import (
	"context"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

func TestRunPaths(t *testing.T) {
	for _, path := range []Path{PathInProcess, PathTelegram, PathDiscord} {
		t.Run(string(path), func(t *testing.T) {
			cfg := Config{Path: path, Users: 8, Conversations: 8, Messages: 40, Duration: 30 * time.Second, TTFT: time.Millisecond, TPS: 2000}
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
	cfg := Config{Users: 2, Messages: 4, IdleConversations: 300, DataDir: dir, NoAnalytics: true, NoModeration: true, Duration: 30 * time.Second}
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
