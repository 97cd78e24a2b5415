package bottest

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/chorusbot/chorus/bot"
)

// ErrDiskFull is the error a FailingStore's writes return while failing.
var ErrDiskFull = errors.New("bottest: no space left on device")

// FailingStore wraps a store whose writes fail with ErrDiskFull while Fail
// is set, as a store on a full disk does; reads keep working.
type FailingStore struct {
	bot.Store
	Fail atomic.Bool
}

var _ bot.Store = (*FailingStore)(nil)

func (s *FailingStore) check() error {
	if s.Fail.Load() {
		return ErrDiskFull
	}
	return nil
}

// Accept implements bot.Inbox.
func (s *FailingStore) Accept(ctx context.Context, m *bot.Message) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	return s.Store.Accept(ctx, m)
}

// Done implements bot.Inbox.
func (s *FailingStore) Done(ctx context.Context, m *bot.Message) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.Done(ctx, m)
}

// Append implements bot.History.
func (s *FailingStore) Append(ctx context.Context, conv string, t bot.Turn) (uint64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return s.Store.Append(ctx, conv, t)
}

// SetSummary implements bot.History.
func (s *FailingStore) SetSummary(ctx context.Context, conv string, sum bot.Summary) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.SetSummary(ctx, conv, sum)
}

// Touch implements bot.Profiles.
func (s *FailingStore) Touch(ctx context.Context, m *bot.Message, lang string) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.Touch(ctx, m, lang)
}

// AddTopics implements bot.Profiles.
func (s *FailingStore) AddTopics(ctx context.Context, user string, topics []string) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.AddTopics(ctx, user, topics)
}

// Incoming implements bot.Recorder.
func (s *FailingStore) Incoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (uint64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return s.Store.Incoming(ctx, m, lang, conv, t)
}

// Outgoing implements bot.Recorder.
func (s *FailingStore) Outgoing(ctx context.Context, m *bot.Message, conv string, reply bot.Turn, topics []string) (uint64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return s.Store.Outgoing(ctx, m, conv, reply, topics)
}

// Forget implements bot.Privacy.
func (s *FailingStore) Forget(ctx context.Context, req bot.ForgetRequest) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return s.Store.Forget(ctx, req)
}
