package memory

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/chorusbot/chorus/bot"
)

var _ bot.Recorder = (*Store)(nil)

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
