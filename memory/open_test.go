package memory

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// TestOpenTouchesFewPages: opening a file full of idle conversations must
// not read it all (resident memory would grow with the conversations on
// disk). The page faults taken by Open are counted against the file's
// pages.
func TestOpenTouchesFewPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chorus.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		conv := fmt.Sprintf("idle/%d", i)
		if err := s.bulkAppend(conv, []bot.Turn{{Role: bot.RoleUser, User: "idle:" + fmt.Sprint(i), MsgID: "1", Text: "do you ship to Berlin?", Time: at, Tokens: 6}}); err != nil {
			t.Fatal(err)
		}
	}
	size, _ := s.Size()
	s.Close()
	pages := size / 4096

	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	s, err = Open(path)
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	faults := (after.Minflt - before.Minflt) + (after.Majflt - before.Majflt)
	// The kernel maps up to 16 pages per fault (fault-around), so walking
	// the file costs about pages/16 faults; opening without walking it
	// costs a handful.
	if int64(faults) > pages/64 {
		t.Errorf("Open took %d page faults on a file of %d pages: it walks the file", faults, pages)
	}
	t.Logf("%d page faults to open a file of %d pages", faults, pages)
}
