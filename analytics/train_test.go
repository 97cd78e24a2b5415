package analytics

import (
	"os"
	"path/filepath"
	"testing"
)

// datasetsDir is where the labelled data lives on development and CI
// machines; a user's clone has none, and the tests that need it skip.
func datasetsDir(t testing.TB) string {
	d := os.Getenv("CHORUS_DATASETS")
	if d == "" {
		// The repository sits beside shared/ on development machines and in CI.
		d = filepath.Join("..", "..", "shared", "datasets")
	}
	if _, err := os.Stat(filepath.Join(d, dataAirline)); err != nil {
		t.Skipf("labelled data sets not present at %s (set CHORUS_DATASETS): %v", d, err)
	}
	return d
}

// TestTrainShipped retrains the shipped models into models/. It is slow
// (minutes) and rewrites files in the source tree, so it runs only with
// CHORUS_TRAIN=1.
func TestTrainShipped(t *testing.T) {
	if os.Getenv("CHORUS_TRAIN") != "1" {
		t.Skip("set CHORUS_TRAIN=1 to retrain the shipped sentiment models")
	}
	dir := datasetsDir(t)
	out := os.Getenv("CHORUS_TRAIN_OUT")
	if out == "" {
		out = "models"
	}
	sc, err := trainSentiment(dir, out, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scores: %+v", sc)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
