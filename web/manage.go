package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Drafts are the kept /post drafts and a manager's last /post
// (manage.Tools).
type Drafts interface {
	Drafts(ctx context.Context) ([]Draft, error)
	// LastPost is user's last /post, not kept; ok false when none.
	LastPost(user string) (p LastPost, ok bool)
	EditDraft(ctx context.Context, id, text string) error
	DeleteDraft(ctx context.Context, id string) error
}

// Draft is a kept /post draft.
type Draft struct {
	ID, Platform, Brief, Text, Author string
	Created                           time.Time
	Flags                             []string
}

// LastPost is a manager's last /post, not kept yet: its variants and what
// the output checks found in each.
type LastPost struct {
	Platform, Brief string
	Variants        []string
	Flags           [][]string
}

// Persona is the persona in force and how an owner changes it
// (manage.Tools, as /persona set): fields brand, bot_name, voice, do and
// dont, do and dont as items separated by ";".
type Persona interface {
	Persona() bot.Persona
	SetPersona(ctx context.Context, fields map[string]string) (bot.Persona, error)
}

func (c *Console) draftsPage(w http.ResponseWriter, r *request) {
	if c.d.Drafts == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("drafts.unavailable"))
		return
	}
	ds, err := c.d.Drafts.Drafts(r.Context())
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	data := map[string]any{"Drafts": ds, "Done": r.URL.Query().Get("done")}
	if lp, ok := c.d.Drafts.LastPost(r.User()); ok {
		data["Last"] = lp
	}
	c.renderPage(w, r, http.StatusOK, "drafts", data)
}

func (c *Console) draftAction(w http.ResponseWriter, r *request) {
	if c.d.Drafts == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("drafts.unavailable"))
		return
	}
	id := r.PathValue("id")
	var err error
	verb := r.PathValue("verb")
	switch verb {
	case "save":
		err = c.d.Drafts.EditDraft(r.Context(), id, r.PostFormValue("text"))
	case "delete":
		err = c.d.Drafts.DeleteDraft(r.Context(), id)
	default:
		http.NotFound(w, r.Request)
		return
	}
	switch {
	case errors.Is(err, bot.ErrNotFound):
		c.fail(w, r, http.StatusNotFound, r.T("drafts.not_found", "id", id))
		return
	case err != nil:
		c.fail(w, r, http.StatusBadRequest, r.T("drafts.bad", "max", 4000))
		return
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "/post " + verb, Note: "draft " + id})
	http.Redirect(w, r.Request, "/console/drafts?done="+verb, http.StatusSeeOther)
}

type personaData struct {
	P     bot.Persona
	Do    string
	Dont  string
	Done  bool
	Error string
}

func (c *Console) personaPage(w http.ResponseWriter, r *request) {
	if c.d.Persona == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("persona.unavailable"))
		return
	}
	p := c.d.Persona.Persona()
	c.renderPage(w, r, http.StatusOK, "persona", personaData{P: p, Do: strings.Join(p.Do, "\n"), Dont: strings.Join(p.Dont, "\n"),
		Done: r.URL.Query().Get("done") != ""})
}

// setPersona is the owner changing the persona: every field at once,
// checked as /persona set checks it; nothing changes when one is refused.
func (c *Console) setPersona(w http.ResponseWriter, r *request) {
	if c.d.Persona == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("persona.unavailable"))
		return
	}
	lines := func(s string) string {
		var items []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				items = append(items, strings.ReplaceAll(l, ";", ","))
			}
		}
		if len(items) == 0 {
			return "-"
		}
		return strings.Join(items, "; ")
	}
	voice := strings.TrimSpace(r.PostFormValue("voice"))
	if voice == "" {
		voice = "-"
	}
	fields := map[string]string{"brand": r.PostFormValue("brand"), "bot_name": r.PostFormValue("bot_name"), "voice": voice,
		"do": lines(r.PostFormValue("do")), "dont": lines(r.PostFormValue("dont"))}
	if _, err := c.d.Persona.SetPersona(r.Context(), fields); err != nil {
		p := c.d.Persona.Persona()
		c.renderPage(w, r, http.StatusBadRequest, "persona", personaData{P: p, Do: strings.Join(p.Do, "\n"), Dont: strings.Join(p.Dont, "\n"),
			Error: r.T("persona.refused", "err", err.Error())})
		return
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Kind: bot.AuditPersona, Action: "set", Rule: "brand, bot_name, voice, do, dont",
		Excerpt: bot.Excerpt(fields["voice"], 120)})
	http.Redirect(w, r.Request, "/console/persona?done=1", http.StatusSeeOther)
}
