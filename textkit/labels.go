package textkit

import (
	"strings"
	"unicode/utf8"
)

// Labels remembers the surface forms each term was written as, so that a
// topic found by its stem ("arriv") is shown as the word people wrote
// ("arrived"). The zero value is ready; it is not safe for concurrent use.
type Labels struct {
	seen map[string]map[string]int
}

// Add records that w was seen.
func (l *Labels) Add(w Word) { l.AddSurface(w.Term, w.Text) }

// AddSurface records that term was written as surface.
func (l *Labels) AddSurface(term, surface string) {
	if l.seen == nil {
		l.seen = map[string]map[string]int{}
	}
	m := l.seen[term]
	if m == nil {
		m = map[string]int{}
		l.seen[term] = m
	}
	m[surface]++
}

// Label returns the surface form term was seen as most often (ties: the
// shorter, then the first in alphabetical order), or Display(term) when
// it was never seen.
func (l *Labels) Label(term string) string {
	best, n := "", 0
	for s, c := range l.seen[term] {
		switch {
		case c > n,
			c == n && utf8.RuneCountInString(s) < utf8.RuneCountInString(best),
			c == n && utf8.RuneCountInString(s) == utf8.RuneCountInString(best) && s < best:
			best, n = s, c
		}
	}
	if best == "" {
		return Display(term)
	}
	return best
}

// Topic reports whether w can name a topic: a content word, not filler,
// not a number, of at least three letters (English) or two characters
// (Chinese).
func Topic(w Word) bool {
	if w.Stop || w.Number || IsFiller(w) {
		return false
	}
	n := utf8.RuneCountInString(w.Text)
	if w.Han {
		return n >= 2
	}
	if n < 3 || n > 30 {
		return false
	}
	digits := 0
	for _, r := range w.Text {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits*2 < n // ids and codes are not topics
}

// Phrase joins two neighbouring words into one: its Term is the two terms
// with a space, its Text the two surfaces as written together ("oat
// milk", "燕麦奶").
func Phrase(a, b Word) Word {
	return Word{Text: joinSurface(a.Text, b.Text), Term: a.Term + " " + b.Term, Han: a.Han && b.Han}
}

func joinSurface(a, b string) string {
	ra, _ := utf8.DecodeLastRuneInString(a)
	rb, _ := utf8.DecodeRuneInString(b)
	if IsHan(ra) && IsHan(rb) {
		return a + b
	}
	return a + " " + b
}

// Display writes a term or a space-separated phrase of surface words for
// a person: the spaces between two Chinese words go ("燕麦 奶" is
// "燕麦奶").
func Display(term string) string {
	fs := strings.Fields(term)
	if len(fs) == 0 {
		return ""
	}
	s := fs[0]
	for _, f := range fs[1:] {
		s = joinSurface(s, f)
	}
	return s
}
