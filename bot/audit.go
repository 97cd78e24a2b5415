package bot

import (
	"context"
	"time"
)

// Auditor records what managers and moderators did, and refused attempts.
type Auditor interface {
	Audit(ctx context.Context, e AuditEntry) error
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time     time.Time `json:"time"`
	Platform string    `json:"platform"`
	Chat     string    `json:"chat"`
	// User is the user key the entry is about.
	User string `json:"user"`
	// Name is User's display name at the time, so that a report can name
	// them as the room sees them, never by id.
	Name string `json:"name,omitempty"`
	// Actor is who or what decided: a user key, "rules", "model:NAME".
	Actor    string    `json:"actor"`
	Kind     AuditKind `json:"kind"`
	Rule     string    `json:"rule,omitempty"`
	Severity float64   `json:"severity,omitempty"`
	Action   string    `json:"action,omitempty"`
	Excerpt  string    `json:"excerpt,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// audit writes an audit entry if an auditor is set.
func (e *Engine) audit(ctx context.Context, a AuditEntry) {
	if e.auditor == nil {
		return
	}
	if a.Time.IsZero() {
		a.Time = e.now()
	}
	a.Note = e.redactor.Redact(a.Note)
	a.Excerpt = MaskPII(e.redactor.Redact(a.Excerpt))
	if err := e.auditor.Audit(ctx, a); err != nil {
		e.log.Warn("audit failed", "err", err)
	}
}
