package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chorusbot/chorus/bot"
)

// DefaultLeaseTTL is how long a lease (on a conversation, or a lead)
// outlives its holder's last sign of life: a replica that dies has its
// conversations and leads taken over within about this long.
const DefaultLeaseTTL = 5 * time.Second

var (
	_ bot.Leaser  = (*Store)(nil)
	_ bot.Elector = (*Store)(nil)
)

// WithLeaseTTL sets the lease lifetime (default DefaultLeaseTTL): the
// store keeps its leases alive every third of it, and another replica
// takes them over about that long after this one dies.
func WithLeaseTTL(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.leaseTTL = d
		}
	}
}

// WithReplica names this store's replica in the lease tables (default:
// the host name, the process id and a random suffix, new for each Open).
func WithReplica(name string) Option { return func(o *options) { o.replica = name } }

// replicaName is the default replica name: unique to one Open.
func replicaName() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Replica is this store's name in the lease tables.
func (s *Store) Replica() string { return s.owner }

// secs is d as float seconds, for make_interval.
func secs(d time.Duration) float64 { return d.Seconds() }

// Claim implements bot.Leaser, in one statement: the lease is taken when
// there is none, when it lapsed, or when it is this replica's (kept
// alive).
func (s *Store) Claim(ctx context.Context, conv string) (ok, takeover bool, err error) {
	var prev *string
	ok, err = s.execScan(ctx, &prev, `WITH prev AS (
			SELECT owner FROM conv_leases WHERE chorus_key(conv) = chorus_key($1)
		)
		INSERT INTO conv_leases AS l (conv, owner, expires)
		VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
		ON CONFLICT (chorus_key(conv)) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
			WHERE l.owner = excluded.owner OR l.expires < clock_timestamp()
		RETURNING (SELECT owner FROM prev)`, []byte(conv), s.owner, secs(s.leaseTTL))
	if err != nil {
		return false, false, fmt.Errorf("pgstore: claim conversation: %w", err)
	}
	return ok, ok && prev != nil && *prev != s.owner, nil
}

// Release implements bot.Leaser: the lease row goes unless a message of
// conv is pending. A message accepted by another replica commits before
// that replica claims, so either this statement sees it (and keeps the
// lease) or the other replica's claim comes after the delete (and
// succeeds).
func (s *Store) Release(ctx context.Context, conv string) (bool, error) {
	var deleted, held int
	_, err := s.execScanN(ctx, []any{&deleted, &held}, `WITH d AS (
			DELETE FROM conv_leases WHERE chorus_key(conv) = chorus_key($1) AND owner = $2
				AND NOT EXISTS (SELECT 1 FROM pending WHERE chorus_key(conv) = chorus_key($1))
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM d)::int,
			(SELECT count(*) FROM conv_leases WHERE chorus_key(conv) = chorus_key($1) AND owner = $2)::int`,
		[]byte(conv), s.owner)
	if err != nil {
		return false, fmt.Errorf("pgstore: release conversation: %w", err)
	}
	return deleted == 1 || held == 0, nil
}

// execScanN is execScan for a row of several columns.
func (s *Store) execScanN(ctx context.Context, dst []any, sql string, args ...any) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	err := s.pool.QueryRow(ctx, sql, args...).Scan(dst...)
	if errors.Is(err, pgx.ErrNoRows) {
		s.stats.commits.Add(1)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.stats.commits.Add(1)
	return true, nil
}

// PendingOf implements bot.Leaser.
func (s *Store) PendingOf(ctx context.Context, conv string, max int) ([]bot.Message, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT body FROM pending WHERE chorus_key(conv) = chorus_key($1) ORDER BY seq LIMIT $2`,
		[]byte(conv), max)
	if err != nil {
		return nil, fmt.Errorf("pgstore: pending of a conversation: %w", err)
	}
	out, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: pending of a conversation: %w", err)
	}
	return out, nil
}

// Orphans implements bot.Leaser.
func (s *Store) Orphans(ctx context.Context, max int) ([]string, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT p.conv FROM pending p
		LEFT JOIN conv_leases l ON chorus_key(l.conv) = chorus_key(p.conv)
		WHERE l.owner IS NULL OR l.owner = $1 OR l.expires < clock_timestamp()
		GROUP BY p.conv ORDER BY min(p.seq) LIMIT $2`, s.owner, max)
	if err != nil {
		return nil, fmt.Errorf("pgstore: orphans: %w", err)
	}
	var out []string
	var conv []byte
	_, err = pgx.ForEachRow(rows, []any{&conv}, func() error {
		out = append(out, string(conv))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: orphans: %w", err)
	}
	return out, nil
}

// keepLeases pushes the expiry of every conversation lease this replica
// holds on, every third of the lifetime, until ctx ends.
func (s *Store) keepLeases(ctx context.Context) {
	defer s.listening.Done()
	t := time.NewTicker(s.leaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := s.pool.Exec(ctx, `UPDATE conv_leases SET expires = clock_timestamp() + make_interval(secs => $2) WHERE owner = $1`,
			s.owner, secs(s.leaseTTL))
		if err != nil && ctx.Err() == nil {
			s.log.Warn("keeping conversation leases alive failed", "host", s.host, "err", err)
		}
	}
}

// dropLeases gives up every lease and lead this replica holds, so that
// others take its conversations at once: Close calls it.
func (s *Store) dropLeases() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM conv_leases WHERE owner = $1`, s.owner)
	b.Queue(`DELETE FROM leads WHERE owner = $1`, s.owner)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		s.log.Warn("giving up leases at close failed; they lapse", "err", err)
	}
}

// Lead implements bot.Elector with a row of the leads table: it tries to
// take the lead every third of the lease lifetime (at most a second
// apart), keeps it alive as often while fn runs, and ends fn's context as
// soon as it can't (another replica took it, or the database could not be
// reached for two thirds of the lifetime).
func (s *Store) Lead(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	poll := min(s.leaseTTL/3, time.Second)
	for {
		ok, err := s.takeLead(ctx, name)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.Warn("campaigning for a lead failed", "lead", name, "err", err)
		}
		if !ok {
			if bot.Sleep(ctx, poll) != nil {
				return nil
			}
			continue
		}
		s.log.Info("leading", "lead", name, "replica", s.owner)
		lctx, cancel := context.WithCancel(ctx)
		lost := make(chan struct{})
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			s.keepLead(lctx, name, func() { close(lost); cancel() })
		}()
		err = fn(lctx)
		cancel()
		<-kept
		select {
		case <-lost:
			if ctx.Err() == nil {
				s.log.Warn("lost the lead; campaigning again", "lead", name)
				continue
			}
		default:
		}
		s.dropLead(name)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}

// takeLead takes name's lead when nobody holds it live, or keeps it alive
// when this replica does.
func (s *Store) takeLead(ctx context.Context, name string) (bool, error) {
	var one int
	return s.execScan(ctx, &one, `INSERT INTO leads AS l (name, owner, expires)
		VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
			WHERE l.owner = excluded.owner OR l.expires < clock_timestamp()
		RETURNING 1`, name, s.owner, secs(s.leaseTTL))
}

// keepLead keeps name's lead alive until ctx ends, calling lost once it
// can't.
func (s *Store) keepLead(ctx context.Context, name string, lost func()) {
	t := time.NewTicker(s.leaseTTL / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var one int
		ok, err := s.execScan(ctx, &one, `UPDATE leads SET expires = clock_timestamp() + make_interval(secs => $3)
			WHERE name = $1 AND owner = $2 RETURNING 1`, name, s.owner, secs(s.leaseTTL))
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && ok:
			last = time.Now()
		case err == nil:
			lost() // taken over: it lapsed while this replica could not reach the database
			return
		case time.Since(last) > 2*s.leaseTTL/3:
			s.log.Warn("can't keep the lead alive; giving it up", "lead", name, "err", err)
			lost()
			return
		}
	}
}

func (s *Store) dropLead(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM leads WHERE name = $1 AND owner = $2`, name, s.owner); err != nil {
		s.log.Warn("giving up a lead failed; it lapses", "lead", name, "err", err)
	}
}
