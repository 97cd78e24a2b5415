package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// HardSentenceRunes is the longest piece the stream writer waits for
// before it checks and shows a clause of a sentence that has not ended:
// a model that never writes a full stop still gets shown, a clause at a
// time.
const HardSentenceRunes = 280

// abbreviations end in a full stop that doesn't end a sentence.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "etc": true, "vs": true, "mr": true, "mrs": true, "ms": true, "dr": true,
	"st": true, "no": true, "approx": true, "inc": true, "ltd": true, "co": true, "u.s": true, "a.m": true,
	"p.m": true, "jr": true, "sr": true, "fig": true, "min": true, "max": true, "dept": true, "est": true,
}

// closers may follow a sentence's final mark and belong to it.
func closer(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '}', '”', '’', '»', '」', '』', '）', '】', '*', '_', '`':
		return true
	}
	return false
}

// SentenceEnd returns the byte length of the first complete sentence of s,
// white space after it included, or -1 when s holds no complete sentence
// yet. A sentence ends at a line break; after '.', '!', '?' or '…' followed
// by white space (closing quotes and brackets belong to it); or right
// after '。', '！', '？'. A full stop after a known abbreviation ("e.g."), a
// single letter or a list number ("1.") ends nothing. When the first hard
// runes (hard > 0) hold no end, the sentence ends at the last clause break
// (",", ";", ":", "，", "；", "：", "、", " — ") or else the last space
// before them, or else after hard runes: a clause at a hard length limit.
func SentenceEnd(s string, hard int) int {
	runes := 0
	lastClause, lastSpace, hardAt := -1, -1, -1
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		runes++
		switch r {
		case '\n':
			return i + n + spaceAfter(s[i+n:])
		case '。', '！', '？':
			j := i + n + closersAfter(s[i+n:])
			return j + spaceAfter(s[j:])
		case '.', '!', '?', '…':
			j := i + n + closersAfter(s[i+n:])
			if j >= len(s) {
				return -1 // the next rune decides
			}
			next, _ := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(next) && !(r == '.' && notAnEnd(s[:i])) {
				return j + spaceAfter(s[j:])
			}
		case ',', ';', ':', '，', '；', '：', '、':
			lastClause = i + n
		case ' ', '\t':
			lastSpace = i + n
			if strings.HasPrefix(s[i+n:], "— ") || strings.HasPrefix(s[i+n:], "- ") {
				lastClause = i + n
			}
		}
		i += n
		if hard > 0 && runes == hard {
			hardAt = i
			break
		}
	}
	if hardAt < 0 {
		return -1
	}
	cut := hardAt
	switch {
	case lastClause > 0:
		cut = lastClause
	case lastSpace > 0:
		cut = lastSpace
	}
	return cut + spaceAfter(s[cut:])
}

// notAnEnd reports whether the full stop after head is not a sentence's
// end: head ends with an abbreviation, a single letter (an initial) or is
// only a list number.
func notAnEnd(head string) bool {
	i := strings.LastIndexFunc(head, unicode.IsSpace) + 1
	word := strings.ToLower(strings.TrimLeft(head[i:], "([\"'*_"))
	if word == "" {
		return false
	}
	if abbreviations[word] {
		return true
	}
	if utf8.RuneCountInString(word) == 1 && unicode.IsLetter([]rune(word)[0]) {
		return true
	}
	if strings.TrimSpace(head[:i]) == "" || strings.HasSuffix(strings.TrimRight(head[:i], " \t"), "\n") {
		for _, r := range word {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true // "1. " opening a line is a list item
	}
	return false
}

func closersAfter(s string) int {
	n := 0
	for k := 0; k < 3 && n < len(s); k++ {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !closer(r) {
			break
		}
		n += size
	}
	return n
}

// spaceAfter is the length of the white space s starts with, up to and
// including the first line break.
func spaceAfter(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !unicode.IsSpace(r) {
			break
		}
		n += size
		if r == '\n' {
			break
		}
	}
	return n
}

// Sentences cuts text into the pieces SentenceEnd finds, the last one
// being whatever follows the last end. The pieces concatenate back to
// text exactly.
func Sentences(text string, hard int) []string {
	var out []string
	for text != "" {
		n := SentenceEnd(text, hard)
		if n <= 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:n])
		text = text[n:]
	}
	return out
}
