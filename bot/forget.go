package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Keeper is a part that keeps data about users of its own: moderation's
// strikes and appeals, analytics' quoted samples and per-user records, the
// managers' tools' recorded questions and drafts. A plug-in declares its
// Keeper (Plugin.Keeper), so that /export and /forget reach everything.
type Keeper interface {
	// ExportUser returns what the part holds about user that is theirs
	// (what they wrote, what was decided about them), as a value that
	// encodes to JSON; nil when it holds nothing.
	ExportUser(ctx context.Context, user string) (any, error)
	// ForgetUser removes or anonymises what the part holds about req.User
	// within req.Scope, and returns how many records changed. It must be
	// safe to run again: a forget interrupted by a crash runs again every
	// step that had not finished.
	ForgetUser(ctx context.Context, req ForgetRequest) (int, error)
}

// ForgetRequest says whose data to forget, and where.
type ForgetRequest struct {
	// User is the user key ("telegram:42").
	User string
	// Scope is what to forget: ViewAll for everything, or one chat's view
	// for what was written there (a manager of one home chat forgets a
	// member's data in that chat only).
	Scope View
	// Ref is a random reference that replaces the user's id in the records
	// kept for the audit ("forgotten:"+Ref), so that the actions taken on
	// one person can still be told apart without saying who.
	Ref string
	// Turns are the user's own messages within Scope, read before anything
	// was deleted, for parts that counted their words (trending terms) to
	// take them out again.
	Turns []ExportedTurn
}

// ForgottenUser is the user id left in records kept after forget.
func (r ForgetRequest) ForgottenUser() string { return "forgotten:" + r.Ref }

// NamesUser reports whether the conversation or chat key conv has the
// user's id as its chat id, as a Telegram private chat has: such a key
// names the user, so records kept by it go with a forget.
func (r ForgetRequest) NamesUser(conv string) bool {
	p, id, ok := SplitUserKey(r.User)
	if !ok {
		return false
	}
	cp, rest, ok := strings.Cut(conv, "/")
	if !ok || cp != p {
		return false
	}
	chat, _, _ := strings.Cut(rest, "/")
	return chat == id
}

// UserHash is a short one-way hash of a user key, for records that need to
// find a user's entries again (to forget them) without naming the user.
func UserHash(user string) string {
	h := sha256.Sum256([]byte("chorus-user\x00" + user))
	return hex.EncodeToString(h[:8])
}

// namedKeeper is a Keeper with the name its export appears under.
type namedKeeper struct {
	name string
	k    Keeper
}

// addKeeper registers a plug-in's Keeper under name (its key in the
// export's Extra and its step in a forget). Keepers run in the order
// added, before the store's own data is deleted.
func (e *Engine) addKeeper(name string, k Keeper) error {
	if name == "" || k == nil || name == stepStore || name == stepEngine {
		return fmt.Errorf("bot: add keeper %q: a name (not %q or %q) and a keeper are required", name, stepStore, stepEngine)
	}
	e.cmu.Lock()
	defer e.cmu.Unlock()
	for _, nk := range e.keepers {
		if nk.name == name {
			return fmt.Errorf("bot: add keeper %q: already added", name)
		}
	}
	e.keepers = append(e.keepers, namedKeeper{name, k})
	return nil
}

func (e *Engine) keeperList() []namedKeeper {
	e.cmu.RLock()
	defer e.cmu.RUnlock()
	return slices.Clone(e.keepers)
}

// The forget journal: one record per forget in progress, in the KV, so that
// a forget interrupted by a crash finishes when the engine starts again.
const (
	bucketForget = "forget_jobs"
	stepEngine   = "engine"
	stepStore    = "store"
)

// forgetJob is a forget in progress. It holds the user's key until the
// forget is done, and is deleted then.
type forgetJob struct {
	User    string    `json:"user"`
	Scope   string    `json:"scope"`
	Ref     string    `json:"ref"`
	Actor   string    `json:"actor,omitempty"`
	Done    []string  `json:"done,omitempty"`
	Started time.Time `json:"started"`
}

// ErrForgetStep wraps the failure of one step of a forget; the forget
// finishes when the engine next starts (or when it is asked again).
var ErrForgetStep = errors.New("bot: forget interrupted")

// Forget forgets req.User within req.Scope everywhere: every keeper's data,
// the engine's rate and budget counters, then the store's messages,
// summaries, profile and audit entries. It is one durable operation: a
// journal record written first names the user and the steps done, and
// Start resumes a forget a crash interrupted. actor is who asked (a user
// key, "cli"); it is recorded in the audit log, the user's id is not. It
// returns the number of records changed and the forget's reference.
func (e *Engine) Forget(ctx context.Context, req ForgetRequest, actor string) (int, string, error) {
	if _, _, ok := SplitUserKey(req.User); !ok {
		return 0, "", fmt.Errorf("bot: forget: %q is not a user key", req.User)
	}
	if req.Scope == (View{}) {
		return 0, "", errors.New("bot: forget: no scope")
	}
	if req.Ref == "" {
		req.Ref = newRef()
	}
	if actor == req.User {
		actor = "self"
	}
	job := forgetJob{User: req.User, Scope: req.Scope.String(), Ref: req.Ref, Actor: actor, Started: e.now()}
	if err := e.putJob(ctx, job); err != nil {
		return 0, "", fmt.Errorf("bot: forget: %w", err)
	}
	n, err := e.runForget(ctx, job)
	return n, req.Ref, err
}

func newRef() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (e *Engine) journal() KV {
	if e.kv != nil {
		return e.kv
	}
	return e.jobs
}

func (e *Engine) putJob(ctx context.Context, j forgetJob) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return e.journal().Put(ctx, bucketForget, j.Ref, b)
}

// runForget runs the steps of job not yet done, recording each as it
// ends, then deletes the journal record and audits the forget.
func (e *Engine) runForget(ctx context.Context, job forgetJob) (int, error) {
	e.forgetMu.Lock()
	defer e.forgetMu.Unlock()
	req := ForgetRequest{User: job.User, Scope: ViewOfKey(job.Scope), Ref: job.Ref}
	if req.Scope == (View{}) {
		return 0, fmt.Errorf("bot: forget %s: bad scope %q", job.Ref, job.Scope)
	}
	if !slices.Contains(job.Done, stepStore) {
		// The store is the last step: its messages are all still there.
		d, err := e.store.Export(ctx, job.User)
		if err != nil {
			return 0, fmt.Errorf("%w: read the user's messages: %w", ErrForgetStep, err)
		}
		for _, t := range d.Messages {
			if t.Role == RoleUser && t.User == job.User && req.Scope.Covers(t.Conversation) {
				req.Turns = append(req.Turns, t)
			}
		}
	}
	total := 0
	step := func(name string, run func() (int, error)) error {
		if slices.Contains(job.Done, name) {
			return nil
		}
		n, err := run()
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrForgetStep, name, err)
		}
		total += n
		job.Done = append(job.Done, name)
		if err := e.putJob(ctx, job); err != nil {
			return fmt.Errorf("%w: journal: %w", ErrForgetStep, err)
		}
		return nil
	}
	for _, nk := range e.keeperList() {
		if err := step(nk.name, func() (int, error) { return nk.k.ForgetUser(ctx, req) }); err != nil {
			return total, err
		}
	}
	if err := step(stepEngine, func() (int, error) {
		if req.Scope.All() {
			return 0, e.resetLimits(ctx, req.User)
		}
		return 0, nil
	}); err != nil {
		return total, err
	}
	if err := step(stepStore, func() (int, error) { return e.store.Forget(ctx, req) }); err != nil {
		return total, err
	}
	if err := e.journal().Delete(ctx, bucketForget, job.Ref); err != nil {
		return total, fmt.Errorf("%w: journal: %w", ErrForgetStep, err)
	}
	e.audit(ctx, AuditEntry{Actor: job.Actor, Kind: AuditForget,
		Note: fmt.Sprintf("forgot %s in %s: %d records", req.ForgottenUser(), scopeName(req.Scope), total)})
	return total, nil
}

func scopeName(v View) string {
	if v.All() {
		return "every chat"
	}
	return v.Chat()
}

// resumeForgets finishes the forgets a stop interrupted.
func (e *Engine) resumeForgets(ctx context.Context) error {
	var jobs []forgetJob
	err := e.journal().Scan(ctx, bucketForget, "", "", func(_ string, v []byte) error {
		var j forgetJob
		if err := json.Unmarshal(v, &j); err != nil {
			e.log.Error("unreadable forget journal record; skipped", "err", err)
			return nil
		}
		jobs = append(jobs, j)
		return nil
	})
	if err != nil {
		return fmt.Errorf("bot: resume forget: %w", err)
	}
	for _, j := range jobs {
		e.log.Info("finishing a forget interrupted by the last stop", "ref", j.Ref, "steps_done", len(j.Done))
		if _, err := e.runForget(ctx, j); err != nil {
			e.log.Error("resuming forget failed; it is tried again at the next start", "ref", j.Ref, "err", err)
		}
	}
	return nil
}

// Export returns everything held about user that is theirs: the store's
// profile, messages and audit entries, and under Extra what each keeper
// holds.
func (e *Engine) Export(ctx context.Context, user string) (UserData, error) {
	d, err := e.store.Export(ctx, user)
	if err != nil {
		return UserData{}, fmt.Errorf("bot: export: %w", err)
	}
	for _, nk := range e.keeperList() {
		v, err := nk.k.ExportUser(ctx, user)
		if err != nil {
			return UserData{}, fmt.Errorf("bot: export %s: %w", nk.name, err)
		}
		if v == nil {
			continue
		}
		if d.Extra == nil {
			d.Extra = map[string]any{}
		}
		d.Extra[nk.name] = v
	}
	return d, nil
}
