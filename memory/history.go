package memory

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

// MaxTextBytes bounds the text of a stored turn or summary; longer text is
// cut on a rune boundary. The engine already cuts messages far shorter
// (bot.MaxTextBytes); this only protects the file from other callers.
const MaxTextBytes = 1 << 20

var errNoConv = errors.New("empty conversation key")

// cleanText makes text safe to store and to export as JSON: invalid UTF-8
// becomes U+FFFD and the length is bounded. Control characters are kept:
// they are the caller's business and JSON escapes them.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > MaxTextBytes {
		i := MaxTextBytes
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return s
}

// Append implements bot.History. A user turn whose MsgID is already stored
// in the conversation replaces that turn's text and tokens and returns its
// Seq: that is an edit, or a replay of a message handled before a crash.
// Other turns get the conversation's next Seq.
func (s *Store) Append(ctx context.Context, conv string, t bot.Turn) (uint64, error) {
	var seq uint64
	fn, err := s.appendFn(conv, t, &seq)
	if err == nil {
		err = s.update(ctx, fn)
	}
	if err != nil {
		return 0, fmt.Errorf("memory: append: %w", err)
	}
	return seq, nil
}

// appendFn is Append as a transaction step, so that the engine's fast path
// can join it to other writes; it sets *seq.
func (s *Store) appendFn(conv string, t bot.Turn, seq *uint64) (func(*bolt.Tx) error, error) {
	if conv == "" {
		return nil, errNoConv
	}
	t.Text = cleanText(t.Text)
	t.Name = cleanText(t.Name)
	if t.Time.IsZero() {
		t.Time = s.now()
	}
	ck := nameKey(conv)
	return func(tx *bolt.Tx) error {
		cb, err := convBucket(tx, conv, ck)
		if err != nil {
			return err
		}
		turns, msgs := cb.Bucket(bTurns), cb.Bucket(bMsgID)
		var mk []byte
		if t.Role == bot.RoleUser && t.MsgID != "" {
			mk = nameKey(t.MsgID)
			if sk := msgs.Get(mk); sk != nil {
				if old := turns.Get(sk); old != nil {
					ot, err := decodeTurn(sk, old)
					if err != nil {
						return err
					}
					ot.Text, ot.Tokens = t.Text, t.Tokens
					*seq = ot.Seq
					return turns.Put(clone(sk), encodeTurn(ot))
				}
			}
		}
		*seq, err = turns.NextSequence()
		if err != nil {
			return err
		}
		nt := t
		nt.Seq = *seq
		sk := u64(*seq)
		turns.FillPercent = 0.95 // keys only ever grow: pack pages full
		if err := turns.Put(sk, encodeTurn(nt)); err != nil {
			return err
		}
		if mk != nil {
			if err := msgs.Put(mk, sk); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bTTime).Put(cat(timeKey(nt.Time), ck, sk), nil); err != nil {
			return err
		}
		if nt.User != "" {
			ub, err := tx.Bucket(bUsers).CreateBucketIfNotExists(nameKey(nt.User))
			if err != nil {
				return err
			}
			if err := ub.Put(cat(refTurn, ck, sk), nil); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// Prefixes of the keys in a users/<user>/ bucket.
var (
	refTurn    = []byte("t")
	refSummary = []byte("s")
	refAudit   = []byte("a")
)

// convBucket returns the conversation's bucket, creating it and its
// sub-buckets.
func convBucket(tx *bolt.Tx, conv string, ck []byte) (*bolt.Bucket, error) {
	root := tx.Bucket(bConv)
	if cb := root.Bucket(ck); cb != nil {
		return cb, nil
	}
	cb, err := root.CreateBucket(ck)
	if err != nil {
		return nil, err
	}
	if err := cb.Put(kName, []byte(conv)); err != nil {
		return nil, err
	}
	if _, err := cb.CreateBucket(bTurns); err != nil {
		return nil, err
	}
	if _, err := cb.CreateBucket(bMsgID); err != nil {
		return nil, err
	}
	return cb, nil
}

func turnsBucket(tx *bolt.Tx, ck []byte) *bolt.Bucket {
	root := tx.Bucket(bConv)
	if root == nil {
		return nil
	}
	cb := root.Bucket(ck)
	if cb == nil {
		return nil
	}
	return cb.Bucket(bTurns)
}

// Window implements bot.History: the most recent turns whose Tokens sum to
// at most budget, oldest first. It walks a cursor backward from the last
// turn and stops at the first that does not fit, reading only each turn's
// token count before deciding, so its cost is set by the budget, never by
// the length of the history.
func (s *Store) Window(ctx context.Context, conv string, budget int) ([]bot.Turn, error) {
	if budget <= 0 {
		return nil, nil
	}
	ck := nameKey(conv)
	var out []bot.Turn
	err := s.view(ctx, func(tx *bolt.Tx) error {
		tb := turnsBucket(tx, ck)
		if tb == nil {
			return nil
		}
		used := 0
		c := tb.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			n, err := turnTokens(v)
			if err != nil {
				return err
			}
			if used+n > budget {
				break
			}
			used += n
			t, err := decodeTurn(k, v)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: window: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// Turns implements bot.History.
func (s *Store) Turns(ctx context.Context, conv string, from, to uint64, max int) ([]bot.Turn, error) {
	if max <= 0 || from > to {
		return nil, nil
	}
	ck := nameKey(conv)
	var out []bot.Turn
	err := s.view(ctx, func(tx *bolt.Tx) error {
		tb := turnsBucket(tx, ck)
		if tb == nil {
			return nil
		}
		c := tb.Cursor()
		for k, v := c.Seek(u64(from)); k != nil && len(out) < max; k, v = c.Next() {
			if binary.BigEndian.Uint64(k) > to {
				break
			}
			t, err := decodeTurn(k, v)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("memory: turns: %w", err)
	}
	return out, nil
}

// Summary implements bot.History.
func (s *Store) Summary(ctx context.Context, conv string) (bot.Summary, error) {
	ck := nameKey(conv)
	var sum bot.Summary
	err := s.view(ctx, func(tx *bolt.Tx) error {
		root := tx.Bucket(bConv)
		if root == nil {
			return nil
		}
		cb := root.Bucket(ck)
		if cb == nil {
			return nil
		}
		v := cb.Get(kSummary)
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &sum)
	})
	if err != nil {
		return bot.Summary{}, fmt.Errorf("memory: summary: %w", err)
	}
	return sum, nil
}

// SetSummary implements bot.History. It also records, for each user in
// sum.Users, that this summary was built from them, so Forget finds it.
func (s *Store) SetSummary(ctx context.Context, conv string, sum bot.Summary) error {
	if conv == "" {
		return fmt.Errorf("memory: set summary: %w", errNoConv)
	}
	sum.Text = cleanText(sum.Text)
	if sum.Updated.IsZero() {
		sum.Updated = s.now()
	}
	body, err := json.Marshal(sum)
	if err != nil {
		return fmt.Errorf("memory: set summary: %w", err)
	}
	ck := nameKey(conv)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		cb, err := convBucket(tx, conv, ck)
		if err != nil {
			return err
		}
		users := tx.Bucket(bUsers)
		if old := cb.Get(kSummary); old != nil {
			var os bot.Summary
			if err := json.Unmarshal(old, &os); err == nil {
				for _, u := range os.Users {
					if ub := users.Bucket(nameKey(u)); ub != nil {
						if err := ub.Delete(cat(refSummary, ck)); err != nil {
							return err
						}
					}
				}
			}
		}
		for _, u := range sum.Users {
			ub, err := users.CreateBucketIfNotExists(nameKey(u))
			if err != nil {
				return err
			}
			if err := ub.Put(cat(refSummary, ck), nil); err != nil {
				return err
			}
		}
		return cb.Put(kSummary, body)
	})
	if err != nil {
		return fmt.Errorf("memory: set summary: %w", err)
	}
	return nil
}

// Turn encoding, version 1: the version byte, the token count (uvarint,
// first so Window can skip a turn without decoding it), then Role, User,
// Name, MsgID and Text as uvarint-length-prefixed bytes, then the time as
// a varint of Unix nanoseconds with 0 for the zero time, then optionally
// a flags byte (bit 0: Unanswered; absent in records written before it,
// which read as no flags). Seq is the key.
const turnV1 = 1

// turnUnanswered is the flags bit of bot.Turn.Unanswered.
const turnUnanswered = 1

func encodeTurn(t bot.Turn) []byte {
	n := 1 + 4*binary.MaxVarintLen64 + len(t.Role) + len(t.User) + len(t.Name) + len(t.MsgID) + len(t.Text) + 3*binary.MaxVarintLen64
	b := make([]byte, 0, n)
	b = append(b, turnV1)
	b = binary.AppendUvarint(b, uint64(max(t.Tokens, 0)))
	for _, f := range [...]string{t.Role, t.User, t.Name, t.MsgID, t.Text} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	var ns int64
	if !t.Time.IsZero() {
		ns = t.Time.UnixNano()
	}
	b = binary.AppendVarint(b, ns)
	if t.Unanswered {
		b = append(b, turnUnanswered)
	}
	return b
}

var errBadTurn = errors.New("corrupt turn record")

func turnTokens(v []byte) (int, error) {
	if len(v) < 2 || v[0] != turnV1 {
		return 0, errBadTurn
	}
	n, w := binary.Uvarint(v[1:])
	if w <= 0 {
		return 0, errBadTurn
	}
	return int(n), nil
}

func decodeTurn(k, v []byte) (bot.Turn, error) {
	if len(k) != 8 || len(v) < 2 || v[0] != turnV1 {
		return bot.Turn{}, errBadTurn
	}
	t := bot.Turn{Seq: binary.BigEndian.Uint64(k)}
	p := v[1:]
	tok, w := binary.Uvarint(p)
	if w <= 0 {
		return bot.Turn{}, errBadTurn
	}
	t.Tokens, p = int(tok), p[w:]
	// One string for the whole record, with the fields sliced out of it:
	// one allocation per turn instead of five.
	all := string(p)
	var fields [5]string
	off := 0
	for i := range fields {
		l, w := binary.Uvarint(p[off:])
		if w <= 0 || uint64(len(p)-off-w) < l {
			return bot.Turn{}, errBadTurn
		}
		fields[i] = all[off+w : off+w+int(l)]
		off += w + int(l)
	}
	p = p[off:]
	t.Role, t.User, t.Name, t.MsgID, t.Text = fields[0], fields[1], fields[2], fields[3], fields[4]
	switch t.Role { // share the constants' storage
	case bot.RoleUser:
		t.Role = bot.RoleUser
	case bot.RoleAssistant:
		t.Role = bot.RoleAssistant
	}
	ns, w := binary.Varint(p)
	if w <= 0 {
		return bot.Turn{}, errBadTurn
	}
	if ns != 0 {
		t.Time = time.Unix(0, ns).UTC()
	}
	if p = p[w:]; len(p) > 0 {
		t.Unanswered = p[0]&turnUnanswered != 0
	}
	return t, nil
}
