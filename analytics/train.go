package analytics

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chorusbot/chorus/textclass"
)

// Model file names inside the models directory (and the embedded copy).
const (
	ModelFileEN = "sentiment_en.bin"
	ModelFileZH = "sentiment_zh.bin"
)

// Training data locations, relative to the datasets directory.
const (
	dataAirline      = "airline/airline_train.csv"
	dataTweetEval    = "tweeteval/sentiment"
	dataChnTrain     = "zh-sentiment/chnsenticorp_train.tsv"
	dataChnDev       = "zh-sentiment/chnsenticorp_dev.tsv"
	dataWaimaiTrain  = "zh-sentiment/waimai_10k_train.csv"
	dataWaimaiDev    = "zh-sentiment/waimai_10k_dev.csv"
	airlineHoldEvery = 5 // every 5th airline row is held out for the honest score
)

// TrainCommand is the command that produced the shipped models; it is
// written into their provenance.
const TrainCommand = "CHORUS_TRAIN=1 go test ./analytics -run TestTrainShipped (or: chorus train sentiment --datasets DIR --out analytics/models)"

// vaderScale weighs the four VADER scores against the unit-length n-gram
// vector.
var vaderScale = 1.0

// tweetRepeat is how many times each TweetEval example is repeated in
// training: the general-tweet data is the scarcer, closer-to-target domain.
var tweetRepeat = 3

// enEpochs is the number of training passes for English.
var enEpochs = 8

// enL2 is the English weight decay: stronger than the default, because the
// model must transfer from airline tweets to tweets in general.
var enL2 = 1e-6

func repeat(ex []textclass.Example, n int) []textclass.Example {
	var out []textclass.Example
	for range max(n, 1) {
		out = append(out, ex...)
	}
	return out
}

func enFeatures() textclass.FeatureConfig {
	return textclass.FeatureConfig{WordMin: 1, WordMax: 2, CharMin: 2, CharMax: 5, HashBits: 18,
		ExtraDim: 4, Extra: vaderExtra}
}

func vaderExtra(text string) []float64 {
	f := vaderFeatures(text)
	for i := range f {
		f[i] *= vaderScale
	}
	return f
}

func zhFeatures() textclass.FeatureConfig {
	return textclass.FeatureConfig{WordMin: 1, WordMax: -1, CharMin: 1, CharMax: 3, HashBits: 18}
}

func enTrainConfig(prov string) textclass.TrainConfig {
	return textclass.TrainConfig{Labels: textclass.SentimentLabels, Features: enFeatures(), Balanced: true,
		Epochs: enEpochs, L2: enL2, Seed: 1, Prune: 1e-3, Provenance: prov}
}

func zhTrainConfig(prov string) textclass.TrainConfig {
	return textclass.TrainConfig{Labels: textclass.PolarityLabels, Features: zhFeatures(), Balanced: true,
		Epochs: 8, Seed: 1, Prune: 1e-3, Provenance: prov}
}

// Scores are the figures measured while training, on data the measured
// model did not train on.
type Scores struct {
	AirlineHeldAccuracy     float64 // trained on the other 4/5 of airline
	TweetEvalAirlineOnly    float64 // macro recall, trained on airline only
	TweetEvalCrossValidated float64 // macro recall, 5-fold: airline + 4/5 of TweetEval val
	ChnSentiCorpDevAccuracy float64
	WaimaiDevAccuracy       float64
}

// TrainSentiment trains the English and Chinese sentiment models from the
// labelled data in datasetsDir (the layout of /work/shared/datasets), writes
// them to outDir as ModelFileEN and ModelFileZH, and logs honest scores to
// log: each figure comes from a model that did not see the data scored.
// The shipped English model is then trained on all of the airline file plus
// the TweetEval sentiment validation file (its rows repeated tweetRepeat
// times); the Chinese one on the
// ChnSentiCorp and waimai train files (their dev files are never trained
// on).
func TrainSentiment(datasetsDir, outDir string, log io.Writer) error {
	_, err := trainSentiment(datasetsDir, outDir, log)
	return err
}

func trainSentiment(datasetsDir, outDir string, log io.Writer) (Scores, error) {
	var sc Scores
	if log == nil {
		log = io.Discard
	}
	load := func(rel, split string) (textclass.Dataset, error) {
		ds, err := textclass.LoadDataset(filepath.Join(datasetsDir, rel), split)
		if err != nil {
			return ds, fmt.Errorf("analytics: train: %w", err)
		}
		fmt.Fprintf(log, "loaded %s: %d rows\n", rel, len(ds.Examples))
		return ds, nil
	}
	airline, err := load(dataAirline, "")
	if err != nil {
		return sc, err
	}
	tweet, err := load(dataTweetEval, "val")
	if err != nil {
		return sc, err
	}
	if !slices.Equal(airline.Labels, textclass.SentimentLabels) || !slices.Equal(tweet.Labels, textclass.SentimentLabels) {
		return sc, errors.New("analytics: train: English data sets must have negative/neutral/positive labels")
	}
	enPred := func(m *textclass.Model) func(string) int {
		return func(s string) int { l, _ := m.Predict(s); return l }
	}

	// 1. Airline only, 4/5 of the rows: airline held-out accuracy and
	// TweetEval transfer.
	start := time.Now()
	aTrain, aHeld := airline.Split(airlineHoldEvery, 0)
	m, err := textclass.Train(aTrain.Examples, enTrainConfig(""))
	if err != nil {
		return sc, fmt.Errorf("analytics: train en: %w", err)
	}
	sc.AirlineHeldAccuracy = textclass.Evaluate(enPred(m), aHeld).Accuracy
	sc.TweetEvalAirlineOnly = textclass.Evaluate(enPred(m), tweet).MacroRecall
	fmt.Fprintf(log, "en airline-only (%s): airline held-out accuracy %.4f, TweetEval val macro recall %.4f\n",
		time.Since(start).Round(time.Second), sc.AirlineHeldAccuracy, sc.TweetEvalAirlineOnly)

	// 2. TweetEval 5-fold: each fold is scored by a model trained on the
	// whole airline file and the other four folds.
	const folds = 5
	conf := make([][]int, 3)
	for i := range conf {
		conf[i] = make([]int, 3)
	}
	for f := 0; f < folds; f++ {
		tTrain, tHeld := tweet.Split(folds, f)
		ex := append(slices.Clone(airline.Examples), repeat(tTrain.Examples, tweetRepeat)...)
		fm, err := textclass.Train(ex, enTrainConfig(""))
		if err != nil {
			return sc, fmt.Errorf("analytics: train en fold %d: %w", f, err)
		}
		r := textclass.Evaluate(enPred(fm), tHeld)
		for i := range r.Confusion {
			for j := range r.Confusion[i] {
				conf[i][j] += r.Confusion[i][j]
			}
		}
	}
	sc.TweetEvalCrossValidated = textclass.FromConfusion(textclass.SentimentLabels, conf).MacroRecall
	fmt.Fprintf(log, "en airline + TweetEval 5-fold: TweetEval val macro recall %.4f\n", sc.TweetEvalCrossValidated)

	// 3. The shipped English model.
	prov := fmt.Sprintf("English sentiment: %s (%d rows) + %s val (%d rows); word 1-2 + char 2-5 hashed TF-IDF (2^18) + 4 VADER scores; "+
		"airline held-out accuracy %.4f (airline-only model), TweetEval val macro recall %.4f (5-fold), %.4f (airline-only model); %s",
		dataAirline, len(airline.Examples), dataTweetEval, len(tweet.Examples),
		sc.AirlineHeldAccuracy, sc.TweetEvalCrossValidated, sc.TweetEvalAirlineOnly, TrainCommand)
	en, err := textclass.Train(append(slices.Clone(airline.Examples), repeat(tweet.Examples, tweetRepeat)...), enTrainConfig(prov))
	if err != nil {
		return sc, fmt.Errorf("analytics: train en: %w", err)
	}

	// 4. Chinese.
	chn, err := load(dataChnTrain, "")
	if err != nil {
		return sc, err
	}
	wm, err := load(dataWaimaiTrain, "")
	if err != nil {
		return sc, err
	}
	chnDev, err := load(dataChnDev, "")
	if err != nil {
		return sc, err
	}
	wmDev, err := load(dataWaimaiDev, "")
	if err != nil {
		return sc, err
	}
	zhEx := append(slices.Clone(chn.Examples), wm.Examples...)
	zhTmp, err := textclass.Train(zhEx, zhTrainConfig(""))
	if err != nil {
		return sc, fmt.Errorf("analytics: train zh: %w", err)
	}
	zhPred := func(s string) int { l, _ := zhTmp.Predict(s); return l }
	sc.ChnSentiCorpDevAccuracy = textclass.Evaluate(zhPred, chnDev).Accuracy
	sc.WaimaiDevAccuracy = textclass.Evaluate(zhPred, wmDev).Accuracy
	fmt.Fprintf(log, "zh: ChnSentiCorp dev accuracy %.4f, waimai dev accuracy %.4f\n", sc.ChnSentiCorpDevAccuracy, sc.WaimaiDevAccuracy)
	zhProv := fmt.Sprintf("Chinese sentiment: %s (%d rows) + %s (%d rows); char 1-3 hashed TF-IDF (2^18), two classes; "+
		"ChnSentiCorp dev accuracy %.4f, waimai dev accuracy %.4f; %s",
		dataChnTrain, len(chn.Examples), dataWaimaiTrain, len(wm.Examples), sc.ChnSentiCorpDevAccuracy, sc.WaimaiDevAccuracy, TrainCommand)
	zhTmp.Provenance = zhProv

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return sc, fmt.Errorf("analytics: train: %w", err)
	}
	for name, mod := range map[string]*textclass.Model{ModelFileEN: en, ModelFileZH: zhTmp} {
		b, err := mod.MarshalBinary()
		if err != nil {
			return sc, fmt.Errorf("analytics: train: encode %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(outDir, name), b, 0o644); err != nil {
			return sc, fmt.Errorf("analytics: train: %w", err)
		}
		fmt.Fprintf(log, "wrote %s (%d bytes, %d non-zero weights)\n", filepath.Join(outDir, name), len(b), mod.NonZero())
	}
	return sc, nil
}
