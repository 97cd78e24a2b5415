package analytics

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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
	dataAirline     = "airline/airline_train.csv"
	dataTweetEval   = "tweeteval/sentiment"
	dataChnTrain    = "zh-sentiment/chnsenticorp_train.tsv"
	dataChnDev      = "zh-sentiment/chnsenticorp_dev.tsv"
	dataWaimaiTrain = "zh-sentiment/waimai_10k_train.csv"
	dataWaimaiDev   = "zh-sentiment/waimai_10k_dev.csv"
)

// The TweetEval sentiment validation file is split in two: rows i%2 == 0
// are trained on (the only general tweets labelled by people the project
// has), rows i%2 == 1 are held out and only scored.
const (
	tweetEvalEvery = 2
	tweetEvalHeld  = 1
)

// airlineNames are the words of the airline file that name an airline
// (its handles are folded by FeatureConfig.Handles). They are masked
// (FeatureConfig.Mask), in training and when classifying, so that the
// model does not learn one airline's share of complaints as the
// sentiment of its name: leave one airline out, the airline never seen
// was judged by what the others said about it ("worse than United").

// dataGeneralTweets are the TweetEval offensive and hate training files:
// general tweets whose offensive/hate labels are ignored. Their text is
// labelled for sentiment by VADER (distant supervision, see pseudoLabel),
// so that the English model sees tweets that are not about airlines. The
// TweetEval sentiment files are never trained on: they are validation
// data only.
var dataGeneralTweets = []string{"tweeteval/offensive", "tweeteval/hate"}

// Distant-supervision cut-offs on VADER's compound score: at least
// pseudoPolar is positive, at most -pseudoPolar negative, within
// pseudoNeutral of zero neutral; tweets in between are left out.
const (
	pseudoPolar   = 0.5
	pseudoNeutral = 0.05
)

// TrainCommand is the command that produced the shipped models; it is
// written into their provenance.
const TrainCommand = "chorus train sentiment --datasets ../shared/datasets --out analytics/models (or: CHORUS_TRAIN=1 go test ./analytics -run TestTrainShipped)"

// vaderScale weighs the four VADER scores against the unit-length n-gram
// vector.
var vaderScale = 1.0

// enEpochs is the number of training passes for English.
var enEpochs = 8

// enL2 is the English weight decay.
var enL2 = 1e-6

var airlineNames = []string{"united", "ua", "southwest", "southwestair", "sw", "delta", "deltaassist",
	"jetblue", "virgin", "virginamerica", "american", "americanair", "americanairlines", "aa",
	"usairways", "airways"}

func enFeatures() textclass.FeatureConfig {
	return textclass.FeatureConfig{WordMin: 1, WordMax: 2, CharMin: 2, CharMax: 5, HashBits: 18,
		Handles: true, Mask: airlineNames, ExtraDim: 4, Extra: vaderExtra}
}

// airlineRE matches the words of airlineNames.
var airlineRE = regexp.MustCompile(`(?i)\b(?:` + strings.Join(airlineNames, "|") + `)\b`)

// vaderExtra is VADER's four scores of text with the airline names
// masked as the n-grams are: VADER's lexicon reads "united" as praise
// (+1.8), so every tweet to @united scored as more positive than the
// same tweet to another airline (leave one airline out, United: 0.722
// accuracy with the name seen by VADER, 0.766 masked).
func vaderExtra(text string) []float64 {
	f := vaderFeatures(airlineRE.ReplaceAllString(text, textclass.MaskToken))
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

// pseudoLabel labels general tweets for sentiment by VADER's compound
// score, leaving out the ambiguous ones; it returns the labelled examples
// and how many of each class.
func pseudoLabel(texts []string) ([]textclass.Example, [3]int) {
	var out []textclass.Example
	var n [3]int
	for _, t := range texts {
		c := vaderFeatures(t)[3]
		l := -1
		switch {
		case c >= pseudoPolar:
			l = int(Positive)
		case c <= -pseudoPolar:
			l = int(Negative)
		case c > -pseudoNeutral && c < pseudoNeutral:
			l = int(Neutral)
		}
		if l >= 0 {
			out = append(out, textclass.Example{Text: t, Label: l})
			n[l]++
		}
	}
	return out, n
}

// Scores are the figures measured while training, on data the measured
// model did not train on.
type Scores struct {
	AirlineLOAOAccuracy     float64 // leave one airline out: each airline scored by a model trained without it
	TweetEvalMacroRecall    float64 // on TweetEval sentiment val rows i%2 == 1, never trained or tuned on
	ChnSentiCorpDevAccuracy float64
	WaimaiDevAccuracy       float64
}

// TrainSentiment trains the English and Chinese sentiment models from the
// labelled data in datasetsDir (the layout of /work/shared/datasets), writes
// them to outDir as ModelFileEN and ModelFileZH, and logs honest scores to
// log: each figure comes from a model that did not see the data scored.
// The shipped English model is trained on every airline row, the TweetEval
// sentiment validation rows i%2 == 0 and the text of the TweetEval
// offensive and hate training files labelled for sentiment by VADER (their
// own labels are not used); it is scored on the TweetEval rows i%2 == 1,
// and the airline figure is leave one airline out (six more models, each
// trained the same way without one airline). The Chinese one is trained on
// the ChnSentiCorp and waimai train files (their dev files are never
// trained on).
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
	var general []string
	var generalDesc []string
	for _, rel := range dataGeneralTweets {
		ds, err := load(rel, "train")
		if err != nil {
			return sc, err
		}
		for _, e := range ds.Examples {
			general = append(general, e.Text)
		}
		generalDesc = append(generalDesc, fmt.Sprintf("%s train (%d rows)", rel, len(ds.Examples)))
	}
	pseudo, pn := pseudoLabel(general)
	fmt.Fprintf(log, "pseudo-labelled general tweets: %d negative, %d neutral, %d positive (of %d)\n", pn[0], pn[1], pn[2], len(general))
	enPred := func(m *textclass.Model) func(string) int {
		return func(s string) int { l, _ := m.Predict(s); return l }
	}

	// The shipped English model trains on every airline row, the
	// pseudo-labelled tweets and the TweetEval rows i%2 == 0. Its
	// figures come from data it did not see: the TweetEval rows i%2 == 1
	// (scored by this very model) and leave one airline out (each airline
	// scored by a model trained the same way without it).
	start := time.Now()
	teTrain, teHeld := tweet.Split(tweetEvalEvery, tweetEvalHeld)
	enTrain := func(air []textclass.Example) []textclass.Example {
		ex := append(slices.Clone(air), pseudo...)
		return append(ex, teTrain.Examples...)
	}
	loao, per, err := textclass.LeaveOneSourceOut(airline, func(tr []textclass.Example) (func(string) int, error) {
		m, err := textclass.Train(enTrain(tr), enTrainConfig(""))
		if err != nil {
			return nil, err
		}
		return enPred(m), nil
	})
	if err != nil {
		return sc, fmt.Errorf("analytics: train en: %w", err)
	}
	for _, r := range per {
		fmt.Fprintf(log, "en, leave one airline out: %s: accuracy %.4f (n=%d)\n", r.Dataset, r.Accuracy, r.N)
	}
	sc.AirlineLOAOAccuracy = loao.Accuracy
	en, err := textclass.Train(enTrain(airline.Examples), enTrainConfig(""))
	if err != nil {
		return sc, fmt.Errorf("analytics: train en: %w", err)
	}
	sc.TweetEvalMacroRecall = textclass.Evaluate(enPred(en), teHeld).MacroRecall
	fmt.Fprintf(log, "en (%s): airline accuracy leave one airline out %.4f, TweetEval val rows i%%2==1 macro recall %.4f\n",
		time.Since(start).Round(time.Second), sc.AirlineLOAOAccuracy, sc.TweetEvalMacroRecall)
	en.Provenance = fmt.Sprintf("English sentiment: %s all %d rows (labelled) + %s val rows i%%2==0 (%d rows, labelled; rows i%%2==1 held out) + %s labelled for sentiment by VADER compound "+
		"(>= %.2f positive, <= -%.2f negative, |c| < %.2f neutral; %d/%d/%d rows kept); "+
		"word 1-2 + char 2-5 hashed TF-IDF (2^18), handles and links folded, airline names masked, + 4 VADER scores, class-balanced; "+
		"airline accuracy leave one airline out %.4f, TweetEval val rows i%%2==1 macro recall %.4f; %s",
		dataAirline, len(airline.Examples), dataTweetEval, len(teTrain.Examples), strings.Join(generalDesc, " + "), pseudoPolar, pseudoPolar, pseudoNeutral,
		pn[0], pn[1], pn[2], sc.AirlineLOAOAccuracy, sc.TweetEvalMacroRecall, TrainCommand)

	// Chinese.
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
	// The cues of the three-way decision come from the training files
	// only, like the model.
	cues := deriveZHCues(chn.Examples, wm.Examples)
	fmt.Fprintf(log, "zh cues: %d n-grams polar in both review domains\n", len(cues))

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
	cf, err := os.Create(filepath.Join(outDir, ZHCueFile))
	if err != nil {
		return sc, fmt.Errorf("analytics: train: %w", err)
	}
	hdr := fmt.Sprintf("Chinese sentiment cues: character 2-3 grams in >= %d reviews of each of %s and %s whose class-balanced share of one side is >= %.2f in both (doubled sign: >= %.2f).\n%s",
		cueMinDocs, dataChnTrain, dataWaimaiTrain, cueRatio, cueStrongRatio, TrainCommand)
	if err := cues.write(cf, hdr); err != nil {
		cf.Close()
		return sc, fmt.Errorf("analytics: train: %w", err)
	}
	if err := cf.Close(); err != nil {
		return sc, fmt.Errorf("analytics: train: %w", err)
	}
	return sc, nil
}
