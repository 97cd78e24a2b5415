package metrics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// declared is what a running Chorus declares (Engine.Labels): its
// platforms, and the plug-ins' categories, actions, sentiment labels and
// alert kinds.
var declared = bot.Labels{
	Platforms:  []string{"console", "discord", "telegram"},
	Commands:   []string{"help", "start", "stats"},
	Categories: []string{"spam", "offensive", "hate", "flood"},
	Actions:    []string{"log", "warn", "delete", "timeout", "ban"},
	Sentiments: []string{"negative", "neutral", "positive"},
	Alerts:     []string{"negative_surge"},
}

func newTest(t *testing.T, opts ...Option) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	m.Declare(declared)
	return m, reg
}

// value returns the value of the series name{labels} (counter, gauge, or a
// histogram's sample count), failing when it does not exist.
func value(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := lookup(t, reg, name, labels)
	if !ok {
		t.Fatalf("series %s%v not found", name, labels)
	}
	return v
}

func lookup(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			if len(have) != len(labels) {
				continue
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func TestMessagesReceived(t *testing.T) {
	m, reg := newTest(t, WithPlatforms("matrix"))
	for _, e := range []bot.Event{
		{Platform: "telegram", ChatKind: bot.ChatDM, User: "telegram:1"},
		{Platform: "telegram", ChatKind: bot.ChatDM, User: "telegram:2"},
		{Platform: "telegram", ChatKind: bot.ChatGroup, User: "telegram:1"},
		{Platform: "discord", ChatKind: bot.ChatChannel, User: "discord:9"},
		{Platform: "matrix", ChatKind: bot.ChatDM, User: "matrix:9"},
		{Platform: "irc-of-user-4242", ChatKind: bot.ChatDM, User: "x:1"},
		{Platform: "telegram", ChatKind: "weird", User: "telegram:3"},
	} {
		e.Kind = bot.EventMessageReceived
		m.Observe(e)
	}
	for _, tc := range []struct {
		platform, kind string
		want           float64
	}{
		{"telegram", "dm", 2}, {"telegram", "group", 1}, {"telegram", "channel", 0},
		{"discord", "channel", 1}, {"matrix", "dm", 1}, {"other", "dm", 1}, {"telegram", "other", 1},
		{"console", "dm", 0},
	} {
		got := value(t, reg, "chorus_messages_received_total", map[string]string{"platform": tc.platform, "chat_kind": tc.kind})
		if got != tc.want {
			t.Errorf("messages_received{%s,%s} = %v, want %v", tc.platform, tc.kind, got, tc.want)
		}
	}
	if _, ok := lookup(t, reg, "chorus_messages_received_total", map[string]string{"platform": "irc-of-user-4242", "chat_kind": "dm"}); ok {
		t.Error("an unknown platform name became a label value")
	}
}

func TestRepliesAndLatency(t *testing.T) {
	// Telegram alone, so that the histogram compared is its only series.
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Declare(bot.Labels{Platforms: []string{"telegram"}})
	m.Observe(bot.Event{Kind: bot.EventFirstToken, Platform: "telegram", Duration: 62500 * time.Microsecond})
	m.Observe(bot.Event{Kind: bot.EventFirstToken, Platform: "telegram", Duration: 500 * time.Millisecond})
	m.Observe(bot.Event{Kind: bot.EventReplySent, Platform: "telegram", Outcome: bot.OutcomeOK, Duration: 1500 * time.Millisecond})
	m.Observe(bot.Event{Kind: bot.EventReplySent, Platform: "telegram", Outcome: bot.OutcomeApology, Duration: 45 * time.Second})
	m.Observe(bot.Event{Kind: bot.EventReplySent, Platform: "telegram", Outcome: "exploded", Duration: 90 * time.Second})

	if got := value(t, reg, "chorus_replies_sent_total", map[string]string{"platform": "telegram", "outcome": "ok"}); got != 1 {
		t.Errorf("replies ok = %v, want 1", got)
	}
	if got := value(t, reg, "chorus_replies_sent_total", map[string]string{"platform": "telegram", "outcome": "apology"}); got != 1 {
		t.Errorf("replies apology = %v, want 1", got)
	}
	if got := value(t, reg, "chorus_replies_sent_total", map[string]string{"platform": "telegram", "outcome": "other"}); got != 1 {
		t.Errorf("replies other = %v, want 1", got)
	}
	want := `
# HELP chorus_reply_first_token_seconds Time from receipt of a message to the first visible token of its reply.
# TYPE chorus_reply_first_token_seconds histogram
chorus_reply_first_token_seconds_bucket{platform="telegram",le="0.005"} 0
chorus_reply_first_token_seconds_bucket{platform="telegram",le="0.01"} 0
chorus_reply_first_token_seconds_bucket{platform="telegram",le="0.025"} 0
chorus_reply_first_token_seconds_bucket{platform="telegram",le="0.05"} 0
chorus_reply_first_token_seconds_bucket{platform="telegram",le="0.1"} 1
chorus_reply_first_token_seconds_bucket{platform="telegram",le="0.25"} 1
chorus_reply_first_token_seconds_bucket{platform="telegram",le="0.5"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="1"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="2"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="3"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="5"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="8"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="13"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="20"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="30"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="45"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="60"} 2
chorus_reply_first_token_seconds_bucket{platform="telegram",le="+Inf"} 2
chorus_reply_first_token_seconds_sum{platform="telegram"} 0.5625
chorus_reply_first_token_seconds_count{platform="telegram"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "chorus_reply_first_token_seconds"); err != nil {
		t.Error(err)
	}
	if got := value(t, reg, "chorus_reply_duration_seconds", map[string]string{"platform": "telegram"}); got != 3 {
		t.Errorf("reply latency count = %v, want 3", got)
	}
}

func TestCommands(t *testing.T) {
	m, reg := newTest(t, WithCommands("Roadmap"))
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "help", Outcome: bot.OutcomeOK})
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "roadmap", Outcome: bot.OutcomeOK})
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "stats", Outcome: bot.OutcomeRefused})
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "unknown", Outcome: bot.OutcomeNotFound})
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "giveaway", Outcome: bot.OutcomeOK})
	m.AddCommands("giveaway")
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "giveaway", Outcome: bot.OutcomeError})

	for _, tc := range []struct {
		cmd, outcome string
		want         float64
	}{
		{"help", "ok", 1}, {"roadmap", "ok", 1}, {"stats", "refused", 1}, {"other", "unknown", 1},
		{"other", "ok", 1}, {"giveaway", "error", 1},
	} {
		if got := value(t, reg, "chorus_commands_total", map[string]string{"command": tc.cmd, "outcome": tc.outcome}); got != tc.want {
			t.Errorf("commands{%s,%s} = %v, want %v", tc.cmd, tc.outcome, got, tc.want)
		}
	}
}

func TestDeclareEngineLabels(t *testing.T) {
	m, reg := newTest(t)
	eng, err := bot.New(bot.Config{}, bottest.NewMemStore(), &bottest.LLM{}, bot.WithPrompts(prompts.Default()))
	if err != nil {
		t.Fatal(err)
	}
	run := func(context.Context, *bot.Env, *bot.Command) error { return nil }
	if err := eng.Register(bot.CommandSpec{Name: "giveaway", Aliases: []string{"raffle"}, Run: run}); err != nil {
		t.Fatal(err)
	}
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "giveaway", Outcome: bot.OutcomeOK})
	m.Declare(eng.Labels())
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "giveaway", Outcome: bot.OutcomeOK})
	m.Observe(bot.Event{Kind: bot.EventCommand, Command: "raffle", Outcome: bot.OutcomeOK})
	if got := value(t, reg, "chorus_commands_total", map[string]string{"command": "other", "outcome": "ok"}); got != 1 {
		t.Errorf("before Declare: other = %v, want 1", got)
	}
	for _, c := range []string{"giveaway", "raffle"} {
		if got := value(t, reg, "chorus_commands_total", map[string]string{"command": c, "outcome": "ok"}); got != 1 {
			t.Errorf("%s = %v, want 1", c, got)
		}
	}
}

func TestLLMCalls(t *testing.T) {
	prices := map[string]Price{"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.60}, "big": {PromptPer1M: 2.5, CompletionPer1M: 10}}
	m, reg := newTest(t, WithPrices(prices), WithModels("llama3"))
	m.Observe(bot.Event{Kind: bot.EventLLMCall, Model: "big", Purpose: bot.PurposeChat, Outcome: bot.OutcomeOK,
		Duration: 2 * time.Second, Usage: bot.Usage{PromptTokens: 1000, CompletionTokens: 500}})
	m.Observe(bot.Event{Kind: bot.EventLLMCall, Model: "big", Purpose: bot.PurposeSummary, Outcome: bot.OutcomeOK,
		Duration: time.Second, Usage: bot.Usage{PromptTokens: 3000, CompletionTokens: 0}})
	m.Observe(bot.Event{Kind: bot.EventLLMCall, Model: "llama3", Purpose: bot.PurposeChat, Outcome: bot.OutcomeTimeout,
		Duration: 60 * time.Second})
	m.Observe(bot.Event{Kind: bot.EventLLMCall, Model: "someones-finetune-123", Purpose: "weird", Outcome: bot.OutcomeOK,
		Usage: bot.Usage{PromptTokens: 7, CompletionTokens: 3}})
	m.Observe(bot.Event{Kind: bot.EventLLMCall, Model: "unknown", Purpose: bot.PurposeChat, Outcome: bot.OutcomeError})

	for _, tc := range []struct {
		model, purpose, outcome string
		want                    float64
	}{
		{"big", "chat", "ok", 1}, {"big", "summary", "ok", 1}, {"llama3", "chat", "timeout", 1},
		{"other", "other", "ok", 1}, {"unknown", "chat", "error", 1},
	} {
		if got := value(t, reg, "chorus_llm_requests_total", map[string]string{"model": tc.model, "purpose": tc.purpose, "outcome": tc.outcome}); got != tc.want {
			t.Errorf("llm_requests{%s,%s,%s} = %v, want %v", tc.model, tc.purpose, tc.outcome, got, tc.want)
		}
	}
	if got := value(t, reg, "chorus_llm_prompt_tokens_total", map[string]string{"model": "big"}); got != 4000 {
		t.Errorf("prompt tokens = %v, want 4000", got)
	}
	if got := value(t, reg, "chorus_llm_completion_tokens_total", map[string]string{"model": "big"}); got != 500 {
		t.Errorf("completion tokens = %v, want 500", got)
	}
	if got := value(t, reg, "chorus_llm_prompt_tokens_total", map[string]string{"model": "other"}); got != 7 {
		t.Errorf("other prompt tokens = %v, want 7", got)
	}
	// 1000*2.5/1e6 + 500*10/1e6 + 3000*2.5/1e6 = 0.0025 + 0.005 + 0.0075
	if got := value(t, reg, "chorus_llm_cost_usd_total", map[string]string{"model": "big"}); math.Abs(got-0.015) > 1e-12 {
		t.Errorf("cost = %v, want 0.015", got)
	}
	if _, ok := lookup(t, reg, "chorus_llm_cost_usd_total", map[string]string{"model": "other"}); ok {
		t.Error("a model without a price got a cost")
	}
	if got := value(t, reg, "chorus_llm_request_duration_seconds", map[string]string{"model": "llama3", "purpose": "chat"}); got != 1 {
		t.Errorf("llm duration count = %v, want 1", got)
	}
}

func TestPriceCost(t *testing.T) {
	p := Price{PromptPer1M: 3, CompletionPer1M: 15}
	if got := p.Cost(bot.Usage{PromptTokens: 1_000_000, CompletionTokens: 2_000_000}); got != 33 {
		t.Errorf("Cost = %v, want 33", got)
	}
}

func TestModerationSentimentAlerts(t *testing.T) {
	m, reg := newTest(t)
	m.Observe(bot.Event{Kind: bot.EventModerated, Category: "spam", Action: "delete"})
	m.Observe(bot.Event{Kind: bot.EventModerated, Category: "spam", Action: "warn"})
	m.Observe(bot.Event{Kind: bot.EventModerated, Category: "made-up-category", Action: "nuke"})
	m.Observe(bot.Event{Kind: bot.EventScored, Label: "positive", Score: 0.8})
	m.Observe(bot.Event{Kind: bot.EventScored, Label: "Negative", Score: -0.6})
	m.Observe(bot.Event{Kind: bot.EventAlert, Category: "negative_surge"})
	m.Observe(bot.Event{Kind: bot.EventAlert, Category: "something new"})

	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"chorus_moderation_verdicts_total", map[string]string{"category": "spam"}, 2},
		{"chorus_moderation_verdicts_total", map[string]string{"category": "other"}, 1},
		{"chorus_moderation_actions_total", map[string]string{"action": "delete"}, 1},
		{"chorus_moderation_actions_total", map[string]string{"action": "warn"}, 1},
		{"chorus_moderation_actions_total", map[string]string{"action": "other"}, 1},
		{"chorus_sentiment_messages_total", map[string]string{"label": "positive"}, 1},
		{"chorus_sentiment_messages_total", map[string]string{"label": "negative"}, 1},
		{"chorus_sentiment_negative_share", nil, 0.5},
		{"chorus_alerts_total", map[string]string{"kind": "negative_surge"}, 1},
		{"chorus_alerts_total", map[string]string{"kind": "other"}, 1},
	}
	for _, c := range checks {
		if got := value(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestNegativeShareSlides(t *testing.T) {
	clk := bottest.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	m, reg := newTest(t, WithClock(clk.Now))
	share := func() float64 { return value(t, reg, "chorus_sentiment_negative_share", nil) }
	if got := share(); got != 0 {
		t.Fatalf("share with nothing scored = %v, want 0", got)
	}
	for range 3 {
		m.Observe(bot.Event{Kind: bot.EventScored, Label: "negative"})
	}
	m.Observe(bot.Event{Kind: bot.EventScored, Label: "positive"})
	if got := share(); got != 0.75 {
		t.Fatalf("share = %v, want 0.75", got)
	}
	clk.Set(clk.Now().Add(30 * time.Minute))
	for range 4 {
		m.Observe(bot.Event{Kind: bot.EventScored, Label: "neutral"})
	}
	if got := share(); got != 3.0/8 {
		t.Fatalf("share after 30m = %v, want 0.375", got)
	}
	clk.Set(clk.Now().Add(31 * time.Minute)) // the first minute is out of the hour
	if got := share(); got != 0 {
		t.Fatalf("share after 61m = %v, want 0", got)
	}
	clk.Set(clk.Now().Add(30 * time.Minute))
	if got := share(); got != 0 {
		t.Fatalf("share after 91m = %v, want 0 (all out of the hour)", got)
	}
}

func TestActiveUsersWindows(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 0, 0, 30, 0, time.UTC)
	clk := bottest.NewClock(t0)
	m, reg := newTest(t, WithClock(clk.Now))
	active := func(w string) float64 { return value(t, reg, "chorus_active_users", map[string]string{"window": w}) }
	say := func(user string) {
		m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "telegram", ChatKind: bot.ChatDM, User: user})
	}
	say("telegram:1")
	say("telegram:2")
	say("telegram:1")
	say("discord:1")
	clk.Set(t0.Add(3 * time.Minute))
	say("telegram:9")

	steps := []struct {
		at          time.Duration
		m5, d1, d30 float64
	}{
		{3 * time.Minute, 4, 4, 4},
		{7 * time.Minute, 1, 4, 4},
		{10 * time.Minute, 0, 4, 4},
		{25 * time.Hour, 0, 0, 4},
		{32 * 24 * time.Hour, 0, 0, 0},
	}
	for _, s := range steps {
		clk.Set(t0.Add(s.at))
		if got := active("5m"); got != s.m5 {
			t.Errorf("at +%v: active 5m = %v, want %v", s.at, got, s.m5)
		}
		if got := active("1d"); got != s.d1 {
			t.Errorf("at +%v: active 1d = %v, want %v", s.at, got, s.d1)
		}
		if got := active("30d"); got != s.d30 {
			t.Errorf("at +%v: active 30d = %v, want %v", s.at, got, s.d30)
		}
	}
}

func TestActiveUsersEstimateIsClose(t *testing.T) {
	clk := bottest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	m, reg := newTest(t, WithClock(clk.Now))
	const n = 20000
	// Spread over ten days, each user writing twice; all inside 30 days.
	for i := range n {
		clk.Set(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i%10) * 24 * time.Hour))
		u := fmt.Sprintf("discord:%d", i)
		m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "discord", User: u})
		m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "discord", User: u})
	}
	// Two hours after the last day's messages: the day before is out of
	// the 1d window, whose oldest bucket may overlap it by up to an hour.
	clk.Set(clk.Now().Add(2 * time.Hour))
	got := value(t, reg, "chorus_active_users", map[string]string{"window": "30d"})
	if math.Abs(got-n)/n > 0.02 {
		t.Errorf("30d estimate = %v, want %d ±2%%", got, n)
	}
	day := value(t, reg, "chorus_active_users", map[string]string{"window": "1d"})
	if math.Abs(day-n/10)/(n/10) > 0.03 {
		t.Errorf("1d estimate = %v, want %d ±3%%", day, n/10)
	}
}

func TestEngineHealthMetrics(t *testing.T) {
	var (
		size    int64 = 4096
		sizeErr error
	)
	m, reg := newTest(t, WithStoreSize(func() (int64, error) { return size, sizeErr }), WithBuildInfo("v1.2.3", "abc123"))

	m.Observe(bot.Event{Kind: bot.EventQueue, Queued: 7, InFlight: 3})
	m.Observe(bot.Event{Kind: bot.EventQueue, Queued: 5, InFlight: 2})
	m.Observe(bot.Event{Kind: bot.EventPanic, Platform: "discord"})
	m.Observe(bot.Event{Kind: bot.EventDuplicate, Platform: "telegram"})
	m.Observe(bot.Event{Kind: bot.EventDuplicate, Platform: "telegram"})
	m.Observe(bot.Event{Kind: bot.EventRateLimited, Reason: bot.LimitRate})
	m.Observe(bot.Event{Kind: bot.EventRateLimited, Reason: bot.LimitBudget})
	m.Observe(bot.Event{Kind: bot.EventRateLimited, Reason: bot.LimitBudget})
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "telegram", State: bot.AdapterConnected})
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "discord", State: bot.AdapterConnected})
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "discord", State: bot.AdapterDisconnected})
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "discord", State: bot.AdapterReconnect})
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "discord", State: bot.AdapterReconnect})

	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"chorus_engine_queue_depth", nil, 5},
		{"chorus_engine_in_flight", nil, 2},
		{"chorus_panics_recovered_total", map[string]string{"platform": "discord"}, 1},
		{"chorus_duplicates_dropped_total", map[string]string{"platform": "telegram"}, 2},
		{"chorus_rate_limited_total", map[string]string{"reason": "rate"}, 1},
		{"chorus_rate_limited_total", map[string]string{"reason": "budget"}, 2},
		{"chorus_adapter_connected", map[string]string{"platform": "telegram"}, 1},
		{"chorus_adapter_connected", map[string]string{"platform": "discord"}, 0},
		{"chorus_adapter_reconnects_total", map[string]string{"platform": "discord"}, 2},
		{"chorus_store_size_bytes", nil, 4096},
	}
	for _, c := range checks {
		if got := value(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	size = 8192
	if got := value(t, reg, "chorus_store_size_bytes", nil); got != 8192 {
		t.Errorf("store size after growth = %v, want 8192", got)
	}
	sizeErr = fmt.Errorf("stat failed")
	if _, ok := lookup(t, reg, "chorus_store_size_bytes", nil); ok {
		t.Error("store size reported although the size func failed")
	}
	bi := map[string]string{"version": "v1.2.3", "revision": "abc123", "goversion": runtime.Version()}
	if got := value(t, reg, "chorus_build_info", bi); got != 1 {
		t.Errorf("build_info = %v, want 1", got)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg); err == nil {
		t.Error("second New on the same registry succeeded")
	}
}

func TestNewRegistryHasRuntimeCollectors(t *testing.T) {
	reg := NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"go_goroutines", "process_start_time_seconds", "chorus_build_info"} {
		if !names[want] && !(want == "process_start_time_seconds" && runtime.GOOS != "linux") {
			t.Errorf("registry lacks %s", want)
		}
	}
}

// TestNoIDsInLabels feeds events full of ids and text and checks that none
// of them reaches a label value.
func TestNoIDsInLabels(t *testing.T) {
	m, reg := newTest(t)
	secret := "user-4242-secret"
	for k := bot.EventMessageReceived; k <= bot.EventAdapter; k++ {
		m.Observe(bot.Event{Kind: k, Platform: secret, ChatKind: bot.ChatKind(secret), Chat: secret, User: secret,
			Text: secret, Command: secret, Outcome: bot.Outcome(secret), State: bot.AdapterState(secret), Reason: bot.LimitReason(secret), Model: secret, Purpose: bot.Purpose(secret),
			Category: secret, Action: secret, Label: secret, Lang: secret, Duration: time.Second,
			Usage: bot.Usage{PromptTokens: 1, CompletionTokens: 1}})
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		for _, mm := range mf.GetMetric() {
			series++
			for _, lp := range mm.GetLabel() {
				if strings.Contains(lp.GetValue(), "4242") {
					t.Errorf("%s has label %s=%q", mf.GetName(), lp.GetName(), lp.GetValue())
				}
			}
		}
	}
	if series < 20 {
		t.Errorf("only %d series gathered; the events were not counted", series)
	}
}

// TestObserveConcurrent runs events and scrapes together, for -race.
func TestObserveConcurrent(t *testing.T) {
	m, reg := newTest(t)
	var wg sync.WaitGroup
	const workers, each = 8, 200
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "telegram", ChatKind: bot.ChatGroup, User: fmt.Sprintf("telegram:%d", w*each+i)})
				m.Observe(bot.Event{Kind: bot.EventScored, Label: "negative"})
				if i%50 == 0 {
					m.AddCommands(fmt.Sprintf("c%d", i))
					if _, err := reg.Gather(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if got := value(t, reg, "chorus_messages_received_total", map[string]string{"platform": "telegram", "chat_kind": "group"}); got != workers*each {
		t.Errorf("received = %v, want %d", got, workers*each)
	}
}

func BenchmarkObserveMessage(b *testing.B) {
	m, err := New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	users := make([]string, 1024)
	for i := range users {
		users[i] = fmt.Sprintf("telegram:%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "telegram", ChatKind: bot.ChatGroup, User: users[i%len(users)]})
	}
}

func BenchmarkObserveLLMCall(b *testing.B) {
	m, err := New(prometheus.NewRegistry(), WithPrices(map[string]Price{"gpt": {PromptPer1M: 1, CompletionPer1M: 2}}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Observe(bot.Event{Kind: bot.EventLLMCall, Model: "gpt", Purpose: bot.PurposeChat, Outcome: bot.OutcomeOK,
			Duration: time.Second, Usage: bot.Usage{PromptTokens: 100, CompletionTokens: 50}})
	}
}

func BenchmarkScrapeActiveUsers(b *testing.B) {
	clk := bottest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	m, err := New(reg, WithClock(clk.Now))
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100000 {
		clk.Set(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i%30) * 23 * time.Hour))
		m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "discord", User: fmt.Sprintf("discord:%d", i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOutputBlocked: chorus_output_blocked_total has a zero series for
// every check from the start, counts blocked sentences by check, and puts
// an unknown check name under "other".
func TestOutputBlocked(t *testing.T) {
	m, reg := newTest(t)
	for _, c := range bot.Checks {
		if got := value(t, reg, "chorus_output_blocked_total", map[string]string{"check": string(c)}); got != 0 {
			t.Errorf("check %s starts at %v", c, got)
		}
	}
	m.Observe(bot.Event{Kind: bot.EventOutputBlocked, Label: string(bot.CheckUngrounded), Action: "reask"})
	m.Observe(bot.Event{Kind: bot.EventOutputBlocked, Label: string(bot.CheckUngrounded), Action: "fallback"})
	m.Observe(bot.Event{Kind: bot.EventOutputBlocked, Label: "made-up"})
	if got := value(t, reg, "chorus_output_blocked_total", map[string]string{"check": "ungrounded"}); got != 2 {
		t.Errorf("ungrounded = %v, want 2", got)
	}
	if got := value(t, reg, "chorus_output_blocked_total", map[string]string{"check": "other"}); got != 1 {
		t.Errorf("other = %v, want 1", got)
	}
}

// TestDeclareCreatesSeriesAtZero: the label sets come from what is
// registered, and every series whose labels are known exists at zero
// before any event, so that increase() and "== 0" alerts work from the
// first scrape; nothing is listed that nothing emits.
func TestDeclareCreatesSeriesAtZero(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Declare(bot.Labels{Platforms: []string{"telegram"}, Commands: []string{"appeal", "gaps"}, Categories: []string{"flood"},
		Actions: []string{"ban"}, Sentiments: []string{"negative"}, Alerts: []string{"negative_surge"}})
	for _, s := range []struct {
		name   string
		labels map[string]string
	}{
		{"chorus_messages_received_total", map[string]string{"platform": "telegram", "chat_kind": "group"}},
		{"chorus_replies_sent_total", map[string]string{"platform": "telegram", "outcome": "blocked"}},
		{"chorus_commands_total", map[string]string{"command": "appeal", "outcome": "refused"}},
		{"chorus_commands_total", map[string]string{"command": "gaps", "outcome": "ok"}},
		{"chorus_commands_total", map[string]string{"command": "other", "outcome": "unknown"}},
		{"chorus_llm_requests_total", map[string]string{"model": "offline", "purpose": "translate", "outcome": "timeout"}},
		{"chorus_moderation_verdicts_total", map[string]string{"category": "flood"}},
		{"chorus_moderation_actions_total", map[string]string{"action": "ban"}},
		{"chorus_sentiment_messages_total", map[string]string{"label": "negative"}},
		{"chorus_alerts_total", map[string]string{"kind": "negative_surge"}},
		{"chorus_rate_limited_total", map[string]string{"reason": "budget"}},
		{"chorus_panics_recovered_total", map[string]string{"platform": "telegram"}},
		{"chorus_webhook_unauthorized_total", map[string]string{"platform": "telegram"}},
		{"chorus_llm_prompt_tokens_total", map[string]string{"model": "offline"}},
		{"chorus_llm_completion_tokens_total", map[string]string{"model": "offline"}},
		{"chorus_reply_duration_seconds", map[string]string{"platform": "telegram"}},
		{"chorus_reply_first_token_seconds", map[string]string{"platform": "telegram"}},
	} {
		if got := value(t, reg, s.name, s.labels); got != 0 {
			t.Errorf("%s%v = %v, want 0", s.name, s.labels, got)
		}
	}
	for _, s := range []struct {
		name   string
		labels map[string]string
	}{
		{"chorus_alerts_total", map[string]string{"kind": "volume_surge"}},
		{"chorus_messages_received_total", map[string]string{"platform": "discord", "chat_kind": "dm"}},
		// Declare does not say which platforms report a connection
		// (Connecting does): a console at 0 would read "disconnected".
		{"chorus_adapter_connected", map[string]string{"platform": "telegram"}},
	} {
		if _, ok := lookup(t, reg, s.name, s.labels); ok {
			t.Errorf("%s%v exists though nothing declared it", s.name, s.labels)
		}
	}
}

func TestConnectingExportsZeroUntilConnected(t *testing.T) {
	m, reg := newTest(t)
	// discord reported before being declared: its state is kept.
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "discord", State: bot.AdapterConnected})
	m.Connecting("telegram", "discord")
	up := func(p string) float64 {
		return value(t, reg, "chorus_adapter_connected", map[string]string{"platform": p})
	}
	if got := up("telegram"); got != 0 {
		t.Errorf("telegram never connected: adapter_connected = %v, want 0", got)
	}
	if got := up("discord"); got != 1 {
		t.Errorf("discord connected before Connecting: %v, want 1", got)
	}
	if _, ok := lookup(t, reg, "chorus_adapter_connected", map[string]string{"platform": "console"}); ok {
		t.Error("the console reports no connection, yet has an adapter_connected series")
	}
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "telegram", State: bot.AdapterConnected})
	m.Connecting("telegram") // a second declaration must not say "down"
	if got := up("telegram"); got != 1 {
		t.Errorf("telegram connected: %v, want 1", got)
	}
	m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "telegram", State: bot.AdapterDisconnected})
	if got := up("telegram"); got != 0 {
		t.Errorf("telegram dropped: %v, want 0", got)
	}
}

func TestWebhookUnauthorizedCounted(t *testing.T) {
	m, reg := newTest(t)
	refused := func() float64 {
		return value(t, reg, "chorus_webhook_unauthorized_total", map[string]string{"platform": "telegram"})
	}
	if got := refused(); got != 0 {
		t.Fatalf("before any request: %v, want a series at 0", got)
	}
	for range 3 {
		m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "telegram", State: bot.AdapterUnauthorized})
	}
	if got := refused(); got != 3 {
		t.Errorf("after 3 refusals: %v, want 3", got)
	}
}

// Users seen before a restart (Seen, from stored activity) and after it
// count once each, in the windows their last activity falls in.
func TestSeenRebuildsActiveUsers(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 30, 0, time.UTC)
	clk := bottest.NewClock(t0)
	key := func(user string) string { return "k:" + strings.ToUpper(user) }
	m, reg := newTest(t, WithClock(clk.Now), WithUserKey(key))
	active := func(w string) float64 { return value(t, reg, "chorus_active_users", map[string]string{"window": w}) }
	m.Seen(key("telegram:1"), t0.Add(-2*time.Minute))
	m.Seen(key("telegram:2"), t0.Add(-3*time.Hour))
	m.Seen(key("telegram:3"), t0.Add(-10*24*time.Hour))
	m.Seen(key("telegram:4"), t0.Add(-40*24*time.Hour)) // out of every window
	m.Seen(key("telegram:5"), t0.Add(time.Hour))        // a clock ahead: now
	for w, want := range map[string]float64{"5m": 2, "1d": 3, "30d": 4} {
		if got := active(w); got != want {
			t.Errorf("rebuilt: active %s = %v, want %v", w, got, want)
		}
	}
	// telegram:2 and telegram:3 write again: no one is counted twice.
	for _, u := range []string{"telegram:2", "telegram:3", "telegram:6"} {
		m.Observe(bot.Event{Kind: bot.EventMessageReceived, Platform: "telegram", ChatKind: bot.ChatDM, User: u})
	}
	for w, want := range map[string]float64{"5m": 5, "1d": 5, "30d": 5} {
		if got := active(w); got != want {
			t.Errorf("after new messages: active %s = %v, want %v", w, got, want)
		}
	}
}

// TestClicksAndConversions: the campaign counters are labelled by platform
// and campaign kind only, exist at zero once declared, and anything else
// a plug-in might send (a post id) is "other".
func TestClicksAndConversions(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Declare(bot.Labels{Platforms: []string{"telegram", "discord"}, Campaigns: []string{"post", "answer"}})
	for _, name := range []string{"chorus_link_clicks_total", "chorus_conversions_total"} {
		if got, ok := lookup(t, reg, name, map[string]string{"platform": "discord", "kind": "answer"}); !ok || got != 0 {
			t.Fatalf("%s{discord,answer} = %v, %v; want 0 at start", name, got, ok)
		}
	}
	m.Observe(bot.Event{Kind: bot.EventClick, Platform: "telegram", Chat: "telegram/-100", Label: "post"})
	m.Observe(bot.Event{Kind: bot.EventClick, Platform: "telegram", Label: "post"})
	m.Observe(bot.Event{Kind: bot.EventClick, Platform: "telegram", Label: "pmxvk2rk0"})
	m.Observe(bot.Event{Kind: bot.EventConversion, Platform: "telegram", Label: "post", Score: 12.5})
	if got := value(t, reg, "chorus_link_clicks_total", map[string]string{"platform": "telegram", "kind": "post"}); got != 2 {
		t.Fatalf("clicks = %v", got)
	}
	if got := value(t, reg, "chorus_link_clicks_total", map[string]string{"platform": "telegram", "kind": "other"}); got != 1 {
		t.Fatalf("clicks{other} = %v", got)
	}
	if got := value(t, reg, "chorus_conversions_total", map[string]string{"platform": "telegram", "kind": "post"}); got != 1 {
		t.Fatalf("conversions = %v", got)
	}
}

// TestAnswerFeedback: both ratings exist at zero before any vote; votes
// count by rating, and an unknown rating counts nowhere.
func TestAnswerFeedback(t *testing.T) {
	m, reg := newTest(t)
	n, err := testutil.GatherAndCount(reg, "chorus_answer_feedback_total")
	if err != nil || n != len(bot.Ratings) {
		t.Fatalf("%d feedback series before any vote (%v), want %d at zero", n, err, len(bot.Ratings))
	}
	m.Observe(bot.Event{Kind: bot.EventFeedback, Label: "up"})
	m.Observe(bot.Event{Kind: bot.EventFeedback, Label: "up"})
	m.Observe(bot.Event{Kind: bot.EventFeedback, Label: "down"})
	m.Observe(bot.Event{Kind: bot.EventFeedback, Label: "meh"})
	if got := value(t, reg, "chorus_answer_feedback_total", map[string]string{"rating": "up"}); got != 2 {
		t.Errorf("up = %v, want 2", got)
	}
	if got := value(t, reg, "chorus_answer_feedback_total", map[string]string{"rating": "down"}); got != 1 {
		t.Errorf("down = %v, want 1", got)
	}
	if n, _ := testutil.GatherAndCount(reg, "chorus_answer_feedback_total"); n != 2 {
		t.Errorf("%d feedback series, want 2", n)
	}
}
