package console_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/console"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
)

func TestPipedConversation(t *testing.T) {
	store := bottest.NewMemStore()
	e, err := bot.New(bot.Config{TrustedPlatforms: []string{console.Name}}, store, &bottest.LLM{}, bot.WithPrompts(prompts.Default()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	dir := t.TempDir()
	in := strings.NewReader("hello there\n\n/export\nsecond question\n")
	a, err := console.New(in, &out, e, console.WithUser("ann"), console.WithIdle(e.WaitIdle), console.WithSaveDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	e.AddPlatform(a)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "echo: hello there" || lines[3] != "echo: second question" {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	if !strings.Contains(lines[2], "chorus-export.json") {
		t.Errorf("export not saved: %q", lines[2])
	}
	data, err := os.ReadFile(filepath.Join(dir, "chorus-export.json"))
	if err != nil || !bytes.Contains(data, []byte("hello there")) {
		t.Errorf("export file: %v %s", err, data)
	}
	// The owner at the terminal has full rights, everywhere: the console
	// is a trusted platform (its user runs the process).
	if got := e.AuthorityOf(&bot.Message{Platform: console.Name, Chat: bot.Chat{ID: console.ChatID, Kind: bot.ChatDM},
		Author: bot.User{ID: "ann", Role: bot.RoleOwner}}); got.Role != bot.RoleOwner || !got.CommunityWide() {
		t.Errorf("console authority %+v", got)
	}
}
