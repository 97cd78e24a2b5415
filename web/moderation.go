package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Moderation is what the moderation page reads and changes
// (moderation.Moderator, through the code /mod and /appeal use).
type Moderation interface {
	Words(ctx context.Context) ([]string, error)
	SetWords(ctx context.Context, words []string) error
	DryRun(ctx context.Context) (bool, error)
	SetDryRun(ctx context.Context, on bool) error
	Appeals(ctx context.Context) ([]Appeal, error)
	Pardon(ctx context.Context, user string) error
	Uphold(ctx context.Context, user string) error
	Strikes(ctx context.Context) ([]Strikes, error)
}

// Appeal is an open appeal against a moderation action.
type Appeal struct {
	User, Text                      string
	Time                            time.Time
	Chat, Category, Action, Excerpt string
}

// Strikes is a user's current strikes.
type Strikes struct {
	User    string
	Strikes float64
}

// maxWords bounds the word list the page takes.
const maxWords = 5000

type moderationData struct {
	Entries []bot.AuditEntry
	F       auditFilter
	Kinds   []bot.AuditKind
	Appeals []Appeal
	Strikes []Strikes
	Words   string
	DryRun  bool
	Done    string
	NoMod   bool
	Periods []string
}

type auditFilter struct {
	Chat, User, Rule, Action, Kind, Period string
}

func (c *Console) moderationPage(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := auditFilter{Chat: strings.TrimSpace(q.Get("chat")), User: strings.TrimSpace(q.Get("user")), Rule: strings.TrimSpace(q.Get("rule")),
		Action: strings.TrimSpace(q.Get("action")), Kind: q.Get("kind"), Period: q.Get("period")}
	pk, d := parsePeriod(f.Period)
	if f.Period == "" {
		pk, d = "7d", 7*24*time.Hour
	}
	f.Period = pk
	var pks []string
	for _, p := range periods {
		pks = append(pks, p.Key)
	}
	data := moderationData{F: f, Periods: pks, Done: q.Get("done"), Kinds: []bot.AuditKind{bot.AuditModeration, bot.AuditAppeal, bot.AuditCommand,
		bot.AuditRefused, bot.AuditForget, bot.AuditOutputBlocked, bot.AuditPersona, bot.AuditAnnounce}}
	if c.d.AuditLog != nil {
		es, err := c.d.AuditLog.AuditLog(ctx, bot.AuditQuery{User: f.User, Kind: bot.AuditKind(f.Kind), Since: c.now().Add(-d), Limit: 2000})
		if err != nil {
			c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
			return
		}
		for _, e := range es {
			if f.Chat != "" && !strings.Contains(e.Chat, f.Chat) || f.Rule != "" && !strings.Contains(strings.ToLower(e.Rule), strings.ToLower(f.Rule)) ||
				f.Action != "" && !strings.EqualFold(e.Action, f.Action) {
				continue
			}
			e.Excerpt = bot.MaskPII(e.Excerpt)
			data.Entries = append(data.Entries, e)
			if len(data.Entries) == 200 {
				break
			}
		}
	}
	if m := c.d.Moderation; m != nil {
		var err error
		var ws []string
		if data.Appeals, err = m.Appeals(ctx); err == nil {
			if data.Strikes, err = m.Strikes(ctx); err == nil {
				if ws, err = m.Words(ctx); err == nil {
					data.DryRun, err = m.DryRun(ctx)
				}
			}
		}
		if err != nil {
			c.log.Warn("console: moderation", "err", err)
			c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
			return
		}
		data.Words = strings.Join(ws, "\n")
	} else {
		data.NoMod = true
	}
	c.renderPage(w, r, http.StatusOK, "moderation", data)
}

// appealAction pardons (clears the strikes, closes the appeal) or upholds
// (closes it, keeps the strikes) an appeal; pardon works on any user with
// strikes too.
func (c *Console) appealAction(w http.ResponseWriter, r *request) {
	m := c.d.Moderation
	if m == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("mod.unavailable"))
		return
	}
	user, verb := r.PostFormValue("user"), r.PathValue("verb")
	if _, _, ok := bot.SplitUserKey(user); !ok {
		c.fail(w, r, http.StatusBadRequest, r.T("mod.bad_user"))
		return
	}
	var err error
	switch verb {
	case "pardon":
		err = m.Pardon(r.Context(), user)
	case "uphold":
		err = m.Uphold(r.Context(), user)
	default:
		http.NotFound(w, r.Request)
		return
	}
	if err != nil {
		c.log.Warn("console: appeal", "verb", verb, "err", err)
		c.fail(w, r, http.StatusNotFound, r.T("mod.no_appeal"))
		return
	}
	note := "strikes cleared, appeal closed"
	if verb == "uphold" {
		note = "appeal closed, action upheld"
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{User: user, Kind: bot.AuditCommand, Rule: "/mod " + verb, Note: note})
	http.Redirect(w, r.Request, "/console/moderation?done="+verb, http.StatusSeeOther)
}

// setWords replaces the word list: one word or phrase a line.
func (c *Console) setWords(w http.ResponseWriter, r *request) {
	m := c.d.Moderation
	if m == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("mod.unavailable"))
		return
	}
	var ws []string
	for _, l := range strings.Split(r.PostFormValue("words"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(ws, l) {
			ws = append(ws, l)
		}
	}
	if len(ws) > maxWords {
		c.fail(w, r, http.StatusBadRequest, r.T("mod.too_many", "max", maxWords))
		return
	}
	if err := m.SetWords(r.Context(), ws); err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "/mod words", Note: fmt.Sprintf("%d items", len(ws))})
	http.Redirect(w, r.Request, "/console/moderation?done=words", http.StatusSeeOther)
}

func (c *Console) setDryRun(w http.ResponseWriter, r *request) {
	m := c.d.Moderation
	if m == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("mod.unavailable"))
		return
	}
	on := r.PostFormValue("dryrun") == "on"
	if err := m.SetDryRun(r.Context(), on); err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	state := "off"
	if on {
		state = "on"
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "/mod dryrun", Note: state})
	http.Redirect(w, r.Request, "/console/moderation?done=dryrun", http.StatusSeeOther)
}
