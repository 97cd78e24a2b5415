package memory

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

var (
	_ bot.Recorder       = (*Store)(nil)
	_ bot.IntakeRecorder = (*Store)(nil)
)

// AcceptIncoming implements bot.IntakeRecorder: Accept, Touch and Append
// in one transaction, the last two only for a fresh delivery.
func (s *Store) AcceptIncoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (bool, error) {
	var (
		fresh bool
		seq   uint64
	)
	accept, err := s.acceptFn(m, &fresh)
	var appendTurn func(*bolt.Tx) error
	if err == nil {
		appendTurn, err = s.appendFn(conv, t, &seq)
	}
	if err == nil {
		touch := s.touchFn(m, lang)
		err = s.update(ctx, func(tx *bolt.Tx) error {
			if err := accept(tx); err != nil || !fresh {
				return err
			}
			if err := touch(tx); err != nil {
				return err
			}
			return appendTurn(tx)
		})
	}
	if err != nil {
		return false, fmt.Errorf("memory: accept incoming: %w", err)
	}
	return fresh, nil
}

// Dismiss implements bot.IntakeRecorder: the user turn of m leaves the
// conversation and m is done, in one transaction.
func (s *Store) Dismiss(ctx context.Context, m *bot.Message, conv string) error {
	if conv == "" {
		return fmt.Errorf("memory: dismiss: %w", errNoConv)
	}
	ck, mk, done := nameKey(conv), nameKey(m.ID), s.doneFn(m)
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if cb := tx.Bucket(bConv).Bucket(ck); cb != nil && m.ID != "" {
			if sk := cb.Bucket(bMsgID).Get(mk); sk != nil {
				if _, err := deleteTurn(tx, ck, clone(sk), true); err != nil {
					return err
				}
			}
		}
		return done(tx)
	})
	if err != nil {
		return fmt.Errorf("memory: dismiss: %w", err)
	}
	return nil
}

// Incoming implements bot.Recorder: the author's profile and their turn in
// one transaction.
func (s *Store) Incoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (uint64, error) {
	var seq uint64
	appendTurn, err := s.appendFn(conv, t, &seq)
	if err == nil {
		touch := s.touchFn(m, lang)
		err = s.update(ctx, func(tx *bolt.Tx) error {
			if err := touch(tx); err != nil {
				return err
			}
			return appendTurn(tx)
		})
	}
	if err != nil {
		return 0, fmt.Errorf("memory: record incoming: %w", err)
	}
	return seq, nil
}

// Outgoing implements bot.Recorder: the reply, the topics asked about and
// the done marker in one transaction.
func (s *Store) Outgoing(ctx context.Context, m *bot.Message, conv string, reply bot.Turn, topics []string) (uint64, error) {
	var seq uint64
	appendTurn, err := s.appendFn(conv, reply, &seq)
	if err == nil {
		steps := []func(*bolt.Tx) error{appendTurn, s.doneFn(m)}
		if len(topics) > 0 {
			steps = append(steps, s.addTopicsFn(m.UserKey(), topics))
		}
		err = s.update(ctx, func(tx *bolt.Tx) error {
			for _, step := range steps {
				if err := step(tx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return 0, fmt.Errorf("memory: record outgoing: %w", err)
	}
	return seq, nil
}
