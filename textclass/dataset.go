package textclass

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Dataset is a labelled set of texts.
type Dataset struct {
	// Name says where it came from ("tweeteval/offensive:val").
	Name string `json:"name"`
	// Labels names the classes; Example.Label indexes it.
	Labels   []string  `json:"labels"`
	Examples []Example `json:"-"`
}

// Label names used by the loaders, so that data from different sources
// lines up.
var (
	SpamLabels      = []string{"ham", "spam"}
	SentimentLabels = []string{"negative", "neutral", "positive"}
	PolarityLabels  = []string{"negative", "positive"}
)

// ErrLayout is returned by LoadDataset for a path whose shape matches none
// of the known layouts.
var ErrLayout = errors.New("textclass: unknown dataset layout")

// Layout names a dataset file format LoadDataset recognises.
type Layout string

// Layouts.
const (
	LayoutTweetEval    Layout = "tweeteval"    // folder: mapping.txt, <split>_text.txt, <split>_labels.txt
	LayoutYouTube      Layout = "youtube"      // CSV COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS
	LayoutSMS          Layout = "sms"          // TSV ham|spam<TAB>text
	LayoutAirline      Layout = "airline"      // CSV label,text,airline,negativereason
	LayoutChnSentiCorp Layout = "chnsenticorp" // TSV label<TAB>text_a with a header
	LayoutWaimai       Layout = "waimai"       // CSV label,review
)

// LoadDataset reads a labelled data set, recognising its layout by shape:
// a TweetEval task folder (split chooses <split>_text.txt; default "test"
// when present, else "val"), a YouTube spam CSV, an SMS Spam Collection
// TSV, the airline sentiment CSV, a ChnSentiCorp TSV, a waimai CSV, or a
// folder of such files with the same labels (split, when set, keeps only
// files whose name contains it).
func LoadDataset(path, split string) (Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Dataset{}, fmt.Errorf("textclass: load dataset: %w", err)
	}
	if !st.IsDir() {
		return loadFile(path)
	}
	if _, err := os.Stat(filepath.Join(path, "mapping.txt")); err == nil {
		return loadTweetEval(path, split)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return Dataset{}, fmt.Errorf("textclass: load dataset: %w", err)
	}
	var out Dataset
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".csv") || strings.HasSuffix(n, ".tsv")) {
			continue
		}
		if split != "" && !strings.Contains(n, split) {
			continue
		}
		ds, err := loadFile(filepath.Join(path, n))
		if errors.Is(err, ErrLayout) {
			continue
		}
		if err != nil {
			return Dataset{}, err
		}
		for i := range ds.Examples {
			if ds.Examples[i].Source == "" {
				ds.Examples[i].Source = strings.TrimSuffix(strings.TrimSuffix(n, ".csv"), ".tsv")
			}
		}
		if out.Labels == nil {
			out.Labels = ds.Labels
		} else if !slices.Equal(out.Labels, ds.Labels) {
			return Dataset{}, fmt.Errorf("textclass: load dataset %s: %s has labels %v, others %v", path, n, ds.Labels, out.Labels)
		}
		out.Examples = append(out.Examples, ds.Examples...)
		names = append(names, n)
	}
	if len(names) == 0 {
		return Dataset{}, fmt.Errorf("%w: %s holds no recognised data files", ErrLayout, path)
	}
	out.Name = filepath.Base(path)
	if split != "" {
		out.Name += ":" + split
	}
	return out, nil
}

// DetectLayout says which layout a data file has, from its first line.
func DetectLayout(path string) (Layout, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("textclass: load dataset: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("textclass: load dataset: %w", err)
	}
	line = strings.TrimPrefix(strings.TrimRight(line, "\r\n"), "\ufeff")
	switch {
	case strings.Contains(line, "CONTENT") && strings.Contains(line, "CLASS"):
		return LayoutYouTube, nil
	case line == "label\ttext_a":
		return LayoutChnSentiCorp, nil
	case line == "label,review":
		return LayoutWaimai, nil
	case strings.HasPrefix(line, "label,text"):
		return LayoutAirline, nil
	case strings.HasPrefix(line, "ham\t"), strings.HasPrefix(line, "spam\t"):
		return LayoutSMS, nil
	}
	return "", fmt.Errorf("%w: %s", ErrLayout, path)
}

func loadFile(path string) (Dataset, error) {
	layout, err := DetectLayout(path)
	if err != nil {
		return Dataset{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Dataset{}, fmt.Errorf("textclass: load dataset: %w", err)
	}
	defer f.Close()
	ds := Dataset{Name: filepath.Base(path)}
	bad := func(line int, why string) (Dataset, error) {
		return Dataset{}, fmt.Errorf("textclass: load dataset %s: record %d: %s", path, line, why)
	}
	switch layout {
	case LayoutSMS, LayoutChnSentiCorp:
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		n := 0
		if layout == LayoutSMS {
			ds.Labels = SpamLabels
		} else {
			ds.Labels = PolarityLabels
		}
		for sc.Scan() {
			n++
			line := strings.TrimRight(sc.Text(), "\r")
			if line == "" || (layout == LayoutChnSentiCorp && n == 1) {
				continue
			}
			lab, text, ok := strings.Cut(line, "\t")
			if !ok {
				return bad(n, "no tab")
			}
			var l int
			if layout == LayoutSMS {
				l = slices.Index(SpamLabels, lab)
			} else {
				l = binaryLabel(lab)
			}
			if l < 0 {
				return bad(n, fmt.Sprintf("label %q", lab))
			}
			ds.Examples = append(ds.Examples, Example{Text: text, Label: l})
		}
		if err := sc.Err(); err != nil {
			return Dataset{}, fmt.Errorf("textclass: load dataset %s: %w", path, err)
		}
		return ds, nil
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	head, err := r.Read()
	if err != nil {
		return Dataset{}, fmt.Errorf("textclass: load dataset %s: %w", path, err)
	}
	col := func(name string) int {
		for i, h := range head {
			if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(h), "\ufeff"), name) {
				return i
			}
		}
		return -1
	}
	var ti, li int
	si := -1 // source column
	switch layout {
	case LayoutYouTube:
		ds.Labels, ti, li = SpamLabels, col("CONTENT"), col("CLASS")
	case LayoutAirline:
		ds.Labels, ti, li, si = SentimentLabels, col("text"), col("label"), col("airline")
	case LayoutWaimai:
		ds.Labels, ti, li = PolarityLabels, col("review"), col("label")
	}
	if ti < 0 || li < 0 {
		return Dataset{}, fmt.Errorf("%w: %s: missing columns", ErrLayout, path)
	}
	for n := 2; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Dataset{}, fmt.Errorf("textclass: load dataset %s: %w", path, err)
		}
		if len(rec) <= max(ti, li) {
			return bad(n, "too few fields")
		}
		lab := strings.TrimSpace(rec[li])
		l := -1
		switch layout {
		case LayoutYouTube, LayoutWaimai:
			l = binaryLabel(lab)
		case LayoutAirline:
			l = slices.Index(SentimentLabels, strings.ToLower(lab))
		}
		if l < 0 {
			return bad(n, fmt.Sprintf("label %q", lab))
		}
		text := rec[ti]
		if layout == LayoutYouTube {
			text = cleanHTML(text)
		}
		src := ""
		if si >= 0 && si < len(rec) {
			src = strings.TrimSpace(rec[si])
		}
		ds.Examples = append(ds.Examples, Example{Text: text, Label: l, Source: src})
	}
	return ds, nil
}

func binaryLabel(s string) int {
	switch strings.TrimSpace(s) {
	case "0":
		return 0
	case "1":
		return 1
	}
	return -1
}

// cleanHTML unescapes entities and turns the <br /> and link markup of
// YouTube comments into plain text, keeping link targets.
func cleanHTML(s string) string {
	s = strings.NewReplacer("<br />", " ", "<br/>", " ", "<br>", " ", "</a>", " ", "\ufeff", "").Replace(s)
	for {
		i := strings.Index(s, "<a ")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		tag := s[i : i+j+1]
		href := ""
		if k := strings.Index(tag, `href="`); k >= 0 {
			rest := tag[k+6:]
			if e := strings.IndexByte(rest, '"'); e >= 0 {
				href = rest[:e]
			}
		}
		s = s[:i] + href + " " + s[i+j+1:]
	}
	return strings.TrimSpace(html.UnescapeString(html.UnescapeString(s)))
}

// normaliseLabel maps TweetEval's mapping names onto the project's.
func normaliseLabel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, " ", "-")
	s = strings.ReplaceAll(s, "_", "-")
	switch s {
	case "not-offensive", "non-offensive", "notoffensive":
		return "not-offensive"
	case "not-hate", "non-hate", "nothate":
		return "not-hate"
	}
	return s
}

func loadTweetEval(dir, split string) (Dataset, error) {
	if split == "" {
		split = "test"
		if _, err := os.Stat(filepath.Join(dir, "test_text.txt")); err != nil {
			split = "val"
		}
	}
	mb, err := os.ReadFile(filepath.Join(dir, "mapping.txt"))
	if err != nil {
		return Dataset{}, fmt.Errorf("textclass: load dataset: %w", err)
	}
	var labels []string
	for i, line := range strings.Split(strings.TrimSpace(string(mb)), "\n") {
		idx, name, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			f := strings.Fields(line)
			if len(f) != 2 {
				return Dataset{}, fmt.Errorf("textclass: load dataset %s: mapping line %d", dir, i+1)
			}
			idx, name = f[0], f[1]
		}
		if n, err := strconv.Atoi(strings.TrimSpace(idx)); err != nil || n != i {
			return Dataset{}, fmt.Errorf("textclass: load dataset %s: mapping line %d: index %q", dir, i+1, idx)
		}
		labels = append(labels, normaliseLabel(name))
	}
	texts, err := readLines(filepath.Join(dir, split+"_text.txt"))
	if err != nil {
		return Dataset{}, err
	}
	labs, err := readLines(filepath.Join(dir, split+"_labels.txt"))
	if err != nil {
		return Dataset{}, err
	}
	if len(texts) != len(labs) {
		return Dataset{}, fmt.Errorf("textclass: load dataset %s: %d texts but %d labels", dir, len(texts), len(labs))
	}
	ds := Dataset{Name: filepath.Base(dir) + ":" + split, Labels: labels, Examples: make([]Example, 0, len(texts))}
	for i, t := range texts {
		l, err := strconv.Atoi(strings.TrimSpace(labs[i]))
		if err != nil || l < 0 || l >= len(labels) {
			return Dataset{}, fmt.Errorf("textclass: load dataset %s: label line %d: %q", dir, i+1, labs[i])
		}
		ds.Examples = append(ds.Examples, Example{Text: t, Label: l})
	}
	return ds, nil
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("textclass: load dataset: %w", err)
	}
	s := strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\n"), nil
}

// Sources lists the distinct non-empty Example.Source values of ds in the
// order they first appear.
func (ds Dataset) Sources() []string {
	var out []string
	seen := map[string]bool{}
	for _, ex := range ds.Examples {
		if ex.Source != "" && !seen[ex.Source] {
			seen[ex.Source] = true
			out = append(out, ex.Source)
		}
	}
	return out
}

// Without divides ds by source: the examples of source src go to held,
// the rest to train. It is the split of leave-one-source-out validation.
func (ds Dataset) Without(src string) (train, held Dataset) {
	train = Dataset{Name: ds.Name + " without " + src, Labels: ds.Labels}
	held = Dataset{Name: ds.Name + ":" + src, Labels: ds.Labels}
	for _, ex := range ds.Examples {
		if ex.Source == src {
			held.Examples = append(held.Examples, ex)
		} else {
			train.Examples = append(train.Examples, ex)
		}
	}
	return train, held
}

// Split divides ds deterministically: every k-th example (index i with
// i%k == r) goes to the second set, the rest to the first. Used to hold
// out evaluation data from a file that has no separate split.
func (ds Dataset) Split(k, r int) (train, held Dataset) {
	train = Dataset{Name: ds.Name, Labels: ds.Labels}
	held = Dataset{Name: ds.Name + fmt.Sprintf(":held%d/%d", r, k), Labels: ds.Labels}
	for i, ex := range ds.Examples {
		if k > 0 && i%k == r {
			held.Examples = append(held.Examples, ex)
		} else {
			train.Examples = append(train.Examples, ex)
		}
	}
	return train, held
}
