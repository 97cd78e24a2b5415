package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/chorusbot/chorus/adapters/discord"
	"github.com/chorusbot/chorus/adapters/discord/discordtest"
	"github.com/chorusbot/chorus/adapters/telegram"
	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/go-telegram/bot/models"
)

// botName is the synthetic bot's handle.
const botName = "benchbot"

// platformName is the in-process platform's name.
const platformName = "bench"

// Platform is an in-memory bot.Platform that only counts: it keeps nothing
// per message, so a long run does not grow it. Its limits are Telegram's.
type Platform struct {
	next  atomic.Int64
	sends atomic.Int64
	edits atomic.Int64
}

var _ bot.Platform = (*Platform)(nil)

// Name implements bot.Platform.
func (p *Platform) Name() string { return platformName }

// Send implements bot.Platform.
func (p *Platform) Send(context.Context, bot.Out) (string, error) {
	p.sends.Add(1)
	return strconv.FormatInt(p.next.Add(1), 10), nil
}

// Edit implements bot.Platform.
func (p *Platform) Edit(context.Context, bot.Out, string) error { p.edits.Add(1); return nil }

// Delete implements bot.Platform.
func (p *Platform) Delete(context.Context, bot.Chat, string) error { return nil }

// Typing implements bot.Platform.
func (p *Platform) Typing(context.Context, bot.Chat) error { return nil }

// Restrict implements bot.Platform.
func (p *Platform) Restrict(context.Context, bot.Chat, string, time.Time) error { return nil }

// Ban implements bot.Platform.
func (p *Platform) Ban(context.Context, bot.Chat, string) error { return nil }

// Limits implements bot.Platform.
func (p *Platform) Limits() bot.Limits {
	return bot.Limits{MaxLen: 4096, EditEvery: time.Second, Stream: true, Markup: bot.MarkupPlain}
}

// runs counts runs in this process, for runBase.
var runs atomic.Int64

// runBase makes message ids unique across runs on one data directory, which
// would otherwise drop a second run's messages as redeliveries: room for
// 10,000,000 messages per run, distinct per millisecond and per run.
func runBase() int64 {
	return ((time.Now().UnixMilli()%100_000_000)*1000 + runs.Add(1)%1000) * 10_000_000
}

func inProcessTarget(eng *bot.Engine, cfg Config) (*target, error) {
	eng.AddPlatform(&Platform{})
	base := runBase()
	chat := func(i int) (bot.Chat, int) {
		conv, user, dm := cfg.layout(i)
		if dm {
			return bot.Chat{ID: "u" + strconv.Itoa(user), Kind: bot.ChatDM}, user
		}
		return bot.Chat{ID: "g" + strconv.Itoa(conv), Kind: bot.ChatGroup}, user
	}
	return &target{
		send: func(ctx context.Context, i int) error {
			c, user := chat(i)
			uid := strconv.Itoa(user)
			return eng.Handle(ctx, bot.Message{Platform: platformName, Chat: c, ID: strconv.FormatInt(base+int64(i), 10),
				Author: bot.User{ID: uid, Name: "User " + uid, Lang: "en"}, Text: cfg.text(i), Mentioned: c.Kind != bot.ChatDM})
		},
		convKey: func(i int) string { c, _ := chat(i); return bot.ConversationKey(platformName, c.ID, "") },
		close:   func() {},
	}, nil
}

// inProcessTargets sends message i to engine i % len(engines), as a
// round-robin balancer in front of replicas does.
func inProcessTargets(engines []*bot.Engine, cfg Config) (*target, error) {
	var ts []*target
	for _, eng := range engines {
		t, err := inProcessTarget(eng, cfg)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	if len(ts) == 1 {
		return ts[0], nil
	}
	return &target{
		send:    func(ctx context.Context, i int) error { return ts[i%len(ts)].send(ctx, i) },
		convKey: ts[0].convKey,
		close:   func() {},
	}, nil
}

// waitUntil polls cond every few milliseconds until it holds or ctx ends.
func waitUntil(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		if err := bot.Sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("bench: waiting for %s: %w", what, err)
		}
	}
	return nil
}

// startAdapter builds the adapter of a platform's section as serve does
// (bot.AdapterConfig), adds it to the engine, hosts it until ctx ends
// (bot.RunAdapter) and waits for it to connect to its fake. The returned
// close waits (boundedly) for the adapter to stop, then closes the fake.
func startAdapter(ctx context.Context, eng *bot.Engine, pc bot.AdapterConfig, cfg Config, closeFake func()) (func(), error) {
	log := cfg.Logger.With("adapter", pc.Platform())
	ad, err := pc.NewAdapter(eng, bot.AdapterEnv{Log: log, Commands: eng.Commands})
	if err != nil {
		closeFake()
		return nil, fmt.Errorf("bench: %w", err)
	}
	eng.AddPlatform(ad)
	done := make(chan error, 1)
	go func() { done <- bot.RunAdapter(ctx, ad, log, bot.Backoff{}) }()
	if err := waitUntil(ctx, "the "+ad.Name()+" adapter", ad.Ready); err != nil {
		closeFake()
		return nil, err
	}
	return func() {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		closeFake()
	}, nil
}

// telegramChat is the Telegram chat id of message i (a DM is the user's
// id, a group a negative id) and its author's index.
func (cfg Config) telegramChat(i int) (int64, int) {
	conv, user, dm := cfg.layout(i)
	if dm {
		return int64(1000 + user), user
	}
	return -1_000_000_000 - int64(conv), user
}

// telegramUpdate is the Bot API update carrying message i of a run whose
// message ids start after base; in a group it mentions the bot.
func (cfg Config) telegramUpdate(base int64, i int) models.Update {
	id, user := cfg.telegramChat(i)
	from := telegramtest.User(int64(1000+user), "User"+strconv.Itoa(user), "en")
	text := cfg.text(i)
	chat := telegramtest.PrivateChat(id)
	if id < 0 {
		chat = telegramtest.GroupChat(id, false)
		text = "@" + botName + " " + text
	}
	return telegramtest.MessageUpdate(telegramtest.Text(chat, from, int(base)+i, text))
}

func telegramTarget(ctx context.Context, eng *bot.Engine, cfg Config) (*target, error) {
	fake := telegramtest.NewServer(42, botName)
	closeAll, err := startAdapter(ctx, eng, telegram.Config{Token: "42:BENCH", APIURL: fake.URL, PollTimeout: 2 * time.Second}, cfg, fake.Close)
	if err != nil {
		return nil, err
	}
	base := runBase()
	return &target{
		send: func(_ context.Context, i int) error {
			fake.Push(cfg.telegramUpdate(base, i))
			return nil
		},
		convKey: func(i int) string {
			id, _ := cfg.telegramChat(i)
			return bot.ConversationKey(telegram.PlatformName, strconv.FormatInt(id, 10), "")
		},
		close: closeAll,
	}, nil
}

func discordTarget(ctx context.Context, eng *bot.Engine, cfg Config) (*target, error) {
	const guild = "900"
	fake := discordtest.NewServer(discordtest.Options{HeartbeatInterval: time.Second})
	chans := make([]string, 0, min(cfg.Conversations, 10000))
	if cfg.Conversations != cfg.Users {
		for c := range cfg.Conversations {
			chans = append(chans, "7"+strconv.Itoa(c))
		}
	}
	fake.AddGuild(discordtest.Guild{ID: guild, Name: "Bench", OwnerID: "1", Channels: chans})
	closeAll, err := startAdapter(ctx, eng, discord.Config{Token: "bench-token", APIURL: fake.URL, GatewayURL: fake.GatewayURL, GuildIDs: []string{guild}}, cfg, fake.Close)
	if err != nil {
		return nil, err
	}
	channel := func(i int) (ch string, user int, dm bool) {
		conv, user, dm := cfg.layout(i)
		if dm {
			return "8" + strconv.Itoa(user), user, true
		}
		return "7" + strconv.Itoa(conv), user, false
	}
	return &target{
		send: func(_ context.Context, i int) error {
			ch, user, dm := channel(i)
			m := discordtest.UserMessage{ChannelID: ch, AuthorID: "5" + strconv.Itoa(user), Name: "user" + strconv.Itoa(user), Content: cfg.text(i)}
			if !dm {
				m.GuildID = guild
				m.Mentions = []string{fake.BotID()}
				m.Content = "<@" + fake.BotID() + "> " + m.Content
			}
			if _, err := fake.MessageCreate(m); err != nil {
				return fmt.Errorf("bench: discord: inject message: %w", err)
			}
			return nil
		},
		convKey: func(i int) string { ch, _, _ := channel(i); return bot.ConversationKey(discord.PlatformName, ch, "") },
		close:   closeAll,
	}, nil
}
