package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

// ImportKinds are the kinds of record ImportBolt copies, in the order it
// copies them.
var ImportKinds = []string{"kv", "profiles", "conversations", "audit", "dedup", "pending", "kb"}

// ImportCount says how far one kind of record is copied.
type ImportCount struct {
	Kind string `json:"kind"`
	// Source is how many the bbolt file holds (for conversations, with
	// Turns their turns; for kb, documents and Passages).
	Source int `json:"source"`
	// Copied is how many this run copied; Before how many earlier runs
	// (interrupted, then resumed) had.
	Copied int `json:"copied"`
	Before int `json:"before"`
	// Turns and Passages count what conversations and documents hold.
	Turns    int `json:"turns,omitempty"`
	Passages int `json:"passages,omitempty"`
}

// ImportOptions tune ImportBolt.
type ImportOptions struct {
	// DryRun counts what there is to copy and what earlier runs copied,
	// and writes nothing.
	DryRun bool
	// Batch is how many records one transaction copies (default 500);
	// an interrupted copy resumes after the last batch committed.
	Batch int
	// Progress, when set, is told after each batch.
	Progress func(c ImportCount)
	// stopAfter, when positive, interrupts the copy after that many
	// batches, as a crash would (tests).
	stopAfter int
}

// ErrNotEmpty is returned by ImportBolt when the database already holds
// Chorus data that no earlier import wrote: migrate-store fills an empty
// database, it never merges two deployments.
var ErrNotEmpty = errors.New("pgstore: the database already holds conversations, profiles, plug-in data or audit entries that no earlier migrate-store wrote")

var errInterrupted = errors.New("pgstore: import interrupted")

// ImportBolt copies a bbolt store's data into this database (chorus
// migrate-store): plug-in KV, profiles, conversations with their turns and
// summaries, the audit log, the inbox's dedup records and pending
// messages, and the knowledge base. Each batch of records is one
// transaction that also records how far the copy got, so a copy that
// stops (a crash, ^C) resumes where it stopped when run again, and
// copies nothing twice. It returns the counts per kind.
func (s *Store) ImportBolt(ctx context.Context, src *memory.Store, opt ImportOptions) ([]ImportCount, error) {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	progress, err := s.importProgress(ctx)
	if err != nil {
		return nil, err
	}
	if len(progress) == 0 {
		var used bool
		err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations) OR EXISTS (SELECT 1 FROM profiles)
			OR EXISTS (SELECT 1 FROM kv) OR EXISTS (SELECT 1 FROM audit)`).Scan(&used)
		if err != nil {
			return nil, fmt.Errorf("pgstore: import: %w", err)
		}
		if used {
			return nil, ErrNotEmpty
		}
	}
	var out []ImportCount
	batches := 0
	for _, kind := range ImportKinds {
		c := ImportCount{Kind: kind, Before: int(progress[kind].copied)}
		if err := s.countSource(ctx, src, &c); err != nil {
			return out, err
		}
		if !opt.DryRun {
			err := s.importKind(ctx, src, kind, progress[kind].last, opt, &c, &batches)
			if err != nil {
				return append(out, c), err
			}
		}
		out = append(out, c)
	}
	if !opt.DryRun {
		if _, err := s.kb.Refresh(ctx); err != nil {
			return out, fmt.Errorf("pgstore: import: %w", err)
		}
	}
	return out, nil
}

type progressRow struct {
	last   []byte
	copied int64
}

func (s *Store) importProgress(ctx context.Context) (map[string]progressRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, last, copied FROM migrate_progress`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: import: %w", err)
	}
	out := map[string]progressRow{}
	var (
		kind string
		p    progressRow
	)
	_, err = pgx.ForEachRow(rows, []any{&kind, &p.last, &p.copied}, func() error {
		out[kind] = progressRow{last: append([]byte{}, p.last...), copied: p.copied}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: import: %w", err)
	}
	return out, nil
}

func (s *Store) countSource(ctx context.Context, src *memory.Store, c *ImportCount) error {
	if c.Kind == "kb" {
		return src.LoadKB(ctx, nil, func(_ memory.Doc, chunks []memory.TextChunk) error {
			c.Source++
			c.Passages += len(chunks)
			return nil
		})
	}
	return src.Each(ctx, c.Kind, nil, func(_ []byte, v any) error {
		c.Source++
		if conv, ok := v.(memory.Conversation); ok {
			c.Turns += len(conv.Turns)
		}
		return nil
	})
}

// importKind copies one kind after last, a batch per transaction.
func (s *Store) importKind(ctx context.Context, src *memory.Store, kind string, last []byte, opt ImportOptions, c *ImportCount, batches *int) error {
	if kind == "kb" {
		// A document is put whole, replacing what is there, so the
		// knowledge base keeps no position: one already here with the
		// same content counts as copied before.
		have := map[string]string{}
		docs, err := s.kb.List(ctx)
		if err != nil {
			return err
		}
		for _, d := range docs {
			have[d.Source+"\x00"+d.Path] = d.Hash
		}
		return src.LoadKB(ctx, func(d memory.Doc) bool { return have[d.Source+"\x00"+d.Path] != d.Hash }, func(d memory.Doc, chunks []memory.TextChunk) error {
			if have[d.Source+"\x00"+d.Path] == d.Hash {
				c.Before++
				return nil
			}
			if err := s.PutKBDoc(ctx, d, chunks); err != nil {
				return fmt.Errorf("pgstore: import kb %s: %w", d.Path, err)
			}
			c.Copied++
			return nil
		})
	}
	b := &pgx.Batch{}
	n := 0
	var lastKey []byte
	flush := func() error {
		if n == 0 {
			return nil
		}
		b.Queue(`INSERT INTO migrate_progress (kind, last, copied) VALUES ($1, $2, $3)
			ON CONFLICT (kind) DO UPDATE SET last = EXCLUDED.last, copied = migrate_progress.copied + $3`, kind, lastKey, n)
		err := s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
		if err != nil {
			return fmt.Errorf("pgstore: import %s: %w", kind, err)
		}
		c.Copied += n
		b, n = &pgx.Batch{}, 0
		if opt.Progress != nil {
			opt.Progress(*c)
		}
		*batches++
		if opt.stopAfter > 0 && *batches >= opt.stopAfter {
			return errInterrupted
		}
		return nil
	}
	err := src.Each(ctx, kind, last, func(key []byte, v any) error {
		if err := queueImport(b, v); err != nil {
			return fmt.Errorf("%s %q: %w", kind, key, err)
		}
		n++
		lastKey = key
		if n >= opt.Batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil && !errors.Is(err, errInterrupted) && !strings.HasPrefix(err.Error(), "pgstore:") {
		err = fmt.Errorf("pgstore: import: %w", err)
	}
	return err
}

// queueImport queues the statements that write one record as the
// PostgreSQL store keeps it.
func queueImport(b *pgx.Batch, v any) error {
	switch r := v.(type) {
	case memory.KVRecord:
		if len(r.Bucket)+len(r.Key) > MaxKVKey {
			return errLongKey
		}
		b.Queue(`INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, []byte(r.Bucket), []byte(r.Key), r.Value)
	case bot.Profile:
		var names [][]byte
		for _, n := range r.Names {
			names = append(names, []byte(n))
		}
		if names == nil {
			names = [][]byte{}
		}
		cur := ""
		if len(r.Names) > 0 {
			cur = r.Names[len(r.Names)-1]
		}
		key := func(n string) []byte {
			if k, ok := memory.IndexedName(n); ok {
				return []byte(k)
			}
			return nil
		}
		platform, _, _ := strings.Cut(r.User, ":")
		b.Queue(`INSERT INTO profiles (usr, platform, names, handle, first_ns, last_ns, messages, lang, name_key, handle_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
			[]byte(r.User), []byte(platform), names, []byte(r.Handle), ns(r.FirstSeen), ns(r.LastSeen), r.Messages, []byte(r.Lang), key(cur), key(r.Handle))
		var topics [][]byte
		var counts []int64
		for t, n := range r.Topics {
			topics, counts = append(topics, []byte(t)), append(counts, int64(n))
		}
		if len(topics) > 0 {
			b.Queue(`INSERT INTO profile_topics (profile, topic, n)
				SELECT (SELECT id FROM profiles WHERE chorus_key(usr) = chorus_key($1::bytea)), t, n FROM unnest($2::bytea[], $3::bigint[]) AS u(t, n)
				ON CONFLICT DO NOTHING`, []byte(r.User), topics, counts)
		}
	case memory.Conversation:
		var (
			sum       []byte
			updatedNS any
			users     [][]byte
		)
		if r.Summary != nil {
			var err error
			if sum, err = json.Marshal(r.Summary); err != nil {
				return err
			}
			updatedNS = ns(r.Summary.Updated)
			for _, u := range r.Summary.Users {
				users = append(users, []byte(u))
			}
		}
		b.Queue(`INSERT INTO conversations (key, last_seq, summary, summary_updated_ns) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			[]byte(r.Key), int64(r.LastSeq), sum, updatedNS)
		if len(users) > 0 {
			b.Queue(`INSERT INTO summary_users (conv, usr) SELECT `+convID+`, u FROM unnest($2::bytea[]) AS u ON CONFLICT DO NOTHING`, []byte(r.Key), users)
		}
		if len(r.Turns) > 0 {
			n := len(r.Turns)
			seq, at := make([]int64, n), make([]int64, n)
			tokens := make([]int32, n)
			unanswered := make([]bool, n)
			role := make([]string, n)
			usr, name, msg, text := make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)
			for i, t := range r.Turns {
				seq[i], at[i], tokens[i], unanswered[i], role[i] = int64(t.Seq), ns(t.Time), int32(t.Tokens), t.Unanswered, t.Role
				usr[i], name[i], msg[i], text[i] = []byte(t.User), []byte(t.Name), []byte(t.MsgID), []byte(t.Text)
			}
			b.Queue(`INSERT INTO turns (conv, seq, role, usr, name, msg_id, text, at_ns, tokens, unanswered)
				SELECT `+convID+`, * FROM unnest($2::bigint[], $3::text[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bigint[], $9::integer[], $10::boolean[])
				ON CONFLICT DO NOTHING`, []byte(r.Key), seq, role, usr, name, msg, text, at, tokens, unanswered)
		}
	case bot.AuditEntry:
		args, err := auditArgs(r)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO audit (at_ns, usr, actor, kind, chat, body) VALUES ($1, $2, $3, $4, $5, $6)`, args...)
	case memory.DedupRecord:
		b.Queue(`INSERT INTO dedup (key, accepted_ns) VALUES ($1, $2) ON CONFLICT DO NOTHING`, r.Key, ns(r.Accepted))
	case bot.Message:
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO pending (key, conv, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, memory.DedupKey(&r), []byte(r.ConversationKey()), body)
	default:
		return fmt.Errorf("no import for %T", v)
	}
	return nil
}
