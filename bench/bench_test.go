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
			if rep.TimedOut || rep.Sent != 40 || rep.Answered != 40 || rep.Outcomes[bot.OutcomeOK] != 40 || rep.Errors != 0 {
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
