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
// two-class character n-gram model whose uncertain middle counts as
// neutral. It is safe for concurrent use.
type OfflineClassifier struct {
	en, zh *textclass.Model
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
	return newOffline(en, zh, band)
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
	return newOffline(en, zh, band)
}

func newOffline(en, zh *textclass.Model, band float64) (*OfflineClassifier, error) {
	if len(en.Labels) != 3 || len(zh.Labels) != 2 {
		return nil, errors.New("analytics: models: want a 3-class English and a 2-class Chinese model")
	}
	if band < 0 || band >= 0.5 {
		return nil, fmt.Errorf("analytics: neutral band %v outside [0, 0.5)", band)
	}
	return &OfflineClassifier{en: en, zh: zh, band: band}, nil
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
	p := c.zh.Probs(text)[1]
	s := Sentiment{Label: Neutral, Score: clamp1(2*p - 1), Lang: "zh"}
	switch {
	case p >= 0.5+c.band:
		s.Label = Positive
	case p <= 0.5-c.band:
		s.Label = Negative
	}
	return s
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

// SentimentPredictor returns a predictor over the shipped model of lang for
// `chorus eval sentiment`: "en" predicts negative/neutral/positive; "zh"
// predicts negative/positive, the two labels of the Chinese data sets (see
// PolarityZH for how the neutral band maps to two classes).
func SentimentPredictor(lang string) (pred func(string) int, labels []string, err error) {
	c, err := NewOfflineClassifier(Config{}.withDefaults().NeutralBand)
	if err != nil {
		return nil, nil, err
	}
	switch lang {
	case "en":
		return func(s string) int { l, _ := c.en.Predict(s); return l }, textclass.SentimentLabels, nil
	case "zh":
		return c.PolarityZH, textclass.PolarityLabels, nil
	}
	return nil, nil, fmt.Errorf("analytics: sentiment predictor: unknown language %q (want en or zh)", lang)
}
