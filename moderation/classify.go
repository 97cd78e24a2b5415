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
	task      Task
	prob      func(text string) float64
	threshold float64
}

func shippedClassifiers() []classifier {
	var out []classifier
	for _, t := range Tasks {
		m, err := Model(t)
		if err != nil {
			continue
		}
		out = append(out, classifier{task: t, threshold: m.Threshold(), prob: func(s string) float64 { return m.Probs(s)[1] }})
	}
	return out
}

var taskCategory = map[Task]Category{TaskSpam: CatSpam, TaskOffensive: CatOffensive, TaskHate: CatHate}
