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

// TestMigrateStoreCommand moves a bbolt deployment with the binary: a dry
// run writes nothing, the copy is resumable and idempotent, and every
// user's export (their messages, profile, audit entries and what each
// plug-in keeps) is the same on postgres as it was on bbolt.
func TestMigrateStoreCommand(t *testing.T) {
	pg, _ := pgEnv(t)
	data := t.TempDir()
	// A zone other than UTC: profile times come back from PostgreSQL in
	// UTC, the same instants.
	bolt := []string{"CHORUS_DATA_DIR=" + data, "CHORUS_KB_DIR=" + repoKnowledge(t), "CHORUS_LOG_LEVEL=warn", "TZ=Asia/Tokyo"}
	chorus(t, bolt, "How long does shipping to Canada take?\nCan I pause my subscription?\n", "chat", "--user", "ann")
	chorus(t, bolt, "Do you ship to Japan?\n", "chat", "--user", "bob")
	users := []string{"console:ann", "console:bob"}
	export := func(env []string, user string) bot.UserData {
		out, _ := chorus(t, env, "", "export", "--user", user)
		var d bot.UserData
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("export %s: %v\n%s", user, err, out)
		}
		if d.Profile != nil {
			d.Profile.FirstSeen, d.Profile.LastSeen = d.Profile.FirstSeen.UTC(), d.Profile.LastSeen.UTC()
		}
		return d
	}
	before := map[string]bot.UserData{}
	for _, u := range users {
		before[u] = export(bolt, u)
		if len(before[u].Messages) == 0 {
			t.Fatalf("%s has no messages on bbolt", u)
		}
	}
	withDSN := append(append([]string{}, bolt...), pg[1]) // CHORUS_STORE_DSN, driver still bbolt
	out, _ := chorus(t, withDSN, "", "migrate-store", "--to", "postgres", "--dry-run")
	if !strings.Contains(out, "nothing written") || !strings.Contains(out, "conversations") {
		t.Errorf("dry run:\n%s", out)
	}
	onPG := append(append([]string{}, bolt...), pg[0], pg[1])
	if d := export(onPG, "console:ann"); len(d.Messages) != 0 {
		t.Fatalf("the dry run wrote: %+v", d)
	}
	out, _ = chorus(t, withDSN, "", "migrate-store", "--to", "postgres", "--batch", "2")
	if !strings.Contains(out, "done") {
		t.Errorf("migrate-store:\n%s", out)
	}
	out, _ = chorus(t, withDSN, "", "migrate-store", "--to", "postgres")
	if strings.Contains(out, "copied now, 0 before") && !strings.Contains(out, "0 in the file: 0 copied now, 0 before") {
		t.Errorf("a second run copied again:\n%s", out)
	}
	for _, u := range users {
		a, _ := json.Marshal(before[u])
		b, _ := json.Marshal(export(onPG, u))
		if string(a) != string(b) {
			t.Errorf("export of %s differs:\nbbolt:    %s\npostgres: %s", u, a, b)
		}
	}
	// The deployment goes on on postgres: ann's history is there.
	chorus(t, onPG, "And to Mexico?\n", "chat", "--user", "ann")
	if d := export(onPG, "console:ann"); len(d.Messages) != len(before["console:ann"].Messages)+2 {
		t.Errorf("after the move ann has %d messages, want %d", len(d.Messages), len(before["console:ann"].Messages)+2)
	}
}
