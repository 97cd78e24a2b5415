package web

import (
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
	Docs     []Document
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
	data := knowledgeData{Docs: docs, Done: r.URL.Query().Get("done"), Max: "50 MB", Exts: strings.Join(uploadExts, " ")}
	idx := map[string]int{}
	for _, d := range docs {
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
	d, err := c.d.Knowledge.Upload(r.Context(), fh.Filename, content)
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
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "kb: remove", Note: src + "/" + p})
	http.Redirect(w, r.Request, "/console/knowledge?done=removed", http.StatusSeeOther)
}
