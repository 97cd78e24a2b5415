package discord_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chorusbot/chorus/prompts"

	"github.com/bwmarrin/discordgo"

	"github.com/chorusbot/chorus/adapters/discord"
	"github.com/chorusbot/chorus/adapters/discord/discordtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

const (
	guild   = "811"
	chanA   = "c1"
	chanB   = "c2"
	thread  = "t1"
	modRole = "r-mod"
	botRole = "r-bot"
)

// recorder keeps adapter events.
type recorder struct {
	mu  sync.Mutex
	evs []bot.Event
}

func (r *recorder) Observe(e bot.Event) {
	if e.Kind != bot.EventAdapter && e.Kind != bot.EventPanic {
		return
	}
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
}

func (r *recorder) outcomes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		if e.Kind == bot.EventAdapter {
			out = append(out, string(e.State))
		}
	}
	return out
}

type harness struct {
	t    testing.TB
	fake *discordtest.Server
	eng  *bot.Engine
	ad   *discord.Adapter
	llm  *bottest.LLM
	rec  *recorder
}

type setup struct {
	llm        *bottest.LLM
	editEvery  time.Duration
	engineOpts []bot.Option
	managerIDs []string
}

func start(t testing.TB, su setup) *harness {
	t.Helper()
	fake := discordtest.NewServer(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	fake.AddGuild(discordtest.Guild{ID: guild, Name: "Brand", OwnerID: "owner",
		Roles:    []discordtest.Role{{ID: modRole, Name: "mods", Permissions: discordgo.PermissionModerateMembers}, {ID: botRole, Name: "Chorus"}},
		Channels: []string{chanA, chanB}, Threads: []string{thread}, BotRoles: []string{botRole}, Members: 4321})
	if su.llm == nil {
		su.llm = &bottest.LLM{}
	}
	// The guild is a home guild, so its managers by permission manage it;
	// managers named in config manage everywhere.
	var managers []string
	for _, id := range su.managerIDs {
		managers = append(managers, "discord:"+id)
	}
	eng, err := bot.New(bot.Config{Workers: 4, Roles: bot.Roles{HomeChats: []string{"discord:" + guild}, Managers: managers}}, bottest.NewMemStore(), su.llm, append([]bot.Option{bot.WithPrompts(prompts.Default())}, su.engineOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Register(bot.CommandSpec{Name: "modonly", Role: bot.RoleManager, Usage: "[text]", Help: map[string]string{"en": "for managers"},
		Run: func(ctx context.Context, env *bot.Env, c *bot.Command) error {
			return env.Reply(ctx, "manager ok "+c.Args)
		}}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts := []discord.Option{discord.WithCommands(eng.Commands), discord.WithObserver(rec)}
	if su.editEvery > 0 {
		opts = append(opts, discord.WithEditEvery(su.editEvery))
	}
	ad, err := discord.New(discord.Config{Token: "secret-token", APIURL: fake.URL, GatewayURL: fake.GatewayURL,
		GuildIDs: []string{guild}}, eng, opts...)
	if err != nil {
		t.Fatal(err)
	}
	eng.AddPlatform(ad)
	ctx, cancel := context.WithCancel(context.Background())
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ad.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return")
		}
		_ = eng.Close()
		fake.Close()
	})
	h := &harness{t: t, fake: fake, eng: eng, ad: ad, llm: su.llm, rec: rec}
	h.wait("connected and commands registered", func() bool { return fake.Connections() > 0 && len(fake.Commands(guild)) > 0 })
	if !ad.Ready() {
		t.Fatal("Connected() is false after connecting")
	}
	return h
}

func (h *harness) wait(what string, cond func() bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.fake.Wait(ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (h *harness) say(m discordtest.UserMessage) string {
	h.t.Helper()
	if m.Name == "" {
		m.Name = "user" + m.AuthorID
	}
	id, err := h.fake.MessageCreate(m)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// idle waits until the engine handled everything queued.
func (h *harness) idle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.eng.WaitIdle(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// replies waits for n bot messages in channel whose last version is final.
func (h *harness) replies(channel string, n int, final func([]discordtest.Message) bool) []discordtest.Message {
	h.t.Helper()
	var got []discordtest.Message
	h.wait(fmt.Sprintf("%d replies in %s", n, channel), func() bool {
		got = h.fake.BotMessages(channel)
		return len(got) >= n && (final == nil || final(got))
	})
	return got
}

// assertNoPings checks that every message the bot sent or edited carried
// allowed_mentions with an empty parse list and no roles.
func assertNoPings(t testing.TB, fake *discordtest.Server) {
	t.Helper()
	n := 0
	for _, method := range []string{"POST", "PATCH"} {
		for _, c := range fake.Calls(method, "") {
			isMsg := strings.Contains(c.Path, "/messages") || (strings.HasPrefix(c.Path, "/webhooks/") && method == "POST")
			if !isMsg || c.Status >= 300 {
				continue
			}
			n++
			am, ok := c.Payload["allowed_mentions"].(map[string]any)
			if !ok {
				t.Errorf("%s %s: no allowed_mentions in %v", c.Method, c.Path, c.Payload)
				continue
			}
			parse, ok := am["parse"].([]any)
			if !ok || len(parse) != 0 {
				t.Errorf("%s %s: allowed_mentions.parse = %v, want []", c.Method, c.Path, am["parse"])
			}
			if roles, ok := am["roles"].([]any); ok && len(roles) > 0 {
				t.Errorf("%s %s: allowed_mentions.roles = %v", c.Method, c.Path, roles)
			}
		}
	}
	if n == 0 {
		t.Error("no message was sent")
	}
}

func TestChannelConversationStreams(t *testing.T) {
	answer := "Chorus is a community bot. It answers questions from the knowledge base. It shows one growing message at a time."
	llm := &bottest.LLM{Chunk: 6, Delay: 3 * time.Millisecond, Reply: func(bot.Request) (string, error) { return answer, nil }}
	h := start(t, setup{llm: llm, editEvery: 15 * time.Millisecond})

	// Not addressed: stored, not answered.
	h.say(discordtest.UserMessage{ChannelID: chanA, GuildID: guild, AuthorID: "u1", Content: "anyone here?"})
	// Mentioned: answered, streamed by edits, a checked sentence at a time.
	q := h.say(discordtest.UserMessage{ChannelID: chanA, GuildID: guild, AuthorID: "u1",
		Content: "<@" + h.fake.BotID() + "> what is chorus?", Mentions: []string{h.fake.BotID()}})
	got := h.replies(chanA, 1, func(ms []discordtest.Message) bool { return ms[0].Content == answer })
	h.idle()
	if len(h.fake.BotMessages(chanA)) != 1 {
		t.Fatalf("bot messages = %d, want 1 (the unaddressed message must not be answered)", len(h.fake.BotMessages(chanA)))
	}
	if reqs := llm.Requests(); len(reqs) != 1 || reqs[0].Query != "what is chorus?" {
		t.Fatalf("LLM requests = %+v, want one for the mention with the mention stripped", reqs)
	}
	reply := got[0]
	if len(reply.Versions) < 3 {
		t.Errorf("reply versions = %d, want a send and several edits", len(reply.Versions))
	}
	if last := reply.Versions[len(reply.Versions)-1]; last != answer {
		t.Errorf("final edit = %q, want the full text", last)
	}
	posts := h.fake.Calls("POST", "/channels/"+chanA+"/messages")
	ref, _ := posts[0].Payload["message_reference"].(map[string]any)
	if ref["message_id"] != q {
		t.Errorf("reply reference = %v, want %s", ref, q)
	}

	// A reply to the bot's message, without a mention, is answered too.
	h.say(discordtest.UserMessage{ChannelID: chanA, GuildID: guild, AuthorID: "u2", Content: "tell me more", ReplyTo: reply.ID})
	h.replies(chanA, 2, func(ms []discordtest.Message) bool { return ms[1].Content == answer })

	// In a thread the thread is the conversation.
	h.say(discordtest.UserMessage{ChannelID: thread, GuildID: guild, AuthorID: "u1", Content: "<@!" + h.fake.BotID() + "> and here?"})
	h.replies(thread, 1, func(ms []discordtest.Message) bool { return ms[0].Content == answer })

	// Mentioning the bot's role counts as a mention.
	h.say(discordtest.UserMessage{ChannelID: chanB, GuildID: guild, AuthorID: "u3", Content: "<@&" + botRole + "> hi", MentionRoles: []string{botRole}})
	h.replies(chanB, 1, func(ms []discordtest.Message) bool { return ms[0].Content == answer })
	if typing := h.fake.Calls("POST", "/typing"); len(typing) == 0 {
		t.Error("no typing indicator was sent")
	}
	assertNoPings(t, h.fake)
}

func TestDMConversation(t *testing.T) {
	h := start(t, setup{})
	h.say(discordtest.UserMessage{ChannelID: "dm1", AuthorID: "u9", Content: "hello there"})
	h.replies("dm1", 1, func(ms []discordtest.Message) bool { return ms[0].Content == "echo: hello there" })
	h.say(discordtest.UserMessage{ChannelID: "dm1", AuthorID: "u9", Content: "second"})
	h.replies("dm1", 2, func(ms []discordtest.Message) bool { return ms[1].Content == "echo: second" })
	// The bot's own messages are never handled.
	if n := len(h.llm.Requests()); n != 2 {
		t.Fatalf("LLM requests = %d, want 2", n)
	}
	assertNoPings(t, h.fake)
}

func TestManagerRoleFromGuildRoles(t *testing.T) {
	h := start(t, setup{managerIDs: []string{"boss"}})
	cases := []struct {
		name, author string
		roles        []string
		want         string
	}{
		{"follower is refused", "u1", nil, "manager ok"},
		{"moderate members role", "u2", []string{modRole}, "manager ok x"},
		{"guild owner", "owner", nil, "manager ok x"},
		{"configured user", "boss", nil, "manager ok x"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := fmt.Sprintf("c-role-%d", i)
			h.say(discordtest.UserMessage{ChannelID: ch, GuildID: guild, AuthorID: tc.author, Roles: tc.roles, Content: "/modonly x"})
			got := h.replies(ch, 1, nil)
			isManager := strings.HasPrefix(got[0].Content, "manager ok")
			if wantManager := tc.name != "follower is refused"; isManager != wantManager {
				t.Errorf("reply %q: manager = %v, want %v", got[0].Content, isManager, wantManager)
			}
		})
	}
}

func TestSlashCommandDeferredThenCompleted(t *testing.T) {
	h := start(t, setup{llm: &bottest.LLM{Chunk: 3, Delay: 2 * time.Millisecond}, editEvery: 10 * time.Millisecond})

	cmds := h.fake.Commands(guild)
	byName := map[string]map[string]any{}
	for _, c := range cmds {
		byName[c["name"].(string)] = c
	}
	ask, ok := byName["ask"]
	if !ok {
		t.Fatalf("ask not registered: %v", cmds)
	}
	if opts, _ := ask["options"].([]any); len(opts) != 1 || opts[0].(map[string]any)["name"] != discord.ArgsOption {
		t.Errorf("ask options = %v, want one %q option", ask["options"], discord.ArgsOption)
	}
	if _, ok := ask["default_member_permissions"]; ok {
		t.Errorf("ask must be visible to everyone: %v", ask)
	}
	mod := byName["modonly"]
	if mod == nil || mod["default_member_permissions"] != fmt.Sprint(discord.ManagerPermissions) {
		t.Errorf("modonly default_member_permissions = %v, want %d", mod["default_member_permissions"], discord.ManagerPermissions)
	}

	id, token, err := h.fake.Interaction(discordtest.SlashCommand{ChannelID: chanA, GuildID: guild, UserID: "u5", Name: "fan",
		Command: "ask", Args: "Hello there. What is the refund policy? Thanks a lot.", Locale: "en-US"})
	if err != nil {
		t.Fatal(err)
	}
	// Three sentences: the answer grows by edits, a checked sentence at a
	// time.
	want := "echo: Hello there. What is the refund policy? Thanks a lot."
	got := h.replies(chanA, 1, func(ms []discordtest.Message) bool { return ms[0].Content == want })
	if h.fake.Callbacks(id) != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) {
		t.Errorf("interaction callback type = %d, want 5 (deferred)", h.fake.Callbacks(id))
	}
	if got[0].Token != token {
		t.Errorf("answer was not the interaction's response: %+v", got[0])
	}
	if n := len(h.fake.Calls("PATCH", "/webhooks/"+h.fake.AppID()+"/"+token+"/messages/@original")); n < 2 {
		t.Errorf("edits of the original response = %d, want the completion and streamed edits", n)
	}
	if n := len(h.fake.Calls("POST", "/channels/"+chanA+"/messages")); n != 0 {
		t.Errorf("channel posts = %d, want 0: an interaction is answered through its token", n)
	}

	// A command answer longer than one message: the original plus a
	// follow-up.
	long := strings.Repeat("Our community guidelines are short. ", 70)
	h.idle()
	h.llm.Chunk = 250
	_, token2, err := h.fake.Interaction(discordtest.SlashCommand{ChannelID: chanB, GuildID: guild, UserID: "u5", Command: "ask", Args: long})
	if err != nil {
		t.Fatal(err)
	}
	h.replies(chanB, 2, func(ms []discordtest.Message) bool {
		return strings.HasSuffix(strings.TrimSpace(ms[len(ms)-1].Content), "short.")
	})
	if n := len(h.fake.Calls("POST", "/webhooks/"+h.fake.AppID()+"/"+token2)); n != 1 {
		t.Errorf("follow-ups = %d, want 1", n)
	}
	assertNoPings(t, h.fake)
}

func TestRateLimitedEditStillDeliversFinalText(t *testing.T) {
	answer := "The final answer arrives whole. Even when Discord says slow down."
	// EditEvery longer than the stream: the first sentence is sent, the
	// only edit is the final one, and it meets the 429.
	h := start(t, setup{llm: &bottest.LLM{Chunk: 10, Reply: func(bot.Request) (string, error) { return answer, nil }}, editEvery: time.Hour})
	h.fake.Fail(discordtest.Failure{Method: "PATCH", PathContains: "/channels/" + chanA + "/messages/", Status: 429,
		Body: `{"message":"You are being rate limited.","retry_after":0.15,"global":false}`})
	h.say(discordtest.UserMessage{ChannelID: chanA, GuildID: guild, AuthorID: "u1", Content: "hi <@" + h.fake.BotID() + ">", Mentions: []string{h.fake.BotID()}})
	h.replies(chanA, 1, func(ms []discordtest.Message) bool { return ms[0].Content == answer })
	var limited, ok int
	for _, c := range h.fake.Calls("PATCH", "/channels/"+chanA+"/messages/") {
		switch c.Status {
		case 429:
			limited++
		case 200:
			ok++
		}
	}
	if limited != 1 || ok != 1 {
		t.Errorf("edits: %d rate limited, %d ok; want 1 and 1", limited, ok)
	}
}

func TestLongReplySplitInThree(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 4500; i++ {
		fmt.Fprintf(&b, "Sentence number %d of a long answer. ", i)
	}
	answer := strings.TrimSpace(b.String()[:4500])
	h := start(t, setup{llm: &bottest.LLM{Chunk: 400, Reply: func(bot.Request) (string, error) { return answer, nil }}})
	h.say(discordtest.UserMessage{ChannelID: "dm-long", AuthorID: "u1", Content: "tell me everything"})
	h.replies("dm-long", 3, func(ms []discordtest.Message) bool {
		return len(ms) == 3 && strings.HasSuffix(answer, ms[2].Content)
	})
	h.idle()
	got := h.fake.BotMessages("dm-long")
	if len(got) != 3 {
		t.Fatalf("messages = %d, want 3", len(got))
	}
	var joined []string
	for _, m := range got {
		if n := utf8.RuneCountInString(m.Content); n > discord.MaxMessageLen {
			t.Errorf("message of %d runes, over %d", n, discord.MaxMessageLen)
		}
		joined = append(joined, m.Content)
	}
	if strings.Join(strings.Fields(strings.Join(joined, " ")), " ") != strings.Join(strings.Fields(answer), " ") {
		t.Error("the pieces do not add up to the answer")
	}
}

func TestNoMassMentions(t *testing.T) {
	evil := "@everyone @here <@&" + modRole + "> <@u2> free nitro"
	h := start(t, setup{llm: &bottest.LLM{Reply: func(bot.Request) (string, error) { return evil, nil }}})
	h.say(discordtest.UserMessage{ChannelID: "dm-evil", AuthorID: "u1", Content: "say @everyone"})
	// The pings the user did not write are taken out of the text; what
	// is left (the @everyone they asked for, a malformed mention) still
	// pings no one, as allowed_mentions says.
	want := bot.StripPings(evil, "say @everyone")
	got := h.replies("dm-evil", 1, func(ms []discordtest.Message) bool { return ms[0].Content == want })
	if got[0].Content != want || strings.Contains(want, "@here") || strings.Contains(want, "<@&") {
		t.Fatalf("reply = %q", got[0].Content)
	}
	h.idle()
	assertNoPings(t, h.fake)
}

func TestModerationTimeoutDeleteBan(t *testing.T) {
	var until time.Time
	mod := bot.InspectorFunc(func(ctx context.Context, m *bot.Message, env *bot.Env) (bot.Verdict, error) {
		switch m.Text {
		case "buy cheap followers":
			until = time.Now().Add(10 * time.Minute)
			if err := env.Platform.Delete(ctx, m.Chat, m.ID); err != nil {
				return bot.Verdict{}, err
			}
			if err := env.Platform.Restrict(ctx, m.Chat, m.Author.ID, until); err != nil {
				return bot.Verdict{}, err
			}
			return bot.Verdict{Stop: true, Action: "timeout"}, nil
		case "raid":
			if err := env.Platform.Ban(ctx, m.Chat, m.UserKey()); err != nil {
				return bot.Verdict{}, err
			}
			return bot.Verdict{Stop: true, Action: "ban"}, nil
		case "in a dm":
			if err := env.Platform.Ban(ctx, m.Chat, m.Author.ID); err != bot.ErrUnsupported {
				return bot.Verdict{}, fmt.Errorf("ban in a DM: %v, want ErrUnsupported", err)
			}
			return bot.Verdict{Stop: true}, nil
		}
		return bot.Verdict{}, nil
	})
	h := start(t, setup{engineOpts: []bot.Option{bot.WithPlugin(bot.Plugin{Name: "inspector", Inspector: mod})}})
	spam := h.say(discordtest.UserMessage{ChannelID: chanA, GuildID: guild, AuthorID: "spammer", Content: "buy cheap followers"})
	h.wait("delete and timeout", func() bool {
		return len(h.fake.Calls("DELETE", "/channels/"+chanA+"/messages/"+spam)) == 1 &&
			len(h.fake.Calls("PATCH", "/guilds/"+guild+"/members/spammer")) == 1
	})
	tc := h.fake.Calls("PATCH", "/guilds/"+guild+"/members/spammer")[0]
	raw, _ := tc.Payload["communication_disabled_until"].(string)
	ts, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil || ts.Sub(until).Abs() > time.Second {
		t.Errorf("communication_disabled_until = %q, want %s", raw, until)
	}
	if m, _ := h.fake.Message(spam); !m.Deleted {
		t.Error("spam not deleted")
	}
	h.say(discordtest.UserMessage{ChannelID: chanB, GuildID: guild, AuthorID: "raider", Content: "raid"})
	h.wait("ban", func() bool { return len(h.fake.Calls("PUT", "/guilds/"+guild+"/bans/raider")) == 1 })
	h.say(discordtest.UserMessage{ChannelID: "dm-mod", AuthorID: "u1", Content: "in a dm"})
	h.idle()
	if len(h.llm.Requests()) != 0 {
		t.Errorf("moderated messages reached the LLM: %d", len(h.llm.Requests()))
	}
}

func TestGatewayDropThenResume(t *testing.T) {
	h := start(t, setup{})
	h.say(discordtest.UserMessage{ChannelID: "dm-r", AuthorID: "u1", Content: "before"})
	h.replies("dm-r", 1, nil)

	h.fake.Drop()
	h.wait("resumed", func() bool { return h.fake.Resumes() >= 1 && h.fake.Connections() >= 1 })
	h.say(discordtest.UserMessage{ChannelID: "dm-r", AuthorID: "u1", Content: "after"})
	h.replies("dm-r", 2, func(ms []discordtest.Message) bool { return ms[1].Content == "echo: after" })
	if !h.ad.Ready() {
		t.Error("Connected() is false after the resume")
	}
	outs := strings.Join(h.rec.outcomes(), ",")
	if !strings.HasPrefix(outs, "connected,") || !strings.Contains(outs, "disconnected") || !strings.Contains(outs, "reconnect") {
		t.Errorf("adapter events = %s, want connected, disconnected, reconnect", outs)
	}
	if ids := h.fake.Identifies(); len(ids) != 1 {
		t.Errorf("identifies = %d, want 1 (a drop resumes, it does not re-identify)", len(ids))
	}
}

func TestIdentifyIntentsAndShard(t *testing.T) {
	fake := discordtest.NewServer(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	defer fake.Close()
	ad, err := discord.New(discord.Config{Token: "t", APIURL: fake.URL, GatewayURL: fake.GatewayURL, ShardID: 1, ShardCount: 3},
		bot.HandlerFunc(func(context.Context, bot.Message) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ad.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := fake.Wait(wctx, func() bool { return len(fake.Identifies()) > 0 }); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	id := fake.Identifies()[0]
	want := int(discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages | discordgo.IntentsMessageContent)
	if id.Intents&want != want {
		t.Errorf("intents = %b, want %b included", id.Intents, want)
	}
	if id.Shard == nil || *id.Shard != [2]int{1, 3} {
		t.Errorf("shard = %v, want [1 3]", id.Shard)
	}
	if id.Token != "Bot t" {
		t.Errorf("token = %q, want the Bot prefix", id.Token)
	}
}

func TestMalformedDispatchesDoNotCrash(t *testing.T) {
	h := start(t, setup{})
	bad := []string{
		`not json at all`,
		`{"op":0,"t":"MESSAGE_CREATE","s":900,"d":null}`,
		`{"op":0,"t":"MESSAGE_CREATE","s":901,"d":{"id":12,"author":"nobody"}}`,
		`{"op":0,"t":"MESSAGE_CREATE","s":902,"d":{"id":"5","channel_id":"dm-x","content":"no author"}}`,
		`{"op":0,"t":"MESSAGE_CREATE","s":903,"d":{"id":"6","channel_id":"dm-x","content":"hi","author":{"id":"u1"},"mentions":[null],"referenced_message":{"id":"1"}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","s":904,"d":{"id":"7","type":2,"data":{"name":""},"token":"x"}}`,
		`{"op":0,"t":"INTERACTION_CREATE","s":905,"d":{"id":"8","type":2,"channel_id":"dm-x","token":"x","data":{"name":"ask","options":[null]}}}`,
		`{"op":0,"t":"INTERACTION_CREATE","s":906,"d":{"id":"9","type":2,"data":"weird"}}`,
		`{"op":0,"t":"NO_SUCH_EVENT","s":907,"d":{}}`,
	}
	for _, f := range bad {
		if err := h.fake.DispatchRaw(f); err != nil {
			t.Fatal(err)
		}
	}
	h.say(discordtest.UserMessage{ChannelID: "dm-ok", AuthorID: "u1", Content: "still alive?"})
	h.replies("dm-ok", 1, func(ms []discordtest.Message) bool { return ms[0].Content == "echo: still alive?" })
	if !h.ad.Ready() {
		t.Error("disconnected by malformed input")
	}
}

func TestEditedMessageUpdatesTheRecord(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	obs := bot.ObserverFunc(func(e bot.Event) {
		if e.Kind == bot.EventMessageReceived {
			mu.Lock()
			seen = append(seen, e.Text)
			mu.Unlock()
		}
	})
	h := start(t, setup{engineOpts: []bot.Option{bot.WithObserver(obs)}})
	id := h.say(discordtest.UserMessage{ChannelID: chanA, GuildID: guild, AuthorID: "u1", Content: "the beans are greta"})
	h.idle()
	err := h.fake.Dispatch("MESSAGE_UPDATE", map[string]any{"id": id, "channel_id": chanA, "guild_id": guild, "type": 0,
		"content": "the beans are great", "author": map[string]any{"id": "u1", "username": "useru1"},
		"edited_timestamp": time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	// An embed-only update (no edit time) is not an edit.
	if err := h.fake.Dispatch("MESSAGE_UPDATE", map[string]any{"id": id, "channel_id": chanA, "guild_id": guild, "type": 0,
		"content": "the beans are great", "author": map[string]any{"id": "u1", "username": "useru1"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := slices.Clone(seen)
		mu.Unlock()
		if len(got) >= 2 {
			if got[1] != "the beans are great" || len(got) > 2 {
				t.Fatalf("messages seen: %q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("edit never reached the engine: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.idle()
	if n := len(h.fake.BotMessages(chanA)); n != 0 {
		t.Errorf("the bot answered an edit: %d messages", n)
	}
}

func TestMemberCount(t *testing.T) {
	h := start(t, setup{})
	n, err := h.ad.MemberCount(context.Background(), bot.Chat{ID: chanA, Kind: bot.ChatGroup})
	if err != nil || n != 4321 {
		t.Fatalf("MemberCount = %d, %v; want 4321", n, err)
	}
	calls := h.fake.Calls("GET", "/guilds/"+guild)
	if len(calls) != 1 || calls[0].Query != "with_counts=true" {
		t.Fatalf("calls = %+v", calls)
	}
}

type joins struct {
	bot.Handler
	mu   sync.Mutex
	list []bot.Join
}

func (j *joins) HandleJoin(_ context.Context, x bot.Join) error {
	j.mu.Lock()
	j.list = append(j.list, x)
	j.mu.Unlock()
	return nil
}

func (j *joins) got() []bot.Join {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]bot.Join(nil), j.list...)
}

// TestMemberJoin: with member_events, the adapter asks for the Guild
// Members intent and hands GUILD_MEMBER_ADD on as a join to be greeted in
// the guild's system channel.
func TestMemberJoin(t *testing.T) {
	fake := discordtest.NewServer(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	defer fake.Close()
	fake.AddGuild(discordtest.Guild{ID: guild, Name: "Brand", OwnerID: "owner", Channels: []string{chanA}, SystemChannel: chanA})
	eng, err := bot.New(bot.Config{Workers: 1}, bottest.NewMemStore(), &bottest.LLM{}, bot.WithPrompts(prompts.Default()))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	h := &joins{Handler: eng}
	ad, err := discord.New(discord.Config{Token: "secret-token", APIURL: fake.URL, GatewayURL: fake.GatewayURL, MemberEvents: true}, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ad.Run(ctx) }()
	defer func() { cancel(); <-done }()
	poll := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
		}
	}
	poll("never connected", func() bool { return ad.Ready() && fake.Connections() > 0 })
	if ids := fake.Identifies(); len(ids) == 0 || ids[0].Intents&int(discordgo.IntentsGuildMembers) == 0 {
		t.Fatalf("identify = %+v: no Guild Members intent", ids)
	}
	for _, u := range []map[string]any{
		{"id": "u9", "username": "mia", "global_name": "Mia"},
		{"id": "b1", "username": "somebot", "bot": true},
	} {
		if err := fake.Dispatch("GUILD_MEMBER_ADD", map[string]any{"guild_id": guild, "user": u, "roles": []string{}, "joined_at": "2026-12-20T08:00:00Z"}); err != nil {
			t.Fatal(err)
		}
	}
	poll("no join", func() bool { return len(h.got()) >= 1 })
	time.Sleep(50 * time.Millisecond)
	got := h.got()
	if len(got) != 1 || got[0].User.ID != "u9" || got[0].User.Name != "Mia" || got[0].Chat.ID != chanA || got[0].Chat.Server != guild || got[0].Platform != "discord" {
		t.Fatalf("joins = %+v", got)
	}
}
