package memory

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/chorusbot/chorus/bot"
)

// ErrInUse is returned by Open when another process holds the file open
// (bbolt's exclusive lock did not come free within the timeout). It usually
// means another chorus is running with the same data directory.
var ErrInUse = errors.New("memory: database file is in use by another process")

// ErrReadOnly is returned by writes on a store opened WithReadOnly.
var ErrReadOnly = errors.New("memory: store is read-only")

const schemaVersion = 1

// errStoreClosed is returned by the pending-send log once the store is closed.
var errStoreClosed = errors.New("store closed")

// Top-level bucket names.
var (
	bMeta     = []byte("meta")
	bInbox    = []byte("inbox")
	bDedup    = []byte("dedup")
	bDTime    = []byte("dtime")
	bPending  = []byte("pending")
	bPIdx     = []byte("pidx")
	bConv     = []byte("conv")
	bTurns    = []byte("t")
	bMsgID    = []byte("m")
	bTTime    = []byte("ttime")
	bUsers    = []byte("users")
	bProfiles = []byte("profiles")
	bKV       = []byte("kv")
	bAudit    = []byte("audit")
	bKBDocs   = []byte("kbdocs")
	bKBPass   = []byte("kbpass")
	bNames    = []byte("names")

	kName    = []byte("name")
	kSummary = []byte("summary")
	kVersion = []byte("version")
	// kNamesIndexed marks a file whose names index was built from its
	// profiles (files written before the index existed get it at open).
	kNamesIndexed = []byte("names_indexed")
)

// Store is the bbolt-backed implementation of bot.Store, bot.KV and
// bot.Auditor. All methods are safe for concurrent use.
type Store struct {
	db        *bolt.DB
	path      string
	now       func() time.Time
	retention time.Duration
	dedupTTL  time.Duration
	readOnly  bool
	inflight  atomic.Int64
	kb        *KB
	health    writeHealth
	// The pending-send log (sendlog.go), opened on first use.
	slOnce sync.Once
	sl     *sendLog
	slErr  error
}

var (
	_ bot.Store    = (*Store)(nil)
	_ bot.KV       = (*Store)(nil)
	_ bot.Auditor  = (*Store)(nil)
	_ bot.AuditLog = (*Store)(nil)
)

type options struct {
	timeout    time.Duration
	retention  time.Duration
	dedupTTL   time.Duration
	now        func() time.Time
	readOnly   bool
	batchDelay time.Duration
	legacyKB   func(path, hash string) string
}

// Option configures Open.
type Option func(*options)

// WithTimeout sets how long Open waits for the file lock before failing with
// ErrInUse (default 1s). It must be positive: zero would wait forever.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithRetention keeps conversation turns for days days; RunRetention prunes
// older ones, and dedup records with them. Zero (the default) keeps history
// forever and prunes dedup records after 30 days.
func WithRetention(days int) Option {
	return func(o *options) {
		if days > 0 {
			o.retention = time.Duration(days) * 24 * time.Hour
		}
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLegacyKBSource names the knowledge-base source that a document
// stored before sources existed (when every document was a path alone)
// belongs to, from its path and content hash; the default puts them all in
// LegacySource. Such documents are moved at Open.
func WithLegacyKBSource(f func(path, hash string) string) Option {
	return func(o *options) { o.legacyKB = f }
}

// WithReadOnly opens the file read-only (bbolt takes a shared lock, so it
// still waits for a writer to close). Writes return ErrReadOnly.
func WithReadOnly() Option { return func(o *options) { o.readOnly = true } }

// WithBatchDelay sets how long a write waits for others to share its
// transaction when writers are concurrent (default 2ms). A lone writer never
// waits.
func WithBatchDelay(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.batchDelay = d
		}
	}
}

// Open opens (creating if needed, with its directory) the bbolt file at
// path. It fails with an error wrapping ErrInUse, naming the file, when
// another process has it open.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{timeout: time.Second, dedupTTL: 30 * 24 * time.Hour, now: time.Now, batchDelay: 2 * time.Millisecond}
	for _, opt := range opts {
		opt(&o)
	}
	if !o.readOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("memory: open %s: %w", path, err)
		}
	}
	// The freelist is synced: without it bbolt rebuilds the freelist at
	// open by walking every page, which faults the whole file into
	// memory (453 MB resident for 100,000 idle conversations, against
	// 14 MB with it; about 4% fewer commits a second under load).
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        o.timeout,
		ReadOnly:       o.readOnly,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: false,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("memory: open %s: %w (waited %s for the lock; is another chorus running with this data dir?)", path, ErrInUse, o.timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("memory: open %s: %w", path, err)
	}
	db.MaxBatchDelay = o.batchDelay
	s := &Store{db: db, path: path, now: o.now, retention: o.retention, dedupTTL: o.dedupTTL, readOnly: o.readOnly}
	if o.retention > 0 {
		s.dedupTTL = o.retention
	}
	if !o.readOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bMeta, bInbox, bConv, bTTime, bUsers, bProfiles, bKV, bAudit, bKBDocs, bKBPass, bNames} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			in := tx.Bucket(bInbox)
			for _, name := range [][]byte{bDedup, bDTime, bPending, bPIdx} {
				if _, err := in.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			meta := tx.Bucket(bMeta)
			if v := meta.Get(kVersion); len(v) == 8 && binary.BigEndian.Uint64(v) > schemaVersion {
				return fmt.Errorf("schema version %d is newer than this binary's %d", binary.BigEndian.Uint64(v), schemaVersion)
			}
			if err := meta.Put(kVersion, u64(schemaVersion)); err != nil {
				return err
			}
			if meta.Get(kNamesIndexed) == nil {
				if err := indexAllNames(tx); err != nil {
					return err
				}
				return meta.Put(kNamesIndexed, []byte{1})
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("memory: open %s: init: %w", path, err)
		}
	}
	kb, err := loadKB(s, o.legacyKB)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("memory: open %s: %w", path, err)
	}
	s.kb = kb
	return s, nil
}

// Close closes the file. It waits for open transactions to finish.
func (s *Store) Close() error {
	s.slOnce.Do(func() { s.slErr = errStoreClosed })
	if s.sl != nil {
		s.sl.close()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("memory: close: %w", err)
	}
	return nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// CopyTo writes a consistent copy of the whole file to path (created
// with mode 0600), in one read transaction: chorus eval answers works on
// such a copy, so that its questions touch nothing of the real data.
func (s *Store) CopyTo(path string) error {
	err := s.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(path, 0o600) })
	if err != nil {
		return fmt.Errorf("memory: copy to %s: %w", path, err)
	}
	return nil
}

// Size returns the file's size in bytes, for metrics.
func (s *Store) Size() (int64, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0, fmt.Errorf("memory: size: %w", err)
	}
	return fi.Size(), nil
}

// KB returns the knowledge base kept in this store.
func (s *Store) KB() *KB { return s.kb }

// update runs fn in a write transaction. A lone writer gets its own
// transaction at once; when others are in flight it joins a Batch so they
// share one commit. fn may run more than once (Batch retries a failed
// batch one function at a time), so it must only write through tx and set
// its results afresh each run.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return ErrReadOnly
	}
	// fnErr tells a failed commit (a full disk, an I/O error) from fn's
	// own refusal, for Healthy.
	var fnErr error
	run := func(tx *bolt.Tx) error { fnErr = fn(tx); return fnErr }
	var err error
	if s.inflight.Add(1) == 1 {
		err = s.db.Update(run)
	} else {
		err = s.db.Batch(run)
	}
	s.inflight.Add(-1)
	s.health.note(err, fnErr)
	return err
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

const maxNameKey = 512

// nameKey is the key form of a name: itself, or a hash when too long for a
// key (or empty, which bbolt does not allow).
func nameKey(s string) []byte {
	if len(s) == 0 {
		return []byte{0}
	}
	if len(s) <= maxNameKey {
		return []byte(s)
	}
	h := sha256.Sum256([]byte(s))
	return append([]byte{0xff}, h[:]...)
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// timeKey turns t into 8 bytes that sort like the times do (times before
// 1970 sort first).
func timeKey(t time.Time) []byte {
	n := t.UnixNano()
	if t.IsZero() || n < 0 {
		n = 0
	}
	return u64(uint64(n))
}

// cat concatenates byte slices into a new slice.
func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// clone copies b, which bbolt only lends for the life of a transaction.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// Commits returns how many write transactions the file has committed
// (its transaction id), for chorus bench: each is one disk sync.
func (s *Store) Commits() uint64 {
	var id int
	_ = s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil })
	return uint64(id)
}
