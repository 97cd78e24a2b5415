package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory/pgstore/pgtest"
)

// pgEnv is the environment of a chorus using PostgreSQL in a schema of
// its own, with a password in the DSN that must never be shown.
func pgEnv(t *testing.T) (env []string, password string) {
	dsn, _ := pgtest.SchemaDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// The test server trusts its clients: the password is never checked,
	// only carried, as a real one would be.
	password = "pw-never-shown-7Q"
	u.User = url.UserPassword(u.User.Username(), password)
	return []string{"CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN=" + u.String(), "CHORUS_DATA_DIR=" + t.TempDir()}, password
}

// TestChatOnPostgres: chat, export and forget work on the postgres driver
// as on bbolt: a second process remembers the first's conversation, the
// knowledge base is in the database, and the DSN's password is never
// printed.
func TestChatOnPostgres(t *testing.T) {
	fake := newFakeOpenAI(t, func(req chatRequest) string {
		return "Reply to: " + req.Messages[len(req.Messages)-1].Content
	})
	env, password := pgEnv(t)
	env = append(env, "CHORUS_LLM_BASE_URL="+fake.URL+"/v1", "CHORUS_LLM_MODEL=test-model",
		"CHORUS_KB_DIR="+repoKnowledge(t), "CHORUS_LOG_LEVEL=info")
	var shown strings.Builder
	run := func(stdin string, args ...string) string {
		out, errOut := chorus(t, env, stdin, args...)
		shown.WriteString(out + errOut)
		return out
	}
	run("My name is Zephyrine and I love pour-over.\n", "chat", "--user", "zeph")
	out := run("Do you remember my name?\n", "chat", "--user", "zeph")
	if strings.TrimSpace(out) != "Reply to: Do you remember my name?" {
		t.Fatalf("second run stdout: %q", out)
	}
	reqs := fake.chatRequests()
	if p := reqs[len(reqs)-1].text(); !strings.Contains(p, "Zephyrine") {
		t.Errorf("the second process's prompt lacks the first's conversation:\n%s", p)
	}
	run("How do I pause my subscription?\n", "chat", "--user", "zeph")
	reqs = fake.chatRequests()
	if p := reqs[len(reqs)-1].text(); !strings.Contains(p, "subscriptions.md") {
		t.Errorf("prompt lacks the subscriptions passage from the database's knowledge base:\n%s", p)
	}
	if out := run("", "kb", "search", "pause subscription"); !strings.Contains(out, "subscriptions.md") {
		t.Errorf("kb search on postgres: %q", out)
	}
	var d bot.UserData
	if err := json.Unmarshal([]byte(run("", "export", "--user", "console:zeph")), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 6 || d.Profile == nil || d.Profile.Messages != 3 {
		t.Errorf("export = %d messages, profile %+v", len(d.Messages), d.Profile)
	}
	run("", "forget", "--user", "console:zeph")
	var after bot.UserData
	if err := json.Unmarshal([]byte(run("", "export", "--user", "console:zeph")), &after); err != nil {
		t.Fatal(err)
	}
	if len(after.Messages) != 0 || after.Profile != nil || len(after.Extra) != 0 {
		t.Errorf("export after forget = %+v", after)
	}
	if out := run("", "migrate"); !strings.Contains(out, "schema is current") {
		t.Errorf("migrate on a current schema: %q", out)
	}
	if out := run("", "check-config"); !strings.Contains(out, "dsn: '[redacted]'") {
		t.Errorf("check-config does not redact the DSN:\n%s", out)
	}
	if strings.Contains(shown.String(), password) {
		t.Errorf("the DSN's password was printed:\n%s", shown.String())
	}
}
