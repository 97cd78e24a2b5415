package bot

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Personal data is masked in three places with the same detectors: before
// text leaves the machine for a remote model (the llm package, which puts
// the values back in the reply), in quotes that reports show (MaskPII), and
// in the moderation and audit excerpts Chorus stores.

// Placeholder labels of the built-in detectors.
const (
	LabelEmail = "EMAIL"
	LabelPhone = "PHONE"
	LabelCard  = "CARD"
	LabelIBAN  = "IBAN"
)

// maskRule finds one kind of personal data. check, when set, validates a
// match and may shorten it; it returns the length to keep, 0 to skip.
type maskRule struct {
	label string
	re    *regexp.Regexp
	check func(string) int
	// minDigits, needAt and needIBAN let Mask skip the regexp on a line
	// that can't match (most lines), since scanning is the whole cost:
	// each is a condition every match of re meets.
	minDigits int
	needAt    bool
	needIBAN  bool
	// builtin rules never match across a line break, so their matches
	// can be found line by line; custom patterns may, and are run on the
	// whole text.
	builtin bool
}

var (
	reEmail = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	reIBAN  = regexp.MustCompile(`\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b`)
	reCard  = regexp.MustCompile(`\b[0-9](?:[ \-]?[0-9]){12,18}\b`)
	// International (+44 20 7946 0958, 0044 ..., +1-555-123-4567).
	rePhoneIntl = regexp.MustCompile(`(?:\+|\b00)[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{1,4}\)?){2,6}`)
	// North American (555) 123-4567, 555.123.4567.
	rePhoneNA = regexp.MustCompile(`(?:\([0-9]{3}\)|\b[0-9]{3})[ .\-]?[0-9]{3}[ .\-][0-9]{4}\b`)
	// Trunk-prefixed national numbers: 020 7946 0958, 07700 900123.
	rePhoneTrunk = regexp.MustCompile(`\b0[0-9]{2,4}[ .\-]?[0-9]{3,4}[ .\-]?[0-9]{3,4}\b`)
	// Chinese mobile numbers: 13800138000.
	rePhoneCN = regexp.MustCompile(`\b1[3-9][0-9]{9}\b`)
	// rePlaceholder matches anything shaped like a placeholder.
	rePlaceholder = regexp.MustCompile(`\[[A-Z][A-Z0-9_]*_[0-9]+\]`)
	reLabelClean  = regexp.MustCompile(`[^A-Z0-9_]+`)
)

func builtinRules() []maskRule {
	return []maskRule{
		{label: LabelEmail, re: reEmail, needAt: true, builtin: true},
		{label: LabelIBAN, re: reIBAN, check: checkIBAN, minDigits: 2, needIBAN: true, builtin: true},
		{label: LabelCard, re: reCard, check: checkCard, minDigits: 13, builtin: true},
		{label: LabelPhone, re: rePhoneIntl, check: checkPhone(8, 15), minDigits: 8, builtin: true},
		{label: LabelPhone, re: rePhoneNA, check: checkPhone(10, 10), minDigits: 10, builtin: true},
		{label: LabelPhone, re: rePhoneCN, minDigits: 11, builtin: true},
		{label: LabelPhone, re: rePhoneTrunk, check: checkPhone(10, 11), minDigits: 10, builtin: true},
	}
}

// Masker replaces personal data with placeholders and puts it back. One
// Masker serves one request: the same value always gets the same
// placeholder, so the model can still tell two addresses apart and refer
// back to them. It is not safe for concurrent use.
type Masker struct {
	rules []maskRule
	// custom is how many of rules (the first) are custom patterns.
	custom int
	// lines, shared by a Masker's forks, remembers the matches found in
	// each line of text seen lately (see spanCache), so that the persona,
	// passages and turns that every request repeats are scanned once.
	lines   *spanCache
	byValue map[string]string // label + "\x00" + value -> placeholder
	byPH    map[string]string // placeholder -> value
	next    map[string]int
	longest int
}

// NewMasker returns a masker with the built-in detectors (emails, phone
// numbers, Luhn-valid card numbers, mod-97-valid IBANs) and the extra
// patterns, which are tried first, in name order.
func NewMasker(patterns map[string]string) (*Masker, error) {
	var custom []maskRule
	names := make([]string, 0, len(patterns))
	for n := range patterns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		re, err := regexp.Compile(patterns[n])
		if err != nil {
			return nil, fmt.Errorf("bot: mask pattern %q: %w", n, err)
		}
		label := strings.Trim(reLabelClean.ReplaceAllString(strings.ToUpper(n), "_"), "_")
		if label == "" || label[0] < 'A' || label[0] > 'Z' {
			label = "X" + label
		}
		custom = append(custom, maskRule{label: label, re: re})
	}
	m := &Masker{rules: append(custom, builtinRules()...), custom: len(custom), lines: newSpanCache(spanCacheLines, spanCacheBytes)}
	return m.Fork(), nil
}

// Fork returns a masker with the same rules and no placeholders yet: one
// per request, so placeholders never leak from one request to another.
// Forks share the memory of matches found (it holds no placeholder).
func (m *Masker) Fork() *Masker {
	return &Masker{rules: m.rules, custom: m.custom, lines: m.lines, byValue: map[string]string{}, byPH: map[string]string{}, next: map[string]int{}}
}

type span struct {
	start, end int
	label      string
}

// Mask returns text with personal data replaced by placeholders. Mask then
// Unmask on the same Masker gives text back unchanged.
//
// The built-in detectors never match across a line break, so their
// matches are found line by line, and a line seen lately (the persona,
// a passage, a turn of the window: what every request repeats) is not
// scanned again; custom patterns run on the whole text. The result is the
// same as scanning the whole text with every rule in order (spans of an
// earlier rule win over overlapping later ones).
func (m *Masker) Mask(text string) string {
	spans := m.find(text)
	if len(spans) == 0 {
		return text
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, sp := range spans {
		b.WriteString(text[last:sp.start])
		b.WriteString(m.placeholder(sp.label, text[sp.start:sp.end], text))
		last = sp.end
	}
	b.WriteString(text[last:])
	return b.String()
}

// find returns the spans to mask in text, in no particular order.
func (m *Masker) find(text string) []span {
	var spans []span
	for _, r := range m.rules[:m.custom] {
		spans = r.add(spans, text)
	}
	builtin := m.rules[m.custom:]
	// cands holds the built-in rules' matches of every line, each rule's
	// in turn after the custom ones have claimed their spans.
	var cands []cand
	for off := 0; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		if line := text[off:end]; mayMatch(builtin, line) {
			cands = m.lineMatches(cands, builtin, line, off)
		}
		off = end + 1
	}
	if len(cands) == 0 {
		return spans
	}
	for ri := range builtin {
		for _, c := range cands {
			if int(c.rule) == ri && !overlaps(spans, c.start, c.end) {
				spans = append(spans, span{c.start, c.end, builtin[ri].label})
			}
		}
	}
	return spans
}

// add appends to spans the matches of r in text that overlap none
// already there.
func (r maskRule) add(spans []span, text string) []span {
	r.matches(text, func(s, e int) {
		if !overlaps(spans, s, e) {
			spans = append(spans, span{s, e, r.label})
		}
	})
	return spans
}

// matches calls fn with each match of r in text that passes its check,
// as long as the check keeps it.
func (r maskRule) matches(text string, fn func(start, end int)) {
	for _, loc := range r.re.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		if e == s {
			continue
		}
		if r.check != nil {
			n := r.check(text[s:e])
			if n == 0 {
				continue
			}
			e = s + n
		}
		fn(s, e)
	}
}

// cand is a match of a built-in rule (its index among them) that passed
// the rule's check, not yet weighed against other rules' matches.
type cand struct {
	rule       uint8
	start, end int
}

// traits are what the rules' quick conditions read from a line: its count
// of digits, whether it has an '@', and whether it has two capital letters
// followed by two digits (how an IBAN starts).
func traits(line string) (digits int, at, iban bool) {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case isDigit(c):
			digits++
		case c == '@':
			at = true
		case c >= 'A' && c <= 'Z':
			if !iban && i+3 < len(line) && line[i+1] >= 'A' && line[i+1] <= 'Z' && isDigit(line[i+2]) && isDigit(line[i+3]) {
				iban = true
			}
		}
	}
	return digits, at, iban
}

// mayMatch reports whether any of rules could match in line: most lines
// have no '@', no IBAN-like start and too few digits.
func mayMatch(rules []maskRule, line string) bool {
	digits, at, iban := traits(line)
	for _, r := range rules {
		if r.applies(digits, at, iban) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// applies reports whether r can match a text with this many digits, an
// '@' or not, an IBAN-like start or not.
func (r maskRule) applies(digits int, at, iban bool) bool {
	return digits >= r.minDigits && (!r.needAt || at) && (!r.needIBAN || iban)
}

// lineMatches appends the built-in rules' matches in line (at offset off
// in the text) to cands, from the cache when the line was seen lately.
func (m *Masker) lineMatches(cands []cand, rules []maskRule, line string, off int) []cand {
	found, ok := m.lines.get(line)
	if !ok {
		found = scanLine(rules, line)
		m.lines.put(line, found)
	}
	for _, c := range found {
		cands = append(cands, cand{c.rule, c.start + off, c.end + off})
	}
	return cands
}

// scanLine runs every rule that may match on line and returns their
// matches that pass the rules' checks, by rule then position.
func scanLine(rules []maskRule, line string) []cand {
	digits, at, iban := traits(line)
	var out []cand
	for ri, r := range rules {
		if r.applies(digits, at, iban) {
			r.matches(line, func(s, e int) { out = append(out, cand{uint8(ri), s, e}) })
		}
	}
	return out
}

func overlaps(spans []span, s, e int) bool {
	for _, sp := range spans {
		if s < sp.end && sp.start < e {
			return true
		}
	}
	return false
}

// placeholder returns the placeholder of value, issuing one that does not
// already occur in text, so Unmask can't confuse the two.
func (m *Masker) placeholder(label, value, text string) string {
	key := label + "\x00" + value
	if ph, ok := m.byValue[key]; ok {
		return ph
	}
	n := m.next[label]
	var ph string
	for {
		n++
		ph = "[" + label + "_" + strconv.Itoa(n) + "]"
		if _, taken := m.byPH[ph]; !taken && !strings.Contains(text, ph) {
			break
		}
	}
	m.next[label] = n
	m.byValue[key] = ph
	m.byPH[ph] = value
	m.longest = max(m.longest, len(ph))
	return ph
}

// Issued is how many placeholders this Masker has handed out.
func (m *Masker) Issued() int { return len(m.byPH) }

// Longest is the length of the longest placeholder issued, so that a
// streaming reader knows how much text to hold back.
func (m *Masker) Longest() int { return m.longest }

// defaultMasker holds the built-in rules; MaskPII forks it per call.
var defaultMasker = &Masker{rules: builtinRules()}

// MaskPII returns text with e-mail addresses, phone numbers, card numbers
// and IBANs replaced by placeholders ([EMAIL_1], [PHONE_1], ...), as they
// are masked for a remote model, for good: nothing can put them back. It
// is for quotes in reports and excerpts that are stored. It is safe for
// concurrent use.
func MaskPII(text string) string { return defaultMasker.Fork().Mask(text) }

// Unmask puts back the values of the placeholders this Masker issued;
// other bracketed text is left alone.
func (m *Masker) Unmask(text string) string {
	if len(m.byPH) == 0 || !strings.Contains(text, "[") {
		return text
	}
	return rePlaceholder.ReplaceAllStringFunc(text, func(ph string) string {
		if v, ok := m.byPH[ph]; ok {
			return v
		}
		return ph
	})
}

func digitsOf(s string) []byte {
	d := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i]-'0')
		}
	}
	return d
}

// checkCard accepts 13 to 19 digits passing the Luhn check.
func checkCard(s string) int {
	d := digitsOf(s)
	if len(d) < 13 || len(d) > 19 || !luhn(d) {
		return 0
	}
	return len(s)
}

func luhn(d []byte) bool {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if (len(d)-1-i)%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// checkIBAN accepts the longest space-group prefix of s that is a valid
// IBAN (15 to 34 characters, mod 97 == 1), so a trailing capitalised word
// doesn't spoil it.
func checkIBAN(s string) int {
	for end := len(s); end > 0; {
		if validIBAN(strings.ReplaceAll(s[:end], " ", "")) {
			return end
		}
		end = strings.LastIndexByte(s[:end], ' ')
	}
	return 0
}

func validIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	r := s[4:] + s[:4]
	mod := 0
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c >= '0' && c <= '9':
			mod = (mod*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			v := int(c-'A') + 10
			mod = (mod*100 + v) % 97
		default:
			return false
		}
	}
	return mod == 1
}

// checkPhone accepts matches with lo to hi digits, trimming trailing
// separators and an unbalanced parenthesis.
func checkPhone(lo, hi int) func(string) int {
	return func(s string) int {
		s = strings.TrimRight(s, " .-(")
		if n := len(digitsOf(s)); n < lo || n > hi {
			return 0
		}
		return len(s)
	}
}

// spanCache remembers the built-in rules' matches in lines seen lately,
// keyed by the line's text (a copy: a key never pins the request that
// held it). It is bounded: two generations of at most maxLines lines and
// maxBytes bytes each; when the current one is full it becomes the old one
// and the oldest is dropped, and a line found in the old generation moves
// to the current. A nil *spanCache remembers nothing. It is safe for
// concurrent use.
type spanCache struct {
	mu                 sync.Mutex
	cur, old           map[string][]cand
	curBytes           int
	maxLines, maxBytes int
}

// Bounds of the Masker's memory of lines: enough for the persona, the
// passages and the windows of the conversations active at once.
const (
	spanCacheLines = 8192
	spanCacheBytes = 2 << 20
	// spanCacheLongest is the longest line remembered; longer ones are
	// scanned each time.
	spanCacheLongest = 4096
)

func newSpanCache(maxLines, maxBytes int) *spanCache {
	return &spanCache{cur: map[string][]cand{}, maxLines: maxLines, maxBytes: maxBytes}
}

func (c *spanCache) get(line string) ([]cand, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[line]; ok {
		return v, true
	}
	v, ok := c.old[line]
	if ok {
		delete(c.old, line)
		c.putLocked(strings.Clone(line), v)
	}
	return v, ok
}

func (c *spanCache) put(line string, v []cand) {
	if c == nil || len(line) > spanCacheLongest {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(strings.Clone(line), v)
}

func (c *spanCache) putLocked(line string, v []cand) {
	if len(c.cur) >= c.maxLines || c.curBytes+len(line) > c.maxBytes {
		c.old, c.cur, c.curBytes = c.cur, make(map[string][]cand, len(c.cur)), 0
	}
	c.cur[line] = v
	c.curBytes += len(line)
}

// len is the number of lines remembered.
func (c *spanCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
