package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// metricName matches the names of metrics Chorus's registry exports: its
// own and the Go and process collectors'.
var metricName = regexp.MustCompile(`\b(?:chorus|go|process)_[a-zA-Z0-9_]*[a-zA-Z0-9]`)

// grafanaPanel is the part of a Grafana panel the test reads.
type grafanaPanel struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// dashboardExprs returns every PromQL expression of the dashboard, by panel
// title.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string         `json:"title"`
		UID    string         `json:"uid"`
		Panels []grafanaPanel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard lacks a title or uid")
	}
	out := map[string][]string{}
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q has an empty query", p.Title)
				}
				out[p.Title] = append(out[p.Title], tg.Expr)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// exported gathers a registry fed with one event of every kind and returns
// every name a query may use: metric names, and for histograms their
// _bucket, _sum and _count series.
func exported(t *testing.T) (all map[string]bool, chorus []string) {
	t.Helper()
	reg := NewRegistry()
	m, err := New(reg, WithStoreSize(func() (int64, error) { return 1, nil }),
		WithPrices(map[string]Price{"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.6}}))
	if err != nil {
		t.Fatal(err)
	}
	feedAll(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	all = map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		all[name] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				all[name+suffix] = true
			}
		}
		if strings.HasPrefix(name, Namespace+"_") {
			chorus = append(chorus, name)
		}
	}
	return all, chorus
}

// baseName strips a histogram series suffix.
func baseName(n string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(n, s); ok {
			return b
		}
	}
	return n
}

// TestConfigsUseOnlyExportedMetrics checks that every metric named by the
// Grafana dashboard and the alert rules is one Chorus exports, and that
// the dashboard shows every chorus_ metric.
func TestConfigsUseOnlyExportedMetrics(t *testing.T) {
	all, chorus := exported(t)
	if len(chorus) < 20 {
		t.Fatalf("only %d chorus metrics gathered: %v", len(chorus), chorus)
	}

	onDashboard := map[string]bool{}
	exprs := dashboardExprs(t)
	if len(exprs) < 20 {
		t.Errorf("dashboard has only %d panels with queries", len(exprs))
	}
	for title, es := range exprs {
		for _, e := range es {
			names := metricName.FindAllString(e, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no Chorus metric", title, e)
			}
			for _, n := range names {
				onDashboard[baseName(n)] = true
				if !all[n] {
					t.Errorf("panel %q uses %s, which Chorus does not export", title, n)
				}
			}
		}
	}
	for _, n := range chorus {
		if !onDashboard[n] {
			t.Errorf("metric %s is exported but no dashboard panel shows it", n)
		}
	}

	rules, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	used := metricName.FindAllString(string(rules), -1)
	if len(used) < 8 {
		t.Errorf("alerts.yml names only %d metrics", len(used))
	}
	for _, n := range used {
		if !all[n] {
			t.Errorf("alerts.yml uses %s, which Chorus does not export", n)
		}
	}
}

// TestDashboardQueriesParse checks the dashboard's PromQL with promtool,
// as recording rules, Grafana's variables replaced by durations.
func TestDashboardQueriesParse(t *testing.T) {
	tool := promtool(t)
	exprs := dashboardExprs(t)
	titles := make([]string, 0, len(exprs))
	for k := range exprs {
		titles = append(titles, k)
	}
	slices.Sort(titles)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	i := 0
	for _, title := range titles {
		for _, e := range exprs[title] {
			e = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h").Replace(e)
			q, err := json.Marshal(e) // a JSON string is a YAML string
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", i, q)
			i++
		}
	}
	f := filepath.Join(t.TempDir(), "dashboard_rules.yml")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	runPromtoolAt(t, tool, "check", "rules", f)
}
