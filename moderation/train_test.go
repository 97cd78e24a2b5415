package moderation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// datasetsDir is where the labelled data lives on development machines and
// in CI; it is not part of the repository.
func datasetsDir() string {
	if d := os.Getenv("CHORUS_DATASETS"); d != "" {
		return d
	}
	// The repository sits beside shared/ on development machines and in CI.
	return filepath.Join("..", "..", "shared", "datasets")
}

// TestTrainShipped regenerates the shipped models:
//
//	CHORUS_TRAIN=1 go test ./moderation -run TestTrainShipped -v
//
// CHORUS_TRAIN_TASKS=spam,hate retrains only those.
func TestTrainShipped(t *testing.T) {
	if os.Getenv("CHORUS_TRAIN") == "" {
		t.Skip("set CHORUS_TRAIN=1 to retrain the shipped models")
	}
	tasks := Tasks
	if v := os.Getenv("CHORUS_TRAIN_TASKS"); v != "" {
		tasks = nil
		for _, x := range strings.Split(v, ",") {
			tasks = append(tasks, Task(strings.TrimSpace(x)))
		}
	}
	if err := TrainTasks(datasetsDir(), "models", tasks, testWriter{t}); err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
