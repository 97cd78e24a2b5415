package bot

import (
	"strings"
	"unicode/utf8"
)

// SplitText cuts text into pieces of at most max runes, preferring to cut at
// a paragraph break, then a line break, then the end of a sentence, then a
// space, and only then inside a word. Pieces are trimmed of the white space
// at the cut. max <= 0 means no limit. Limits.Split cuts by the platform's
// own measure.
func SplitText(text string, max int) []string {
	return splitBy(text, max, func(rune) int { return 1 })
}

// utf16Units is how many UTF-16 code units r takes: 2 outside the Basic
// Multilingual Plane.
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// measure is the length of s with each rune counted by units.
func measure(s string, units func(rune) int) int {
	n := 0
	for _, r := range s {
		n += units(r)
	}
	return n
}

// splitBy is SplitText with each rune counted by units.
func splitBy(text string, max int, units func(rune) int) []string {
	if max <= 0 || measure(text, units) <= max {
		return []string{text}
	}
	var out []string
	for measure(text, units) > max {
		// byte offset after the longest prefix of at most max units
		limit, n := 0, 0
		for limit < len(text) {
			r, size := utf8.DecodeRuneInString(text[limit:])
			if n+units(r) > max {
				break
			}
			n += units(r)
			limit += size
		}
		if limit == 0 { // max below one character: take one anyway
			_, limit = utf8.DecodeRuneInString(text)
		}
		window := text[:limit]
		cut := bestCut(window)
		piece := strings.TrimRight(text[:cut], " \n\t")
		if piece == "" { // only white space before the cut: hard cut
			piece, cut = window, limit
		}
		out = append(out, piece)
		text = strings.TrimLeft(text[cut:], " \n\t")
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// bestCut returns the byte offset to cut window at: after the last good
// boundary in its second half, or at its end.
func bestCut(window string) int {
	half := len(window) / 2
	for _, sep := range []string{"\n\n", "\n"} {
		if i := strings.LastIndex(window, sep); i >= half {
			return i + len(sep)
		}
	}
	best := -1
	for _, sep := range []string{". ", "! ", "? ", "。", "！", "？", "; "} {
		if i := strings.LastIndex(window, sep); i >= half && i+len(sep) > best {
			best = i + len(sep)
		}
	}
	if best > 0 {
		return best
	}
	if i := strings.LastIndex(window, " "); i >= half {
		return i + 1
	}
	return len(window)
}
