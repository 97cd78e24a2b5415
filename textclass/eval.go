package textclass

import (
	"fmt"
	"io"
	"time"
)

// ClassReport is the figures for one class.
type ClassReport struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Report is the result of Evaluate.
type Report struct {
	Dataset     string        `json:"dataset"`
	N           int           `json:"n"`
	Accuracy    float64       `json:"accuracy"`
	MacroRecall float64       `json:"macro_recall"`
	MacroF1     float64       `json:"macro_f1"`
	Classes     []ClassReport `json:"classes"`
	// Confusion[i][j] counts examples of class i predicted as j; a
	// prediction outside the data set's labels counts in no column.
	Confusion [][]int `json:"confusion"`
	// PerSecond is messages classified per second, wall clock.
	PerSecond float64 `json:"messages_per_second"`
}

// Class returns the report of the class named label, and false when the
// data set has no such class.
func (r Report) Class(label string) (ClassReport, bool) {
	for _, c := range r.Classes {
		if c.Label == label {
			return c, true
		}
	}
	return ClassReport{}, false
}

// EvalOption adjusts Evaluate.
type EvalOption func(*evalOpts)

type evalOpts struct {
	mapping func(int) int
}

// WithMapping translates the predictor's labels into the data set's before
// they are scored, for label sets that differ (a three-class sentiment
// model on two-class data). A mapped value outside the data set's labels
// counts as wrong.
func WithMapping(f func(pred int) int) EvalOption {
	return func(o *evalOpts) { o.mapping = f }
}

// MapByName returns a mapping from labels from to labels to by name; a
// name missing from to maps to -1 (always wrong).
func MapByName(from, to []string) func(int) int {
	idx := make([]int, len(from))
	for i, f := range from {
		idx[i] = -1
		for j, t := range to {
			if f == t {
				idx[i] = j
			}
		}
	}
	return func(p int) int {
		if p < 0 || p >= len(idx) {
			return -1
		}
		return idx[p]
	}
}

// Evaluate runs pred over every example of ds and scores it.
func Evaluate(pred func(text string) int, ds Dataset, opts ...EvalOption) Report {
	var o evalOpts
	for _, f := range opts {
		f(&o)
	}
	return evaluate(pred, ds, o.mapping)
}

func evaluate(pred func(string) int, ds Dataset, mapping func(int) int) Report {
	k := len(ds.Labels)
	conf := make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	start := time.Now()
	for _, ex := range ds.Examples {
		p := pred(ex.Text)
		if mapping != nil {
			p = mapping(p)
		}
		if ex.Label >= 0 && ex.Label < k && p >= 0 && p < k {
			conf[ex.Label][p]++
		}
	}
	el := time.Since(start)
	// Support counts every example of a class, including predictions
	// that fell outside the label set.
	support := make([]int, k)
	for _, ex := range ds.Examples {
		if ex.Label >= 0 && ex.Label < k {
			support[ex.Label]++
		}
	}
	r := fromConfusion(ds.Labels, conf, support)
	r.Dataset = ds.Name
	if s := el.Seconds(); s > 0 {
		r.PerSecond = float64(len(ds.Examples)) / s
	}
	return r
}

// FromConfusion computes the report figures from a confusion matrix
// (rows: true class, columns: predicted).
func FromConfusion(labels []string, conf [][]int) Report {
	support := make([]int, len(labels))
	for i := range conf {
		for _, v := range conf[i] {
			support[i] += v
		}
	}
	return fromConfusion(labels, conf, support)
}

func fromConfusion(labels []string, conf [][]int, support []int) Report {
	k := len(labels)
	r := Report{Confusion: conf}
	correct := 0
	for i := 0; i < k; i++ {
		r.N += support[i]
		correct += conf[i][i]
	}
	var sumR, sumF float64
	for i := 0; i < k; i++ {
		predicted := 0
		for j := 0; j < k; j++ {
			predicted += conf[j][i]
		}
		c := ClassReport{Label: labels[i], Support: support[i]}
		if predicted > 0 {
			c.Precision = float64(conf[i][i]) / float64(predicted)
		}
		if support[i] > 0 {
			c.Recall = float64(conf[i][i]) / float64(support[i])
		}
		if c.Precision+c.Recall > 0 {
			c.F1 = 2 * c.Precision * c.Recall / (c.Precision + c.Recall)
		}
		sumR += c.Recall
		sumF += c.F1
		r.Classes = append(r.Classes, c)
	}
	if r.N > 0 {
		r.Accuracy = float64(correct) / float64(r.N)
	}
	if k > 0 {
		r.MacroRecall, r.MacroF1 = sumR/float64(k), sumF/float64(k)
	}
	return r
}

// WriteText prints the report for people.
func (r Report) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "dataset %s\nn %d\naccuracy %.4f\nmacro recall %.4f\nmacro F1 %.4f\n", r.Dataset, r.N, r.Accuracy, r.MacroRecall, r.MacroF1)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%-16s %9s %9s %9s %8s\n", "class", "precision", "recall", "F1", "support"); err != nil {
		return err
	}
	for _, c := range r.Classes {
		if _, err := fmt.Fprintf(w, "%-16s %9.4f %9.4f %9.4f %8d\n", c.Label, c.Precision, c.Recall, c.F1, c.Support); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(w, "messages/s %.0f\n", r.PerSecond)
	return err
}

// LeaveOneSourceOut measures how a training procedure does on a source it
// has never seen (an airline, a video, a review domain): for each source of
// ds, fit gets the examples of every other source and the predictor it
// returns is scored on the held-out one. It returns the pooled report (the
// held-out confusion matrices added up, so every example is scored once, by
// a model that did not see its source) and the report of each source.
// Examples with an empty Source are always trained on, never scored. fit
// may add data from elsewhere, and must tune nothing on what it is not
// given.
func LeaveOneSourceOut(ds Dataset, fit func(train []Example) (func(text string) int, error), opts ...EvalOption) (Report, []Report, error) {
	srcs := ds.Sources()
	if len(srcs) < 2 {
		return Report{}, nil, fmt.Errorf("textclass: leave-one-source-out on %s: %d sources, need at least 2", ds.Name, len(srcs))
	}
	k := len(ds.Labels)
	conf := make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	support := make([]int, k)
	var per []Report
	var perSec, n float64
	for _, src := range srcs {
		train, held := ds.Without(src)
		pred, err := fit(train.Examples)
		if err != nil {
			return Report{}, nil, fmt.Errorf("textclass: leave-one-source-out without %s: %w", src, err)
		}
		r := Evaluate(pred, held, opts...)
		per = append(per, r)
		for i := range r.Confusion {
			for j := range r.Confusion[i] {
				conf[i][j] += r.Confusion[i][j]
			}
		}
		for i, c := range r.Classes {
			support[i] += c.Support
		}
		perSec += r.PerSecond * float64(r.N)
		n += float64(r.N)
	}
	pooled := fromConfusion(ds.Labels, conf, support)
	pooled.Dataset = ds.Name + " (leave one source out)"
	if n > 0 {
		pooled.PerSecond = perSec / n
	}
	return pooled, per, nil
}
