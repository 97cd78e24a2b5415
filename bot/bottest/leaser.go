package bottest

import (
	"context"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Leases is the lease table of an in-memory fleet: replicas (Replica)
// sharing one MemStore take turns on its conversations through it, as
// replicas sharing PostgreSQL do through theirs. A lease lives TTL past
// its holder's last call, so a replica whose engine stopped (a crash)
// loses its leases and the others' sweepers take them over.
type Leases struct {
	mu   sync.Mutex
	ttl  time.Duration
	held map[string]heldLease
}

type heldLease struct {
	owner   string
	expires time.Time
}

// NewLeases returns an empty lease table whose leases live ttl.
func NewLeases(ttl time.Duration) *Leases {
	return &Leases{ttl: ttl, held: map[string]heldLease{}}
}

// Replica is one replica's view of a shared MemStore: a bot.Store that is
// also a bot.Leaser.
type Replica struct {
	*MemStore
	leases *Leases
	name   string
}

var _ bot.Leaser = (*Replica)(nil)

// Replica returns the replica called name over st.
func (l *Leases) Replica(st *MemStore, name string) *Replica {
	return &Replica{MemStore: st, leases: l, name: name}
}

// keepLocked pushes on the expiry of r's leases: any call of a replica
// is its sign of life. l.mu is held.
func (r *Replica) keepLocked(now time.Time) {
	for k, h := range r.leases.held {
		if h.owner == r.name {
			r.leases.held[k] = heldLease{r.name, now.Add(r.leases.ttl)}
		}
	}
}

// Claim implements bot.Leaser.
func (r *Replica) Claim(_ context.Context, conv string) (bool, bool, error) {
	l := r.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	r.keepLocked(now)
	cur, ok := l.held[conv]
	if ok && cur.owner != r.name && now.Before(cur.expires) {
		return false, false, nil
	}
	l.held[conv] = heldLease{r.name, now.Add(l.ttl)}
	return true, ok && cur.owner != r.name, nil
}

// Release implements bot.Leaser: refused while a message of conv is
// pending, checked under the table's lock so that a claim after an
// accept can't slip between the check and the release.
func (r *Replica) Release(ctx context.Context, conv string) (bool, error) {
	l := r.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	r.keepLocked(time.Now())
	if cur, ok := l.held[conv]; !ok || cur.owner != r.name {
		return true, nil
	}
	if p, _ := r.PendingOf(ctx, conv, 1); len(p) > 0 {
		return false, nil
	}
	delete(l.held, conv)
	return true, nil
}

// PendingOf implements bot.Leaser.
func (r *Replica) PendingOf(ctx context.Context, conv string, max int) ([]bot.Message, error) {
	all, err := r.Pending(ctx)
	if err != nil {
		return nil, err
	}
	var out []bot.Message
	for _, m := range all {
		if m.ConversationKey() == conv && len(out) < max {
			out = append(out, m)
		}
	}
	return out, nil
}

// Orphans implements bot.Leaser.
func (r *Replica) Orphans(ctx context.Context, max int) ([]string, error) {
	all, err := r.Pending(ctx)
	if err != nil {
		return nil, err
	}
	l := r.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	r.keepLocked(now)
	seen := map[string]bool{}
	var out []string
	for _, m := range all {
		k := m.ConversationKey()
		if seen[k] || len(out) >= max {
			continue
		}
		seen[k] = true
		if h, ok := l.held[k]; !ok || h.owner == r.name || now.After(h.expires) {
			out = append(out, k)
		}
	}
	return out, nil
}
