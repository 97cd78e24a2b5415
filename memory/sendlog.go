package memory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/chorusbot/chorus/bot"
)

var _ bot.SendMarks = (*Store)(nil)

// sendLog keeps the engine's pending-send markers (bot.SendMarks) in a
// small append-only file beside the bbolt file instead of in it. A marker
// must be durable as soon as possible after the platform took the
// message: in bbolt it waited for the one writer, behind the batches of
// every conversation (hundreds of milliseconds under load, during which a
// crash made the replay answer again). Here a marker costs one append and
// one fsync of a file of a few kilobytes, shared by the markers written at
// the same time (group commit), and a cleared marker costs an append
// without a sync: a clear lost to a power cut leaves a marker for a
// message that is done, which nothing looks up again.
//
// Each line is a JSON record {"k":key,"ids":[...]}; a record without ids
// clears its key. The file is rewritten with only the live markers when
// it is opened and when it has grown well past them.
type sendLog struct {
	path string
	// mu guards f, live, size, liveSize and gen; smu is held by the one
	// syncing (or rewriting) the file, synced is the last gen known
	// durable.
	mu       sync.Mutex
	f        *os.File
	live     map[string]liveMark
	size     int64
	liveSize int64 // bytes of the live markers' lines
	gen      uint64
	smu      sync.Mutex
	synced   uint64
}

// sendLogCompact is the size past which the file is rewritten, when the
// live markers take less than a quarter of it.
const sendLogCompact = 1 << 20

// liveMark is a live marker's ids and the length of its line in the
// file.
type liveMark struct {
	ids  []string
	size int64
}

// set records ids (nil: none) as key's live marker, whose line is size
// bytes. mu is held.
func (l *sendLog) set(key string, ids []string, size int64) {
	if old, ok := l.live[key]; ok {
		l.liveSize -= old.size
		delete(l.live, key)
	}
	if len(ids) > 0 {
		l.live[key] = liveMark{ids: ids, size: size}
		l.liveSize += size
	}
}

type sendRecord struct {
	K   string   `json:"k"`
	IDs []string `json:"ids,omitempty"`
}

// openSendLog reads the file at path (a torn last line, from a crash in
// the middle of an append, is dropped) and rewrites it with the live
// markers.
func openSendLog(path string) (*sendLog, error) {
	l := &sendLog{path: path, live: map[string]liveMark{}}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r sendRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.K == "" {
			continue
		}
		l.set(r.K, r.IDs, int64(len(sc.Bytes()))+1)
	}
	if err := l.rewrite(); err != nil {
		return nil, err
	}
	return l, nil
}

// rewrite replaces the file with one holding the live markers, durably
// (written, synced, renamed over the old one, directory synced). The
// caller holds mu (or is opening).
func (l *sendLog) rewrite() error {
	var buf bytes.Buffer
	for k, m := range l.live {
		line, _ := json.Marshal(sendRecord{K: k, IDs: m.ids})
		buf.Write(append(line, '\n'))
	}
	tmp := l.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, l.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(l.path))
	}
	if err != nil {
		f.Close()
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.size, l.synced = f, int64(buf.Len()), l.gen
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// append writes one record and, with durable, returns once it is on disk.
func (l *sendLog) append(r sendRecord, durable bool) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	l.mu.Lock()
	if _, ok := l.live[r.K]; !ok && len(r.IDs) == 0 {
		l.mu.Unlock()
		return nil // nothing to clear
	}
	line = append(line, '\n')
	l.set(r.K, r.IDs, int64(len(line)))
	n, err := l.f.Write(line)
	l.size += int64(n)
	l.gen++
	mine := l.gen
	l.mu.Unlock()
	if err != nil || !durable {
		return err
	}
	// Group commit: whoever syncs first makes the records written before
	// it durable; the others find theirs done.
	l.smu.Lock()
	defer l.smu.Unlock()
	if l.synced >= mine {
		return nil
	}
	l.mu.Lock()
	if l.size > max(sendLogCompact, 4*l.liveSize) {
		err := l.rewrite()
		l.mu.Unlock()
		return err
	}
	f, upto := l.f, l.gen
	l.mu.Unlock()
	if err := f.Sync(); err != nil {
		return err
	}
	l.synced = upto
	return nil
}

func (l *sendLog) get(key string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[key].ids
}

func (l *sendLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// sending opens the store's pending-send log on first use, so that a
// command that never answers (and a read-only store) creates no file.
func (s *Store) sending() (*sendLog, error) {
	s.slOnce.Do(func() {
		if s.readOnly {
			s.slErr = ErrReadOnly
			return
		}
		s.sl, s.slErr = openSendLog(s.path + ".sending")
	})
	return s.sl, s.slErr
}

// MarkSent implements bot.SendMarks: ids are durable when it returns.
func (s *Store) MarkSent(ctx context.Context, key string, ids []string) error {
	if len(ids) == 0 {
		return s.ClearSent(ctx, key)
	}
	l, err := s.sending()
	if err == nil {
		err = l.append(sendRecord{K: key, IDs: ids}, true)
	}
	if err != nil {
		return fmt.Errorf("memory: mark sent: %w", err)
	}
	return nil
}

// SentIDs implements bot.SendMarks.
func (s *Store) SentIDs(ctx context.Context, key string) ([]string, error) {
	l, err := s.sending()
	if err != nil {
		return nil, fmt.Errorf("memory: sent ids: %w", err)
	}
	return l.get(key), nil
}

// ClearSent implements bot.SendMarks. The clear is written but not synced.
func (s *Store) ClearSent(ctx context.Context, key string) error {
	l, err := s.sending()
	if err == nil {
		err = l.append(sendRecord{K: key}, false)
	}
	if err != nil {
		return fmt.Errorf("memory: clear sent: %w", err)
	}
	return nil
}
