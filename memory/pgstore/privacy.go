package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

var errNoUser = errors.New("empty user key")

// Forget implements bot.Privacy in one transaction, as the bbolt store
// does: within req.Scope, every turn the user wrote and every bot turn
// that answered them, every summary built from them, a conversation left
// empty, and (for the whole scope) their profile; audit entries about
// them or by them stay but lose the user's id, name and excerpt
// (memory.AnonymiseAudit). It returns the number of records deleted or
// changed; running it again changes nothing.
func (s *Store) Forget(ctx context.Context, req bot.ForgetRequest) (int, error) {
	user := req.User
	if user == "" {
		return 0, fmt.Errorf("pgstore: forget: %w", errNoUser)
	}
	if req.Ref == "" {
		return 0, errors.New("pgstore: forget: no reference for the records kept")
	}
	u := []byte(user)
	n := 0
	err := s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		n = 0
		covered := func(sql string) ([]int64, error) {
			rows, err := tx.Query(ctx, sql, u)
			if err != nil {
				return nil, err
			}
			var (
				ids []int64
				id  int64
				key []byte
			)
			_, err = pgx.ForEachRow(rows, []any{&id, &key}, func() error {
				if req.Scope.Covers(string(key)) {
					ids = append(ids, id)
				}
				return nil
			})
			return ids, err
		}
		convs, err := covered(`SELECT DISTINCT c.id, c.key FROM turns t JOIN conversations c ON c.id = t.conv
			WHERE t.usr <> '' AND chorus_key(t.usr) = chorus_key($1::bytea)`)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM turns WHERE conv = ANY($2) AND usr <> '' AND chorus_key(usr) = chorus_key($1::bytea)`, u, convs)
		if err != nil {
			return err
		}
		n += int(tag.RowsAffected())
		sums, err := covered(`SELECT c.id, c.key FROM summary_users su JOIN conversations c ON c.id = su.conv
			WHERE chorus_key(su.usr) = chorus_key($1::bytea) AND c.summary IS NOT NULL`)
		if err != nil {
			return err
		}
		tag, err = tx.Exec(ctx, `UPDATE conversations SET summary = NULL, summary_updated_ns = NULL WHERE id = ANY($1)`, sums)
		if err != nil {
			return err
		}
		n += int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `DELETE FROM summary_users WHERE conv = ANY($1)`, sums); err != nil {
			return err
		}
		// A conversation left with nothing (a private chat) goes too: its
		// key may be the user's id, and a new message makes it again.
		if _, err := tx.Exec(ctx, `DELETE FROM conversations c WHERE id = ANY($1) AND summary IS NULL
			AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.conv = c.id)`, convs); err != nil {
			return err
		}
		changed, err := s.anonymiseAudit(ctx, tx, req)
		if err != nil {
			return err
		}
		n += changed
		if req.Scope.All() {
			tag, err := tx.Exec(ctx, `DELETE FROM profiles WHERE chorus_key(usr) = chorus_key($1::bytea)`, u)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: forget: %w", err)
	}
	return n, nil
}

// anonymiseAudit rewrites, within tx, the audit entries about req.User or
// by them that req.Scope covers, and returns how many changed.
func (s *Store) anonymiseAudit(ctx context.Context, tx pgx.Tx, req bot.ForgetRequest) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id, body FROM audit
		WHERE (usr <> '' AND chorus_key(usr) = chorus_key($1::bytea)) OR (actor <> '' AND chorus_key(actor) = chorus_key($1::bytea))
		ORDER BY id FOR UPDATE`, []byte(req.User))
	if err != nil {
		return 0, err
	}
	type upd struct {
		id int64
		e  bot.AuditEntry
	}
	var (
		ups  []upd
		id   int64
		body []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &body}, func() error {
		var e bot.AuditEntry
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("audit entry %d: %w", id, err)
		}
		if memory.AnonymiseAudit(&e, req) {
			ups = append(ups, upd{id, e})
		}
		return nil
	})
	if err != nil || len(ups) == 0 {
		return 0, err
	}
	b := &pgx.Batch{}
	for _, u := range ups {
		args, err := auditArgs(u.e)
		if err != nil {
			return 0, err
		}
		b.Queue(`UPDATE audit SET at_ns = $1, usr = $2, actor = $3, kind = $4, chat = $5, body = $6 WHERE id = $7`, append(args, u.id)...)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	return len(ups), nil
}

// Export implements bot.Privacy from one snapshot: the user's profile,
// every turn by or answering them (ordered by conversation, then Seq),
// and under Extra["audit"] the audit entries about them or by them
// ([]bot.AuditEntry), with other people's ids left out. Summaries are not
// exported: they mix the user's words with other people's.
func (s *Store) Export(ctx context.Context, user string) (bot.UserData, error) {
	if user == "" {
		return bot.UserData{}, fmt.Errorf("pgstore: export: %w", errNoUser)
	}
	d := bot.UserData{User: user, Messages: []bot.ExportedTurn{}}
	u := []byte(user)
	var audits []bot.AuditEntry
	err := s.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		p, err := scanProfile(tx.QueryRow(ctx, profileSQL+` WHERE chorus_key(p.usr) = chorus_key($1::bytea)`, u))
		switch {
		case err == nil:
			d.Profile = &p
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		rows, err := tx.Query(ctx, `SELECT c.key, t.seq, t.role, t.usr, t.name, t.msg_id, t.text, t.at_ns, t.tokens, t.unanswered
			FROM turns t JOIN conversations c ON c.id = t.conv
			WHERE t.usr <> '' AND chorus_key(t.usr) = chorus_key($1::bytea)
			ORDER BY chorus_key(c.key), t.seq`, u)
		if err != nil {
			return err
		}
		var (
			key, role, usr, name, msgID, text []byte
			seq, at                           int64
			tokens                            int32
			unanswered                        bool
		)
		_, err = pgx.ForEachRow(rows, []any{&key, &seq, &role, &usr, &name, &msgID, &text, &at, &tokens, &unanswered}, func() error {
			d.Messages = append(d.Messages, bot.ExportedTurn{Conversation: string(key), Turn: bot.Turn{
				Seq: uint64(seq), Role: roleOf(role), User: string(usr), Name: string(name), MsgID: string(msgID),
				Text: string(text), Time: fromNS(at), Tokens: int(tokens), Unanswered: unanswered}})
			return nil
		})
		if err != nil {
			return err
		}
		if p, _, _ := bot.SplitUserKey(user); p == "forgotten" {
			return nil // the stand-in for a forgotten user names nobody to export to
		}
		rows, err = tx.Query(ctx, `SELECT body FROM audit
			WHERE (usr <> '' AND chorus_key(usr) = chorus_key($1::bytea)) OR (actor <> '' AND chorus_key(actor) = chorus_key($1::bytea))
			ORDER BY at_ns, id`, u)
		if err != nil {
			return err
		}
		var body []byte
		_, err = pgx.ForEachRow(rows, []any{&body}, func() error {
			var e bot.AuditEntry
			if err := json.Unmarshal(body, &e); err != nil {
				return err
			}
			audits = append(audits, memory.ExportedAudit(e, user))
			return nil
		})
		return err
	})
	if err != nil {
		return bot.UserData{}, fmt.Errorf("pgstore: export: %w", err)
	}
	if len(audits) > 0 {
		d.Extra = map[string]any{"audit": audits}
	}
	return d, nil
}

// auditArgs are the columns of an entry: at_ns, usr, actor, kind, chat,
// body. The actor column holds a person only (memory.AuditUsers), so
// export and forget find entries by it.
func auditArgs(e bot.AuditEntry) ([]any, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	actor := ""
	for _, u := range memory.AuditUsers(e) {
		if u == e.Actor {
			actor = u
		}
	}
	return []any{ns(e.Time), []byte(e.User), []byte(actor), []byte(e.Kind), []byte(e.Chat), body}, nil
}

// Audit implements bot.Auditor.
func (s *Store) Audit(ctx context.Context, e bot.AuditEntry) error {
	args, err := auditArgs(memory.PrepareAudit(e, s.now))
	if err != nil {
		return fmt.Errorf("pgstore: audit: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO audit (at_ns, usr, actor, kind, chat, body) VALUES ($1, $2, $3, $4, $5, $6)`, args...); err != nil {
		return fmt.Errorf("pgstore: audit: %w", err)
	}
	return nil
}

// AuditLog implements bot.AuditLog: entries matching q, newest first.
func (s *Store) AuditLog(ctx context.Context, q bot.AuditQuery) ([]bot.AuditEntry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	var since int64
	if !q.Since.IsZero() {
		since = ns(q.Since)
	}
	rows, err := s.pool.Query(ctx, `SELECT body FROM audit WHERE at_ns >= $1
		AND ($2::bytea = '' OR usr = $2) AND ($3::bytea = '' OR kind = $3)
		ORDER BY at_ns DESC, id DESC LIMIT $4`, since, []byte(q.User), []byte(q.Kind), limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: audit log: %w", err)
	}
	var (
		out  []bot.AuditEntry
		body []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&body}, func() error {
		var e bot.AuditEntry
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: audit log: %w", err)
	}
	return out, nil
}

// pruneChunk bounds the rows one pruning statement deletes, so that
// pruning a large backlog never holds locks for long.
const pruneChunk = 5000

// Prune deletes turns older than before (by Turn.Time), dedup records
// accepted before it, and summaries last updated before it, and returns
// how many.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	return s.prune(ctx, before, before)
}

func (s *Store) prune(ctx context.Context, turnsBefore, dedupBefore time.Time) (int, error) {
	total := 0
	chunks := func(what, sql string, before time.Time) error {
		for {
			tag, err := s.exec(ctx, sql, ns(before), pruneChunk)
			if err != nil {
				return fmt.Errorf("pgstore: prune %s: %w", what, err)
			}
			total += int(tag.RowsAffected())
			if tag.RowsAffected() < pruneChunk {
				return nil
			}
		}
	}
	if !turnsBefore.IsZero() {
		if err := chunks("turns", `DELETE FROM turns WHERE ctid = ANY(ARRAY(SELECT ctid FROM turns WHERE at_ns < $1 ORDER BY at_ns LIMIT $2))`, turnsBefore); err != nil {
			return total, err
		}
		b := &pgx.Batch{}
		var n int64
		b.Queue(`WITH old AS (
				UPDATE conversations SET summary = NULL, summary_updated_ns = NULL
				WHERE summary IS NOT NULL AND summary_updated_ns < $1 RETURNING id
			), gone AS (DELETE FROM summary_users WHERE conv IN (SELECT id FROM old))
			SELECT count(*) FROM old`, ns(turnsBefore)).QueryRow(func(r pgx.Row) error { return r.Scan(&n) })
		if err := s.write(ctx, b, nil); err != nil {
			return total, fmt.Errorf("pgstore: prune summaries: %w", err)
		}
		total += int(n)
	}
	if !dedupBefore.IsZero() {
		if err := chunks("dedup", `DELETE FROM dedup WHERE key = ANY(ARRAY(SELECT key FROM dedup WHERE accepted_ns < $1 LIMIT $2))`, dedupBefore); err != nil {
			return total, err
		}
	}
	return total, nil
}

// RunRetention prunes every interval until ctx ends, then returns nil,
// as memory.Store.RunRetention does: turns and summaries older than the
// retention (none when unset) and dedup records older than the
// retention, or 30 days when history is kept forever; and the fleet's
// rate buckets and budget counts once past use. chorus serve runs it on
// one replica at a time (the lead "retention"); replicas that each ran it
// would delete the same rows, the first to get there doing the work.
func (s *Store) RunRetention(ctx context.Context, every time.Duration) error {
	return memory.Every(ctx, every, func(ctx context.Context) error {
		now := s.now()
		var turnsBefore time.Time
		if s.retention > 0 {
			turnsBefore = now.Add(-s.retention)
		}
		if _, err := s.prune(ctx, turnsBefore, now.Add(-s.dedupTTL)); err != nil {
			return fmt.Errorf("pgstore: retention: %w", err)
		}
		if _, err := s.pruneLimits(ctx, now); err != nil {
			return fmt.Errorf("pgstore: retention: %w", err)
		}
		return nil
	})
}
