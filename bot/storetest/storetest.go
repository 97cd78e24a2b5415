// Package storetest is the conformance suite of Chorus's stores: one Run
// that proves a bot.Store (and the optional parts a durable store adds:
// the KV, the audit log, retention, health, the knowledge base) behaves as
// the engine and the plug-ins rely on. bottest.MemStore, the bbolt store
// (memory) and the PostgreSQL store (memory/pgstore) each pass it with one
// call, so a new store is proved the same way.
//
// Parts a store does not implement are skipped, saying which interface is
// missing; a store that has no Close is taken as not durable, and the
// tests that restart it are skipped.
package storetest

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// Options are what the suite asks of a store it opens.
type Options struct {
	// Name is unique to one store of the run (a letter, then letters,
	// digits and underscores); a store opened again with the same Name
	// and Dir, after the first was closed, must hold the same data, as a
	// restart does. The PostgreSQL store makes it a schema.
	Name string
	// Dir is a directory of the store's own, the same on every open of
	// it; the bbolt store keeps its file there.
	Dir string
	// Now is the store's clock; nil means time.Now.
	Now func() time.Time
	// RetentionDays keeps turns that many days (0: forever).
	RetentionDays int
}

// Opener opens the store a test asks for. It fails t when it can't, and
// arranges for the store to be closed (and its data removed) when t ends;
// closing twice must be harmless, since the restart tests close first.
type Opener func(t *testing.T, o Options) bot.Store

// Knowledge is the part of a knowledge base the suite drives; memory.KB
// has it, over either store.
type Knowledge interface {
	bot.Knowledge
	// IngestFile stores content as document name of source; false when
	// the stored copy was the same.
	IngestFile(ctx context.Context, source, name string, content []byte) (bool, error)
	// Remove deletes a document; bot.ErrNotFound when there is none.
	Remove(ctx context.Context, source, path string) error
	// Len is the number of passages searchable.
	Len() int
}

// Pruner is retention: the bbolt and PostgreSQL stores have it.
type Pruner interface {
	// Prune deletes turns and summaries older than before and dedup
	// records accepted before it, and returns how many.
	Prune(ctx context.Context, before time.Time) (int, error)
	// RunRetention prunes by the store's retention every interval until
	// ctx ends.
	RunRetention(ctx context.Context, every time.Duration) error
}

// Checker is a store's readiness check (/readyz).
type Checker interface {
	Healthy(ctx context.Context) error
}

// Option changes what Run tests.
type Option func(*config)

type config struct {
	kb func(bot.Store) Knowledge
}

// WithKnowledge runs the knowledge-base tests on the knowledge base kb
// returns for a store.
func WithKnowledge(kb func(bot.Store) Knowledge) Option {
	return func(c *config) { c.kb = kb }
}

// Run runs the whole suite on stores made by open, each test on a store
// of its own.
func Run(t *testing.T, open Opener, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	h := &harness{open: open, cfg: c}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"InboxDedupAndPending", testInbox},
		{"InboxSurvivesRestart", testInboxRestart},
		{"HistoryAppendWindowTurns", testHistory},
		{"WindowCostSetByBudget", testWindowLongHistory},
		{"AppendEditReplacesUserTurn", testAppendEdit},
		{"ConcurrentAppend", testConcurrentAppend},
		{"Summaries", testSummaries},
		{"Recorder", testRecorder},
		{"IntakeRecorder", testIntakeRecorder},
		{"IntakeRecorderSurvivesRestart", testIntakeRecorderRestart},
		{"Profiles", testProfiles},
		{"FindUsers", testFindUsers},
		{"Forget", testForget},
		{"ForgetScopedToOneChat", testForgetScoped},
		{"ExportRoundTrip", testExport},
		{"AuditLog", testAuditLog},
		{"AuditMasksAndIndexesActors", testAuditActors},
		{"Prune", testPrune},
		{"KV", testKV},
		{"KVScanPages", testKVPages},
		{"KVBatch", testKVBatch},
		{"BadInput", testBadInput},
		{"Healthy", testHealthy},
		{"Knowledge", testKnowledge},
		{"KnowledgeSurvivesRestart", testKnowledgeRestart},
		{"EngineRestartAndReplay", testEngineRestart},
		{"EngineForgetResumes", testEngineForget},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

// harness opens stores for the tests.
type harness struct {
	open Opener
	cfg  config
	n    atomic.Int64
}

// store is one store under test and how to open it again.
type store struct {
	bot.Store
	o Options
}

// newStore opens a new, empty store.
func (h *harness) newStore(t *testing.T, o Options) *store {
	t.Helper()
	o.Name = fmt.Sprintf("st%d_%d", time.Now().UnixNano()%1e9, h.n.Add(1))
	o.Dir = t.TempDir()
	return &store{Store: h.open(t, o), o: o}
}

// reopen closes s and opens its data again, as a restart does; it skips t
// for a store that can't be closed (in-memory).
func (h *harness) reopen(t *testing.T, s *store) {
	t.Helper()
	c, ok := s.Store.(io.Closer)
	if !ok {
		t.Skipf("%T has no Close: not durable, nothing to restart", s.Store)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close before restart: %v", err)
	}
	s.Store = h.open(t, s.o)
}

func kv(t *testing.T, s bot.Store) bot.KV {
	t.Helper()
	k, ok := s.(bot.KV)
	if !ok {
		t.Skipf("%T is not a bot.KV", s)
	}
	return k
}

func auditLog(t *testing.T, s bot.Store) interface {
	bot.Auditor
	bot.AuditLog
} {
	t.Helper()
	a, ok := s.(interface {
		bot.Auditor
		bot.AuditLog
	})
	if !ok {
		t.Skipf("%T keeps no audit log (bot.Auditor and bot.AuditLog)", s)
	}
	return a
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func msg(chat, id, user, text string) *bot.Message {
	return &bot.Message{Platform: "telegram", Chat: bot.Chat{ID: chat, Kind: bot.ChatGroup}, ID: id,
		Author: bot.User{ID: user, Name: "User " + user}, Text: text, Time: t0}
}

func seqs(ts []bot.Turn) []uint64 {
	var out []uint64
	for _, t := range ts {
		out = append(out, t.Seq)
	}
	return out
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.Set(t)
	return c
}

func (c *clock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }
