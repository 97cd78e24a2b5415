package moderation

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/chorusbot/chorus/textclass"
)

// Task names an offline classifier.
type Task string

// Tasks.
const (
	TaskSpam      Task = "spam"
	TaskOffensive Task = "offensive"
	TaskHate      Task = "hate"
)

// Tasks lists the classifier tasks in a fixed order.
var Tasks = []Task{TaskSpam, TaskOffensive, TaskHate}

//go:embed models
var modelFS embed.FS

// ErrNoModel is returned when a task's model is not shipped (a build from a
// checkout whose models were never trained) or the task is unknown.
var ErrNoModel = errors.New("moderation: no model for task")

var (
	modelMu    sync.Mutex
	modelCache = map[Task]*textclass.Model{}
)

// ModelFile is the file name of a task's model in moderation/models.
func ModelFile(task Task) string { return string(task) + ".model" }

// Model returns the shipped model of task, loaded once.
func Model(task Task) (*textclass.Model, error) {
	modelMu.Lock()
	defer modelMu.Unlock()
	if m, ok := modelCache[task]; ok {
		return m, nil
	}
	data, err := fs.ReadFile(modelFS, "models/"+ModelFile(task))
	if err != nil {
		return nil, fmt.Errorf("%w %q", ErrNoModel, task)
	}
	m, err := textclass.Load(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("moderation: load %s model: %w", task, err)
	}
	modelCache[task] = m
	return m, nil
}

// EvalPredictor returns the shipped classifier of task ("spam",
// "offensive", "hate") as a predictor over raw text and its label names,
// for `chorus eval`. Text is normalised the way moderation sees it.
func EvalPredictor(task string) (pred func(text string) int, labels []string, err error) {
	m, err := Model(Task(task))
	if err != nil {
		return nil, nil, err
	}
	return func(s string) int {
		l, _ := m.Predict(Normalize(s))
		return l
	}, m.Labels, nil
}

// classifier scores a message for one task: the probability of the
// flagged class, and the threshold from which it is flagged.
type classifier struct {
	task  Task
	score func(text string) (p, threshold float64)
}

// HasModel reports whether task's model is shipped, without loading it.
func HasModel(task Task) bool {
	_, err := fs.Stat(modelFS, "models/"+ModelFile(task))
	return err == nil
}

// LazyModel returns a function that loads task's shipped model (Model) on
// its first call and returns it on every call: a process that never
// classifies a message (an idle serve, a chat not yet spoken to) never
// holds the weights, and the first message pays for the load once.
func LazyModel(task Task) func() (*textclass.Model, error) {
	return sync.OnceValues(func() (*textclass.Model, error) { return Model(task) })
}

// shippedClassifiers are the shipped models of every task, each loaded on
// the first message it scores. A model that fails to load scores nothing.
func shippedClassifiers() []classifier {
	var out []classifier
	for _, t := range Tasks {
		if !HasModel(t) {
			continue
		}
		load := LazyModel(t)
		out = append(out, classifier{task: t, score: func(s string) (float64, float64) {
			m, err := load()
			if err != nil {
				return 0, 1
			}
			return m.Probs(s)[1], m.Threshold()
		}})
	}
	return out
}

var taskCategory = map[Task]Category{TaskSpam: CatSpam, TaskOffensive: CatOffensive, TaskHate: CatHate}
