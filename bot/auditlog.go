package bot

import (
	"context"
	"time"
)

// AuditQuery filters an audit log read. Empty fields match everything.
type AuditQuery struct {
	// User keeps entries about this user key.
	User string
	// Kind keeps entries of this kind.
	Kind AuditKind
	// Since keeps entries at or after this time.
	Since time.Time
	// Limit bounds the result (default 100, at most 10,000).
	Limit int
}

// AuditLog reads the audit log back: the stores keep it, the manager
// commands and the moderation history read it.
type AuditLog interface {
	// AuditLog returns the entries matching q, newest first.
	AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}
