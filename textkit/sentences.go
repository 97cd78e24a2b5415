package textkit

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentences turns a passage of Markdown or plain text into plain
// sentences a person can read in a chat, in order: hard-wrapped lines are
// joined, headings dropped (a passage carries its heading separately),
// list markers, emphasis and code marks removed, links reduced to their
// text, and each table row rewritten as a sentence that names its columns
// ("Canada: service Canada Post via Asendia; cost $12.95."). Text is cut
// after . ! ? (followed by a space or the end), after 。！？, and at
// line ends of lists and tables.
func Sentences(text string) []string {
	var out []string
	for _, p := range Paragraphs(text) {
		out = append(out, p...)
	}
	return out
}

// Paragraphs is Sentences grouped by the paragraph, list item or table
// row they come from: a sentence's neighbours in its paragraph are what
// it refers back to ("From $17 per 12 oz bag." after the plan it prices).
func Paragraphs(text string) [][]string {
	var out [][]string
	for _, block := range blocks(text) {
		var para []string
		for _, s := range splitSentences(block) {
			if s = strings.TrimSpace(s); s != "" && hasWordRune(s) {
				para = append(para, s)
			}
		}
		if len(para) > 0 {
			out = append(out, para)
		}
	}
	return out
}

func hasWordRune(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// blocks are the paragraphs, list items and table-row sentences of text,
// as plain text.
func blocks(text string) []string {
	var out []string
	var para []string
	var header []string // the current table's column names
	flush := func() {
		if len(para) > 0 {
			out = append(out, inline(strings.Join(para, " ")))
			para = para[:0]
		}
	}
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" {
			flush()
			header = nil
			continue
		}
		if strings.HasPrefix(line, "|") || (header != nil && strings.Contains(line, "|")) {
			flush()
			cells := tableCells(line)
			switch {
			case isRule(cells):
			case header == nil:
				header = cells
			default:
				if s := rowSentence(header, cells); s != "" {
					out = append(out, s)
				}
			}
			continue
		}
		header = nil
		if strings.HasPrefix(line, "#") {
			flush()
			continue // a heading
		}
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			flush()
			continue
		}
		if item, ok := listItem(line); ok {
			flush()
			para = append(para, item)
			continue
		}
		if strings.HasPrefix(line, ">") {
			line = strings.TrimSpace(strings.TrimLeft(line, ">"))
		}
		if strings.Trim(line, "-=*_ ") == "" {
			flush() // a rule or a setext underline
			continue
		}
		para = append(para, line)
	}
	flush()
	return out
}

// listItem strips a bullet or a number from the start of a list item.
func listItem(line string) (string, bool) {
	for _, p := range []string{"- ", "* ", "+ ", "• "} {
		if strings.HasPrefix(line, p) {
			return strings.TrimSpace(line[len(p):]), true
		}
	}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(line) && (line[i] == '.' || line[i] == ')') && line[i+1] == ' ' {
		return strings.TrimSpace(line[i+2:]), true
	}
	return "", false
}

func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	parts := strings.Split(line, "|")
	for i, p := range parts {
		parts[i] = inline(strings.TrimSpace(p))
	}
	return parts
}

func isRule(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, "-: ") != "" {
			return false
		}
	}
	return true
}

// rowSentence writes a table row as "first cell: column value; column
// value." Columns without a name or value are left out.
func rowSentence(header, cells []string) string {
	if len(cells) == 0 || cells[0] == "" {
		return ""
	}
	var parts []string
	for i := 1; i < len(cells); i++ {
		v := cells[i]
		if v == "" {
			continue
		}
		name := ""
		if i < len(header) {
			name = lowerFirst(header[i])
		}
		if name != "" {
			v = name + " " + v
		}
		parts = append(parts, v)
	}
	s := cells[0]
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, "; ")
	}
	return endSentence(s)
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(r) {
		return s
	}
	// Keep acronyms ("UK", "EU") as they are.
	if r2, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(r2) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// endSentence adds a full stop unless s ends with punctuation.
func endSentence(s string) string {
	r, _ := utf8.DecodeLastRuneInString(s)
	if unicode.IsPunct(r) && r != ')' && r != '"' && r != '”' {
		return s
	}
	if HasHan(s) {
		return s + "。"
	}
	return s + "."
}

var (
	mdImage = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink  = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)[^)]*\)`)
	mdEmph  = regexp.MustCompile(`(^|[\s(])[*_]([^*_\s][^*_]*[^*_\s]|[^*_\s])[*_]([\s).,;:!?]|$)`)
	marks   = strings.NewReplacer("**", "", "__", "", "`", "", "~~", "")
)

// inline removes inline Markdown: images become their alt text, links
// "text (url)" (or the text alone when it is the url), emphasis and code
// marks go.
func inline(s string) string {
	if !strings.ContainsAny(s, "*_`[~") {
		return s
	}
	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllStringFunc(s, func(m string) string {
		sub := mdLink.FindStringSubmatch(m)
		if sub[1] == sub[2] || strings.HasPrefix(sub[2], "#") {
			return sub[1]
		}
		return sub[1] + " (" + sub[2] + ")"
	})
	s = marks.Replace(s)
	s = mdEmph.ReplaceAllString(s, "$1$2$3")
	return s
}

// SplitSentences cuts plain text (not Markdown) after sentence-ending
// punctuation: . ! ? followed by a space or the end, and 。！？；. The
// pieces keep their punctuation.
func SplitSentences(p string) []string { return splitSentences(p) }

// splitSentences cuts a block after sentence-ending punctuation.
func splitSentences(p string) []string {
	var out []string
	start := 0
	rs := []rune(p)
	for i, r := range rs {
		end := false
		switch r {
		case '。', '！', '？', '；':
			end = true
		case '.', '!', '?':
			end = (i+1 == len(rs) || unicode.IsSpace(rs[i+1])) && !abbreviation(rs[start:i])
		}
		if end {
			// Keep a closing quote or bracket with its sentence.
			j := i + 1
			for j < len(rs) && strings.ContainsRune(`"'”’)）」`, rs[j]) {
				j++
			}
			out = append(out, string(rs[start:j]))
			start = j
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// abbreviation reports whether the text before a full stop ends in a
// common abbreviation ("e.g", "etc", "Mr"), which doesn't end a sentence.
func abbreviation(before []rune) bool {
	i := len(before)
	for i > 0 && !unicode.IsSpace(before[i-1]) {
		i--
	}
	w := strings.ToLower(string(before[i:]))
	switch w {
	case "e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "vs", "approx", "st":
		return true
	}
	return len(w) == 1 && unicode.IsUpper(before[len(before)-1]) // an initial: "J. Smith"
}
