package analytics

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/chorusbot/chorus/textclass"
)

//go:embed models
var modelFS embed.FS

// OfflineClassifier scores English with a logistic regression over word and
// character n-grams plus the four VADER scores, and Chinese with a
// two-class character n-gram model behind a three-way decision: chatter
// (questions, greetings, arrangements) and messages with nothing
// evaluative in them are neutral, as is the model's uncertain middle (see
// zhneutral.go). It is safe for concurrent use.
type OfflineClassifier struct {
	en, zh *textclass.Model
	cues   zhCues
	band   float64
}

var _ Classifier = (*OfflineClassifier)(nil)

// NewOfflineClassifier loads the models embedded in the binary. band is the
// half-width around 0.5 of the Chinese positive probability that counts as
// neutral.
func NewOfflineClassifier(band float64) (*OfflineClassifier, error) {
	en, err := loadModel(modelFS, "models/"+ModelFileEN)
	if err != nil {
		return nil, err
	}
	zh, err := loadModel(modelFS, "models/"+ModelFileZH)
	if err != nil {
		return nil, err
	}
	cues, err := loadCues(modelFS, "models/"+ZHCueFile)
	if err != nil {
		return nil, err
	}
	return newOffline(en, zh, cues, band)
}

// LoadOfflineClassifier loads the models from a directory written by
// TrainSentiment.
func LoadOfflineClassifier(fsys fs.FS, band float64) (*OfflineClassifier, error) {
	en, err := loadModel(fsys, ModelFileEN)
	if err != nil {
		return nil, err
	}
	zh, err := loadModel(fsys, ModelFileZH)
	if err != nil {
		return nil, err
	}
	cues, err := loadCues(fsys, ZHCueFile)
	if err != nil {
		return nil, err
	}
	return newOffline(en, zh, cues, band)
}

func loadCues(fsys fs.FS, name string) (zhCues, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("analytics: cues %s: %w", name, err)
	}
	defer f.Close()
	return readZHCues(f)
}

func newOffline(en, zh *textclass.Model, cues zhCues, band float64) (*OfflineClassifier, error) {
	if len(en.Labels) != 3 || len(zh.Labels) != 2 {
		return nil, errors.New("analytics: models: want a 3-class English and a 2-class Chinese model")
	}
	if band < 0 || band >= 0.5 {
		return nil, fmt.Errorf("analytics: neutral band %v outside [0, 0.5)", band)
	}
	return &OfflineClassifier{en: en, zh: zh, cues: cues, band: band}, nil
}

func loadModel(fsys fs.FS, name string) (*textclass.Model, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("analytics: model %s: %w", name, err)
	}
	m, err := textclass.Load(bytes.NewReader(b), textclass.WithExtra(vaderExtra))
	if err != nil {
		return nil, fmt.Errorf("analytics: model %s: %w", name, err)
	}
	return m, nil
}

// Classify implements Classifier.
func (c *OfflineClassifier) Classify(text string) Sentiment {
	if Lang(text) == "zh" {
		return c.classifyZH(text)
	}
	return c.classifyEN(text)
}

func (c *OfflineClassifier) classifyEN(text string) Sentiment {
	l, p := c.en.Predict(text)
	return Sentiment{Label: Label(l), Score: clamp1(p[Positive] - p[Negative]), Lang: "en"}
}

func (c *OfflineClassifier) classifyZH(text string) Sentiment {
	return decideZH(c.zh.Probs(text)[1], text, c.cues, c.band)
}

// Lean returns the more likely of Negative and Positive for text, in the
// language Classify detects: what a neutral message leans to, for scoring
// on data sets that have no neutral class.
func (c *OfflineClassifier) Lean(text string) Label {
	if Lang(text) == "zh" {
		if c.PolarityZH(text) == 1 {
			return Positive
		}
		return Negative
	}
	_, p := c.en.Predict(text)
	if p[Positive] >= p[Negative] {
		return Positive
	}
	return Negative
}

// PolarityZH is the two-class decision used to evaluate on the two-class
// Chinese data sets: the neutral band is split at 0.5, so a message counts
// as positive exactly when its positive probability is at least one half.
func (c *OfflineClassifier) PolarityZH(text string) int {
	if c.zh.Probs(text)[1] >= 0.5 {
		return 1
	}
	return 0
}

// EvalPredictor returns the live bot's own scoring for `chorus eval
// sentiment`: the language of every row is detected as the bot detects it
// (Lang) and the row is classified by Classify, so a data set mixing
// English and Chinese is scored on the path messages take. It predicts
// indices of textclass.SentimentLabels. With polar set (data sets without
// a neutral class) a neutral decision is replaced by Lean, and neutral
// counts how often that happened.
func EvalPredictor(polar bool) (pred func(string) int, labels []string, neutral *int, err error) {
	c, err := NewOfflineClassifier(Config{}.withDefaults().NeutralBand)
	if err != nil {
		return nil, nil, nil, err
	}
	n := new(int)
	return func(s string) int {
		l := c.Classify(s).Label
		if polar && l == Neutral {
			*n++
			l = c.Lean(s)
		}
		return int(l)
	}, textclass.SentimentLabels, n, nil
}
