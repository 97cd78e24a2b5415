package memory

import (
	"context"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Backend is what the chorus binary needs of a durable store: the
// engine's state, the plug-ins' key-value space, the audit log, retention,
// a readiness check and the knowledge base. *Store (one bbolt file) and
// pgstore.Store (PostgreSQL, shared by replicas) are the two.
type Backend interface {
	bot.Store
	bot.KV
	bot.Auditor
	bot.AuditLog
	// KB is the knowledge base kept in the store.
	KB() *KB
	// Prune deletes turns and summaries older than before and dedup
	// records accepted before it, and returns how many.
	Prune(ctx context.Context, before time.Time) (int, error)
	// RunRetention prunes by the configured retention every interval
	// until ctx ends.
	RunRetention(ctx context.Context, every time.Duration) error
	// Healthy reports whether the store can take writes (/readyz).
	Healthy(ctx context.Context) error
	// Size is the bytes the store takes, for metrics.
	Size() (int64, error)
	// Close releases the store.
	Close() error
}

var _ Backend = (*Store)(nil)
