package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is goose's table of applied migrations.
const versionTable = "chorus_schema_version"

// ErrClosed is returned by a Store that was closed.
var ErrClosed = errors.New("pgstore: store is closed")

// Store is the PostgreSQL implementation of bot.Store, bot.KV,
// bot.Auditor and bot.AuditLog, with retention, a readiness check and the
// knowledge base. Several processes may share one database. All methods
// are safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	schema    string
	host      string
	now       func() time.Time
	retention time.Duration
	dedupTTL  time.Duration
	log       *slog.Logger
	stats     *counter
	kb        *memory.KB
	// owner names this replica in the lease tables; leaseTTL is a
	// lease's lifetime (lease.go).
	owner    string
	leaseTTL time.Duration

	stop      context.CancelFunc
	listening sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool
}

var (
	_ bot.Store       = (*Store)(nil)
	_ bot.KV          = (*Store)(nil)
	_ bot.Auditor     = (*Store)(nil)
	_ bot.AuditLog    = (*Store)(nil)
	_ memory.KBStore  = (*Store)(nil)
	_ memory.Backend  = (*Store)(nil)
	_ pgx.QueryTracer = (*counter)(nil)
)

type options struct {
	now            func() time.Time
	retention      time.Duration
	schema         string
	log            *slog.Logger
	connectTimeout time.Duration
	maxConns       int32
	migrate        bool
	legacyKB       bool
	leaseTTL       time.Duration
	replica        string
}

// Option configures Open.
type Option func(*options)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithRetention keeps conversation turns for days days, as
// memory.WithRetention does.
func WithRetention(days int) Option {
	return func(o *options) {
		if days > 0 {
			o.retention = time.Duration(days) * 24 * time.Hour
		}
	}
}

// WithSchema keeps Chorus's tables in schema (created when missing)
// rather than the first schema of the connection's search_path. Tests
// give each store a schema of its own.
func WithSchema(name string) Option { return func(o *options) { o.schema = name } }

// WithLogger sets where the store logs what it does in the background
// (the knowledge base's refreshes); default: nowhere.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithConnectTimeout bounds each connection attempt (default 5s, unless
// the DSN sets connect_timeout), so that an unreachable server is an
// error, never a hang.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.connectTimeout = d
		}
	}
}

// WithMaxConns sets the pool's size (default 16, unless the DSN sets
// pool_max_conns).
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = int32(n)
		}
	}
}

// WithoutMigrate opens a store whose schema must already be current
// (chorus migrate makes it so): Open fails rather than changing it.
func WithoutMigrate() Option { return func(o *options) { o.migrate = false } }

// Open connects to the PostgreSQL server dsn names (a URL or key=value
// pairs, as libpq takes), applies the schema migrations this binary holds
// that the database lacks (under an advisory lock, so that replicas
// starting together take turns), and loads the knowledge base's index.
// A server that can't be reached fails within the connect timeout with an
// error naming the host. Close releases the pool.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s, o, err := connect(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		s.pool.Close()
		return nil, err
	}
	if o.migrate {
		if _, err := s.Migrate(ctx); err != nil {
			return fail(err)
		}
	} else if err := s.checkVersion(ctx); err != nil {
		return fail(err)
	}
	kb, err := memory.NewKB(ctx, s, s.now)
	if err != nil {
		return fail(fmt.Errorf("pgstore: load knowledge base: %w", err))
	}
	s.kb = kb
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.listening.Add(2)
	go s.listen(lctx)
	go s.keepLeases(lctx)
	return s, nil
}

// connect opens the pool, checks the server answers and makes the
// schema; the store it returns has no knowledge base and no listener.
func connect(ctx context.Context, dsn string, opts []Option) (*Store, options, error) {
	o := options{now: time.Now, connectTimeout: 5 * time.Second, maxConns: 16, migrate: true, log: slog.New(slog.DiscardHandler),
		leaseTTL: DefaultLeaseTTL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.replica == "" {
		o.replica = replicaName()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, o, fmt.Errorf("pgstore: store.dsn does not parse: %w", err)
	}
	host := Where(cfg.ConnConfig.Config)
	if cfg.ConnConfig.ConnectTimeout == 0 || !strings.Contains(dsn, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = o.connectTimeout
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = o.maxConns
	}
	if o.schema != "" {
		if !validSchema(o.schema) {
			return nil, o, fmt.Errorf("pgstore: schema %q: want letters, digits and underscores, starting with a letter", o.schema)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = o.schema
	}
	st := &counter{}
	cfg.ConnConfig.Tracer = st
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, o, fmt.Errorf("pgstore: connect to %s: %w", host, err)
	}
	s := &Store{pool: pool, host: host, now: o.now, retention: o.retention, dedupTTL: 30 * 24 * time.Hour, log: o.log, stats: st,
		owner: o.replica, leaseTTL: o.leaseTTL}
	if o.retention > 0 {
		s.dedupTTL = o.retention
	}
	fail := func(err error) (*Store, options, error) {
		pool.Close()
		return nil, o, err
	}
	pctx, cancel := context.WithTimeout(ctx, o.connectTimeout+time.Second)
	err = pool.Ping(pctx)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("pgstore: connect to %s: %w", host, err))
	}
	if o.schema != "" {
		// Replicas creating it together race on the catalogue's unique
		// index; the loser finds it made.
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{o.schema}.Sanitize()); err != nil {
			var exists bool
			if qerr := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", o.schema).Scan(&exists); qerr != nil || !exists {
				return fail(fmt.Errorf("pgstore: create schema %s: %w", o.schema, err))
			}
		}
	}
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&s.schema); err != nil {
		return fail(fmt.Errorf("pgstore: %s: search_path names no schema that exists (create it first: CREATE SCHEMA name): %w", host, err))
	}
	return s, o, nil
}

// Where names the server a connection config reaches, for errors and
// logs: host:port/database, never the password.
func Where(c pgconn.Config) string {
	return fmt.Sprintf("%s:%d/%s", c.Host, c.Port, c.Database)
}

func validSchema(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// provider is goose over the store's pool, locking with a session
// advisory lock whose id is the schema's, so that migrations of one
// schema wait for each other and those of others don't.
func (s *Store) provider() (*goose.Provider, func() error, error) {
	h := fnv.New64a()
	h.Write([]byte("chorus-migrate\x00" + s.schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, nil, err
	}
	db := stdlib.OpenDBFromPool(s.pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, mustSub(migrations, "migrations"),
		goose.WithSessionLocker(locker), goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return p, db.Close, nil
}

// Migrate applies the migrations the database lacks, under the schema's
// advisory lock, and returns the versions it applied (none when the
// schema is current). Open calls it; chorus migrate calls it alone.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, closeDB, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("pgstore: migrate %s: %w", s.host, err)
	}
	defer closeDB()
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgstore: migrate %s (schema %s): %w", s.host, s.schema, err)
	}
	var out []int64
	for _, r := range res {
		out = append(out, r.Source.Version)
	}
	return out, nil
}

// Version returns the schema version of the database and the latest this
// binary knows.
func (s *Store) Version(ctx context.Context) (current, latest int64, err error) {
	p, closeDB, err := s.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("pgstore: version: %w", err)
	}
	defer closeDB()
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("pgstore: version: %w", err)
	}
	return current, latest, nil
}

func (s *Store) checkVersion(ctx context.Context) error {
	cur, latest, err := s.Version(ctx)
	if err != nil {
		return err
	}
	if cur != latest {
		return fmt.Errorf("pgstore: %s (schema %s) is at schema version %d, this binary needs %d: run chorus migrate", s.host, s.schema, cur, latest)
	}
	return nil
}

// Close stops the knowledge base's listener and closes the pool. It may
// be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.stop != nil {
			s.stop()
		}
		s.listening.Wait()
		s.dropLeases()
		s.pool.Close()
	})
	return nil
}

// Schema is the schema the tables live in.
func (s *Store) Schema() string { return s.schema }

// Migrate connects to dsn and applies the migrations the database lacks,
// alone (chorus migrate): it returns the versions it applied and the
// schema version after.
func Migrate(ctx context.Context, dsn string, opts ...Option) (applied []int64, version int64, err error) {
	s, _, err := connect(ctx, dsn, opts)
	if err != nil {
		return nil, 0, err
	}
	defer s.pool.Close()
	if applied, err = s.Migrate(ctx); err != nil {
		return nil, 0, err
	}
	version, _, err = s.Version(ctx)
	return applied, version, err
}

// Where names the server: host:port/database.
func (s *Store) Where() string { return s.host }

// KB returns the knowledge base kept in this store.
func (s *Store) KB() *memory.KB { return s.kb }

// Size returns the bytes the store's tables take on the server, indexes
// and TOAST included, for metrics.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.pool.QueryRow(context.Background(), `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE ns.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pgstore: size: %w", err)
	}
	return n, nil
}

// Healthy reports whether the store can take writes, for a readiness
// check: the pool is open, the server answers, and it is a primary that
// accepts writes (not a standby, not read-only).
func (s *Store) Healthy(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("pgstore: healthy: %w", ErrClosed)
	}
	var ro string
	if err := s.pool.QueryRow(ctx, "SELECT current_setting('transaction_read_only')").Scan(&ro); err != nil {
		return fmt.Errorf("pgstore: healthy: %s: %w", s.host, err)
	}
	if ro == "on" {
		return fmt.Errorf("pgstore: healthy: %s takes no writes (a standby, or default_transaction_read_only)", s.host)
	}
	return nil
}

// Stats counts the store's work since Open: each is one network round
// trip to the server (a query, a pipelined batch, BEGIN and COMMIT each
// count one) and each commit of a transaction that wrote.
type Stats struct {
	RoundTrips uint64 `json:"round_trips"`
	Commits    uint64 `json:"commits"`
}

// Stats returns the counts so far.
func (s *Store) Stats() Stats {
	return Stats{RoundTrips: s.stats.trips.Load(), Commits: s.stats.commits.Load()}
}

// counter is the pool's tracer: it counts round trips.
type counter struct {
	trips   atomic.Uint64
	commits atomic.Uint64
}

// TraceQueryStart implements pgx.QueryTracer.
func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.trips.Add(1)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer: a batch is one round trip.
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.trips.Add(1)
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd implements pgx.BatchTracer.
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// write runs the statements of b as one transaction (a pipelined batch
// runs in one implicit transaction: one round trip, one commit), reading
// each result with read (nil: ignore results).
func (s *Store) write(ctx context.Context, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	res := s.pool.SendBatch(ctx, b)
	var err error
	if read != nil {
		err = read(res)
	}
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		s.stats.commits.Add(1)
	}
	return err
}

// exec runs one writing statement in its own transaction.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if s.closed.Load() {
		return pgconn.CommandTag{}, ErrClosed
	}
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err == nil {
		s.stats.commits.Add(1)
	}
	return tag, err
}

// tx runs fn in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := pgx.BeginTxFunc(ctx, s.pool, opts, fn)
	if err == nil && opts.AccessMode != pgx.ReadOnly {
		s.stats.commits.Add(1)
	}
	return err
}

// ns is t as Unix nanoseconds, 0 for the zero time (and times before
// 1970), as the bbolt store keys times.
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixNano(), 0)
}

// fromNS is ns undone: 0 is the zero time; others are UTC.
func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// DropSchema drops schema and everything in it: chorus bench's scratch
// schema when the run ends.
func DropSchema(ctx context.Context, dsn, schema string) error {
	if !validSchema(schema) {
		return fmt.Errorf("pgstore: drop schema %q: not a schema name", schema)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("pgstore: drop schema %s: %w", schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("pgstore: drop schema %s: %w", schema, err)
	}
	return nil
}
