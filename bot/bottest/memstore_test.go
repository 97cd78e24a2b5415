package bottest_test

import (
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/bot/storetest"
)

// TestMemStoreConformance runs the store conformance suite on MemStore, so
// that the engine's tests run on a store that behaves like the real ones.
func TestMemStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T, storetest.Options) bot.Store { return bottest.NewMemStore() })
}
