package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Paths of the operations configs, relative to this package.
var (
	prometheusDir  = filepath.Join("..", "configs", "prometheus")
	alertsFile     = filepath.Join(prometheusDir, "alerts.yml")
	alertsTestFile = filepath.Join(prometheusDir, "alerts_test.yml")
	prometheusFile = filepath.Join(prometheusDir, "prometheus.yml")
	dashboardFile  = filepath.Join("..", "configs", "grafana", "chorus.json")
)

// promtool returns the promtool binary or skips the test.
func promtool(t *testing.T) string {
	t.Helper()
	return needTool(t, "promtool")
}

// needTool returns the path of a binary of Debian's prometheus package.
// Without it the test skips, saying so, except in CI (CI set, as .ci/run
// does after installing the package), where it fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed in CI (.ci/run installs Debian's prometheus package): %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install prometheus): skipping", name)
	}
	return p
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	runPromtoolAt(t, promtool(t), args...)
}

func runPromtoolAt(t *testing.T, tool string, args ...string) {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out)
	}
	t.Logf("promtool %v:\n%s", args, out)
}

func TestPromtoolCheckRules(t *testing.T) { runPromtool(t, "check", "rules", alertsFile) }

func TestPromtoolTestRules(t *testing.T) { runPromtool(t, "test", "rules", alertsTestFile) }

func TestPromtoolCheckConfig(t *testing.T) { runPromtool(t, "check", "config", prometheusFile) }
