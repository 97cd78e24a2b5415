package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NoAnswerMarker is what the model writes, and the offline provider too,
// when the facts it was given don't answer the question. The engine strips
// it before anything is shown (even while streaming) and records the
// question as unanswered.
const NoAnswerMarker = "[[no-answer]]"

// markerFilter removes NoAnswerMarker, in any case, from a reply arriving
// in pieces: a tail that could be the start of the marker is held back
// until the next piece says what it is, so the marker is never shown, not
// even for one streamed edit. The spaces a removed marker leaves at the
// start of the reply, or after a space, go with it.
type markerFilter struct {
	held  string
	found bool
	// skip is set after a marker, until the next visible character.
	skip bool
	// last is the last character let through, 0 before any.
	last rune
}

// Write takes the next piece and returns what may be shown now.
func (f *markerFilter) Write(d string) string {
	s := f.held + d
	f.held = ""
	var out strings.Builder
	for {
		i := indexFold(s, NoAnswerMarker)
		if i < 0 {
			break
		}
		f.found = true
		f.emit(&out, s[:i])
		f.skip = true
		s = s[i+len(NoAnswerMarker):]
	}
	// Hold back the longest suffix that is a prefix of the marker.
	for n := min(len(s), len(NoAnswerMarker)-1); n > 0; n-- {
		if strings.EqualFold(s[len(s)-n:], NoAnswerMarker[:n]) && utf8.ValidString(s[len(s)-n:]) {
			f.held = s[len(s)-n:]
			s = s[:len(s)-n]
			break
		}
	}
	f.emit(&out, s)
	return out.String()
}

// emit lets s through, without the spaces right after a removed marker
// when nothing came before it or a space did.
func (f *markerFilter) emit(b *strings.Builder, s string) {
	if f.skip && s != "" {
		if f.last == 0 || unicode.IsSpace(f.last) {
			s = strings.TrimLeftFunc(s, unicode.IsSpace)
		}
		if s != "" {
			f.skip = false
		}
	}
	if s != "" {
		f.last, _ = utf8.DecodeLastRuneInString(s)
		b.WriteString(s)
	}
}

// Flush returns what is held back at the end of the reply.
func (f *markerFilter) Flush() string {
	s := f.held
	f.held = ""
	var b strings.Builder
	f.emit(&b, s)
	return b.String()
}

// StripNoAnswer removes NoAnswerMarker from a complete reply, with the
// spaces it leaves (the reply's lines and paragraphs are kept), and
// reports whether it was there.
func StripNoAnswer(s string) (string, bool) {
	var f markerFilter
	out := f.Write(s) + f.Flush()
	if !f.found {
		return s, false
	}
	return strings.TrimRightFunc(out, unicode.IsSpace), true
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}
