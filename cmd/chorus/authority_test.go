package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/go-telegram/bot/models"

	"github.com/chorusbot/chorus/adapters/discord/discordtest"
	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
)

// platformRig is the binary's wiring with the real Telegram or Discord
// adapter, built from the configuration as serve builds it, talking to the
// fake platform.
type platformRig struct {
	t        *testing.T
	a        *app
	received atomic.Int64
}

func startPlatformRig(t *testing.T, cfg *Config) *platformRig {
	t.Helper()
	r := &platformRig{t: t}
	st, a := wireOffline(t, cfg, bot.WithObserver(bot.ObserverFunc(func(e bot.Event) {
		if e.Kind == bot.EventMessageReceived {
			r.received.Add(1)
		}
	})))
	r.a = a
	env := &cliEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	comps, _, err := platformComponents(cfg, a.log, a, bot.ObserverFunc(func(bot.Event) {}), env, bot.Solo{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, len(comps))
	for _, c := range comps {
		go func() { _ = c.run(ctx); done <- struct{}{} }()
	}
	t.Cleanup(func() {
		cancel()
		for range comps {
			<-done
		}
		a.engine.Close()
		st.Close()
	})
	return r
}

// handled waits until n messages in all have reached the engine and were
// handled.
func (r *platformRig) handled(n int64) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for r.received.Load() < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("only %d of %d messages reached the engine", r.received.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.a.engine.WaitIdle(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// Telegram: chat A and B are home groups, X is a group someone made and
// added the bot to.
const (
	tgA, tgB, tgX = int64(-1001), int64(-1002), int64(-1003)
	tgAlice       = int64(5550001234)
	tgAdminA      = int64(7001)
	tgAdminB      = int64(7002)
	tgAdminX      = int64(7003)
	tgBoss        = int64(900)
	tgAnonBot     = int64(1087968824) // Telegram's GroupAnonymousBot
)

type tgRig struct {
	*platformRig
	fake *telegramtest.Server
	sent int64
	next int
}

func startTelegram(t *testing.T) *tgRig {
	fake := telegramtest.NewServer(9000, "chorusbot")
	t.Cleanup(fake.Close)
	fake.SetAdmins(tgA, tgAdminA)
	fake.SetAdmins(tgB, tgAdminB)
	fake.SetAdmins(tgX, tgAdminX)
	cfg := privacyConfig(t.TempDir())
	cfg.Telegram.Token = "9000:AAEtest-token-for-the-fake-bot-api-0123"
	cfg.Telegram.APIURL = fake.URL
	cfg.Telegram.PollTimeout = time.Second
	r := &tgRig{platformRig: startPlatformRig(t, cfg), fake: fake, next: 100}
	if !fake.WaitFor(20*time.Second, func() bool { return len(fake.Calls(telegramtest.MethodGetUpdates)) > 0 }) {
		t.Fatal("the adapter never polled")
	}
	return r
}

// say sends text from from in chat and returns the bot's new messages
// there once it is handled.
func (r *tgRig) say(chat models.Chat, from models.User, text string, edit ...func(*models.Message)) string {
	r.t.Helper()
	before := len(r.fake.Messages(chat.ID))
	r.next++
	m := telegramtest.Text(chat, from, r.next, text)
	for _, e := range edit {
		e(m)
	}
	r.fake.Push(telegramtest.MessageUpdate(m))
	r.sent++
	r.handled(r.sent)
	var out []string
	for _, s := range r.fake.Messages(chat.ID)[before:] {
		out = append(out, s.Text)
	}
	return strings.Join(out, "\n")
}

func tgGroup(id int64) models.Chat {
	c := telegramtest.GroupChat(id, false)
	c.Title = "Group " + strconv.FormatInt(id, 10)
	return c
}

func tgUser(id int64, name string) models.User { return telegramtest.User(id, name, "en") }

func expect(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q lacks %q", what, got, w)
		}
	}
}

func refuse(t *testing.T, what, got string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(got, b) {
			t.Errorf("%s: %q holds %q", what, got, b)
		}
	}
}

// TestTelegramAuthority: the administrator of a group that is not a home
// chat has no manager command at all; the administrator of home group A
// can't read, change or forget anything of home group B, nor change the
// whole community; an anonymous administrator of A is A's administrator; a
// manager named in config manages everywhere.
func TestTelegramAuthority(t *testing.T) {
	r := startTelegram(t)
	alice := tgUser(tgAlice, "Alicezyx")
	adminA, adminX, boss := tgUser(tgAdminA, "AdminA"), tgUser(tgAdminX, "AdminX"), tgUser(tgBoss, "Boss")
	r.say(tgGroup(tgA), alice, "darn, my zorblax-A1 order is terrible")
	r.say(tgGroup(tgB), alice, "darn the zorblax-B1 thing is awful")
	bossDM := telegramtest.PrivateChat(tgBoss)
	strikes := func() string { return r.say(bossDM, boss, "/mod strikes telegram:5550001234") }
	expect(t, "strikes at start", strikes(), "2.0 strikes")

	// X is nobody's home: its administrator is a follower there.
	x := tgGroup(tgX)
	help := r.say(x, adminX, "/help")
	refuse(t, "help in X", help, "/sentiment", "/mod", "/digest")
	for _, cmd := range []string{"/mod words add coffee", "/mod dryrun on", "/sentiment", "/mod log", "/mod pardon telegram:5550001234", "/digest"} {
		expect(t, "admin of X: "+cmd, r.say(x, adminX, cmd), "for managers only")
	}
	expect(t, "admin of X forgets alice", r.say(x, adminX, "/forget telegram:5550001234 confirm"), "only ask about your own data")
	expect(t, "strikes after X", strikes(), "2.0 strikes")

	// A's administrator manages A, and nothing else.
	a := tgGroup(tgA)
	for _, cmd := range []string{"/mod words add coffee", "/mod dryrun on", "/mod words list"} {
		expect(t, "admin of A: "+cmd, r.say(a, adminA, cmd), "needs a manager of the whole community")
	}
	got := r.say(a, adminA, "/sentiment")
	expect(t, "admin of A: /sentiment", got, "zorblax-A1")
	refuse(t, "admin of A: /sentiment", got, "zorblax-B1", "5550001234")
	got = r.say(a, adminA, "/mod log")
	expect(t, "admin of A: /mod log", got, "zorblax-A1", "Alicezyx")
	refuse(t, "admin of A: /mod log", got, "zorblax-B1", "5550001234")
	expect(t, "admin of A digests B", r.say(a, adminA, "/digest 24 telegram/-1002"), "only in a direct message")
	expect(t, "admin of A: strikes", r.say(a, adminA, "/mod strikes @alicezyx"), "1.0 strikes from this chat")
	expect(t, "admin of A: pardon", r.say(a, adminA, "/mod pardon @alicezyx"), "pardoned in this chat")
	expect(t, "strikes after A's pardon", strikes(), "1.0 strikes")
	expect(t, "admin of A: forget", r.say(a, adminA, "/forget @alicezyx confirm"), "deleted or anonymised in this chat")
	d, err := r.a.engine.Export(context.Background(), "telegram:5550001234")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range d.Messages {
		texts = append(texts, m.Text)
	}
	if all := strings.Join(texts, "|"); strings.Contains(all, "zorblax-A1") || !strings.Contains(all, "zorblax-B1") {
		t.Errorf("after A's admin forgot alice in A, her messages are %q", texts)
	}
	// A's administrator in B (where they are a member) is a follower.
	expect(t, "admin of A in B", r.say(tgGroup(tgB), adminA, "/sentiment"), "for managers only")
	expect(t, "admin of A in a DM", r.say(telegramtest.PrivateChat(tgAdminA), adminA, "/sentiment"), "for managers only")

	// An anonymous administrator of A (sent as the chat) manages A.
	anon := tgUser(tgAnonBot, "Group")
	anon.IsBot, anon.Username = true, "GroupAnonymousBot"
	asChat := func(m *models.Message) { c := tgGroup(tgA); m.SenderChat = &c }
	got = r.say(a, anon, "/stats", asChat)
	refuse(t, "anonymous admin of A", got, "for managers only")
	expect(t, "anonymous admin of A", got, "Last 1d")

	// The manager named in config manages the whole community.
	expect(t, "boss adds a word", r.say(a, boss, "/mod words add coffee"), "Word list updated")
	// Alice was already acted on for a listed word in B moments ago: the
	// same episode, so no second notice (issue 13), but the finding counts.
	r.say(tgGroup(tgB), alice, "coffee again")
	expect(t, "coffee is moderated in B", strikes(), "2.0 strikes")
	got = r.say(bossDM, boss, "/sentiment")
	expect(t, "boss's DM report", got, "zorblax-B1")
}

// Discord: guilds A and B are home guilds, X is not.
const (
	dcGuildA, dcGuildB, dcGuildX = "7000001", "7000002", "7000003"
	dcChanA, dcChanB, dcChanX    = "8000001", "8000002", "8000003"
	dcRoleA, dcRoleB, dcRoleX    = "9000001", "9000002", "9000003"
	dcAlice                      = "111111111111"
	dcAdminA                     = "222222222222"
	dcOwnerX                     = "333333333333"
	dcBoss                       = "444444444444"
)

type dcRig struct {
	*platformRig
	fake *discordtest.Server
	sent int64
}

func startDiscord(t *testing.T) *dcRig {
	fake := discordtest.NewServer(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	t.Cleanup(fake.Close)
	for _, g := range []struct{ guild, ch, role, owner string }{
		{dcGuildA, dcChanA, dcRoleA, "owner-a"}, {dcGuildB, dcChanB, dcRoleB, "owner-b"}, {dcGuildX, dcChanX, dcRoleX, dcOwnerX},
	} {
		fake.AddGuild(discordtest.Guild{ID: g.guild, Name: "Guild " + g.guild, OwnerID: g.owner, Channels: []string{g.ch},
			Roles: []discordtest.Role{{ID: g.role, Name: "mods", Permissions: discordgo.PermissionModerateMembers}}})
	}
	cfg := privacyConfig(t.TempDir())
	cfg.Roles.Managers = []string{"discord:" + dcBoss}
	cfg.Roles.HomeChats = []string{"discord:" + dcGuildA, "discord:" + dcGuildB}
	cfg.Moderation.ManagersChannel = nil
	cfg.Analytics.ManagersChannel = nil
	cfg.Discord.Token = "discord-fake-token"
	cfg.Discord.APIURL = fake.URL
	cfg.Discord.GatewayURL = fake.GatewayURL
	r := &dcRig{platformRig: startPlatformRig(t, cfg), fake: fake}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fake.Wait(ctx, func() bool { return fake.Connections() > 0 }); err != nil {
		t.Fatal("the adapter never connected")
	}
	return r
}

func (r *dcRig) say(m discordtest.UserMessage) string {
	r.t.Helper()
	before := len(r.fake.BotMessages(m.ChannelID))
	if _, err := r.fake.MessageCreate(m); err != nil {
		r.t.Fatal(err)
	}
	r.sent++
	r.handled(r.sent)
	var out []string
	for _, s := range r.fake.BotMessages(m.ChannelID)[before:] {
		out = append(out, s.Content)
	}
	return strings.Join(out, "\n")
}

// TestDiscordAuthority: the owner of a guild that is not a home guild has
// no manager command; a moderator of home guild A manages A only, and not
// the whole community; a manager named in config manages everywhere.
func TestDiscordAuthority(t *testing.T) {
	r := startDiscord(t)
	in := func(guild, ch, user, name string, roles []string, text string) string {
		return r.say(discordtest.UserMessage{GuildID: guild, ChannelID: ch, AuthorID: user, Name: name, Roles: roles, Content: text})
	}
	in(dcGuildA, dcChanA, dcAlice, "alicezyx", nil, "darn, my zorblax-DA1 order is terrible")
	in(dcGuildB, dcChanB, dcAlice, "alicezyx", nil, "darn the zorblax-DB1 thing is awful")

	for _, cmd := range []string{"/mod words add coffee", "/sentiment", "/mod pardon <@" + dcAlice + ">"} {
		expect(t, "owner of X: "+cmd, in(dcGuildX, dcChanX, dcOwnerX, "ownerx", nil, cmd), "for managers only")
	}
	expect(t, "owner of X forgets alice", in(dcGuildX, dcChanX, dcOwnerX, "ownerx", nil, "/forget <@"+dcAlice+"> confirm"), "only ask about your own data")

	modA := []string{dcRoleA}
	expect(t, "moderator of A: dry-run", in(dcGuildA, dcChanA, dcAdminA, "moda", modA, "/mod dryrun on"), "needs a manager of the whole community")
	got := in(dcGuildA, dcChanA, dcAdminA, "moda", modA, "/sentiment")
	expect(t, "moderator of A: /sentiment", got, "zorblax-DA1")
	refuse(t, "moderator of A: /sentiment", got, "zorblax-DB1", dcAlice)
	// Their role in A's guild means nothing in B's.
	expect(t, "moderator of A in B", in(dcGuildB, dcChanB, dcAdminA, "moda", modA, "/sentiment"), "for managers only")
	expect(t, "moderator of A forgets alice", in(dcGuildA, dcChanA, dcAdminA, "moda", modA, "/forget <@"+dcAlice+"> confirm"),
		"deleted or anonymised in this chat")
	d, err := r.a.engine.Export(context.Background(), "discord:"+dcAlice)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range d.Messages {
		texts = append(texts, m.Text)
	}
	if all := strings.Join(texts, "|"); strings.Contains(all, "zorblax-DA1") || !strings.Contains(all, "zorblax-DB1") {
		t.Errorf("after A's moderator forgot alice in A, her messages are %q", texts)
	}

	expect(t, "boss adds a word", in(dcGuildX, dcChanX, dcBoss, "boss", nil, "/mod words add coffee"), "Word list updated")
	expect(t, "boss in a DM", r.say(discordtest.UserMessage{ChannelID: "dm-boss", AuthorID: dcBoss, Name: "boss", Content: "/sentiment"}), "zorblax-DB1")
}
