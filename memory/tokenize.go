package memory

import (
	"strings"
	"unicode"
)

// maxTokenBytes bounds one token; longer runs of letters are cut.
const maxTokenBytes = 64

// stopWords are common English words that carry no topic. The list is
// short on purpose: BM25's idf already discounts frequent words, and a
// long list would drop meaningful words ("first", "part").
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be but by can do does for from how
		i if in is it its me my of on or our so that the their them there these they this
		to was we were what when where which who why will with you your`) {
		m[w] = true
	}
	return m
}()

// isHan reports whether r is a CJK ideograph, indexed as unigrams and
// bigrams because Chinese is written without spaces.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// Tokenize splits text into search terms: lower-cased runs of Unicode
// letters and digits (apostrophes inside a word dropped, a small English
// stop-word list removed, plurals lightly stripped), and for Chinese each
// Han character as a unigram plus each adjacent pair as a bigram. The
// same function indexes passages and parses queries.
func Tokenize(text string) []string {
	var out []string
	var word strings.Builder
	flush := func() {
		if word.Len() == 0 {
			return
		}
		w := word.String()
		word.Reset()
		if stopWords[w] {
			return
		}
		out = append(out, stem(w))
	}
	var prevHan rune
	for _, r := range text {
		if isHan(r) {
			flush()
			out = append(out, string(r))
			if prevHan != 0 {
				out = append(out, string([]rune{prevHan, r}))
			}
			prevHan = r
			continue
		}
		prevHan = 0
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if word.Len() < maxTokenBytes {
				word.WriteRune(unicode.ToLower(r))
			}
		case (r == '\'' || r == '\u2019') && word.Len() > 0:
			// "don't" -> "dont", "roaster's" -> "roasters" -> "roaster"
		default:
			flush()
		}
	}
	flush()
	return out
}

// stem strips English plurals lightly: "deliveries" -> "delivery",
// "boxes" -> "box", "beans" -> "bean"; words ending in ss, us or is are
// left alone ("glass", "status", "analysis").
func stem(w string) string {
	n := len(w)
	switch {
	case n > 4 && strings.HasSuffix(w, "ies"):
		return w[:n-3] + "y"
	case n > 4 && (strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes") ||
		strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "zes")):
		return w[:n-2]
	case n > 3 && w[n-1] == 's' && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:n-1]
	}
	return w
}
