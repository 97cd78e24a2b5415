package telegram

import (
	"strings"
	"unicode/utf8"
)

// FormatHTML turns the Markdown an LLM writes into Telegram's HTML parse
// mode: **bold** and __bold__ become <b>, *italic* and _italic_ <i>,
// `code` <code>, fenced blocks <pre>, [text](url) links <a href>, headings
// bold lines and bullet lists "• " lines; a backslash before punctuation
// shows the punctuation as itself. Everything else is escaped, so
// the output is always well-formed: only the tags b, i, code, pre and a,
// balanced and properly nested, and no raw '<', '>' or '&' outside them.
//
// It works line by line and never lets a marker without its closing twin
// open a tag, so a half-streamed reply formats as cleanly as a finished one
// (an unclosed code fence is closed at the end).
func FormatHTML(markdown string) string {
	if !utf8.ValidString(markdown) {
		markdown = strings.ToValidUTF8(markdown, "\uFFFD")
	}
	lines := strings.Split(markdown, "\n")
	out := make([]string, 0, len(lines))
	var pre []string
	inFence := false
	flushPre := func() {
		if body := strings.Join(pre, "\n"); strings.TrimSpace(body) != "" {
			out = append(out, "<pre>"+escapeHTML(body)+"</pre>")
		}
		pre = pre[:0]
	}
	for _, line := range lines {
		isFence := strings.HasPrefix(strings.TrimSpace(line), "```")
		switch {
		case inFence && isFence:
			flushPre()
			inFence = false
		case inFence:
			pre = append(pre, line)
		case isFence:
			inFence = true
		default:
			out = append(out, formatLine(line))
		}
	}
	if inFence {
		flushPre()
	}
	return strings.Join(out, "\n")
}

// formatLine renders one line outside code fences.
func formatLine(line string) string {
	trimmed := strings.TrimLeft(line, " ")
	indent := line[:len(line)-len(trimmed)]
	// Headings: up to six '#' then a space.
	if h := strings.TrimLeft(trimmed, "#"); len(indent) < 4 && len(h) < len(trimmed) && len(trimmed)-len(h) <= 6 && strings.HasPrefix(h, " ") {
		body := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(h), "#"))
		if body == "" {
			return ""
		}
		return "<b>" + inline(body, inBold) + "</b>"
	}
	// Bullets: "- ", "* ", "+ ".
	if len(trimmed) >= 2 && strings.ContainsRune("-*+", rune(trimmed[0])) && trimmed[1] == ' ' {
		return indent + "• " + inline(strings.TrimLeft(trimmed[2:], " "), 0)
	}
	return inline(line, 0)
}

// Contexts inline is rendered in; each bans what may not nest there.
const (
	inBold = 1 << iota
	inItalic
)

// inline renders inline Markdown. Every tag it writes is closed before it
// returns, and content is rendered recursively, so nesting is correct by
// construction.
func inline(s string, ctx int) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	// A search for a closer that failed from one position fails from every
	// later one: remembering that keeps inline linear on adversarial
	// input (a line of a thousand lone '*').
	var (
		noClose   = map[string]bool{}
		noRun     = map[int]bool{}
		noBracket bool
	)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '`':
			n := runLen(s, i, '`')
			j := -1
			if !noRun[n] {
				if j = findRun(s, i+n, n); j < 0 {
					noRun[n] = true
				}
			}
			if j >= 0 {
				body := s[i+n : j]
				if len(body) >= 2 && body[0] == ' ' && body[len(body)-1] == ' ' && strings.TrimSpace(body) != "" {
					body = body[1 : len(body)-1]
				}
				if body != "" {
					b.WriteString("<code>" + escapeHTML(body) + "</code>")
					i = j + n
					continue
				}
			}
			b.WriteString(s[i : i+n])
			i += n
			continue
		case (c == '*' || c == '_') && i+1 < len(s) && s[i+1] == c:
			n := runLen(s, i, c)
			if d := s[i : i+2]; n == 2 && ctx&inBold == 0 && !noClose[d] {
				if j := findEmphasis(s, i+2, d); j < 0 {
					noClose[d] = true
				} else {
					b.WriteString("<b>" + inline(s[i+2:j], ctx|inBold) + "</b>")
					i = j + 2
					continue
				}
			}
			// A run of markers that opens nothing is literal.
			b.WriteString(s[i : i+n])
			i += n
			continue
		case (c == '*' || c == '_') && ctx&inItalic == 0 && !noClose[s[i:i+1]] && canOpen(s, i):
			if j := findEmphasis(s, i+1, s[i:i+1]); j < 0 {
				noClose[s[i:i+1]] = true
			} else {
				b.WriteString("<i>" + inline(s[i+1:j], ctx|inItalic) + "</i>")
				i = j + 1
				continue
			}
		case c == '\\' && i+1 < len(s) && isPunct(s[i+1]):
			// A CommonMark backslash escape: the character as itself. The
			// engine escapes names and quotes this way.
			b.WriteString(escapeByte(s[i+1]))
			i += 2
			continue
		case c == '[' && !noBracket:
			if strings.IndexByte(s[i+1:], ']') < 0 {
				noBracket = true
			} else if text, url, end, ok := parseLink(s, i); ok {
				b.WriteString(`<a href="` + escapeAttr(url) + `">` + escapeHTML(text) + "</a>")
				i = end
				continue
			}
		}
		b.WriteString(escapeByte(c))
		i++
	}
	return b.String()
}

// runLen counts the run of c starting at i.
func runLen(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// findRun finds the next run of exactly n backticks at or after from.
func findRun(s string, from, n int) int {
	for i := from; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		m := runLen(s, i, '`')
		if m == n {
			return i
		}
		i += m
	}
	return -1
}

// isPunct reports ASCII punctuation, what a backslash may escape.
func isPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// canOpen reports whether the single marker at i may open emphasis: it is
// followed by a non-space, and '_' is not inside a word (snake_case).
func canOpen(s string, i int) bool {
	if i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == s[i] {
		return false
	}
	return s[i] != '_' || i == 0 || !isAlnum(s[i-1])
}

// findEmphasis finds the closing delimiter for emphasis opened before from:
// not preceded by a space, not the start of a longer run, for '_' not
// followed by a letter or digit, and with non-empty content.
func findEmphasis(s string, from int, delim string) int {
	for j := from; j < len(s); {
		k := strings.Index(s[j:], delim)
		if k < 0 {
			return -1
		}
		k += j
		end := k + len(delim)
		ok := k > from && s[k-1] != ' ' &&
			(end >= len(s) || s[end] != delim[0]) &&
			(delim[0] != '_' || end >= len(s) || !isAlnum(s[end]))
		if len(delim) == 1 && k > from && s[k-1] == delim[0] {
			ok = false
		}
		if ok {
			return k
		}
		j = k + 1
	}
	return -1
}

// Bounds of a Markdown link's text and URL.
const (
	maxLinkText = 1024
	maxLinkURL  = 2048
)

// parseLink parses [text](url) at i. Only http, https and mailto links
// become links: a tg:// link in a reply would mention (and notify) a user
// by id.
func parseLink(s string, i int) (text, url string, end int, ok bool) {
	// Links are short: bounding the search keeps a line of '[' linear.
	closeText := strings.IndexByte(s[i+1:min(len(s), i+1+maxLinkText)], ']')
	if closeText <= 0 {
		return "", "", 0, false
	}
	text = s[i+1 : i+1+closeText]
	rest := i + 1 + closeText + 1
	if strings.ContainsRune(text, '[') || rest >= len(s) || s[rest] != '(' {
		return "", "", 0, false
	}
	closeURL := strings.IndexByte(s[rest+1:min(len(s), rest+1+maxLinkURL)], ')')
	if closeURL <= 0 {
		return "", "", 0, false
	}
	url = s[rest+1 : rest+1+closeURL]
	if strings.ContainsAny(url, " \t\"<>") || strings.TrimSpace(text) == "" {
		return "", "", 0, false
	}
	lower := strings.ToLower(url)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "mailto:") {
		return "", "", 0, false
	}
	return text, url, rest + 1 + closeURL + 1, true
}

func escapeByte(c byte) string {
	switch c {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string([]byte{c})
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// escapeHTML escapes text for Telegram HTML.
func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

func escapeAttr(s string) string { return attrEscaper.Replace(s) }

// plainText is what Telegram shows for html: tags dropped, entities
// decoded. It measures the visible length.
func plainText(html string) string {
	var b strings.Builder
	for i := 0; i < len(html); {
		switch html[i] {
		case '<':
			j := strings.IndexByte(html[i:], '>')
			if j < 0 {
				b.WriteString(html[i:])
				return b.String()
			}
			i += j + 1
			continue
		case '&':
			for _, e := range [][2]string{{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", `"`}} {
				if strings.HasPrefix(html[i:], e[0]) {
					b.WriteString(e[1])
					i += len(e[0])
					goto next
				}
			}
		}
		b.WriteByte(html[i])
		i++
	next:
	}
	return b.String()
}
