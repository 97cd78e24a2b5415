package discord

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/chorusbot/chorus/bot"
)

// fuzzAdapter is an adapter as it is after READY: it knows its bot id, and
// the gateway state holds a guild with roles, the bot's member and a
// channel, so that every lookup convertMessage makes can succeed or fail.
func fuzzAdapter(tb testing.TB) (*Adapter, *discordgo.Session) {
	tb.Helper()
	a, err := New(Config{Token: "fuzz-token"},
		bot.HandlerFunc(func(context.Context, bot.Message) error { return nil }))
	if err != nil {
		tb.Fatal(err)
	}
	a.botID, a.appID = "100", "200"
	s, err := discordgo.New("Bot fuzz-token")
	if err != nil {
		tb.Fatal(err)
	}
	g := &discordgo.Guild{ID: "900", Name: "Brand", OwnerID: "1",
		Roles:    []*discordgo.Role{{ID: "900", Name: "@everyone"}, {ID: "600", Name: "mods", Permissions: discordgo.PermissionModerateMembers}, {ID: "700", Name: "Chorus"}},
		Members:  []*discordgo.Member{{GuildID: "900", User: &discordgo.User{ID: "100", Bot: true}, Roles: []string{"700"}}},
		Channels: []*discordgo.Channel{{ID: "300", GuildID: "900", Name: "general", Type: discordgo.ChannelTypeGuildText}}}
	if err := s.State.GuildAdd(g); err != nil {
		tb.Fatal(err)
	}
	return a, s
}

// FuzzMessageCreate feeds arbitrary JSON as the payload of a MESSAGE_CREATE
// through the adapter's conversion: it must not panic, and a message it
// accepts must be one the engine can take.
func FuzzMessageCreate(f *testing.F) {
	for _, seed := range []string{
		`{"id":"1","channel_id":"300","guild_id":"900","content":"<@100> hello","type":0,"author":{"id":"5","username":"ann"},"mentions":[{"id":"100"}],"member":{"roles":["600"]}}`,
		`{"id":"2","channel_id":"301","content":"/ask when do you ship?","type":0,"author":{"id":"6","username":"bob","global_name":"Bob"}}`,
		`{"id":"3","channel_id":"300","guild_id":"900","content":"<@&700> ping","type":19,"author":{"id":"7"},"mention_roles":["700"],"message_reference":{"message_id":"9"},"referenced_message":{"id":"9","author":{"id":"100"}}}`,
		`{"id":"4","channel_id":"300","content":"<@!100>   ","author":{"id":"8"}}`,
		`{"id":"5","channel_id":"300","content":"hook","author":{"id":"9","bot":true},"webhook_id":"77"}`,
		`{"id":"6","channel_id":"300","content":"\u0000\u202e@everyone\ud83d","type":7,"author":null}`,
		`{"id":"","channel_id":"","content":"x","author":{"id":"1"}}`,
		`{"id":"7","channel_id":"300","guild_id":"900","content":"hi","author":{"id":"1"},"member":{"nick":"Owner","roles":null},"referenced_message":{"id":"8"}}`,
		`[1,2,3]`, `null`, `{"mentions":[null],"mention_roles":[""]}`,
	} {
		f.Add([]byte(seed))
	}
	a, s := fuzzAdapter(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		var mc discordgo.MessageCreate
		if err := json.Unmarshal(payload, &mc); err != nil || mc.Message == nil {
			return
		}
		m, ok := a.convertMessage(s, mc.Message)
		if !ok {
			return
		}
		if m.Platform != PlatformName || m.ID != mc.ID || m.Chat.ID != mc.ChannelID || m.ID == "" || m.Chat.ID == "" {
			t.Fatalf("identity lost: %+v from %s", m, payload)
		}
		if (m.Chat.Kind == bot.ChatDM) != (mc.GuildID == "") {
			t.Fatalf("chat kind %q for guild %q", m.Chat.Kind, mc.GuildID)
		}
		if strings.TrimSpace(m.Text) == "" || !utf8.ValidString(m.Text) {
			t.Fatalf("text %q accepted", m.Text)
		}
		if strings.Contains(m.Text, "<@100>") || strings.Contains(m.Text, "<@!100>") {
			t.Fatalf("the bot's own mention left in %q", m.Text)
		}
		if m.Command != nil {
			c, ok := bot.ParseCommand(m.Text, "")
			if !ok || c.Name != m.Command.Name {
				t.Fatalf("command %+v does not parse back from %q", m.Command, m.Text)
			}
		}
		if m.Author.Role != bot.RoleFollower && m.Author.Role != bot.RoleManager {
			t.Fatalf("role %v from a message", m.Author.Role)
		}
		// What the adapter accepts, the engine can store as it is.
		clean, _ := bot.SanitizeText(m.Text)
		if !utf8.ValidString(clean) {
			t.Fatalf("sanitised text invalid: %q", clean)
		}
	})
}
