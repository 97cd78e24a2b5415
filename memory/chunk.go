package memory

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/textkit"
)

// TextChunk is one passage of a document as Chunk cut it.
type TextChunk struct {
	// Heading is the nearest Markdown heading above the passage, empty for
	// plain text or text before the first heading.
	Heading string `json:"heading,omitempty"`
	Text    string `json:"text"`
}

// Passage sizes, in words, where each Han character counts as one word.
const (
	chunkTarget = 250 // a passage grows up to this
	chunkMin    = 100 // a smaller passage may take a paragraph past chunkTarget
	chunkHard   = 400 // ... but never past this
	// chunkMaxBytes bounds a passage whatever its words (a run without
	// spaces counts as one word).
	chunkMaxBytes = 4096
	maxHeading    = 200
)

// isMarkdown reports whether a file name is chunked as Markdown.
func isMarkdown(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return true
	}
	return false
}

// Chunk cuts a document into passages of about 100 to 250 words: by
// heading (Markdown files, by extension: .md, .markdown), then by
// paragraph, packing short paragraphs of one section together. A paragraph
// longer than a passage is cut between sentences, and a sentence longer
// than a passage between words (or Han characters). Invalid UTF-8 is
// replaced and control characters other than newline and tab dropped, so
// any input gives valid passages; empty input gives none.
func Chunk(name string, content []byte) []TextChunk {
	text := sanitizeDoc(content)
	md := isMarkdown(name)
	var (
		out     []TextChunk
		heading string
		paras   []string
		para    []string
		fence   string
	)
	endPara := func() {
		if len(para) > 0 {
			if p := strings.TrimSpace(strings.Join(para, "\n")); p != "" {
				paras = append(paras, p)
			}
			para = para[:0]
		}
	}
	endSection := func() {
		endPara()
		out = append(out, pack(heading, paras)...)
		paras = paras[:0]
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		trimmed := strings.TrimSpace(line)
		if md {
			if fence != "" {
				para = append(para, line)
				if strings.HasPrefix(trimmed, fence) {
					fence = ""
				}
				continue
			}
			if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
				fence = trimmed[:3]
				para = append(para, line)
				continue
			}
			if h, ok := atxHeading(trimmed); ok {
				endSection()
				heading = h
				continue
			}
			if len(para) == 1 && trimmed != "" && (strings.Trim(trimmed, "=") == "" || strings.Trim(trimmed, "-") == "") {
				// Setext heading: the one-line paragraph above is the heading.
				h := cleanHeading(para[0])
				para = para[:0]
				endSection()
				heading = h
				continue
			}
		}
		if trimmed == "" {
			endPara()
			continue
		}
		para = append(para, line)
	}
	endSection()
	return out
}

// atxHeading parses "## Heading ##".
func atxHeading(line string) (string, bool) {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(line) && line[n] != ' ' && line[n] != '\t') {
		return "", false
	}
	h := strings.TrimSpace(line[n:])
	h = strings.TrimSpace(strings.TrimRight(h, "#"))
	return cleanHeading(h), true
}

func cleanHeading(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > maxHeading {
		i := maxHeading
		for i > 0 && !utf8.RuneStart(h[i]) {
			i--
		}
		h = h[:i]
	}
	return h
}

// sanitizeDoc makes content valid UTF-8 text with "\n" line ends and no
// control characters other than newline and tab.
func sanitizeDoc(content []byte) string {
	s := strings.ToValidUTF8(string(content), "\uFFFD")
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// words counts words the way passages are sized: runs of non-space
// characters, with each Han character a word of its own.
func words(s string) int {
	n, in := 0, false
	for _, r := range s {
		switch {
		case textkit.IsHan(r):
			n++
			in = false
		case unicode.IsSpace(r):
			in = false
		default:
			if !in {
				n++
			}
			in = true
		}
	}
	return n
}

// pack groups a section's paragraphs into passages.
func pack(heading string, paras []string) []TextChunk {
	var out []TextChunk
	var cur []string
	curWords, curBytes := 0, 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, TextChunk{Heading: heading, Text: strings.Join(cur, "\n\n")})
			cur, curWords, curBytes = nil, 0, 0
		}
	}
	for _, p := range paras {
		for _, piece := range splitPara(p) {
			w, b := words(piece), len(piece)
			fits := curWords+w <= chunkTarget || (curWords < chunkMin && curWords+w <= chunkHard)
			if len(cur) > 0 && (!fits || curBytes+2+b > chunkMaxBytes) {
				flush()
			}
			cur = append(cur, piece)
			curWords += w
			curBytes += b + 2
		}
	}
	flush()
	return out
}

// splitPara cuts a paragraph that is too long for one passage between
// sentences, and a sentence that is too long on its own between words.
func splitPara(p string) []string {
	if words(p) <= chunkTarget && len(p) <= chunkMaxBytes {
		return []string{p}
	}
	var out []string
	var cur strings.Builder
	curWords := 0
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
		curWords = 0
	}
	for _, s := range sentences(p) {
		w := words(s)
		if w > chunkTarget || len(s) > chunkMaxBytes {
			flush()
			out = append(out, hardSplit(s)...)
			continue
		}
		if curWords+w > chunkTarget || cur.Len()+len(s) > chunkMaxBytes {
			flush()
		}
		cur.WriteString(s)
		curWords += w
	}
	flush()
	return out
}

// sentences splits text after sentence-ending punctuation (". ", "! ",
// "? ", and the full-width 。！？；). The pieces keep their punctuation and
// spacing, so joining them gives back the text.
func sentences(p string) []string {
	var out []string
	start := 0
	for i, r := range p {
		next := i + utf8.RuneLen(r)
		end := false
		switch r {
		case '。', '！', '？', '；', '\n':
			end = true
		case '.', '!', '?':
			nr, _ := utf8.DecodeRuneInString(p[next:])
			end = next == len(p) || unicode.IsSpace(nr)
		}
		if end {
			out = append(out, p[start:next])
			start = next
		}
	}
	if start < len(p) {
		out = append(out, p[start:])
	}
	return out
}

// hardSplit cuts s into pieces of at most chunkTarget words and
// chunkMaxBytes bytes, at the last space before the limit when there is
// one.
func hardSplit(s string) []string {
	var out []string
	for len(s) > 0 {
		n, in, lastSpace, cut := 0, false, -1, len(s)
		for i, r := range s {
			if i+utf8.RuneLen(r) > chunkMaxBytes {
				cut = i
				break
			}
			switch {
			case textkit.IsHan(r):
				n++
				in = false
			case unicode.IsSpace(r):
				in = false
				lastSpace = i
			default:
				if !in {
					n++
				}
				in = true
			}
			if n > chunkTarget {
				cut = i
				break
			}
		}
		if cut < len(s) && lastSpace > 0 {
			cut = lastSpace
		}
		if cut == 0 { // a single rune wider than the limit can't happen, but never loop
			_, w := utf8.DecodeRuneInString(s)
			cut = w
		}
		if piece := strings.TrimSpace(s[:cut]); piece != "" {
			out = append(out, piece)
		}
		s = s[cut:]
	}
	return out
}
