package bot

import (
	"strings"
	"unicode/utf8"
)

// SplitText cuts text into pieces of at most max runes, preferring to cut at
// a paragraph break, then a line break, then the end of a sentence, then a
// space, and only then inside a word. Pieces are trimmed of the white space
// at the cut. max <= 0 means no limit.
func SplitText(text string, max int) []string {
	if max <= 0 || utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	var out []string
	for utf8.RuneCountInString(text) > max {
		// byte offset of the max-th rune
		limit := 0
		for i := 0; i < max; i++ {
			_, n := utf8.DecodeRuneInString(text[limit:])
			limit += n
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
