package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// sendingBucket is the KV bucket of pending-send markers.
const sendingBucket = "sending"

// sendMark is the pending-send marker of one reply: the platform ids of
// the messages it sent, recorded (in the engine's KV) as soon as each is
// sent and removed once the reply is stored. A crash between the two
// leaves it behind; when the message is replayed, the reply is edited
// into those messages instead of sent again (StreamWriter.Resume).
type sendMark struct {
	e   *Engine
	key string
	set bool
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
				mk.set = true
				e.log.Info("replaying a reply sent before the last stop: editing it", "platform", env.msg.Platform, "messages", len(ids))
			}
		}
	}
	w.OnSent = func(ids []string) {
		b, _ := json.Marshal(ids)
		if err := e.kv.Put(context.WithoutCancel(ctx), sendingBucket, mk.key, b); err != nil {
			e.log.Warn("record the pending send", "err", err)
			return
		}
		mk.set = true
	}
	return mk
}

// clear removes the marker once the reply is stored.
func (mk *sendMark) clear(ctx context.Context) {
	if !mk.set {
		return
	}
	if err := mk.e.kv.Delete(ctx, sendingBucket, mk.key); err != nil {
		mk.e.log.Warn("remove the pending-send marker", "err", err)
	}
}
