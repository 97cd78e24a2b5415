package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// sendingBucket is the KV bucket of pending-send markers.
const sendingBucket = "sending"

// sendMark is the pending-send marker of one reply: the platform ids of
// the messages it sent, recorded (in the engine's KV) as soon as each is
// sent and removed once the reply is stored. A crash between the two
// leaves it behind; when the message is replayed, the reply is edited
// into those messages instead of sent again (StreamWriter.Resume).
//
// The record is written beside the reply, not before it goes on: the
// reply was sent either way, and the user need not wait for the disk.
type sendMark struct {
	e   *Engine
	key string
	wg  sync.WaitGroup
	// mu guards latest and gen, the ids to record and their version;
	// wmu orders the writes, written is the version last recorded.
	mu      sync.Mutex
	latest  []byte
	gen     int
	wmu     sync.Mutex
	written int
}

// sendMarker hooks a marker to w: a replayed message resumes the messages
// its marker names, and every message w sends is recorded. Without a
// durable KV (WithKV) nothing is recorded.
func (e *Engine) sendMarker(ctx context.Context, env *Env, w *StreamWriter) *sendMark {
	if e.kv == nil {
		return &sendMark{}
	}
	sum := sha256.Sum256([]byte(env.msg.DedupKey()))
	mk := &sendMark{e: e, key: hex.EncodeToString(sum[:])}
	if env.replay {
		if b, err := e.kv.Get(ctx, sendingBucket, mk.key); err == nil {
			var ids []string
			if json.Unmarshal(b, &ids) == nil && len(ids) > 0 {
				w.Resume(ids)
				mk.written = -1 // a record to remove
				e.log.Info("replaying a reply sent before the last stop: editing it", "platform", env.msg.Platform, "messages", len(ids))
			}
		}
	}
	wctx := context.WithoutCancel(ctx)
	w.OnSent = func(ids []string) {
		b, _ := json.Marshal(ids)
		mk.mu.Lock()
		mk.latest, mk.gen = b, mk.gen+1
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
	b, gen := mk.latest, mk.gen
	mk.mu.Unlock()
	if gen <= mk.written {
		return
	}
	if err := mk.e.kv.Put(ctx, sendingBucket, mk.key, b); err != nil {
		mk.e.log.Warn("record the pending send", "err", err)
		return
	}
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
	if err := mk.e.kv.Delete(ctx, sendingBucket, mk.key); err != nil {
		mk.e.log.Warn("remove the pending-send marker", "err", err)
	}
}
