package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Review kinds: why an exchange needs a look.
const (
	reviewDown     = "down"      // a follower rated the answer 👎
	reviewBlocked  = "blocked"   // the output checks stopped the answer
	reviewDontKnow = "dont_know" // the bot said it didn't know (a gap)
)

// Review statuses.
const (
	statusOpen     = ""
	statusFine     = "fine"
	statusAnswered = "answered"
)

// bucketReview holds the exchanges to review, keyed by time.
const bucketReview = "web.review"

// historyBudget is the window of a conversation searched for the exchange
// a vote or a blocked answer is about.
const historyBudget = 50_000

// reviewItem is an exchange that needs a look. It keeps the question and
// the answer as written (the conversation may be summarised away); the
// page masks a private message's unless full DM review is on, and a
// forget removes the items of the asker and the voter.
type reviewItem struct {
	ID       string    `json:"-"`
	Kind     string    `json:"k"`
	Time     time.Time `json:"t"`
	Platform string    `json:"p"`
	Chat     string    `json:"c"`
	DM       bool      `json:"dm,omitempty"`
	// Asker and Voter are bot.UserHash of the asker and of who voted.
	Asker    string `json:"a,omitempty"`
	Voter    string `json:"v,omitempty"`
	Name     string `json:"n,omitempty"`
	Question string `json:"q"`
	Answer   string `json:"r,omitempty"`
	Check    string `json:"ck,omitempty"`
	Status   string `json:"s,omitempty"`
	By       string `json:"by,omitempty"`
}

// reviewQueue records the events that make an exchange worth a review
// and writes them to the KV in the background (Observe must be quick).
type reviewQueue struct {
	mu      sync.Mutex
	pending []bot.Event
	flushMu sync.Mutex
}

// Observe keeps 👎 votes, answers the output checks stopped, and honest
// "I don't know"s.
func (q *reviewQueue) Observe(e bot.Event) {
	switch {
	case e.Kind == bot.EventFeedback && bot.Rating(e.Label) == bot.RatingDown:
	case e.Kind == bot.EventOutputBlocked && e.Action == "fallback":
	case e.Kind == bot.EventQuestion && e.Outcome == bot.OutcomeUnanswered:
	default:
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) < 10_000 {
		q.pending = append(q.pending, e)
	}
}

// flushReview turns the pending events into review items, with the
// question and answer found in the conversation.
func (c *Console) flushReview(ctx context.Context) error {
	q := &c.review
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	evs := q.pending
	q.pending = nil
	q.mu.Unlock()
	for i, e := range evs {
		it := c.itemOf(ctx, e)
		if it == nil {
			continue
		}
		b, err := json.Marshal(it)
		if err != nil {
			continue
		}
		if err := c.d.KV.Put(ctx, bucketReview, fmt.Sprintf("%020d-%s", it.Time.UnixNano(), randomToken(4)), b); err != nil {
			q.mu.Lock()
			q.pending = append(evs[i:], q.pending...)
			q.mu.Unlock()
			return fmt.Errorf("web: review: %w", err)
		}
	}
	return nil
}

// itemOf builds the review item of an event, nil when the exchange
// can't be found (the asker was forgotten meanwhile).
func (c *Console) itemOf(ctx context.Context, e bot.Event) *reviewItem {
	t := e.Time
	if t.IsZero() {
		t = c.now()
	}
	it := &reviewItem{Time: t, Platform: e.Platform, Chat: e.Chat, DM: e.ChatKind == bot.ChatDM}
	var win []bot.Turn
	if c.d.History != nil {
		win, _ = c.d.History.Window(ctx, e.Chat, historyBudget)
	}
	switch e.Kind {
	case bot.EventFeedback:
		it.Kind, it.Voter = reviewDown, bot.UserHash(e.User)
		ref := bot.AnswerRef(e.Ref)
		for _, tn := range win {
			switch {
			case tn.Role == bot.RoleUser && tn.MsgID == e.Ref:
				it.Question, it.Asker, it.Name = tn.Text, bot.UserHash(tn.User), tn.Name
			case tn.Role == bot.RoleAssistant && tn.MsgID == ref:
				it.Answer = tn.Text
			}
		}
		if it.Question == "" && it.Answer == "" {
			return nil
		}
	case bot.EventQuestion:
		// Masked as the knowledge gaps keep it (manage).
		it.Kind, it.Asker, it.Question = reviewDontKnow, bot.UserHash(e.User), bot.MaskPII(e.Text)
		if a, ok := lastAnswerTo(win, e.User); ok {
			it.Answer, it.Name = a.Text, nameOf(win, e.User)
		}
	case bot.EventOutputBlocked:
		it.Kind, it.Asker, it.Check = reviewBlocked, bot.UserHash(e.User), e.Label
		for i := len(win) - 1; i >= 0; i-- {
			if win[i].Role == bot.RoleUser && win[i].User == e.User {
				it.Question, it.Name = win[i].Text, win[i].Name
				break
			}
		}
		if a, ok := lastAnswerTo(win, e.User); ok {
			it.Answer = a.Text
		}
	}
	return it
}

func lastAnswerTo(win []bot.Turn, user string) (bot.Turn, bool) {
	for i := len(win) - 1; i >= 0; i-- {
		if win[i].Role == bot.RoleAssistant && win[i].User == user {
			return win[i], true
		}
	}
	return bot.Turn{}, false
}

func nameOf(win []bot.Turn, user string) string {
	for i := len(win) - 1; i >= 0; i-- {
		if win[i].Role == bot.RoleUser && win[i].User == user {
			return win[i].Name
		}
	}
	return ""
}

// loadReview reads the items, newest first; keep selects them.
func (c *Console) loadReview(ctx context.Context, keep func(*reviewItem) bool, limit int) ([]*reviewItem, error) {
	var out []*reviewItem
	err := c.d.KV.Scan(ctx, bucketReview, "", "", func(k string, v []byte) error {
		var it reviewItem
		if json.Unmarshal(v, &it) != nil {
			return nil
		}
		it.ID = k
		if keep(&it) {
			out = append(out, &it)
		}
		return nil
	})
	slices.Reverse(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

func (c *Console) getItem(ctx context.Context, id string) (*reviewItem, error) {
	b, err := c.d.KV.Get(ctx, bucketReview, id)
	if err != nil {
		return nil, err
	}
	var it reviewItem
	if err := json.Unmarshal(b, &it); err != nil {
		return nil, err
	}
	it.ID = id
	return &it, nil
}

func (c *Console) putItem(ctx context.Context, it *reviewItem) error {
	b, err := json.Marshal(it)
	if err != nil {
		return err
	}
	return c.d.KV.Put(ctx, bucketReview, it.ID, b)
}

// ExportUser implements bot.Keeper: the review items of the user's
// questions and votes.
func (c *Console) ExportUser(ctx context.Context, user string) (any, error) {
	if err := c.flushReview(ctx); err != nil {
		return nil, err
	}
	uh := bot.UserHash(user)
	items, err := c.loadReview(ctx, func(it *reviewItem) bool { return it.Asker == uh || it.Voter == uh }, 1<<30)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	type exported struct {
		Time     time.Time `json:"time"`
		Kind     string    `json:"kind"`
		Chat     string    `json:"chat"`
		Question string    `json:"question,omitempty"`
		Answer   string    `json:"answer,omitempty"`
	}
	var out []exported
	for _, it := range items {
		e := exported{Time: it.Time, Kind: it.Kind, Chat: it.Chat}
		if it.Asker == uh {
			e.Question, e.Answer = it.Question, it.Answer
		}
		out = append(out, e)
	}
	return out, nil
}

// ForgetUser implements bot.Keeper: the review items of the user's
// questions and votes within the scope go.
func (c *Console) ForgetUser(ctx context.Context, req bot.ForgetRequest) (int, error) {
	if err := c.flushReview(ctx); err != nil {
		return 0, err
	}
	uh := bot.UserHash(req.User)
	items, err := c.loadReview(ctx, func(it *reviewItem) bool {
		return (it.Asker == uh || it.Voter == uh) && req.Scope.Covers(it.Chat)
	}, 1<<30)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		if err := c.d.KV.Delete(ctx, bucketReview, it.ID); err != nil {
			return 0, err
		}
	}
	return len(items), nil
}

// reviewView is one item as the page shows it.
type reviewView struct {
	*reviewItem
	Masked  bool
	Where   string
	Shown   string
	ShownA  string
	KindKey string
}

type reviewData struct {
	Items  []reviewView
	Kind   string
	Kinds  []string
	FullDM bool
	Done   string
}

func (c *Console) reviewPage(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	if err := c.flushReview(ctx); err != nil {
		c.log.Warn("console: review", "err", err)
	}
	kind := r.URL.Query().Get("kind")
	if !slices.Contains([]string{reviewDown, reviewBlocked, reviewDontKnow}, kind) {
		kind = ""
	}
	items, err := c.loadReview(ctx, func(it *reviewItem) bool {
		return it.Status == statusOpen && (kind == "" || it.Kind == kind)
	}, 100)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	full := c.fullDM(ctx)
	data := reviewData{Kind: kind, Kinds: []string{reviewDown, reviewBlocked, reviewDontKnow}, FullDM: full, Done: r.URL.Query().Get("done")}
	for _, it := range items {
		v := reviewView{reviewItem: it, KindKey: "review.kind." + it.Kind, Shown: it.Question, ShownA: it.Answer, Where: it.Chat}
		if it.DM {
			v.Where = r.T("review.private")
			if !full {
				v.Masked = true
				v.Shown, v.ShownA = bot.MaskPII(it.Question), bot.MaskPII(it.Answer)
			}
		}
		data.Items = append(data.Items, v)
	}
	c.renderPage(w, r, http.StatusOK, "review", data)
}

// reviewFine marks an exchange fine: it leaves the list.
func (c *Console) reviewFine(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	it, err := c.getItem(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, http.StatusNotFound, r.T("review.gone"))
		return
	}
	it.Status, it.By = statusFine, r.User()
	if err := c.putItem(ctx, it); err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	c.audit(ctx, r.s.Identity, bot.AuditEntry{Rule: "review: marked fine", Chat: it.Chat, Note: it.Kind, Excerpt: bot.Excerpt(it.Question, 200)})
	http.Redirect(w, r.Request, "/console/review?done=fine", http.StatusSeeOther)
}

// maxAnswerRunes bounds a written answer.
const maxAnswerRunes = 4000

// reviewAnswer writes the right answer: a question-and-answer passage in
// the knowledge base, the gaps it closes gone, the exchange (and every
// open one with the same question) answered.
func (c *Console) reviewAnswer(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	it, err := c.getItem(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, http.StatusNotFound, r.T("review.gone"))
		return
	}
	question := strings.TrimSpace(r.PostFormValue("question"))
	answer := strings.TrimSpace(r.PostFormValue("answer"))
	if question == "" || answer == "" || len([]rune(answer)) > maxAnswerRunes || len([]rune(question)) > 500 {
		c.fail(w, r, http.StatusBadRequest, r.T("review.answer_bad", "max", maxAnswerRunes))
		return
	}
	if c.d.Knowledge == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("kb.unavailable"))
		return
	}
	if err := c.addAnswer(ctx, question, answer); err != nil {
		c.log.Warn("console: add answer", "err", err)
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	closed := 0
	if c.d.Gaps != nil {
		if closed, err = c.d.Gaps.ResolveGaps(ctx, question); err != nil {
			c.log.Warn("console: resolve gaps", "err", err)
		}
	}
	norm := strings.ToLower(strings.TrimSpace(it.Question))
	same, _ := c.loadReview(ctx, func(o *reviewItem) bool {
		return o.Status == statusOpen && (o.ID == it.ID || strings.ToLower(strings.TrimSpace(o.Question)) == norm)
	}, 1<<20)
	for _, o := range same {
		o.Status, o.By = statusAnswered, r.User()
		if err := c.putItem(ctx, o); err != nil {
			c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
			return
		}
	}
	c.audit(ctx, r.s.Identity, bot.AuditEntry{Rule: "review: wrote the answer", Chat: it.Chat,
		Note: fmt.Sprintf("added to the knowledge base; knowledge gaps closed: %d", closed), Excerpt: bot.Excerpt(question+" → "+answer, 300)})
	http.Redirect(w, r.Request, "/console/review?done=answered", http.StatusSeeOther)
}

// settings the owner changes in the console, in the KV.
const (
	bucketSettings = "web.settings"
	settingFullDM  = "full_dm_review"
)

// fullDM reports whether full DM review is on: the setting an owner made
// in the console, else the configuration's.
func (c *Console) fullDM(ctx context.Context) bool {
	b, err := c.d.KV.Get(ctx, bucketSettings, settingFullDM)
	if errors.Is(err, bot.ErrNotFound) || err != nil {
		return c.cfg.FullDMReview
	}
	return string(b) == "on"
}

// setFullDM is the owner turning full DM review on or off.
func (c *Console) setFullDM(w http.ResponseWriter, r *request) {
	on := r.PostFormValue("full_dm") == "on"
	v := "off"
	if on {
		v = "on"
	}
	if err := c.d.KV.Put(r.Context(), bucketSettings, settingFullDM, []byte(v)); err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	c.audit(r.Context(), r.s.Identity, bot.AuditEntry{Rule: "privacy: full DM review " + v})
	http.Redirect(w, r.Request, "/console/review", http.StatusSeeOther)
}
