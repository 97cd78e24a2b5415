package campaigns_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/discord"
	"github.com/chorusbot/chorus/adapters/discord/discordtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/campaigns"
	"github.com/chorusbot/chorus/manage"
	"github.com/chorusbot/chorus/prompts"
)

// TestDiscordPublishAndWelcome: through the Discord fake, a draft is
// published to a brand channel with the server's approximate member count
// as its reach and its link tracked, and a member joining the server is
// greeted once in its system channel.
func TestDiscordPublishAndWelcome(t *testing.T) {
	const guild, news, lobby = "811", "c-news", "c-lobby"
	fake := discordtest.NewServer(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	defer fake.Close()
	fake.AddGuild(discordtest.Guild{ID: guild, Name: "Lumen", OwnerID: "owner", Channels: []string{news, lobby}, SystemChannel: lobby, Members: 640})
	kv := bottest.NewMemKV()
	camp, err := campaigns.New(campaigns.Config{TimeZone: "UTC", Channels: map[string][]string{"discord": {news}},
		Welcome: campaigns.WelcomeConfig{Chats: []string{"discord:" + guild}, Rules: "be kind."}},
		campaigns.LinksConfig{Domains: []string{"lumen.example"}, BaseURL: "https://go.lumen.example"}, campaigns.Deps{KV: kv})
	if err != nil {
		t.Fatal(err)
	}
	store := bottest.NewMemStore()
	man, err := manage.New(manage.Config{}, manage.Deps{KV: kv, History: store}, manage.WithPublisher(camp))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.New(bot.Config{Workers: 2, Persona: bot.Persona{Brand: "Lumen Coffee", BotName: "Lumi"}, Roles: bot.Roles{Managers: []string{"discord:boss"}}},
		store, &bottest.LLM{}, bot.WithPrompts(prompts.Default()), bot.WithPlugin(man.Plugin()), bot.WithPlugin(camp.Plugin()))
	if err != nil {
		t.Fatal(err)
	}
	ad, err := discord.New(discord.Config{Token: "secret-token", APIURL: fake.URL, GatewayURL: fake.GatewayURL, GuildIDs: []string{guild}, MemberEvents: true},
		eng, discord.WithCommands(eng.Commands))
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, eng, ad)
	defer stop()
	waitFor(t, "connected", func() bool { return ad.Ready() && len(fake.Commands(guild)) > 0 })

	w := &world{kv: kv, clock: bottest.NewClock(time.Now())}
	w.keepDraft(t, "d1", "discord", "The winter blend is here: https://shop.lumen.example/winter")
	if _, err := fake.MessageCreate(discordtest.UserMessage{ChannelID: "dm-boss", AuthorID: "boss", Name: "Boss", Content: "/post publish d1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "published", func() bool { return len(fake.BotMessages(news)) == 1 && len(fake.BotMessages("dm-boss")) == 1 })
	if got := fake.BotMessages("dm-boss")[0].Content; !strings.Contains(got, "reach 640 members") {
		t.Fatalf("manager told %q", got)
	}
	if got := fake.BotMessages(news)[0].Content; !shortRE.MatchString(got) || strings.Contains(got, "shop.lumen.example") {
		t.Fatalf("channel got %q", got)
	}
	if calls := fake.Calls("GET", "/guilds/"+guild); len(calls) != 1 || calls[0].Query != "with_counts=true" {
		t.Fatalf("guild calls %+v", calls)
	}

	for range 2 { // Discord may deliver the join twice; one greeting
		if err := fake.Dispatch("GUILD_MEMBER_ADD", map[string]any{"guild_id": guild, "user": map[string]any{"id": "u77", "username": "mia", "global_name": "Mia"},
			"roles": []string{}, "joined_at": "2026-12-20T08:00:00Z"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "greeted", func() bool { return len(fake.BotMessages(lobby)) == 1 })
	time.Sleep(50 * time.Millisecond)
	greet := fake.BotMessages(lobby)
	if len(greet) != 1 || !strings.Contains(greet[0].Content, "Welcome, Mia! I'm Lumi, Lumen Coffee's assistant") || !strings.Contains(greet[0].Content, "Our rules: be kind.") {
		t.Fatalf("greetings %+v", greet)
	}
}
