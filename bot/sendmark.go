package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// SendMarks keeps the engine's pending-send markers: the platform ids of
// the messages of a reply already sent, recorded until the reply is
// stored. A KV that is also a SendMarks (the bbolt store: a small file of
// its own, synced at once, instead of a transaction waiting behind the
// batches) keeps them; any other KV keeps them in its bucket "sending".
type SendMarks interface {
	// MarkSent records ids under key, replacing what was there; they are
	// durable when it returns.
	MarkSent(ctx context.Context, key string, ids []string) error
	// SentIDs returns the ids recorded under key, nil when none.
	SentIDs(ctx context.Context, key string) ([]string, error)
	// ClearSent removes key's record. It need not be durable at once: a
	// record left behind names a reply that was stored.
	ClearSent(ctx context.Context, key string) error
}

// sendingBucket is the KV bucket of pending-send markers of a KV that is
// not a SendMarks.
const sendingBucket = "sending"

// kvMarks keeps markers in a KV bucket, as JSON lists of ids.
type kvMarks struct{ kv KV }

func (k kvMarks) MarkSent(ctx context.Context, key string, ids []string) error {
	b, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	return k.kv.Put(ctx, sendingBucket, key, b)
}

func (k kvMarks) SentIDs(ctx context.Context, key string) ([]string, error) {
	b, err := k.kv.Get(ctx, sendingBucket, key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

func (k kvMarks) ClearSent(ctx context.Context, key string) error {
	return k.kv.Delete(ctx, sendingBucket, key)
}

// sendMarks returns where the engine keeps its markers, nil without a KV,
// and, for a SendMarks store, the KV bucket too: markers a version that
// kept them there left behind at a crash.
func (e *Engine) sendMarks() (marks, legacy SendMarks) {
	if e.kv == nil {
		return nil, nil
	}
	if sm, ok := e.kv.(SendMarks); ok {
		return sm, kvMarks{e.kv}
	}
	return kvMarks{e.kv}, nil
}

// sendMark is the pending-send marker of one reply: the platform ids of
// the messages it sent, recorded (SendMarks) as soon as each is sent and
// removed once the reply is stored. A crash between the two leaves it
// behind; when the message is replayed, the reply is edited into those
// messages instead of sent again (StreamWriter.Resume).
//
// The record is written beside the reply, not before it goes on: the
// reply was sent either way, and the user need not wait for the disk.
// What a crash can still answer twice is a reply sent and not yet
// recorded: the platform's round trip and one sync of the marker.
type sendMark struct {
	e     *Engine
	marks SendMarks
	key   string
	// legacy is set when the replay found the marker in the KV bucket
	// of an earlier version: it is removed from there.
	legacy SendMarks
	wg     sync.WaitGroup
	// mu guards latest and gen, the ids to record and their version;
	// wmu orders the writes, written is the version last recorded.
	mu      sync.Mutex
	latest  []string
	gen     int
	sentAt  time.Time
	wmu     sync.Mutex
	written int
}

// sendMarker hooks a marker to w: a replayed message resumes the messages
// its marker names, and every message w sends is recorded. Without a
// durable KV (WithKV) nothing is recorded.
func (e *Engine) sendMarker(ctx context.Context, env *Env, w *StreamWriter) *sendMark {
	marks, legacy := e.sendMarks()
	if marks == nil {
		return &sendMark{}
	}
	sum := sha256.Sum256([]byte(env.msg.DedupKey()))
	mk := &sendMark{e: e, marks: marks, key: hex.EncodeToString(sum[:])}
	if env.replay {
		ids, err := marks.SentIDs(ctx, mk.key)
		if err == nil && len(ids) == 0 && legacy != nil {
			if ids, err = legacy.SentIDs(ctx, mk.key); len(ids) > 0 {
				mk.legacy = legacy
			}
		}
		if err == nil && len(ids) > 0 {
			w.Resume(ids)
			mk.written = -1 // a record to remove
			e.log.Info("replaying a reply sent before the last stop: editing it", "platform", env.msg.Platform, "messages", len(ids))
		}
	}
	wctx := context.WithoutCancel(ctx)
	w.OnSent = func(ids []string) {
		mk.mu.Lock()
		mk.latest, mk.gen, mk.sentAt = slices.Clone(ids), mk.gen+1, time.Now()
		mk.mu.Unlock()
		mk.wg.Add(1)
		go func() {
			defer mk.wg.Done()
			mk.record(wctx)
		}()
	}
	return mk
}

// record writes the latest ids, unless a later call already did.
func (mk *sendMark) record(ctx context.Context) {
	mk.wmu.Lock()
	defer mk.wmu.Unlock()
	mk.mu.Lock()
	ids, gen, sentAt := mk.latest, mk.gen, mk.sentAt
	mk.mu.Unlock()
	if gen <= mk.written {
		return
	}
	if err := mk.marks.MarkSent(ctx, mk.key, ids); err != nil {
		mk.e.log.Warn("record the pending send", "err", err)
		return
	}
	// How long a crash would have answered again: from the platform's
	// answer to the marker on disk.
	mk.e.log.Debug("pending send recorded", "after", time.Since(sentAt))
	mk.written = gen
}

// clear removes the marker once the reply is stored (or will never be
// replayed), after the writes in flight.
func (mk *sendMark) clear(ctx context.Context) {
	if mk.e == nil {
		return
	}
	mk.wg.Wait()
	if mk.written == 0 {
		return
	}
	if mk.legacy != nil {
		if err := mk.legacy.ClearSent(ctx, mk.key); err != nil {
			mk.e.log.Warn("remove the pending-send marker", "err", err)
		}
	}
	if err := mk.marks.ClearSent(ctx, mk.key); err != nil {
		mk.e.log.Warn("remove the pending-send marker", "err", err)
	}
}
