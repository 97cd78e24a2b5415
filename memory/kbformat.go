package memory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode"

	"github.com/ledongthuc/pdf"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Document formats the knowledge base reads, by file extension.
const (
	FormatMarkdown = "markdown"
	FormatText     = "text"
	FormatHTML     = "html"
	FormatPDF      = "pdf"
	FormatCSV      = "csv"
)

// formats maps extensions to formats.
var formats = map[string]string{
	".md": FormatMarkdown, ".markdown": FormatMarkdown,
	".txt": FormatText, ".text": FormatText,
	".html": FormatHTML, ".htm": FormatHTML,
	".pdf": FormatPDF,
	".csv": FormatCSV,
}

// SupportedExtensions lists the file extensions Ingest reads.
const SupportedExtensions = ".md .markdown .txt .text .html .htm .pdf .csv"

// ErrUnsupported is returned (wrapped) for a file whose format the
// knowledge base can't read.
var ErrUnsupported = errors.New("unsupported format")

// FormatOf returns the format of a file name, "" when unsupported.
func FormatOf(name string) string { return formats[strings.ToLower(path.Ext(name))] }

// extracted is a document made ready for the index.
type extracted struct {
	format string
	title  string
	chunks []TextChunk
}

// extract reads content as the format its name says and cuts it into
// passages. An error says why the file can't be used; it never panics,
// whatever the bytes.
func extract(name string, content []byte) (ex extracted, err error) {
	ex.format = FormatOf(name)
	switch ex.format {
	case FormatMarkdown, FormatText:
		ex.chunks = Chunk(name, content)
		if ex.format == FormatMarkdown {
			ex.title = markdownTitle(content)
		}
	case FormatHTML:
		md, title, err := htmlToMarkdown(content)
		if err != nil {
			return ex, err
		}
		ex.chunks, ex.title = Chunk("page.md", []byte(md)), title
	case FormatPDF:
		text, err := pdfText(content)
		if err != nil {
			return ex, err
		}
		ex.chunks = Chunk("doc.txt", []byte(text))
	case FormatCSV:
		if ex.chunks, err = csvPairs(content); err != nil {
			return ex, err
		}
	default:
		return ex, fmt.Errorf("%w %q (the knowledge base reads %s)", ErrUnsupported, path.Ext(name), SupportedExtensions)
	}
	if ex.title == "" {
		ex.title = titleFromName(name)
	}
	return ex, nil
}

// markdownTitle is the first level-one heading, if any.
func markdownTitle(content []byte) string {
	for _, line := range strings.SplitN(sanitizeDoc(content), "\n", 40) {
		if h, ok := atxHeading(strings.TrimSpace(line)); ok && strings.HasPrefix(strings.TrimSpace(line), "# ") {
			return h
		}
	}
	return ""
}

// titleFromName makes "brewing-guide.md" "brewing guide".
func titleFromName(name string) string {
	base := strings.TrimSuffix(path.Base(name), path.Ext(name))
	return strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(base))
}

// htmlSkip are elements whose text is not part of the page's content.
var htmlSkip = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Head: true, atom.Nav: true, atom.Iframe: true, atom.Object: true, atom.Button: true, atom.Form: true}

// htmlBlock are elements that start a paragraph of their own.
var htmlBlock = map[atom.Atom]bool{atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Blockquote: true, atom.Pre: true, atom.Ul: true,
	atom.Ol: true, atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Table: true, atom.Figure: true, atom.Figcaption: true,
	atom.Address: true, atom.Details: true, atom.Summary: true, atom.Hr: true}

// htmlToMarkdown extracts a page's text with golang.org/x/net/html as
// Markdown: headings, paragraphs, list items and table rows, so that the
// chunker and the sentence splitter see the page's structure. The title is
// the <title>, else the first <h1>.
func htmlToMarkdown(content []byte) (md, title string, err error) {
	doc, err := html.Parse(bytes.NewReader(content))
	if err != nil {
		return "", "", fmt.Errorf("html: %w", err)
	}
	var b strings.Builder
	var line strings.Builder
	endLine := func(prefix string) {
		s := strings.Join(strings.Fields(line.String()), " ")
		line.Reset()
		if s != "" {
			b.WriteString(prefix + s + "\n\n")
		}
	}
	var h1 string
	var walk func(n *html.Node)
	var rowCells []string
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			line.WriteString(n.Data)
			return
		case html.ElementNode:
		default:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			return
		}
		if n.DataAtom == atom.Title && title == "" {
			title = strings.Join(strings.Fields(nodeText(n)), " ")
			return
		}
		if htmlSkip[n.DataAtom] {
			if n.DataAtom == atom.Head {
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.DataAtom == atom.Title {
						walk(c)
					}
				}
			}
			return
		}
		switch n.DataAtom {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			endLine("")
			h := strings.Join(strings.Fields(nodeText(n)), " ")
			if h != "" {
				if n.DataAtom == atom.H1 && h1 == "" {
					h1 = h
				}
				level := int(n.Data[1] - '0')
				b.WriteString(strings.Repeat("#", level) + " " + h + "\n\n")
			}
			return
		case atom.Li:
			endLine("")
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			endLine("- ")
			return
		case atom.Tr:
			endLine("")
			rowCells = rowCells[:0]
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
					cell := strings.Join(strings.Fields(nodeText(c)), " ")
					rowCells = append(rowCells, strings.ReplaceAll(cell, "|", "/"))
				}
			}
			if len(rowCells) > 0 {
				b.WriteString("| " + strings.Join(rowCells, " | ") + " |\n")
			}
			return
		case atom.Table:
			endLine("")
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			b.WriteString("\n")
			return
		case atom.Br:
			line.WriteString(" ")
			return
		case atom.Img:
			for _, a := range n.Attr {
				if a.Key == "alt" && strings.TrimSpace(a.Val) != "" {
					line.WriteString(" " + a.Val + " ")
				}
			}
			return
		}
		if htmlBlock[n.DataAtom] {
			endLine("")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if htmlBlock[n.DataAtom] {
			endLine("")
		}
	}
	walk(doc)
	endLine("")
	if title == "" {
		title = h1
	}
	return b.String(), title, nil
}

// nodeText is the text under n, scripts and styles left out.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			return
		}
		if n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style) {
			return
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Br {
			b.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// pdfText extracts the text of every page with github.com/ledongthuc/pdf,
// a page per paragraph run. The library panics on some malformed files;
// that becomes an error here.
func pdfText(content []byte) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("pdf: damaged or unsupported file (%v)", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return "", fmt.Errorf("pdf: %w", err)
	}
	var b strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			return "", fmt.Errorf("pdf: page %d: %w", i, err)
		}
		for _, row := range rows {
			var line strings.Builder
			for _, w := range row.Content {
				line.WriteString(w.S)
			}
			b.WriteString(strings.TrimSpace(line.String()) + "\n")
		}
		b.WriteString("\n")
	}
	if strings.TrimFunc(b.String(), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) == "" {
		return "", errors.New("pdf: no text layer (a scanned document? run it through OCR first)")
	}
	return b.String(), nil
}

// csvPairs reads an FAQ export: rows of question,answer, with an optional
// header row naming the columns (question/answer, q/a, 问题/答案). Each
// pair is one passage: the question as its heading, the answer as its
// text.
func csvPairs(content []byte) ([]TextChunk, error) {
	r := csv.NewReader(strings.NewReader(sanitizeDoc(content)))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	qi, ai := 0, 1
	var out []TextChunk
	first := true
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv: %w", err)
		}
		if first {
			first = false
			if q, a, ok := csvHeader(rec); ok {
				qi, ai = q, a
				continue
			}
		}
		if len(rec) <= max(qi, ai) {
			continue
		}
		q, a := strings.TrimSpace(rec[qi]), strings.TrimSpace(rec[ai])
		if q == "" || a == "" {
			continue
		}
		for _, c := range Chunk("pair.txt", []byte(a)) {
			out = append(out, TextChunk{Heading: cleanHeading(strings.Join(strings.Fields(q), " ")), Text: c.Text})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("csv: no question,answer rows (want two columns: the question, then its answer)")
	}
	return out, nil
}

// csvHeader finds the question and answer columns in a header row.
func csvHeader(rec []string) (q, a int, ok bool) {
	q, a = -1, -1
	for i, c := range rec {
		switch strings.ToLower(strings.TrimSpace(c)) {
		case "question", "questions", "q", "问题", "提问":
			q = i
		case "answer", "answers", "a", "答案", "回答", "解答":
			a = i
		}
	}
	if q >= 0 && a >= 0 {
		return q, a, true
	}
	return 0, 1, false
}
