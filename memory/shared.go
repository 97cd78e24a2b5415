package memory

import (
	"strings"

	"github.com/chorusbot/chorus/bot"
)

// The rules below are what a store does to what it is given, named here
// so that the PostgreSQL store (memory/pgstore) keeps data exactly as the
// bbolt store does, and a deployment moved from one to the other exports
// the same.

// Profile bounds, so one noisy user can't grow a record without limit.
const (
	// MaxNames is how many display names a profile keeps, the latest last.
	MaxNames = maxNames
	// MaxTopics is how many distinct topics a profile counts; new ones
	// past it are ignored.
	MaxTopics = maxTopics
)

// CleanText makes text safe to store and to export as JSON: invalid UTF-8
// becomes U+FFFD and the length is bounded by MaxTextBytes.
func CleanText(s string) string { return cleanText(s) }

// DedupKey is the key a delivery is remembered by: a hash of
// bot.Message.DedupKey, which names the chat, and a Telegram private
// chat's id is its user's, which must not outlive a forget.
func DedupKey(m *bot.Message) []byte { return dedupKey(m) }

// Handle is the @username a profile keeps: clean, without the @.
func Handle(h string) string { return cleanText(strings.TrimPrefix(h, "@")) }

// IndexedName is the form of a display name or @username that finding a
// user by name (bot.Directory) compares, and false for a name too long (or
// empty) to be found by.
func IndexedName(name string) (string, bool) {
	if name == "" || len(name) > maxIndexedName {
		return "", false
	}
	return strings.ToLower(name), true
}

// FindName is the form of the name a FindUsers call asks for, and false
// when no user can have it.
func FindName(name string) (string, bool) { return IndexedName(strings.TrimSpace(name)) }
