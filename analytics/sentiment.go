package analytics

import (
	"strings"
	"sync"

	"github.com/jonreiter/govader"

	"github.com/chorusbot/chorus/bot"
)

// Label is a sentiment class.
type Label int

// Labels, in the order of their indices in counts.
const (
	Negative Label = iota
	Neutral
	Positive
	numLabels
)

// String returns the label's name as used in events and the LLM protocol.
func (l Label) String() string {
	switch l {
	case Negative:
		return "negative"
	case Positive:
		return "positive"
	default:
		return "neutral"
	}
}

// SentimentLabels lists every Label, for the metrics.
var SentimentLabels = []Label{Negative, Neutral, Positive}

// ParseLabel reads a label name.
func ParseLabel(s string) (Label, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "negative":
		return Negative, true
	case "neutral":
		return Neutral, true
	case "positive":
		return Positive, true
	}
	return Neutral, false
}

// Sentiment is the score of one message.
type Sentiment struct {
	Label Label
	// Score is in [-1, 1]: -1 surely negative, 1 surely positive.
	Score float64
	// Lang is "en" or "zh".
	Lang string
}

// Classifier scores text offline. Implementations are safe for concurrent
// use.
type Classifier interface {
	Classify(text string) Sentiment
}

// Lang guesses "zh" or "en" from the share of Han characters among
// letters: the engine's own rule, without a locale.
func Lang(text string) string { return bot.DetectLang(text, "", nil) }

var (
	vaderOnce sync.Once
	vaderSIA  *govader.SentimentIntensityAnalyzer
)

func vader() *govader.SentimentIntensityAnalyzer {
	vaderOnce.Do(func() { vaderSIA = govader.NewSentimentIntensityAnalyzer() })
	return vaderSIA
}

// vaderFeatures are the four VADER scores used as dense features.
func vaderFeatures(text string) []float64 {
	s := vader().PolarityScores(text)
	return []float64{s.Negative, s.Neutral, s.Positive, s.Compound}
}

// clamp1 keeps x in [-1, 1].
func clamp1(x float64) float64 { return max(-1, min(1, x)) }
