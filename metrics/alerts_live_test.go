package metrics

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// scrapes records what a registry exports, scrape by scrape, as promtool's
// input series: one value a scrape, "_" while a series is absent.
type scrapes struct {
	n      int
	series map[string][]string
}

func (s *scrapes) scrape(t *testing.T, reg prometheus.Gatherer) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), Namespace+"_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var v float64
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			default:
				continue
			}
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			if _, ok := s.series[key]; !ok {
				s.series[key] = slices.Repeat([]string{"_"}, s.n)
			}
			s.series[key] = append(s.series[key], fmt.Sprint(v))
			seen[key] = true
		}
	}
	for key := range s.series {
		if !seen[key] {
			s.series[key] = append(s.series[key], "_")
		}
	}
	s.n++
}

func (s *scrapes) inputSeries() string {
	keys := make([]string, 0, len(s.series))
	for k := range s.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "      - series: '%s'\n        values: '%s'\n", k, strings.Join(s.series[k], " "))
	}
	return b.String()
}

// TestShippedAlertsFireOnTheExport runs the shipped alert rules, with
// promtool, over what the real exporter serves scrape by scrape from its
// start: a configured Telegram adapter that never connects fires
// ChorusAdapterDisconnected, and the first panic fires ChorusHandlerPanics.
// Both need series that exist at 0 before any event.
func TestShippedAlertsFireOnTheExport(t *testing.T) {
	tool := promtool(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	m.Declare(bot.Labels{Platforms: []string{"telegram", "discord"}})
	m.Connecting("telegram", "discord")
	var s scrapes
	s.series = map[string][]string{}
	for minute := 0; minute <= 30; minute++ {
		switch minute {
		case 1:
			m.Observe(bot.Event{Kind: bot.EventAdapter, Platform: "discord", State: bot.AdapterConnected})
		case 10:
			m.Observe(bot.Event{Kind: bot.EventPanic, Platform: "telegram"})
		}
		s.scrape(t, reg)
		now = now.Add(time.Minute)
	}
	rules, err := filepath.Abs(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	test := `rule_files:
  - ` + rules + `
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
` + s.inputSeries() + `    alert_rule_test:
      - eval_time: 4m
        alertname: ChorusAdapterDisconnected
        exp_alerts: [] # pending for 5 minutes
      - eval_time: 8m
        alertname: ChorusAdapterDisconnected
        exp_alerts:
          - exp_labels:
              severity: critical
              platform: telegram
            exp_annotations:
              summary: "Chorus: telegram adapter disconnected"
              description: "The telegram adapter has not been connected for 5 minutes; followers there get no answers. Check the token and chorus_adapter_reconnects_total."
      - eval_time: 9m
        alertname: ChorusHandlerPanics
        exp_alerts: []
      - eval_time: 10m
        alertname: ChorusHandlerPanics
        exp_alerts:
          - exp_labels:
              severity: warning
            exp_annotations:
              summary: "Chorus: a handler panicked"
              description: "Handler panics recovered in the last 15 minutes: 1. The logs hold the stack traces."
`
	file := filepath.Join(t.TempDir(), "live_test.yml")
	if err := os.WriteFile(file, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtoolAt(t, tool, "test", "rules", file)
}
