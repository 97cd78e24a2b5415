package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/chorusbot/chorus/bot"
	"golang.org/x/text/language"
)

// langs are the console's languages, the first the fallback.
var langs = []string{"en", "zh"}

var langMatcher = language.NewMatcher([]language.Tag{language.English, language.Chinese})

// pickLang chooses the console's language from Accept-Language.
func pickLang(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return langs[0]
	}
	_, i, _ := langMatcher.Match(tags...)
	return langs[i]
}

// tr translates key into lang, filling {name} placeholders from pairs of
// args; an unknown key shows as itself, so a missing word is seen.
func tr(lang, key string, args ...any) string {
	s, ok := messages[lang][key]
	if !ok {
		if s, ok = messages[langs[0]][key]; !ok {
			return key
		}
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return s
}

// view is what every template gets: the page's data and the frame around
// it (who is signed in, the CSRF token for forms, the language).
type view struct {
	Lang  string
	Nav   string
	User  string
	Name  string
	Role  string
	Owner bool
	CSRF  string
	Data  any
	Title string
}

// T translates a key in the page's language.
func (v view) T(key string, args ...any) string { return tr(v.Lang, key, args...) }

// pages are the templates that are whole pages; each is parsed with the
// layout.
var pages = []string{"signin", "signin_needed", "signedout", "error", "overview", "review", "moderation", "knowledge", "drafts", "persona", "docedit", "campaigns"}

var funcs = template.FuncMap{
	"pct": func(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + "%" },
	// pct1 keeps a decimal: click-through rates are often under 1%.
	"pct1": func(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" },
	"add":  func(a, b int) int { return a + b },
	"dur":  fmtDuration,
	"num":  compact,
}

func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, path.Join("templates", p+".html"))
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
}

// render writes a page outside the signed-in frame.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, lang string, data any) {
	c.write(w, status, name, view{Lang: lang, Data: data})
}

// renderPage writes a signed-in page.
func (c *Console) renderPage(w http.ResponseWriter, r *request, status int, name string, data any) {
	c.write(w, status, name, view{Lang: r.lang, Nav: name, User: r.User(), Name: r.s.Identity.Name,
		Role: r.auth.Role.String(), Owner: r.auth.Role >= bot.RoleOwner, CSRF: r.s.CSRF, Data: data})
}

func (c *Console) write(w http.ResponseWriter, status int, name string, v view) {
	t, ok := c.tpl[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "the page could not be shown; see the log", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang)
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
