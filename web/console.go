package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Console paths.
const (
	PathConsole   = "/console/"
	PathSignIn    = "/console/signin"
	PathSignOut   = "/console/signout"
	PathSignedOut = "/console/signedout"
	PathStatic    = "/console/static/"
	cookieName    = "chorus_console"
	csrfField     = "csrf"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps is what the console reads and changes, each behind a narrow
// interface cmd/chorus fills from the engine and the plug-ins. A nil part
// hides its page.
type Deps struct {
	// KV keeps sessions and used sign-in links. Required.
	KV bot.KV
	// Auditor receives every change made in the console, under the
	// manager's platform identity. Required.
	Auditor bot.Auditor
	// Authority decides a signed-in identity's role on every request.
	// Required.
	Authority Authority
	// Key signs sign-in links (LoadKey). Required.
	Key []byte
	// Log receives what goes wrong; default discard.
	Log *slog.Logger
	// Stats feeds the overview.
	Stats Stats
	// History finds the exchange a vote or a blocked answer is about.
	History History
	// Knowledge is the knowledge base: answers written in review, uploads
	// and edits, the "what would the bot answer?" box.
	Knowledge Knowledge
	// Gaps closes the knowledge gaps an answer written in review answers.
	Gaps Gaps
	// AuditLog reads the audit log (the moderation page).
	AuditLog bot.AuditLog
	// Moderation is appeals, strikes, word lists and dry-run.
	Moderation Moderation
	// Drafts are the kept /post drafts.
	Drafts Drafts
	// Persona is the persona in force; owners change it.
	Persona Persona
	// Campaigns are the published posts' and links' figures.
	Campaigns Campaigns
}

// History reads a conversation's recent turns (bot.History's Window).
type History interface {
	Window(ctx context.Context, conv string, budget int) ([]bot.Turn, error)
}

// Gaps is the managers' list of knowledge gaps (manage.Tools).
type Gaps interface {
	ResolveGaps(ctx context.Context, question string) (int, error)
}

// Knowledge is the knowledge base as the console changes it.
type Knowledge interface {
	// Put stores content as the document path of the console's own
	// source (SourceConsole), replacing one of that path; the format
	// comes from the extension, as kb ingest reads it.
	Put(ctx context.Context, path string, content []byte) (Document, error)
	// Documents lists every document, by source.
	Documents(ctx context.Context) ([]Document, error)
	// Remove deletes a document.
	Remove(ctx context.Context, source, path string) error
	// Preview is what the bot would answer question.
	Preview(ctx context.Context, question string) (bot.Preview, error)
}

// SourceConsole is the knowledge-base source of what managers add in the
// console: answers written in review (answers/) and uploaded documents
// (uploads/).
const SourceConsole = "console"

// Document is one document of the knowledge base.
type Document struct {
	Source, Path, Title, Format string
	Passages, Bytes             int
	Ingested                    time.Time
}

// Console is the managers' web console: sign-in by a link the bot gives,
// and the pages. It is mounted on a Server with Mount.
type Console struct {
	cfg    Config
	d      Deps
	signer *Signer
	ss     *sessions
	log    *slog.Logger
	now    func() time.Time
	tpl    map[string]*template.Template
	alerts alertLog
	review reviewQueue
	// linkMu serialises consuming sign-in links in this process.
	linkMu sync.Mutex
}

// ConsoleOption configures a Console.
type ConsoleOption func(*Console)

// WithClock sets the console's clock (tests).
func WithClock(now func() time.Time) ConsoleOption { return func(c *Console) { c.now = now } }

// NewConsole returns the console over d. It does no I/O.
func NewConsole(cfg Config, d Deps, opts ...ConsoleOption) (*Console, error) {
	if d.KV == nil || d.Auditor == nil || d.Authority == nil || len(d.Key) == 0 {
		return nil, errors.New("web: NewConsole: KV, Auditor, Authority and Key are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	c := &Console{cfg: cfg, d: d, log: d.Log, now: time.Now}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(c)
	}
	c.signer = NewSigner(d.Key, cfg.Base())
	c.signer.now = c.now
	c.ss = &sessions{kv: d.KV, ttl: cfg.SessionTTL, now: c.now}
	var err error
	if c.tpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	return c, nil
}

// Signer is the console's link signer: /console and chorus console-link
// make links with it.
func (c *Console) Signer() *Signer { return c.signer }

// Mount puts the console's pages on srv.
func (c *Console) Mount(srv *Server) {
	static, _ := fs.Sub(staticFS, "static")
	srv.Handle("GET "+PathStatic, http.StripPrefix(PathStatic, cacheStatic(http.FileServerFS(static))))
	srv.HandleFunc("GET "+PathSignIn, c.signInPage)
	srv.HandleFunc("POST "+PathSignIn, c.signIn)
	srv.HandleFunc("GET "+PathSignedOut, c.signedOut)
	srv.Handle("POST "+PathSignOut, c.page(bot.RoleManager, c.signOut))
	srv.Handle("GET /console/{$}", c.page(bot.RoleManager, c.overview))
	srv.Handle("GET /console/review", c.page(bot.RoleManager, c.reviewPage))
	srv.Handle("POST /console/review/{id}/fine", c.page(bot.RoleManager, c.reviewFine))
	srv.Handle("POST /console/review/{id}/answer", c.page(bot.RoleManager, c.reviewAnswer))
	srv.Handle("POST /console/settings/dm", c.page(bot.RoleOwner, c.setFullDM))
	srv.Handle("GET /console/moderation", c.page(bot.RoleManager, c.moderationPage))
	srv.Handle("POST /console/moderation/appeal/{verb}", c.page(bot.RoleManager, c.appealAction))
	srv.Handle("POST /console/moderation/words", c.page(bot.RoleManager, c.setWords))
	srv.Handle("POST /console/moderation/dryrun", c.page(bot.RoleManager, c.setDryRun))
	srv.Handle("GET /console/drafts", c.page(bot.RoleManager, c.draftsPage))
	srv.Handle("POST /console/drafts/{id}/{verb}", c.page(bot.RoleManager, c.draftAction))
	srv.Handle("GET /console/persona", c.page(bot.RoleManager, c.personaPage))
	srv.Handle("GET /console/campaigns", c.page(bot.RoleManager, c.campaignsPage))
	srv.Handle("POST /console/persona", c.page(bot.RoleOwner, c.setPersona))
	srv.Handle("GET /console/knowledge", c.page(bot.RoleManager, c.knowledgePage))
	srv.Handle("POST /console/knowledge/upload", c.page(bot.RoleManager, c.upload))
	srv.Handle("POST /console/knowledge/delete", c.page(bot.RoleManager, c.removeDoc))
	srv.Handle("GET /console/knowledge/edit", c.page(bot.RoleManager, c.editDocPage))
	srv.Handle("POST /console/knowledge/edit", c.page(bot.RoleManager, c.editDoc))
	srv.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, PathConsole, http.StatusMovedPermanently)
	})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// Run writes the exchanges to review every few seconds and sweeps
// expired sessions and used links every hour, until ctx ends.
func (c *Console) Run(ctx context.Context) error {
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	flush := time.NewTicker(2 * time.Second)
	defer flush.Stop()
	if err := c.ss.sweep(ctx); err != nil && ctx.Err() == nil {
		c.log.Warn("console: sweep sessions", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = c.flushReview(fctx)
			return ctx.Err()
		case <-sweep.C:
			if err := c.ss.sweep(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("console: sweep sessions", "err", err)
			}
		case <-flush.C:
			if err := c.flushReview(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("console: review", "err", err)
			}
		}
	}
}

// request is one signed-in request: who, with what authority, in which
// language.
type request struct {
	*http.Request
	s      session
	cookie string
	auth   bot.Authority
	lang   string
}

// User is the signed-in identity's user key.
func (r *request) User() string { return r.s.Identity.Key() }

// page wraps a handler that needs a session whose identity holds at
// least role now: the role is asked of the engine on every request, so a
// manager removed from the config loses the console at once. POSTs must
// carry the session's CSRF token.
func (c *Console) page(role bot.Role, h func(http.ResponseWriter, *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		lang := pickLang(r.Header.Get("Accept-Language"))
		ck, _ := r.Cookie(cookieName)
		var cookie string
		if ck != nil {
			cookie = ck.Value
		}
		s, ok := c.ss.get(r.Context(), cookie)
		if !ok {
			c.render(w, r, http.StatusUnauthorized, "signin_needed", lang, nil)
			return
		}
		auth := c.d.Authority(s.Identity)
		if auth.Role < bot.RoleManager {
			// No longer a manager: the session ends now.
			_ = c.ss.end(r.Context(), cookie)
			c.clearCookie(w)
			c.render(w, r, http.StatusForbidden, "signin_needed", lang, map[string]any{"Lost": true})
			return
		}
		req := &request{Request: r, s: s, cookie: cookie, auth: auth, lang: lang}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			tok, err := formValue(r, csrfField)
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				c.fail(w, req, http.StatusRequestEntityTooLarge, tr(lang, "err.too_large", "max", "50 MB"))
				return
			}
			if !validCSRF(s, tok) {
				c.fail(w, req, http.StatusForbidden, tr(lang, "err.csrf"))
				return
			}
		}
		if auth.Role < role {
			c.fail(w, req, http.StatusForbidden, tr(lang, "err.owner_only"))
			return
		}
		h(w, req)
	})
}

// maxFormBytes bounds a form: an upload of MaxUpload and the rest of
// its form.
const maxFormBytes = MaxUpload + 1<<20

// formValue reads a POST form field, multipart or urlencoded; the error
// is the body's (too large, cut short).
func formValue(r *http.Request, key string) (string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if r.MultipartForm == nil {
			if err := r.ParseMultipartForm(8 << 20); err != nil {
				return "", err
			}
		}
		if v := r.MultipartForm.Value[key]; len(v) > 0 {
			return v[0], nil
		}
		return "", nil
	}
	if err := r.ParseForm(); err != nil {
		return "", err
	}
	return r.PostFormValue(key), nil
}

func (c *Console) setCookie(w http.ResponseWriter, value string, exp time.Time) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: PathConsole, MaxAge: int(exp.Sub(c.now()).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.cfg.Secure()})
}

func (c *Console) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: PathConsole, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.cfg.Secure()})
}

// signInPage shows the button that consumes a link. Opening the link
// consumes nothing, so that a chat app fetching a preview of it does not
// use it up.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	lang := pickLang(r.Header.Get("Accept-Language"))
	tok := r.URL.Query().Get("t")
	if tok == "" {
		c.render(w, r, http.StatusUnauthorized, "signin_needed", lang, nil)
		return
	}
	claims, err := c.signer.verify(tok)
	if err != nil {
		c.render(w, r, http.StatusUnauthorized, "signin_needed", lang, map[string]any{"Bad": linkProblem(err)})
		return
	}
	who := claims.Key()
	if claims.Name != "" {
		who = claims.Name + " (" + who + ")"
	}
	c.render(w, r, http.StatusOK, "signin", lang, map[string]any{"Token": tok, "User": who})
}

func linkProblem(err error) string {
	switch {
	case errors.Is(err, ErrLinkExpired):
		return "signin.expired"
	case errors.Is(err, ErrLinkUsed):
		return "signin.used"
	default:
		return "signin.invalid"
	}
}

// signIn consumes the link and starts a session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	lang := pickLang(r.Header.Get("Accept-Language"))
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	claims, err := c.signer.verify(r.PostFormValue("t"))
	if err == nil && c.d.Authority(claims.Identity).Role < bot.RoleManager {
		err = ErrLinkInvalid
	}
	var cookie string
	var s session
	if err == nil {
		c.linkMu.Lock()
		cookie, s, err = c.ss.start(r.Context(), claims)
		c.linkMu.Unlock()
	}
	if err != nil {
		c.log.Info("console sign-in refused", "reason", err)
		c.render(w, r, http.StatusUnauthorized, "signin_needed", lang, map[string]any{"Bad": linkProblem(err)})
		return
	}
	c.setCookie(w, cookie, s.Expires)
	c.audit(r.Context(), s.Identity, bot.AuditEntry{Rule: "console sign-in"})
	http.Redirect(w, r, PathConsole, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *request) {
	if err := c.ss.end(r.Context(), r.cookie); err != nil {
		c.log.Warn("console: end session", "err", err)
	}
	c.clearCookie(w)
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "console sign-out"})
	http.Redirect(w, r.Request, PathSignedOut, http.StatusSeeOther)
}

func (c *Console) signedOut(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signedout", pickLang(r.Header.Get("Accept-Language")), nil)
}

// audit writes a change made in the console to the audit log under the
// manager's platform identity, as the same change made by command is.
func (c *Console) audit(ctx context.Context, id Identity, e bot.AuditEntry) {
	if e.Time.IsZero() {
		e.Time = c.now()
	}
	if e.Platform == "" {
		e.Platform = id.Platform
	}
	if e.User == "" {
		e.User = id.Key()
	}
	if e.Name == "" {
		e.Name = id.Name
	}
	e.Actor = id.Key()
	if e.Kind == "" {
		e.Kind = bot.AuditCommand
	}
	if e.Note = strings.TrimSpace(e.Note); e.Note != "" {
		e.Note = "via console: " + e.Note
	} else {
		e.Note = "via console"
	}
	e.Excerpt = bot.MaskPII(e.Excerpt)
	if err := c.d.Auditor.Audit(ctx, e); err != nil {
		c.log.Warn("console: audit", "err", err)
	}
}

// fail shows an error page inside the console.
func (c *Console) fail(w http.ResponseWriter, r *request, status int, msg string) {
	c.renderPage(w, r, status, "error", map[string]any{"Message": msg})
}
