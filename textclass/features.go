package textclass

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// DefaultHashBits is the number of hash bits used when FeatureConfig leaves
// HashBits zero: 2^18 buckets, within about a point of the full vocabulary
// on the project's data sets.
const DefaultHashBits = 18

// FeatureConfig says how text becomes a feature vector. It is stored in the
// model file, except Extra, which is code: a model trained with Extra must be
// loaded with WithExtra.
type FeatureConfig struct {
	// WordMin and WordMax bound the word n-gram orders (default 1 and 2).
	// WordMax < 0 disables word n-grams.
	WordMin int `json:"word_min"`
	WordMax int `json:"word_max"`
	// CharMin and CharMax bound the character n-gram orders taken inside
	// each token padded with spaces (default 2 and 5; 1 and 3 suit
	// Chinese). CharMax < 0 disables character n-grams.
	CharMin int `json:"char_min"`
	CharMax int `json:"char_max"`
	// WordsOnly keeps only runs of letters and digits of at least two
	// runes (a single Han character counts) as tokens: punctuation,
	// symbols, emoji and one-letter words make no n-grams. Style marks
	// like "!" and "..." tell one corpus from another more than they tell
	// spam from ham, and don't carry over to sources never seen (leave
	// one YouTube video out: ham flagged 7.6% with them, 1.3% without).
	WordsOnly bool `json:"words_only,omitempty"`
	// Handles replaces every @handle with "@user" and every link with
	// "http" before tokenising: whom a tweet is addressed to (@united)
	// says which brand it is about, not how the writer feels, and a
	// brand never seen in training has a handle never seen either.
	Handles bool `json:"handles,omitempty"`
	// Mask lists lower-case words (tokens) that are all replaced by one
	// token, MaskToken, in training and when predicting: names of the
	// brands a data set is about ("united", "delta"), so the model cannot
	// learn one brand's share of complaints as the sentiment of its name
	// (leave one airline out: +2 points of accuracy on the airline whose
	// name it never learnt).
	Mask []string `json:"mask,omitempty"`
	// HashBits sets the number of buckets, 2^HashBits (default 18).
	HashBits int `json:"hash_bits"`
	// ExtraDim is the length of the slice Extra returns.
	ExtraDim int `json:"extra_dim,omitempty"`
	// Extra, when set, adds dense features (for example lexicon scores)
	// after the normalised n-gram vector. It must return ExtraDim values
	// and be deterministic.
	Extra func(text string) []float64 `json:"-"`
}

// withDefaults fills zero fields.
func (c FeatureConfig) withDefaults() FeatureConfig {
	if c.WordMin == 0 && c.WordMax == 0 {
		c.WordMin, c.WordMax = 1, 2
	}
	if c.CharMin == 0 && c.CharMax == 0 {
		c.CharMin, c.CharMax = 2, 5
	}
	if c.WordMin <= 0 {
		c.WordMin = 1
	}
	if c.CharMin <= 0 {
		c.CharMin = 1
	}
	if c.HashBits <= 0 {
		c.HashBits = DefaultHashBits
	}
	return c
}

// buckets is the number of hashed buckets.
func (c FeatureConfig) buckets() int { return 1 << c.HashBits }

// dim is the full vector length: buckets then extras.
func (c FeatureConfig) dim() int { return c.buckets() + c.ExtraDim }

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

// tokens splits lower-cased text into runs of letters and digits (a run of
// Han characters is one token; character n-grams split it); every
// other non-space rune (punctuation, symbols, emoji) is a token of its own,
// because "$", "!" and "/" say a lot about spam.
func tokens(text string, buf []string) []string {
	buf = buf[:0]
	text = strings.ToLower(text)
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			buf = append(buf, text[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) {
			buf = append(buf, text[i:i+utf8.RuneLen(r)])
		}
	}
	if start >= 0 {
		buf = append(buf, text[start:])
	}
	return buf
}

var (
	handleRE = regexp.MustCompile(`@\w+`)
	urlRE    = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+`)
)

// wordsOnly filters toks in place to the tokens WordsOnly keeps.
func wordsOnly(toks []string) []string {
	out := toks[:0]
	for _, t := range toks {
		r, n := utf8.DecodeRuneInString(t)
		if !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			continue
		}
		if n == len(t) && !unicode.Is(unicode.Han, r) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// MaskToken is the token every word of FeatureConfig.Mask becomes.
const MaskToken = "brand"

// mask replaces the tokens listed in c.Mask in place.
func (c FeatureConfig) mask(toks []string) {
	for i, t := range toks {
		if slices.Contains(c.Mask, t) {
			toks[i] = MaskToken
		}
	}
}

// hashes returns the bucket of every n-gram of text (with repeats), sorted.
func (c FeatureConfig) hashes(text string, out []uint32) []uint32 {
	return c.buckets32(c.rawHashes(text, out[:0]))
}

// buckets32 turns raw n-gram hashes into buckets, in place, sorted.
func (c FeatureConfig) buckets32(hs []uint32) []uint32 {
	mask := uint32(c.buckets() - 1)
	for i := range hs {
		hs[i] &= mask
	}
	slices.Sort(hs)
	return hs
}

// tokenization names the settings rawHashes reads: two configurations
// with the same one hash a text the same way, whatever their HashBits.
func (c FeatureConfig) tokenization() string {
	b := make([]byte, 0, 32)
	for _, n := range []int{c.WordMin, c.WordMax, c.CharMin, c.CharMax} {
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ',')
	}
	b = strconv.AppendBool(b, c.WordsOnly)
	b = strconv.AppendBool(b, c.Handles)
	for _, m := range c.Mask {
		b = append(b, ',')
		b = append(b, m...)
	}
	return string(b)
}

// sharedHashes is rawHashes(text) through the memory of recent texts
// (hashMemo): the classifiers that read the same text with the same
// tokenization (the question's, the reply's sentences) share one pass.
// The result is a copy the caller owns.
func (c FeatureConfig) sharedHashes(text string) []uint32 {
	key := c.tokenization() + "\x00" + text
	if hs, ok := recentHashes.get(key); ok {
		return slices.Clone(hs)
	}
	hs := c.rawHashes(text, nil)
	recentHashes.put(key, slices.Clone(hs))
	return hs
}

// hashMemo remembers the raw hashes of the last texts classified, by
// tokenization and text: a ring of a fixed size, so it never grows. It is
// safe for concurrent use.
type hashMemo struct {
	mu   sync.Mutex
	m    map[string][]uint32
	ring []string
	next int
}

// memoTexts bounds the memory: room for the texts of the messages being
// handled at once, each read by classifiers of a few tokenizations.
const memoTexts = 512

var recentHashes = &hashMemo{m: make(map[string][]uint32, memoTexts), ring: make([]string, memoTexts)}

func (h *hashMemo) get(key string) ([]uint32, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs, ok := h.m[key]
	return hs, ok
}

func (h *hashMemo) put(key string, hs []uint32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.m[key]; ok {
		return
	}
	if old := h.ring[h.next]; old != "" {
		delete(h.m, old)
	}
	h.ring[h.next] = key
	h.next = (h.next + 1) % len(h.ring)
	h.m[key] = hs
}

// rawHashes appends the hash of every n-gram of text (with repeats) to
// out, before they are reduced to buckets.
func (c FeatureConfig) rawHashes(text string, out []uint32) []uint32 {
	if c.Handles {
		text = handleRE.ReplaceAllString(urlRE.ReplaceAllString(text, " http "), " @user ")
	}
	toks := tokens(text, make([]string, 0, 32))
	if c.WordsOnly {
		toks = wordsOnly(toks)
	}
	if len(c.Mask) > 0 {
		c.mask(toks)
	}
	if c.WordMax > 0 {
		for i := range toks {
			h := uint32(fnvOffset)
			h = (h ^ 'w') * fnvPrime
			for n := 1; n <= c.WordMax && i+n <= len(toks); n++ {
				if n > 1 {
					h = (h ^ ' ') * fnvPrime
				}
				t := toks[i+n-1]
				for j := 0; j < len(t); j++ {
					h = (h ^ uint32(t[j])) * fnvPrime
				}
				if n >= c.WordMin {
					out = append(out, h)
				}
			}
		}
	}
	if c.CharMax > 0 {
		var rs []rune
		for _, t := range toks {
			rs = append(rs[:0], ' ')
			rs = append(rs, []rune(t)...)
			rs = append(rs, ' ')
			for i := range rs {
				h := uint32(fnvOffset)
				h = (h ^ 'c') * fnvPrime
				for n := 1; n <= c.CharMax && i+n <= len(rs); n++ {
					r := rs[i+n-1]
					h = (h ^ uint32(r&0xff)) * fnvPrime
					h = (h ^ uint32(r>>8)) * fnvPrime
					if n >= c.CharMin && !(n == 1 && r == ' ') {
						out = append(out, h)
					}
				}
			}
		}
	}
	return out
}

// sparse is a feature vector: sorted indices and their values.
type sparse struct {
	idx []int32
	val []float32
}

// vectorize turns text into its TF-IDF vector (sublinear tf, idf, L2
// normalised) followed by the extras. idf nil means all ones (used while
// counting document frequencies).
func (c FeatureConfig) vectorize(text string, idf []float32, hbuf []uint32) sparse {
	return c.vectorizeHashes(text, c.hashes(text, hbuf), idf, nil)
}

// vectorizeHashes is vectorize over the text's buckets hs (sorted), with
// the idf as float32 or, for a loaded model, as stored (idfH).
func (c FeatureConfig) vectorizeHashes(text string, hs []uint32, idf []float32, idfH []uint16) sparse {
	var v sparse
	v.idx = make([]int32, 0, len(hs)/2+c.ExtraDim)
	v.val = make([]float32, 0, len(hs)/2+c.ExtraDim)
	var norm float64
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j] == hs[i] {
			j++
		}
		w := float32(1)
		switch {
		case idf != nil:
			w = idf[hs[i]]
		case idfH != nil:
			w = decodeIDF(idfH[hs[i]])
		}
		if w != 0 {
			x := (1 + float32(math.Log(float64(j-i)))) * w
			v.idx = append(v.idx, int32(hs[i]))
			v.val = append(v.val, x)
			norm += float64(x) * float64(x)
		}
		i = j
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range v.val {
			v.val[i] *= inv
		}
	}
	if c.ExtraDim > 0 && c.Extra != nil {
		ex := c.Extra(text)
		base := int32(c.buckets())
		for i := 0; i < c.ExtraDim && i < len(ex); i++ {
			if ex[i] != 0 && !math.IsNaN(ex[i]) && !math.IsInf(ex[i], 0) {
				v.idx = append(v.idx, base+int32(i))
				v.val = append(v.val, float32(ex[i]))
			}
		}
	}
	return v
}
