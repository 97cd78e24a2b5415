package textkit

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// MaxWordBytes bounds one Latin word; longer runs of letters are cut, so a
// pasted hash or a wall of letters can't make a huge term.
const MaxWordBytes = 64

// Word is one word of a text.
type Word struct {
	// Text is the word as written, lower-cased: what a label shows.
	Text string
	// Term is the form that matches: English lower-cased, accents folded
	// and stemmed; a Chinese word as it is.
	Term string
	// Han is set for a Chinese word.
	Han bool
	// Stop is set for a function word ("the", "how", "的", "怎么").
	Stop bool
	// Number is set for a word made only of digits.
	Number bool
	// Break is set when punctuation or a line break comes between this
	// word and the one before (or it is the first word): two words are
	// one phrase only without a break between them. A hyphen after a
	// word is no break ("Asia-Pacific").
	Break bool
}

// Words splits text into words, in order: runs of Latin letters and
// digits (apostrophes inside a word dropped: "don't" is "dont"), and
// Chinese segmented into words. Punctuation, symbols, emoji and spaces
// separate words and are not returned.
func Words(text string) []Word {
	var out []Word
	brk := true
	var word strings.Builder
	caps := 0 // capital letters in word; -1 once it has a small one
	hanStart := -1
	flushWord := func() {
		if word.Len() == 0 {
			return
		}
		if w, ok := latinWord(word.String(), brk, caps >= 2); ok {
			out = append(out, w)
			brk = false
		}
		word.Reset()
		caps = 0
	}
	flushHan := func(end int) {
		if hanStart < 0 {
			return
		}
		for _, w := range segment(text[hanStart:end]) {
			out = append(out, Word{Text: w, Term: w, Han: true, Stop: zhStop[w], Break: brk})
			brk = false
		}
		hanStart = -1
	}
	for i, r := range text {
		switch {
		case IsHan(r):
			flushWord()
			if hanStart < 0 {
				hanStart = i
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			flushHan(i)
			if word.Len() < MaxWordBytes {
				word.WriteRune(unicode.ToLower(r))
			}
			switch {
			case unicode.IsUpper(r) && caps >= 0:
				caps++
			case unicode.IsLower(r):
				caps = -1
			}
		case (r == '\'' || r == '\u2019') && word.Len() > 0:
			// inside a word: "don't" -> "dont"
		case r == '-' && word.Len() > 0:
			// between two words ("Asia-Pacific", "cut-off"): no break, so
			// they may be a phrase
			flushWord()
		case unicode.IsSpace(r) && r != '\n':
			flushHan(i)
			flushWord()
		default:
			flushHan(i)
			flushWord()
			brk = true
		}
	}
	flushHan(len(text))
	flushWord()
	return out
}

// latinWord makes a Word of a lower-cased run of letters and digits; a
// run of combining marks alone is no word. An acronym (acronym: written
// in capitals) is never a function word: "US" is the country, "us" a
// pronoun.
func latinWord(w string, brk, acronym bool) (Word, bool) {
	fold := foldAccents(w)
	if fold == "" {
		return Word{}, false
	}
	number := true
	for _, r := range fold {
		if !unicode.IsDigit(r) {
			number = false
			break
		}
	}
	wd := Word{Text: w, Term: fold, Number: number, Break: brk, Stop: enStop[fold] && !(acronym && !notAcronyms[fold])}
	if !number && !wd.Stop {
		wd.Term = Stem(fold)
	}
	return wd, wd.Term != ""
}

// notAcronyms are function words often written in capitals for emphasis.
var notAcronyms = setOf(`ok i a an no so`)

// foldAccents removes combining marks: "café" -> "cafe".
func foldAccents(w string) string {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return w
	}
	d := norm.NFD.String(w)
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, d)
}

// Stem returns the Snowball (Porter2) stem of a lower-case English word;
// words of one or two letters, and words with digits, are returned as
// they are.
func Stem(w string) string {
	if len(w) <= 2 {
		return w
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= '0' && c <= '9' || c >= utf8.RuneSelf {
			return w
		}
	}
	if s, ok := stemExceptions[w]; ok {
		return s
	}
	return english.Stem(w, false)
}

// stemExceptions keep apart words the Snowball stemmer merges with an
// unrelated word: "customer" and "customs" both stem to "custom", and
// "cupping" (a tasting) to "cup".
var stemExceptions = map[string]string{
	"customer": "customer", "customers": "customer",
	"cupping": "cupping", "cuppings": "cupping",
	"organization": "organization", "organizations": "organization",
	"organisation": "organization", "organisations": "organization",
}

// Terms returns the terms of the content words of text, in order,
// duplicates kept: what a search or a similarity compares.
func Terms(text string) []string {
	ws := Words(text)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if !w.Stop {
			out = append(out, w.Term)
		}
	}
	return out
}

// TermSet is the set of Terms of text.
func TermSet(text string) map[string]bool {
	ts := Terms(text)
	m := make(map[string]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
}

// IsHan reports whether r is a CJK ideograph.
func IsHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// HasHan reports whether s holds a CJK ideograph.
func HasHan(s string) bool {
	for _, r := range s {
		if IsHan(r) {
			return true
		}
	}
	return false
}

// Lang guesses the language of s: "zh" when it has Chinese characters and
// few Latin words beside them, else "en".
func Lang(s string) string {
	han, latin := 0, 0
	for _, w := range Words(s) {
		if w.Han {
			han += utf8.RuneCountInString(w.Text)
		} else if !w.Number {
			latin++
		}
	}
	if han > 0 && han >= latin {
		return "zh"
	}
	return "en"
}
