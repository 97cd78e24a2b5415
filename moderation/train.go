package moderation

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chorusbot/chorus/textclass"
)

// TrainCommand is the command recorded in shipped models' provenance.
const TrainCommand = "chorus train moderation --datasets DIR --out moderation/models"

// thresholds tried when tuning on held-out data.
func thresholdGrid() []float64 {
	var g []float64
	for i := 10; i <= 95; i++ {
		g = append(g, float64(i)/100)
	}
	return g
}

// tuneFolds is the number of folds of the training rows whose
// out-of-fold probabilities the decision threshold is tuned on.
const tuneFolds = 5

// tuneThreshold picks the threshold that maximises score over out-of-fold
// probabilities of the training rows: each fold is scored by a model
// trained on the other folds, so neither the training rows' own fit nor
// the evaluation data is used.
func tuneThreshold(train []textclass.Example, cfg textclass.TrainConfig, score func(textclass.Report) float64) (float64, error) {
	oof := textclass.Dataset{Name: "out-of-fold", Labels: cfg.Labels}
	var p1 []float64
	for f := 0; f < tuneFolds; f++ {
		var tr, held []textclass.Example
		for i, e := range train {
			if i%tuneFolds == f {
				held = append(held, e)
			} else {
				tr = append(tr, e)
			}
		}
		m, err := textclass.Train(tr, cfg)
		if err != nil {
			return 0, err
		}
		for _, e := range held {
			oof.Examples = append(oof.Examples, e)
			p1 = append(p1, m.Probs(e.Text)[1])
		}
	}
	best, bestS := 0.5, math.Inf(-1)
	for _, t := range thresholdGrid() {
		i := 0
		r := textclass.Evaluate(func(string) int {
			p := p1[i]
			i++
			if p >= t {
				return 1
			}
			return 0
		}, oof)
		if s := score(r); s > bestS {
			best, bestS = t, s
		}
	}
	return best, nil
}

// spamScore is the spam threshold criterion: most spam F1 with at most 1%
// of legitimate messages flagged.
func spamScore(r textclass.Report) float64 {
	ham, _ := r.Class("ham")
	spam, _ := r.Class("spam")
	if ham.Recall < 0.99 {
		return spam.F1 - 1
	}
	return spam.F1
}

// spamConfig is the spam model's training set-up. Leave one YouTube video
// out, the earlier set-up (AdaGrad over word 1-2 and char 2-5 n-grams with
// punctuation tokens) reached spam F1 0.907 with 5.3% of ham flagged, where
// a plain TF-IDF + logistic regression gets about 0.925 with 1.4%. Two
// things made the difference: punctuation and one-letter tokens (with
// them the plain model too falls to 0.896 / 7.6%: "!" and ":" mark SMS
// style, not spam), and AdaGrad, which gives rare n-grams as much room as
// common ones, against L2-regularised SGD. Hashing (2^20 buckets: no
// gain), float16 weights and more epochs were not it.
func spamConfig(cfg textclass.TrainConfig) textclass.TrainConfig {
	cfg.Labels = textclass.SpamLabels
	cfg.Optimizer, cfg.Alpha, cfg.Epochs = textclass.OptSGD, 3e-5, 15
	cfg.Features = textclass.FeatureConfig{WordMin: 1, WordMax: 2, CharMax: -1, WordsOnly: true, HashBits: 18}
	return cfg
}

// spamLeaveOneVideoOut scores the spam set-up cfg on each YouTube video
// of yt with a model trained on the other videos and sms (threshold tuned
// on their out-of-fold probabilities, as for the shipped model); it
// returns the pooled and the per-video reports.
func spamLeaveOneVideoOut(yt textclass.Dataset, sms []textclass.Example, cfg textclass.TrainConfig) (textclass.Report, []textclass.Report, error) {
	pooled, per, err := textclass.LeaveOneSourceOut(yt, func(tr []textclass.Example) (func(string) int, error) {
		all := append(slices.Clone(tr), sms...)
		th, err := tuneThreshold(all, cfg, spamScore)
		if err != nil {
			return nil, err
		}
		m, err := textclass.Train(all, cfg)
		if err != nil {
			return nil, err
		}
		if err := m.SetThreshold(th); err != nil {
			return nil, err
		}
		return func(s string) int { l, _ := m.Predict(s); return l }, nil
	})
	if err != nil {
		return pooled, per, fmt.Errorf("moderation: train spam: %w", err)
	}
	return pooled, per, nil
}

// Train trains the classifier of task ("spam", "offensive", "hate") from
// the data sets under datasetsDir (the layout of ../shared/datasets),
// tunes its decision threshold on held-out data, and writes progress and
// held-out scores to log.
//
// The threshold is tuned on out-of-fold probabilities of the training rows
// (tuneThreshold), never on the data scored. spam: the headline figure is
// leave one YouTube video out (each video scored by a model trained on the other two and the SMS
// rows i%5 != 0), and the shipped model trains on all three videos and
// the SMS rows i%5 != 0 (rows i%5 == 0 are held out and scored).
// offensive, hate: TweetEval train; the validation file is only scored.
func Train(task string, datasetsDir string, log io.Writer) (*textclass.Model, error) {
	if log == nil {
		log = io.Discard
	}
	norm := func(ds textclass.Dataset) textclass.Dataset {
		out := ds
		out.Examples = make([]textclass.Example, len(ds.Examples))
		for i, e := range ds.Examples {
			out.Examples[i] = textclass.Example{Text: Normalize(e.Text), Label: e.Label, Source: e.Source}
		}
		return out
	}
	load := func(rel, split string) (textclass.Dataset, error) {
		ds, err := textclass.LoadDataset(filepath.Join(datasetsDir, rel), split)
		if err != nil {
			return ds, fmt.Errorf("moderation: train %s: %w", task, err)
		}
		return norm(ds), nil
	}
	cfg := textclass.TrainConfig{Epochs: 5, LearningRate: 0.1, Seed: 1, Prune: 1e-4}
	if Task(task) == TaskOffensive {
		// Smaller steps over more passes and 2^20 buckets: +0.01 macro-F1
		// on val over the spam settings.
		cfg.Epochs, cfg.LearningRate, cfg.Features.HashBits = 10, 0.02, 20
	}
	var train []textclass.Example
	var devs []textclass.Dataset
	var prov []string
	var score func(textclass.Report) float64
	switch Task(task) {
	case TaskSpam:
		yt, err := load("spam/youtube", "")
		if err != nil {
			return nil, err
		}
		sms, err := load("spam/sms", "")
		if err != nil {
			return nil, err
		}
		// Leave one whole video out: the honest figure for comments of a
		// video never seen. Regularised SGD over words alone (see
		// spamConfig) is what holds up here.
		cfg = spamConfig(cfg)
		smsTrain, smsHeld := sms.Split(5, 0)
		smsHeld.Name = "spam/sms held-out (rows i%5==0)"
		train = append(append(train, yt.Examples...), smsTrain.Examples...)
		devs = []textclass.Dataset{smsHeld}
		prov = append(prov, fmt.Sprintf("spam/youtube all %d rows (3 videos) + spam/sms rows i%%5!=0 (%d rows; i%%5==0 held out)", len(yt.Examples), len(smsTrain.Examples)))
		score = spamScore
		pooled, per, err := spamLeaveOneVideoOut(yt, smsTrain.Examples, cfg)
		if err != nil {
			return nil, err
		}
		for _, r := range append(per, pooled) {
			ham, _ := r.Class("ham")
			spam, _ := r.Class("spam")
			fmt.Fprintf(log, "spam, leave one video out: %s: spam F1 %.4f, ham flagged %.1f%% (n=%d)\n", r.Dataset, spam.F1, 100*(1-ham.Recall), r.N)
		}
		ham, _ := pooled.Class("ham")
		spam, _ := pooled.Class("spam")
		prov = append(prov, fmt.Sprintf("leave one video out (trained on the other two + SMS, threshold tuned the same way): spam F1 %.4f, ham flagged %.1f%%", spam.F1, 100*(1-ham.Recall)))
	case TaskOffensive, TaskHate:
		tr, err := load("tweeteval/"+task, "train")
		if err != nil {
			return nil, err
		}
		dev, err := load("tweeteval/"+task, "val")
		if err != nil {
			return nil, err
		}
		train, devs, cfg.Labels, cfg.Balanced = tr.Examples, []textclass.Dataset{dev}, tr.Labels, true
		prov = append(prov, fmt.Sprintf("tweeteval/%s train %d rows; val %d rows only scored", task, len(tr.Examples), len(dev.Examples)))
		score = func(r textclass.Report) float64 { return r.MacroF1 }
	default:
		return nil, fmt.Errorf("%w %q", ErrNoModel, task)
	}
	cfg.Provenance = fmt.Sprintf("task %s; data %s (cardiffnlp/tweeteval @ 4fbd22cd; YouTube Spam Collection via C0D3-BR3AK3R/HadoopFinalNCU-Project @ c1c9490; SMS Spam Collection v.1 via SnehaKedia/sms-spam-detection-using-tensorflow-keras @ ae6d757); text passed through moderation.Normalize; command: %s",
		task, strings.Join(prov, "; "), TrainCommand)
	cfg.Provenance += fmt.Sprintf("; threshold tuned on %d-fold out-of-fold probabilities of the training rows", tuneFolds)
	fmt.Fprintf(log, "training %s on %d examples\n", task, len(train))
	th, err := tuneThreshold(train, cfg, score)
	if err != nil {
		return nil, fmt.Errorf("moderation: train %s: tune: %w", task, err)
	}
	if Task(task) == TaskHate && th < 0.5 {
		// The hate test split is shifted from train: never flag more
		// readily than the plain arg-max.
		th = 0.5
	}
	m, err := textclass.Train(train, cfg)
	if err != nil {
		return nil, fmt.Errorf("moderation: train %s: %w", task, err)
	}
	if err := m.SetThreshold(th); err != nil {
		return nil, fmt.Errorf("moderation: train %s: %w", task, err)
	}
	fmt.Fprintf(log, "%s: threshold %.3f, %d non-zero weights\n", task, m.Threshold(), m.NonZero())
	for _, d := range devs {
		r := textclass.Evaluate(func(s string) int { l, _ := m.Predict(s); return l }, d)
		fmt.Fprintf(log, "-- %s\n", d.Name)
		if err := r.WriteText(log); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// TrainAll trains every task and writes the model files into outDir.
func TrainAll(datasetsDir, outDir string, log io.Writer) error {
	return TrainTasks(datasetsDir, outDir, Tasks, log)
}

// TrainTasks trains the given tasks and writes their model files into
// outDir, leaving the others' files alone.
func TrainTasks(datasetsDir, outDir string, tasks []Task, log io.Writer) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("moderation: train: %w", err)
	}
	for _, t := range tasks {
		m, err := Train(string(t), datasetsDir, log)
		if err != nil {
			return err
		}
		data, err := m.MarshalBinary()
		if err != nil {
			return fmt.Errorf("moderation: train %s: %w", t, err)
		}
		if err := os.WriteFile(filepath.Join(outDir, ModelFile(t)), data, 0o644); err != nil {
			return fmt.Errorf("moderation: train %s: %w", t, err)
		}
		if log != nil {
			fmt.Fprintf(log, "wrote %s (%d bytes)\n", ModelFile(t), len(data))
		}
	}
	return nil
}
