package memory_test

import (
	"path/filepath"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/storetest"
	"github.com/chorusbot/chorus/memory"
)

// TestConformance runs the store conformance suite on the bbolt store.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) bot.Store {
		opts := []memory.Option{memory.WithRetention(o.RetentionDays)}
		if o.Now != nil {
			opts = append(opts, memory.WithClock(o.Now))
		}
		s, err := memory.Open(filepath.Join(o.Dir, "chorus.db"), opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.WithKnowledge(func(s bot.Store) storetest.Knowledge { return s.(*memory.Store).KB() }))
}
