package moderation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// confusables folds look-alike letters from other scripts onto the Latin
// letters they imitate, the usual way to slip a word past a filter.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ԁ': 'd', 'ɡ': 'g', 'һ': 'h',
	'ո': 'n', 'ս': 'u', 'ᴠ': 'v', 'ԝ': 'w',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'γ': 'y', 'ς': 's', 'ω': 'w',
	// Latin variants
	'ı': 'i', 'ł': 'l', 'ø': 'o', 'ß': 's', 'ſ': 's', 'ɑ': 'a', 'ɩ': 'i',
}

// leet folds digits and symbols used as letters. It applies only inside
// a word that also has letters, so "2024" and "$5" stay as they are.
var leet = map[rune]rune{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g',
	'@': 'a', '$': 's', '!': 'i', '|': 'l', '€': 'e',
}

// invisible reports runes that render as nothing and are used to split
// words invisibly: zero-width characters, bidi controls, soft hyphens,
// variation selectors.
func invisible(r rune) bool {
	switch {
	case r == '\u00ad', r == '\u034f', r == '\u061c', r == '\u115f', r == '\u1160', r == '\u17b4', r == '\u17b5',
		r == '\u180e', r >= '\u200b' && r <= '\u200f', r >= '\u202a' && r <= '\u202e',
		r >= '\u2060' && r <= '\u206f', r == '\u3164', r == '\ufeff', r == '\uffa0',
		r >= '\ufe00' && r <= '\ufe0f', r >= 0xe0000 && r <= 0xe0fff:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

var folder = cases.Fold()

// maxRepeat is how many copies of one rune Normalize keeps in a row.
const maxRepeat = 2

// Normalize returns the form of s that the rules match against: Unicode
// NFKC (full-width and styled letters become plain ones), case folded,
// invisible and bidi control characters removed, look-alike letters from
// other scripts and leetspeak inside words folded to Latin letters
// (fr3e, ｆｒｅｅ and a Cyrillic е all read "free"), combining marks dropped,
// white space collapsed, and runs of one character longer than two
// squeezed to two ("freeeee" reads "free"). Keep the original for logs.
func Normalize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !invisible(r) {
			b.WriteRune(r)
		}
	}
	s = folder.String(norm.NFKC.String(b.String()))
	// Decompose to drop accents used to disguise letters (frée).
	s = norm.NFD.String(s)
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) || invisible(r) {
			continue
		}
		if c, ok := confusables[r]; ok {
			r = c
		}
		r = foldCherokee(r)
		if unicode.IsSpace(r) {
			r = ' '
		}
		rs = append(rs, r)
	}
	// Leetspeak, word by word: a word is a run of letters, digits and
	// the leet symbols; it is folded only when it holds a letter.
	for i := 0; i < len(rs); {
		if !wordish(rs[i]) {
			i++
			continue
		}
		j, letters := i, 0
		for j < len(rs) && wordish(rs[j]) {
			if unicode.IsLetter(rs[j]) {
				letters++
			}
			j++
		}
		// Trailing "!" is punctuation, not an i.
		end := j
		for end > i && (rs[end-1] == '!' || rs[end-1] == '@' || rs[end-1] == '$' || rs[end-1] == '|') {
			end--
		}
		if letters > 0 {
			for k := i; k < end; k++ {
				if c, ok := leet[rs[k]]; ok {
					rs[k] = c
				}
			}
		}
		i = j
	}
	b.Reset()
	var prev rune
	run := 0
	for _, r := range rs {
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		if run > maxRepeat || (r == ' ' && run > 1) {
			continue
		}
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	return norm.NFC.String(out)
}

// foldCherokee maps Cherokee small letters to the capitals Unicode's case
// folding gives them. x/text's cases.Fold turns capitals into small letters
// and small letters into capitals, so without this a second Normalize
// would change its own output ("Ꮷ" -> "ꮷ" -> "Ꮷ", found by FuzzNormalize).
func foldCherokee(r rune) rune {
	switch {
	case r >= 0xAB70 && r <= 0xABBF:
		return r - 0xAB70 + 0x13A0
	case r >= 0x13F8 && r <= 0x13FD:
		return r - 8
	}
	return r
}

func wordish(r rune) bool {
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return true
	}
	_, ok := leet[r]
	return ok
}

// Squeeze is the form WordList.Match takes: Normalize's output with every
// run of one rune squeezed to a single rune, so "heeello" and "hello"
// meet.
func Squeeze(normalized string) string { return squeeze1(normalized) }

// squeeze1 squeezes every run of one rune to a single rune; the word
// matcher compares patterns and text in this form, so "heeello" and
// "hello" meet.
func squeeze1(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var prev rune = -1
	for _, r := range s {
		if r != prev {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// isCJK reports scripts written without spaces between words, where a
// listed word is matched as a substring.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}
