package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

// MaxKVKey bounds a KV bucket and key together: they are a B-tree key,
// which PostgreSQL limits to a third of a page.
const MaxKVKey = 2000

var (
	errEmptyKey = errors.New("empty bucket or key")
	errLongKey  = fmt.Errorf("bucket and key longer than %d bytes", MaxKVKey)
)

// scanPage is how many entries Scan reads per query; fn runs between
// queries, so it may write to the store.
const scanPage = 256

// Put implements bot.KV.
func (s *Store) Put(ctx context.Context, bucket, key string, value []byte) error {
	return kvPut(ctx, s.exec, bucket, key, value)
}

// Get implements bot.KV; bot.ErrNotFound when absent.
func (s *Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	return kvGet(ctx, s.pool, bucket, key)
}

// Delete implements bot.KV.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	return kvDelete(ctx, s.exec, bucket, key)
}

// execFunc runs one writing statement: the store's exec (its own
// transaction, counted) or a transaction's Exec.
type execFunc func(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)

// rowQuerier is the pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func kvPut(ctx context.Context, exec execFunc, bucket, key string, value []byte) error {
	if bucket == "" || key == "" {
		return fmt.Errorf("pgstore: kv put: %w", errEmptyKey)
	}
	if len(bucket)+len(key) > MaxKVKey {
		return fmt.Errorf("pgstore: kv put %s: %w", bucket, errLongKey)
	}
	if value == nil {
		value = []byte{}
	}
	_, err := exec(ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`, []byte(bucket), []byte(key), value)
	if err != nil {
		return fmt.Errorf("pgstore: kv put %s: %w", bucket, err)
	}
	return nil
}

func kvGet(ctx context.Context, q rowQuerier, bucket, key string) ([]byte, error) {
	var v []byte
	err := q.QueryRow(ctx, `SELECT value FROM kv WHERE bucket = $1 AND key = $2`, []byte(bucket), []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: kv get %s/%s: %w", bucket, key, bot.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: kv get %s: %w", bucket, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func kvDelete(ctx context.Context, exec execFunc, bucket, key string) error {
	if bucket == "" || key == "" {
		return nil
	}
	if _, err := exec(ctx, `DELETE FROM kv WHERE bucket = $1 AND key = $2`, []byte(bucket), []byte(key)); err != nil {
		return fmt.Errorf("pgstore: kv delete %s: %w", bucket, err)
	}
	return nil
}

// Scan implements bot.KV: keys in [from, to) in byte order (to == "" means
// to the end), read a page at a time with fn run between pages, so fn may
// call the store; a key written ahead of the scan's position is seen, one
// behind it is not.
func (s *Store) Scan(ctx context.Context, bucket, from, to string, fn func(key string, value []byte) error) error {
	type kv struct {
		k string
		v []byte
	}
	start, inclusive := []byte(from), true
	for {
		op := ">"
		if inclusive {
			op = ">="
		}
		rows, err := s.pool.Query(ctx, `SELECT key, value FROM kv WHERE bucket = $1 AND key `+op+` $2
			AND ($3::bytea = '' OR key < $3) ORDER BY key LIMIT $4`, []byte(bucket), start, []byte(to), scanPage)
		if err != nil {
			return fmt.Errorf("pgstore: kv scan %s: %w", bucket, err)
		}
		var (
			page []kv
			k, v []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
			page = append(page, kv{string(k), append([]byte{}, v...)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("pgstore: kv scan %s: %w", bucket, err)
		}
		for _, e := range page {
			if err := fn(e.k, e.v); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		start, inclusive = []byte(page[len(page)-1].k), false
	}
}

var _ bot.KVBatch = (*Store)(nil)

// Update implements bot.KVBatch: fn's reads and writes are one
// transaction (one commit), committed when fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(tx bot.KV) error) error {
	var err error
	// A value created by another replica while fn ran (errRaced from
	// txKV.UpdateValue) makes the whole transaction run again.
	for range 5 {
		err = s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error { return fn(txKV{tx}) })
		if !errors.Is(err, errRaced) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: kv update: %w", err)
	}
	return nil
}

// txKV is bot.KV inside one transaction.
type txKV struct{ tx pgx.Tx }

func (t txKV) Put(ctx context.Context, bucket, key string, value []byte) error {
	return kvPut(ctx, t.tx.Exec, bucket, key, value)
}

func (t txKV) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	return kvGet(ctx, t.tx, bucket, key)
}

func (t txKV) Delete(ctx context.Context, bucket, key string) error {
	return kvDelete(ctx, t.tx.Exec, bucket, key)
}

// Scan reads the whole range, then runs fn on it.
func (t txKV) Scan(ctx context.Context, bucket, from, to string, fn func(key string, value []byte) error) error {
	rows, err := t.tx.Query(ctx, `SELECT key, value FROM kv WHERE bucket = $1 AND key >= $2
		AND ($3::bytea = '' OR key < $3) ORDER BY key`, []byte(bucket), []byte(from), []byte(to))
	if err != nil {
		return fmt.Errorf("pgstore: kv scan %s: %w", bucket, err)
	}
	type kv struct {
		k string
		v []byte
	}
	var (
		all  []kv
		k, v []byte
	)
	if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		all = append(all, kv{string(k), append([]byte{}, v...)})
		return nil
	}); err != nil {
		return fmt.Errorf("pgstore: kv scan %s: %w", bucket, err)
	}
	for _, e := range all {
		if err := fn(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// LoadKB implements memory.KBStore.
func (s *Store) LoadKB(ctx context.Context, want func(memory.Doc) bool, fn func(memory.Doc, []memory.TextChunk) error) error {
	rows, err := s.pool.Query(ctx, `SELECT id, body FROM kb_docs ORDER BY id`)
	if err != nil {
		return fmt.Errorf("pgstore: load knowledge base: %w", err)
	}
	type doc struct {
		id int64
		d  memory.Doc
	}
	var (
		docs   []doc
		wanted []int64
		id     int64
		body   []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &body}, func() error {
		var d memory.Doc
		if err := json.Unmarshal(body, &d); err != nil {
			return fmt.Errorf("document %d: %w", id, err)
		}
		docs = append(docs, doc{id, d})
		if want == nil || want(d) {
			wanted = append(wanted, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: load knowledge base: %w", err)
	}
	chunks := map[int64][]memory.TextChunk{}
	if len(wanted) > 0 {
		rows, err := s.pool.Query(ctx, `SELECT doc, body FROM kb_passages WHERE doc = ANY($1) ORDER BY doc, ord`, wanted)
		if err != nil {
			return fmt.Errorf("pgstore: load knowledge base: %w", err)
		}
		_, err = pgx.ForEachRow(rows, []any{&id, &body}, func() error {
			var c memory.TextChunk
			if err := json.Unmarshal(body, &c); err != nil {
				return fmt.Errorf("passage of document %d: %w", id, err)
			}
			chunks[id] = append(chunks[id], c)
			return nil
		})
		if err != nil {
			return fmt.Errorf("pgstore: load knowledge base: %w", err)
		}
	}
	for _, d := range docs {
		if err := fn(d.d, chunks[d.id]); err != nil {
			return err
		}
	}
	return nil
}

// kbChannel is the LISTEN/NOTIFY channel a change of the knowledge base
// is announced on; the payload is the schema, so that stores of other
// schemas in the same database ignore it.
const kbChannel = "chorus_kb"

func kbKey(source, path string) []byte { return []byte(source + "\x00" + path) }

// PutKBDoc implements memory.KBStore: the document and its passages in one
// transaction, which announces the change to the other replicas.
func (s *Store) PutKBDoc(ctx context.Context, d memory.Doc, chunks []memory.TextChunk) error {
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	bodies := make([][]byte, len(chunks))
	for i, c := range chunks {
		if bodies[i], err = json.Marshal(c); err != nil {
			return err
		}
	}
	return s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO kb_docs AS x (key, body) VALUES ($1, $2)
			ON CONFLICT (chorus_key(key)) DO UPDATE SET body = EXCLUDED.body RETURNING id`, kbKey(d.Source, d.Path), body).Scan(&id)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM kb_passages WHERE doc = $1`, id)
		b.Queue(`INSERT INTO kb_passages (doc, ord, body) SELECT $1, (o - 1)::integer, p FROM unnest($2::bytea[]) WITH ORDINALITY AS u(p, o)`, id, bodies)
		b.Queue(`SELECT pg_notify($1, current_schema())`, kbChannel)
		return tx.SendBatch(ctx, b).Close()
	})
}

// RemoveKBDoc implements memory.KBStore.
func (s *Store) RemoveKBDoc(ctx context.Context, source, path string) error {
	return s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM kb_docs WHERE chorus_key(key) = chorus_key($1::bytea)`, kbKey(source, path))
		b.Queue(`SELECT pg_notify($1, current_schema())`, kbChannel)
		return tx.SendBatch(ctx, b).Close()
	})
}

// listen keeps a connection listening for changes of the knowledge base
// made by any store on the schema (this one included) and refreshes the
// index after each burst of them. After a lost connection it listens
// again and refreshes once, for what it may have missed.
func (s *Store) listen(ctx context.Context) {
	defer s.listening.Done()
	wait := time.Second
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("knowledge base listener stopped; listening again", "host", s.host, "err", err, "in", wait)
		if bot.Sleep(ctx, wait) != nil {
			return
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// A connection left listening is of no use to the pool.
		conn.Hijack().Close(context.Background())
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+kbChannel); err != nil {
		return err
	}
	s.refresh(ctx) // what changed while nobody listened
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != s.schema {
			continue
		}
		// Ingesting a folder announces each document: take the burst,
		// then refresh once.
		for {
			wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, err := conn.Conn().WaitForNotification(wctx)
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if conn.Conn().IsClosed() {
				return err
			}
			if err != nil {
				break // the burst is over
			}
		}
		s.refresh(ctx)
	}
}

func (s *Store) refresh(ctx context.Context) {
	if s.kb == nil {
		return
	}
	n, err := s.kb.Refresh(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("knowledge base refresh failed", "err", err)
	case n > 0:
		s.log.Info("knowledge base refreshed from the database", "documents_changed", n, "passages", s.kb.Len())
	}
}

var (
	_ bot.KVUpdater = (*Store)(nil)
	_ bot.KVUpdater = txKV{}
)

// UpdateValue implements bot.KVUpdater: in one transaction it locks the
// row (SELECT ... FOR UPDATE), calls fn and writes its result. When the
// key is absent and another replica creates it meanwhile, the insert finds
// it there and the whole update is tried again, with the row to lock.
func (s *Store) UpdateValue(ctx context.Context, bucket, key string, fn func(old []byte, found bool) ([]byte, error)) error {
	if err := checkKVKey(bucket, key); err != nil {
		return err
	}
	var err error
	for range 5 {
		err = s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error { return updateValue(ctx, tx, bucket, key, fn) })
		if !errors.Is(err, errRaced) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: kv update %s: %w", bucket, err)
	}
	return nil
}

// UpdateValue implements bot.KVUpdater inside a transaction (a flush
// that merges many values in one commit, bot.KVBatch): the row is locked
// until the commit; losing the race to create the key fails the
// transaction with errRaced, which Store.Update runs again.
func (t txKV) UpdateValue(ctx context.Context, bucket, key string, fn func(old []byte, found bool) ([]byte, error)) error {
	if err := checkKVKey(bucket, key); err != nil {
		return err
	}
	return updateValue(ctx, t.tx, bucket, key, fn)
}

func checkKVKey(bucket, key string) error {
	if bucket == "" || key == "" {
		return fmt.Errorf("pgstore: kv update: %w", errEmptyKey)
	}
	if len(bucket)+len(key) > MaxKVKey {
		return fmt.Errorf("pgstore: kv update %s: %w", bucket, errLongKey)
	}
	return nil
}

// updateValue is one locked read, change and write of a value in tx; it
// returns errRaced when another transaction created the key first.
func updateValue(ctx context.Context, tx pgx.Tx, bucket, key string, fn func(old []byte, found bool) ([]byte, error)) error {
	var old []byte
	err := tx.QueryRow(ctx, `SELECT value FROM kv WHERE bucket = $1 AND key = $2 FOR UPDATE`, []byte(bucket), []byte(key)).Scan(&old)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	v, err := fn(old, found)
	if err != nil {
		return err
	}
	if v == nil {
		v = []byte{}
	}
	if found {
		_, err = tx.Exec(ctx, `UPDATE kv SET value = $3 WHERE bucket = $1 AND key = $2`, []byte(bucket), []byte(key), v)
		return err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, []byte(bucket), []byte(key), v)
	if err == nil && tag.RowsAffected() == 0 {
		return errRaced
	}
	return err
}

// errRaced is an update that lost the race to create its key, five times.
var errRaced = errors.New("another replica kept creating the key first")
