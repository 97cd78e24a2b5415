package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/chorusbot/chorus/bot"
)

// MaxUpload is the largest document the console takes.
const MaxUpload = 50 << 20

// uploadExts are the formats kb ingest reads (memory.SupportedExtensions).
var uploadExts = []string{".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf", ".csv"}

// checkUploadName refuses a name that is not a plain file name of a
// format the knowledge base reads; the message says what is wrong.
func checkUploadName(lang, name string) error {
	switch {
	case name == "":
		return errors.New(tr(lang, "kb.name_empty"))
	case strings.Contains(name, "..") || strings.ContainsAny(name, `/\`):
		return errors.New(tr(lang, "kb.name_path", "name", name))
	case len([]rune(name)) > 200 || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errors.New(tr(lang, "kb.name_bad"))
	case !slices.Contains(uploadExts, strings.ToLower(path.Ext(name))):
		return errors.New(tr(lang, "kb.name_ext", "exts", strings.Join(uploadExts, " ")))
	}
	return nil
}

type sourceView struct {
	Name           string
	Docs, Passages int
}

type knowledgeData struct {
	Sources  []sourceView
	Docs     []docView
	Question string
	Preview  *bot.Preview
	Done     string
	Max      string
	Exts     string
}

func (c *Console) knowledgePage(w http.ResponseWriter, r *request) {
	if c.d.Knowledge == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("kb.unavailable"))
		return
	}
	ctx := r.Context()
	docs, err := c.d.Knowledge.Documents(ctx)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	data := knowledgeData{Done: r.URL.Query().Get("done"), Max: "50 MB", Exts: strings.Join(uploadExts, " ")}
	editable := map[string]bool{}
	_ = c.d.KV.Scan(ctx, bucketDocs, "", "", func(k string, _ []byte) error { editable[k] = true; return nil })
	idx := map[string]int{}
	for _, d := range docs {
		data.Docs = append(data.Docs, docView{Document: d, Editable: d.Source == SourceConsole && editable[d.Path]})
		i, ok := idx[d.Source]
		if !ok {
			i = len(data.Sources)
			idx[d.Source] = i
			data.Sources = append(data.Sources, sourceView{Name: d.Source})
		}
		data.Sources[i].Docs++
		data.Sources[i].Passages += d.Passages
	}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		if len([]rune(q)) > 500 {
			q = string([]rune(q)[:500])
		}
		data.Question = q
		p, err := c.d.Knowledge.Preview(ctx, q)
		if err != nil {
			c.log.Warn("console: preview", "err", err)
			c.fail(w, r, http.StatusInternalServerError, r.T("kb.preview_failed"))
			return
		}
		data.Preview = &p
	}
	c.renderPage(w, r, http.StatusOK, "knowledge", data)
}

// upload takes a document: a plain file name of a format kb ingest reads,
// at most MaxUpload bytes; anything else is refused with the reason and
// nothing is stored.
func (c *Console) upload(w http.ResponseWriter, r *request) {
	if c.d.Knowledge == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("kb.unavailable"))
		return
	}
	f, fh, err := r.FormFile("doc")
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, r.T("kb.no_file"))
		return
	}
	defer f.Close()
	// The name as the browser sent it: multipart keeps only its base.
	name := fh.Filename
	if _, params, err := mime.ParseMediaType(fh.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		name = params["filename"]
	}
	if err := checkUploadName(r.lang, name); err != nil {
		c.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if fh.Size > MaxUpload {
		c.fail(w, r, http.StatusRequestEntityTooLarge, r.T("kb.too_large", "name", fh.Filename, "max", "50 MB"))
		return
	}
	content, err := io.ReadAll(io.LimitReader(f, MaxUpload+1))
	if err != nil || len(content) > MaxUpload {
		c.fail(w, r, http.StatusRequestEntityTooLarge, r.T("kb.too_large", "name", fh.Filename, "max", "50 MB"))
		return
	}
	d, err := c.putDoc(r.Context(), "uploads/"+name, content)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, r.T("kb.upload_failed", "name", fh.Filename, "err", err.Error()))
		return
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "kb: upload", Note: fmt.Sprintf("%s/%s, %d passages", d.Source, d.Path, d.Passages)})
	http.Redirect(w, r.Request, "/console/knowledge?done=uploaded", http.StatusSeeOther)
}

func (c *Console) removeDoc(w http.ResponseWriter, r *request) {
	if c.d.Knowledge == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("kb.unavailable"))
		return
	}
	src, p := r.PostFormValue("source"), r.PostFormValue("path")
	if err := c.d.Knowledge.Remove(r.Context(), src, p); err != nil {
		c.fail(w, r, http.StatusNotFound, r.T("kb.remove_failed", "path", p))
		return
	}
	if src == SourceConsole {
		_ = c.d.KV.Delete(r.Context(), bucketDocs, p)
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "kb: remove", Note: src + "/" + p})
	http.Redirect(w, r.Request, "/console/knowledge?done=removed", http.StatusSeeOther)
}

// bucketDocs keeps the text of the documents managers added in the
// console (by path in SourceConsole), so that they can be edited: the
// knowledge base keeps passages, not files.
const bucketDocs = "web.docs"

// maxEditable bounds a document kept for editing.
const maxEditable = 1 << 20

// textExts are the formats edited as text.
var textExts = []string{".md", ".markdown", ".txt", ".text", ".html", ".htm", ".csv"}

type docView struct {
	Document
	Editable bool
}

// putDoc stores a document of the console's source and keeps its text for
// editing when it is a text format.
func (c *Console) putDoc(ctx context.Context, p string, content []byte) (Document, error) {
	d, err := c.d.Knowledge.Put(ctx, p, content)
	if err != nil {
		return d, err
	}
	if slices.Contains(textExts, strings.ToLower(path.Ext(p))) && len(content) <= maxEditable {
		if err := c.d.KV.Put(ctx, bucketDocs, p, content); err != nil {
			c.log.Warn("console: keep document text", "err", err)
		}
	} else {
		_ = c.d.KV.Delete(ctx, bucketDocs, p)
	}
	return d, nil
}

// addAnswer adds a question-and-answer passage: one CSV document named
// after the question.
func (c *Console) addAnswer(ctx context.Context, question, answer string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"question", "answer"})
	_ = w.Write([]string{question, answer})
	w.Flush()
	sum := sha256.Sum256([]byte(question))
	_, err := c.putDoc(ctx, "answers/"+slug(question, 48)+"-"+hex.EncodeToString(sum[:3])+".csv", b.Bytes())
	return err
}

// slug is text as a file name: its letters and digits, lower case, words
// joined by "-", at most n runes.
func slug(text string, n int) string {
	var b []rune
	dash := false
	for _, r := range strings.ToLower(text) {
		if len(b) >= n {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && len(b) > 0 {
				b = append(b, '-')
			}
			b = append(b, r)
			dash = false
			continue
		}
		dash = true
	}
	if len(b) == 0 {
		return "answer"
	}
	return string(b)
}

func (c *Console) editDocPage(w http.ResponseWriter, r *request) {
	p := r.URL.Query().Get("path")
	content, err := c.d.KV.Get(r.Context(), bucketDocs, p)
	if err != nil {
		c.fail(w, r, http.StatusNotFound, r.T("kb.not_editable", "path", p))
		return
	}
	c.renderPage(w, r, http.StatusOK, "docedit", map[string]any{"Path": p, "Content": string(content)})
}

// editDoc replaces a console document's text; the knowledge base takes it
// from the next question on.
func (c *Console) editDoc(w http.ResponseWriter, r *request) {
	p := r.PostFormValue("path")
	if _, err := c.d.KV.Get(r.Context(), bucketDocs, p); err != nil {
		c.fail(w, r, http.StatusNotFound, r.T("kb.not_editable", "path", p))
		return
	}
	content := strings.ReplaceAll(r.PostFormValue("content"), "\r\n", "\n")
	if strings.TrimSpace(content) == "" || len(content) > maxEditable {
		c.fail(w, r, http.StatusBadRequest, r.T("kb.edit_bad", "max", "1 MB"))
		return
	}
	d, err := c.putDoc(r.Context(), p, []byte(content))
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, r.T("kb.upload_failed", "name", p, "err", err.Error()))
		return
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "kb: edit", Note: fmt.Sprintf("%s/%s, %d passages", d.Source, d.Path, d.Passages)})
	http.Redirect(w, r.Request, "/console/knowledge?done=edited", http.StatusSeeOther)
}
