package textclass

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// synthetic builds a separable three-class problem: each class has its own
// vocabulary mixed with shared filler words.
func synthetic(n int) []Example {
	vocab := [][]string{
		{"refund", "broken", "late", "angry", "worst"},
		{"tuesday", "meeting", "schedule", "table", "paper"},
		{"love", "great", "thanks", "awesome", "wonderful"},
	}
	filler := []string{"the", "a", "is", "it", "my", "order"}
	var out []Example
	for i := 0; i < n; i++ {
		c := i % 3
		var w []string
		for j := 0; j < 6; j++ {
			if (i+j)%2 == 0 {
				w = append(w, vocab[c][(i*7+j*3)%5])
			} else {
				w = append(w, filler[(i+j*5)%6])
			}
		}
		out = append(out, Example{Text: strings.Join(w, " "), Label: c})
	}
	return out
}

var labels3 = []string{"negative", "neutral", "positive"}

func TestTrainLearnsSeparable(t *testing.T) {
	ex := synthetic(300)
	m, err := Train(ex, TrainConfig{Labels: labels3, Seed: 7, Features: FeatureConfig{HashBits: 14}})
	if err != nil {
		t.Fatal(err)
	}
	test := []struct {
		text string
		want int
	}{
		{"my order is broken and late", 0},
		{"the meeting schedule for tuesday", 1},
		{"thanks, awesome and wonderful", 2},
	}
	for _, tc := range test {
		got, probs := m.Predict(tc.text)
		if got != tc.want {
			t.Errorf("Predict(%q) = %d (%v), want %d", tc.text, got, probs, tc.want)
		}
		var sum float64
		for _, p := range probs {
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("probabilities sum to %v", sum)
		}
	}
	rep := Evaluate(func(s string) int { l, _ := m.Predict(s); return l }, Dataset{Labels: labels3, Examples: synthetic(90)})
	if rep.Accuracy < 0.99 {
		t.Errorf("accuracy on separable data %.3f", rep.Accuracy)
	}
}

func TestTrainDeterministic(t *testing.T) {
	ex := synthetic(120)
	cfg := TrainConfig{Labels: labels3, Seed: 3, Features: FeatureConfig{HashBits: 12}}
	a, _ := Train(ex, cfg)
	b, _ := Train(ex, cfg)
	ba, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	if !bytes.Equal(ba, bb) {
		t.Fatal("two trainings with one seed differ")
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train(synthetic(3), TrainConfig{Labels: []string{"x"}}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("one label: %v", err)
	}
	if _, err := Train([]Example{{Text: "a", Label: 5}}, TrainConfig{Labels: labels3}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("bad label: %v", err)
	}
	if _, err := Train(nil, TrainConfig{Labels: labels3}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("no examples: %v", err)
	}
}

func TestRoundTripIdentical(t *testing.T) {
	extra := func(s string) []float64 { return []float64{float64(strings.Count(s, "!")), float64(len(s)) / 100} }
	for _, tc := range []struct {
		name   string
		labels []string
		fc     FeatureConfig
	}{
		{"three-class", labels3, FeatureConfig{HashBits: 13}},
		{"binary-extra", []string{"ham", "spam"}, FeatureConfig{HashBits: 13, ExtraDim: 2, Extra: extra, CharMin: 1, CharMax: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := synthetic(150)
			if len(tc.labels) == 2 {
				for i := range ex {
					ex[i].Label = min(ex[i].Label, 1)
				}
			}
			m, err := Train(ex, TrainConfig{Labels: tc.labels, Features: tc.fc, Seed: 1, Provenance: "synthetic 150 rows"})
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.labels) == 2 {
				if err := m.SetThreshold(0.7); err != nil {
					t.Fatal(err)
				}
			}
			data, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var opts []LoadOption
			if tc.fc.Extra != nil {
				if _, err := Load(bytes.NewReader(data)); err == nil {
					t.Fatal("loading a model with extras without WithExtra succeeded")
				}
				opts = append(opts, WithExtra(extra))
			}
			m2, err := Load(bytes.NewReader(data), opts...)
			if err != nil {
				t.Fatal(err)
			}
			// A loaded model keeps the weights as stored (float16, fixed
			// point idf) and writes the same file back.
			if m2.w != nil || m2.idf != nil || m2.wH == nil || m2.idfH == nil || (len(tc.labels) == 2) != (m2.wH[0] == nil) {
				t.Errorf("loaded model not in its stored form: w %v idf %v wH %d idfH %d", m2.w != nil, m2.idf != nil, len(m2.wH), len(m2.idfH))
			}
			if again, err := m2.MarshalBinary(); err != nil || !bytes.Equal(again, data) {
				t.Errorf("the loaded model marshals differently (%v)", err)
			}
			if m2.NonZero() != m.NonZero() {
				t.Errorf("non-zero weights %d loaded, %d trained", m2.NonZero(), m.NonZero())
			}
			if m2.Provenance != "synthetic 150 rows" || fmt.Sprint(m2.Labels) != fmt.Sprint(tc.labels) {
				t.Errorf("header lost: %q %v", m2.Provenance, m2.Labels)
			}
			if math.Abs(m2.Threshold()-m.Threshold()) > 1e-12 {
				t.Errorf("threshold %v, want %v", m2.Threshold(), m.Threshold())
			}
			probe := append(synthetic(60), Example{Text: "unseen words zebra quantum!!"}, Example{Text: ""}, Example{Text: "退款 太慢了"})
			for _, e := range probe {
				l1, p1 := m.Predict(e.Text)
				l2, p2 := m2.Predict(e.Text)
				if l1 != l2 || fmt.Sprint(p1) != fmt.Sprint(p2) {
					t.Fatalf("Predict(%q): %d %v before, %d %v after", e.Text, l1, p1, l2, p2)
				}
			}
		})
	}
}

func TestLoadRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("hello"), {0x1f, 0x8b, 0, 0}} {
		if _, err := Load(bytes.NewReader(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("Load(%q) = %v, want ErrFormat", in, err)
		}
	}
	m, _ := Train(synthetic(30), TrainConfig{Labels: labels3, Features: FeatureConfig{HashBits: 10}})
	data, _ := m.MarshalBinary()
	if _, err := Load(bytes.NewReader(data[:len(data)/2])); err == nil {
		t.Error("truncated model loaded")
	}
}

func TestHalf(t *testing.T) {
	for _, v := range []float32{0, 1, -1, 0.5, 65504, 1e-5, -3.1415, 6e-8, 1e-9, 70000} {
		h := fromHalf(toHalf(v))
		switch {
		case v == 70000:
			if !math.IsInf(float64(h), 1) {
				t.Errorf("%v -> %v, want +Inf", v, h)
			}
		case v == 1e-9:
			if h != 0 {
				t.Errorf("%v -> %v, want 0", v, h)
			}
		case math.Abs(float64(h-v)) > math.Abs(float64(v))*1e-3+6e-8:
			t.Errorf("%v -> %v", v, h)
		}
		if roundHalf(h) != h {
			t.Errorf("roundHalf not idempotent at %v", h)
		}
	}
}

func TestThreshold(t *testing.T) {
	ex := synthetic(90)
	for i := range ex {
		ex[i].Label = min(ex[i].Label, 1)
	}
	m, _ := Train(ex, TrainConfig{Labels: []string{"a", "b"}, Features: FeatureConfig{HashBits: 12}})
	text := "the meeting is great"
	_, p := m.Predict(text)
	if err := m.SetThreshold((p[1] + 1) / 2); err != nil {
		t.Fatal(err)
	}
	if l, _ := m.Predict(text); l != 0 {
		t.Errorf("threshold above p1=%v still predicts 1", p[1])
	}
	if err := m.SetThreshold(p[1] / 2); err != nil {
		t.Fatal(err)
	}
	if l, _ := m.Predict(text); l != 1 {
		t.Errorf("threshold below p1=%v predicts 0", p[1])
	}
	if err := m.SetThreshold(1); err == nil {
		t.Error("threshold 1 accepted")
	}
}

func TestFromConfusion(t *testing.T) {
	// rows true, columns predicted
	conf := [][]int{
		{5, 1, 0},
		{2, 3, 1},
		{0, 0, 4},
	}
	r := FromConfusion(labels3, conf)
	if r.N != 16 || math.Abs(r.Accuracy-12.0/16) > 1e-12 {
		t.Fatalf("n %d accuracy %v", r.N, r.Accuracy)
	}
	want := []ClassReport{
		{"negative", 5.0 / 7, 5.0 / 6, 2 * (5.0 / 7) * (5.0 / 6) / (5.0/7 + 5.0/6), 6},
		{"neutral", 3.0 / 4, 3.0 / 6, 2 * 0.75 * 0.5 / 1.25, 6},
		{"positive", 4.0 / 5, 1, 2 * 0.8 / 1.8, 4},
	}
	for i, w := range want {
		c := r.Classes[i]
		if c.Label != w.Label || c.Support != w.Support || math.Abs(c.Precision-w.Precision) > 1e-12 ||
			math.Abs(c.Recall-w.Recall) > 1e-12 || math.Abs(c.F1-w.F1) > 1e-12 {
			t.Errorf("class %d = %+v, want %+v", i, c, w)
		}
	}
	if math.Abs(r.MacroRecall-(5.0/6+0.5+1)/3) > 1e-12 {
		t.Errorf("macro recall %v", r.MacroRecall)
	}
	if math.Abs(r.MacroF1-(want[0].F1+want[1].F1+want[2].F1)/3) > 1e-12 {
		t.Errorf("macro F1 %v", r.MacroF1)
	}
}

func TestEvaluateMapping(t *testing.T) {
	ds := Dataset{Name: "polar", Labels: PolarityLabels, Examples: []Example{
		{Text: "bad", Label: 0}, {Text: "good", Label: 1}, {Text: "meh", Label: 1},
	}}
	pred := func(s string) int {
		return map[string]int{"bad": 0, "good": 2, "meh": 1}[s] // three-class
	}
	r := Evaluate(pred, ds, WithMapping(MapByName(SentimentLabels, PolarityLabels)))
	if r.N != 3 || math.Abs(r.Accuracy-2.0/3) > 1e-12 {
		t.Fatalf("report %+v", r)
	}
	if c, _ := r.Class("positive"); c.Support != 2 || c.Recall != 0.5 {
		t.Errorf("positive %+v", c)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil || !strings.Contains(b.String(), "macro F1 0.") {
		t.Errorf("WriteText: %v %q", err, b.String())
	}
	js, _ := json.Marshal(r)
	for _, k := range []string{`"macro_f1"`, `"accuracy"`, `"messages_per_second"`, `"support"`} {
		if !bytes.Contains(js, []byte(k)) {
			t.Errorf("JSON lacks %s: %s", k, js)
		}
	}
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDataset(t *testing.T) {
	dir := t.TempDir()
	te := filepath.Join(dir, "offensive")
	write(t, te, "mapping.txt", "0\tnot-offensive\n1\toffensive\n")
	write(t, te, "val_text.txt", "you are nice\nyou are a jerk\n")
	write(t, te, "val_labels.txt", "0\n1\n")
	write(t, te, "train_text.txt", "a\nb\nc\n")
	write(t, te, "train_labels.txt", "0\n0\n1\n")
	yt := filepath.Join(dir, "youtube")
	write(t, yt, "Youtube01.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"+
		"id1,ann,2014,\"check my channel &amp; subscribe<br />now\",1\n"+
		"id2,bob,2014,\"nice song,\nsecond line\",0\n")
	write(t, yt, "Youtube02.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nid3,cy,2014,I&#39;m here,0\n")
	write(t, yt, "notes.txt", "not data")
	sms := write(t, dir, "sms.tsv", "ham\tOk lar...\nspam\tFREE entry! txt now\n")
	air := write(t, dir, "airline.csv", "label,text,airline,negativereason\nnegative,\"@united lost my bag, again\",United,Lost Luggage\npositive,@united thanks!,United,\n")
	chn := write(t, dir, "chn.tsv", "label\ttext_a\n1\t酒店很好\n0\t太差了\n")
	wm := write(t, dir, "waimai.csv", "label,review\n0,送餐太慢\n1,\"好吃,快\"\n")
	write(t, dir, "bad.csv", "foo,bar\n1,2\n")

	tests := []struct {
		path, split string
		labels      []string
		texts       []string
		ys          []int
	}{
		{te, "", []string{"not-offensive", "offensive"}, []string{"you are nice", "you are a jerk"}, []int{0, 1}},
		{te, "train", []string{"not-offensive", "offensive"}, []string{"a", "b", "c"}, []int{0, 0, 1}},
		{yt, "", SpamLabels, []string{"check my channel & subscribe now", "nice song,\nsecond line", "I'm here"}, []int{1, 0, 0}},
		{sms, "", SpamLabels, []string{"Ok lar...", "FREE entry! txt now"}, []int{0, 1}},
		{air, "", SentimentLabels, []string{"@united lost my bag, again", "@united thanks!"}, []int{0, 2}},
		{chn, "", PolarityLabels, []string{"酒店很好", "太差了"}, []int{1, 0}},
		{wm, "", PolarityLabels, []string{"送餐太慢", "好吃,快"}, []int{0, 1}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path)+tc.split, func(t *testing.T) {
			ds, err := LoadDataset(tc.path, tc.split)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ds.Labels) != fmt.Sprint(tc.labels) {
				t.Errorf("labels %v, want %v", ds.Labels, tc.labels)
			}
			if len(ds.Examples) != len(tc.texts) {
				t.Fatalf("%d examples, want %d: %+v", len(ds.Examples), len(tc.texts), ds.Examples)
			}
			for i, ex := range ds.Examples {
				if ex.Text != tc.texts[i] || ex.Label != tc.ys[i] {
					t.Errorf("example %d = %+v, want %q/%d", i, ex, tc.texts[i], tc.ys[i])
				}
			}
		})
	}
	if _, err := LoadDataset(filepath.Join(dir, "bad.csv"), ""); !errors.Is(err, ErrLayout) {
		t.Errorf("unknown layout: %v", err)
	}
	if _, err := LoadDataset(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("missing path loaded")
	}
	// The default TweetEval split prefers test when present.
	write(t, te, "test_text.txt", "x\n")
	write(t, te, "test_labels.txt", "1\n")
	if ds, err := LoadDataset(te, ""); err != nil || len(ds.Examples) != 1 || ds.Name != "offensive:test" {
		t.Errorf("default split: %+v %v", ds, err)
	}
	all, _ := LoadDataset(sms, "")
	tr, held := all.Split(2, 1)
	if len(tr.Examples) != 1 || len(held.Examples) != 1 || held.Examples[0].Label != 1 {
		t.Errorf("Split: %+v %+v", tr, held)
	}
}

func TestTokensAndHashes(t *testing.T) {
	got := tokens("Hello, WORLD! 退款太慢 $5", nil)
	want := []string{"hello", ",", "world", "!", "退款太慢", "$", "5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tokens = %q, want %q", got, want)
	}
	fc := FeatureConfig{}.withDefaults()
	a := fc.hashes("free money now", nil)
	b := fc.hashes("FREE money now", nil)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("hashes depend on case")
	}
	for _, h := range a {
		if h >= 1<<DefaultHashBits {
			t.Fatalf("bucket %d out of range", h)
		}
	}
}

func FuzzLoad(f *testing.F) {
	m, _ := Train(synthetic(30), TrainConfig{Labels: labels3, Features: FeatureConfig{HashBits: 8}})
	data, _ := m.MarshalBinary()
	f.Add(data)
	f.Add([]byte("x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Load(bytes.NewReader(b))
		if err == nil {
			m.Predict("fuzz text")
		}
	})
}

func BenchmarkPredict(b *testing.B) {
	m, _ := Train(synthetic(600), TrainConfig{Labels: labels3})
	text := "Hey @brand my order #1234 arrived broken and late again, can I get a refund please? thanks"
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(text)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func TestSourcesAndLeaveOneOut(t *testing.T) {
	dir := t.TempDir()
	air := write(t, dir, "airline.csv", "label,text,airline,negativereason\n"+
		"negative,@united lost my bag,United,Lost Luggage\npositive,@united thanks a lot,United,\n"+
		"negative,@delta lost my bag again,Delta,Lost Luggage\npositive,@delta thanks so much,Delta,\n"+
		"neutral,@jetblue what time is boarding,JetBlue,\n")
	ds, err := LoadDataset(air, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ds.Sources()); got != "[United Delta JetBlue]" {
		t.Fatalf("sources %s", got)
	}
	tr, held := ds.Without("Delta")
	if len(tr.Examples) != 3 || len(held.Examples) != 2 || held.Examples[0].Source != "Delta" {
		t.Fatalf("Without: %+v / %+v", tr.Examples, held.Examples)
	}
	var seen []string
	pooled, per, err := LeaveOneSourceOut(ds, func(train []Example) (func(string) int, error) {
		srcs := map[string]bool{}
		for _, e := range train {
			srcs[e.Source] = true
		}
		seen = append(seen, fmt.Sprint(len(train), len(srcs)))
		// predicts "negative" for "lost", "positive" for "thanks", else neutral
		return func(s string) int {
			switch {
			case strings.Contains(s, "lost"):
				return 0
			case strings.Contains(s, "thanks"):
				return 2
			}
			return 1
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[3 2 3 2 4 2]" {
		t.Errorf("training sets (rows, sources) %v", seen)
	}
	if len(per) != 3 || pooled.N != 5 || pooled.Accuracy != 1 {
		t.Errorf("pooled %+v per %d", pooled, len(per))
	}
	one := Dataset{Name: "one", Labels: labels3, Examples: []Example{{Text: "a", Label: 0, Source: "x"}}}
	if _, _, err := LeaveOneSourceOut(one, nil); err == nil {
		t.Error("one source accepted")
	}
	yt := filepath.Join(dir, "yt")
	write(t, yt, "Youtube01-Psy.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nid1,a,2014,hi,0\n")
	write(t, yt, "Youtube02-Katy.csv", "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nid2,b,2014,sub me,1\n")
	ys, err := LoadDataset(yt, "")
	if err != nil || fmt.Sprint(ys.Sources()) != "[Youtube01-Psy Youtube02-Katy]" {
		t.Errorf("video sources %v %v", ys.Sources(), err)
	}
}

func TestWordsOnly(t *testing.T) {
	fc := FeatureConfig{WordMin: 1, WordMax: 1, CharMax: -1, WordsOnly: true, HashBits: 16}.withDefaults()
	plain := fc
	plain.WordsOnly = false
	// Punctuation, symbols and one-letter words make no features; Han
	// characters and longer words do.
	if a, b := fc.hashes("free money!!! $$$ a b", nil), fc.hashes("free money", nil); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("WordsOnly kept marks: %v vs %v", a, b)
	}
	if n := len(fc.hashes("好 ok", nil)); n != 2 {
		t.Errorf("WordsOnly dropped a Han character or a word: %d hashes", n)
	}
	if n := len(plain.hashes("free money!!!", nil)); n != 5 {
		t.Errorf("default tokens: %d hashes, want 5", n)
	}
}

func TestSGDLearnsAndRoundTrips(t *testing.T) {
	cfg := TrainConfig{Labels: labels3, Seed: 2, Optimizer: OptSGD, Alpha: 1e-4, Epochs: 10, Features: FeatureConfig{HashBits: 14}}
	m, err := Train(synthetic(300), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := Evaluate(func(s string) int { l, _ := m.Predict(s); return l }, Dataset{Labels: labels3, Examples: synthetic(90)})
	if rep.Accuracy < 0.99 {
		t.Errorf("SGD accuracy on separable data %.3f", rep.Accuracy)
	}
	b, _ := m.MarshalBinary()
	m2, err := Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range synthetic(30) {
		if fmt.Sprint(m.Probs(e.Text)) != fmt.Sprint(m2.Probs(e.Text)) {
			t.Fatalf("reloaded SGD model differs on %q", e.Text)
		}
	}
	// A stronger penalty gives smaller weights: less confident.
	strong := cfg
	strong.Alpha = 1e-2
	ms, _ := Train(synthetic(300), strong)
	if p, ps := m.Probs("love great thanks")[2], ms.Probs("love great thanks")[2]; !(ps < p) {
		t.Errorf("alpha 1e-2 gives p=%.3f, alpha 1e-4 p=%.3f: want less confident", ps, p)
	}
	if _, err := Train(synthetic(30), TrainConfig{Labels: labels3, Optimizer: "newton"}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("unknown optimizer: %v", err)
	}
}

func TestHandles(t *testing.T) {
	fc := FeatureConfig{WordMax: 2, CharMax: -1, Handles: true, HashBits: 16}.withDefaults()
	a := fc.hashes("@united lost my bag http://t.co/abc", nil)
	b := fc.hashes("@delta lost my bag https://t.co/xyz", nil)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("handles and links still tell two tweets apart")
	}
	plain := fc
	plain.Handles = false
	if fmt.Sprint(plain.hashes("@united lost my bag", nil)) == fmt.Sprint(plain.hashes("@delta lost my bag", nil)) {
		t.Error("without Handles the handle is lost")
	}
}

func TestMask(t *testing.T) {
	fc := FeatureConfig{WordMax: 2, CharMax: 4, Mask: []string{"united", "delta"}, HashBits: 16}.withDefaults()
	a := fc.hashes("United lost my bag", nil)
	b := fc.hashes("delta lost my bag", nil)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("masked names still tell two messages apart")
	}
	if fmt.Sprint(fc.hashes("delta lost my bag", nil)) == fmt.Sprint(fc.hashes("delta found my bag", nil)) {
		t.Error("an unmasked word was lost")
	}
	// The mask is part of the model file, so a loaded model masks too.
	m, err := Train([]Example{{Text: "united is awful", Label: 0}, {Text: "delta is great", Label: 1}},
		TrainConfig{Labels: PolarityLabels, Features: fc, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m2.Features.Mask, fc.Mask) {
		t.Errorf("mask after load %v, want %v", m2.Features.Mask, fc.Mask)
	}
	if p, q := m2.Probs("united")[1], m2.Probs("delta")[1]; p != q {
		t.Errorf("loaded model tells masked names apart: %v vs %v", p, q)
	}
}

// TestSharedFeaturePass: models that tokenize alike (here differing only
// in HashBits) share one n-gram pass per text, and each still scores
// exactly as from its own pass.
func TestSharedFeaturePass(t *testing.T) {
	ex := synthetic(200)
	a, err := Train(ex, TrainConfig{Labels: labels3, Seed: 3, Features: FeatureConfig{HashBits: 12}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(ex, TrainConfig{Labels: labels3, Seed: 3, Features: FeatureConfig{HashBits: 14}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := Train(ex, TrainConfig{Labels: labels3, Seed: 3, Features: FeatureConfig{HashBits: 12, WordsOnly: true, CharMax: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Features.tokenization() != b.Features.tokenization() || a.Features.tokenization() == w.Features.tokenization() {
		t.Fatalf("tokenizations %q %q %q", a.Features.tokenization(), b.Features.tokenization(), w.Features.tokenization())
	}
	for i, e := range ex[:50] {
		text := e.Text + " shared " + strconv.Itoa(i)
		for _, m := range []*Model{a, b, w} {
			x := m.Features.vectorize(text, m.idf, nil)
			want := make([]float64, len(m.w))
			m.scoresOf(x, want)
			if got := m.Scores(text); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("Scores(%q) = %v through the shared pass, %v from its own", text, got, want)
			}
		}
		// a and b read one memory entry; w has its own.
		if _, ok := recentHashes.get(a.Features.tokenization() + "\x00" + text); !ok {
			t.Fatalf("%q: no shared pass remembered", text)
		}
		if _, ok := recentHashes.get(w.Features.tokenization() + "\x00" + text); !ok {
			t.Fatalf("%q: the other tokenization's pass is not remembered", text)
		}
	}
	// The memory is bounded.
	for i := range 3 * memoTexts {
		a.Scores("filler " + strconv.Itoa(i))
	}
	recentHashes.mu.Lock()
	n := len(recentHashes.m)
	recentHashes.mu.Unlock()
	if n > memoTexts {
		t.Errorf("%d texts remembered, bound %d", n, memoTexts)
	}
}
