package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/discord/discordtest"
	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/memory/pgstore/pgtest"
)

// The fleet tests run several `chorus serve` processes on one PostgreSQL
// schema (CHORUS_TEST_PG_DSN; in CI a missing server fails them).

const webhookSecret = "fleet-secret"

// roundRobin is the load balancer in front of the webhook replicas: each
// update goes to the next replica; one that can't be reached or is
// closing (503) is skipped, as a balancer with health checks and retries
// does. An update no replica takes gets 502, and Telegram sends it again.
type roundRobin struct {
	backends []string
	next     atomic.Int64
	client   *http.Client
}

func (p *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	start := int(p.next.Add(1))
	for i := range p.backends {
		b := p.backends[(start+i)%len(p.backends)]
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, "http://"+b+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		res, err := p.client.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			continue
		}
		w.WriteHeader(res.StatusCode)
		return
	}
	w.WriteHeader(http.StatusBadGateway)
}

// fleetLoad is Telegram's side of the load: users in group chats, each
// mentioning the bot, each chat's updates sent one after another (as
// Telegram delivers a chat's updates in order), each until it is taken.
type fleetLoad struct {
	chats, usersPerChat, perChat int
	nextUpdate                   atomic.Int64
	sent                         atomic.Int64
}

func (l *fleetLoad) chatID(c int) int64 { return -1001000000000 - int64(c) }

func (l *fleetLoad) userID(c, u int) int64 { return 100000 + int64(c*l.usersPerChat+u) }

// text is the i-th message of chat c (message id i+1).
func (l *fleetLoad) text(c, i int) string {
	return fmt.Sprintf("@chorusbot chat %d question %d from user %d", c, i+1, l.userID(c, i%l.usersPerChat))
}

// send posts every update to url, a chat per goroutine; it returns when
// all were taken, or fails t after timeout.
func (l *fleetLoad) send(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	if err := l.post(url, timeout); err != nil {
		t.Fatal(err)
	}
}

// post is send for any goroutine: it returns an error instead.
func (l *fleetLoad) post(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(timeout)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for c := range l.chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := telegramtest.GroupChat(l.chatID(c), false)
			for i := range l.perChat {
				u := i % l.usersPerChat
				upd := telegramtest.MessageUpdate(telegramtest.Text(chat, telegramtest.User(l.userID(c, u), fmt.Sprintf("User%d", l.userID(c, u)), "en"), i+1, l.text(c, i)))
				upd.ID = l.nextUpdate.Add(1)
				body, _ := json.Marshal(upd)
				for {
					if failed.Load() {
						return
					}
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
					res, err := client.Do(req)
					if err == nil {
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode == http.StatusOK {
							l.sent.Add(1)
							break
						}
					}
					if time.Now().After(deadline) {
						failed.Store(true)
						return
					}
					time.Sleep(100 * time.Millisecond) // Telegram retries a failed delivery
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		return fmt.Errorf("updates not taken within %v: %d of %d", timeout, l.sent.Load(), l.chats*l.perChat)
	}
	return nil
}

// answers returns, per chat, the message ids the bot's answers replied
// to, in the order Telegram received them.
func (l *fleetLoad) answers(tg *telegramtest.Server) map[int][]int {
	out := map[int][]int{}
	for c := range l.chats {
		for _, m := range tg.Messages(l.chatID(c)) {
			if m.ReplyTo != 0 && strings.HasPrefix(m.Text, "Answer to:") {
				out[c] = append(out[c], m.ReplyTo)
			}
		}
	}
	return out
}

// check reports what answers holds against the load: messages never
// answered, answered more than once, and chats whose first answers are
// out of order.
func (l *fleetLoad) check(answers map[int][]int) (missing, twice, disorder int) {
	for c := range l.chats {
		seen := map[int]int{}
		last := 0
		ordered := true
		for _, id := range answers[c] {
			seen[id]++
			if seen[id] == 1 {
				if id < last {
					ordered = false
				}
				last = id
			}
		}
		for i := 1; i <= l.perChat; i++ {
			switch n := seen[i]; {
			case n == 0:
				missing++
			case n > 1:
				twice++
			}
		}
		if !ordered {
			disorder++
		}
	}
	return missing, twice, disorder
}

// waitAnswered waits until every message of the load is answered, or
// fails t saying what is missing.
func (l *fleetLoad) waitAnswered(t *testing.T, tg *telegramtest.Server, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing, _, _ := l.check(l.answers(tg))
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			var texts []string
			for _, m := range tg.Messages(l.chatID(0)) {
				texts = append(texts, fmt.Sprintf("%d: %.60q", m.ReplyTo, m.Text))
			}
			t.Fatalf("after %v %d of %d messages are unanswered; %d messages sent by the bot; chat 0 got %d:\n%s",
				timeout, missing, l.chats*l.perChat, tg.SentCount(), len(texts), strings.Join(texts, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gauge returns the value of series (name{labels} as /metrics prints it)
// from the replica's /metrics, -1 when absent or unreachable.
func (p *serveProc) gauge(series string) float64 {
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + p.adminAddr() + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// fleetEnv is the environment of a webhook replica on the shared schema.
func fleetEnv(tg *telegramtest.Server, llmURL, dsn, listen string, t *testing.T) []string {
	return telegramEnv(tg, llmURL, t.TempDir(),
		"CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN="+dsn, "CHORUS_STORE_LEASE_TTL=2s",
		"CHORUS_TELEGRAM_MODE=webhook", "CHORUS_TELEGRAM_WEBHOOK_LISTEN="+listen,
		"CHORUS_TELEGRAM_WEBHOOK_PUBLIC_URL=https://bot.example.com/tg", "CHORUS_TELEGRAM_WEBHOOK_SECRET="+webhookSecret,
		"CHORUS_ENGINE_WORKERS=40", "CHORUS_ENGINE_RATE_PER_MINUTE=0",
		// The budgets hold for the fleet: 10 answers with a growing
		// history would spend a follower's 50,000 tokens.
		"CHORUS_ENGINE_USER_DAILY_TOKENS=0", "CHORUS_ENGINE_CHAT_DAILY_TOKENS=0",
		// A follower asking 10 questions in under a minute, in a chat
		// answered fast, trips the flood rule (6 in 10s): a test of
		// moderation, not of the fleet.
		"CHORUS_MODERATION_FLOOD_MESSAGES=0")
}

// startFleet starts n webhook replicas and the balancer in front of them.
func startFleet(t *testing.T, n int, tg *telegramtest.Server, llmURL string) ([]*serveProc, *httptest.Server) {
	t.Helper()
	dsn, _ := pgtest.SchemaDSN(t)
	rr := &roundRobin{client: &http.Client{Timeout: 30 * time.Second}}
	var procs []*serveProc
	for range n {
		listen := freePort(t)
		procs = append(procs, startServe(t, fleetEnv(tg, llmURL, dsn, listen, t)))
		rr.backends = append(rr.backends, listen)
	}
	for _, p := range procs {
		waitFor(t, 60*time.Second, "a replica ready", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	}
	lb := httptest.NewServer(rr)
	t.Cleanup(lb.Close)
	return procs, lb
}

func fleetModel(t *testing.T) *fakeOpenAI {
	return newFakeOpenAI(t, func(req chatRequest) string {
		time.Sleep(5 * time.Millisecond)
		return "Answer to: " + req.Messages[len(req.Messages)-1].Content
	})
}

// TestFleetWebhookAnswersOnceInOrder: three replicas behind a round-robin
// balancer, 3,000 updates from 300 users in 100 chats: every message is
// answered exactly once, and each chat's in the order sent.
func TestFleetWebhookAnswersOnceInOrder(t *testing.T) {
	pgtest.DSN(t)
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := fleetModel(t)
	procs, lb := startFleet(t, 3, tg, ai.URL)
	load := &fleetLoad{chats: 100, usersPerChat: 3, perChat: 30}
	total := load.chats * load.perChat
	start := time.Now()
	load.send(t, lb.URL+"/tg", 3*time.Minute)
	load.waitAnswered(t, tg, 3*time.Minute)
	took := time.Since(start)
	// Every replica counts the fleet's 300 users, once its sketches and
	// the others' are merged in PostgreSQL (every 15s).
	users := load.chats * load.usersPerChat
	for i, p := range procs {
		waitFor(t, 45*time.Second, fmt.Sprint("replica ", i, " counting the fleet's users"), func() bool {
			n := p.gauge(`chorus_active_users{window="1d"}`)
			return n >= float64(users)*0.97 && n <= float64(users)*1.03
		})
	}
	for _, p := range procs {
		p.term(t)
	}
	missing, twice, disorder := load.check(load.answers(tg))
	t.Logf("%d updates from %d users in %d chats through 3 replicas: answered in %v (%.0f msg/s); %d missing, %d answered twice, %d chats out of order",
		total, load.chats*load.usersPerChat, load.chats, took.Round(time.Millisecond), float64(total)/took.Seconds(), missing, twice, disorder)
	if missing > 0 || twice > 0 || disorder > 0 {
		t.Errorf("%d messages unanswered, %d answered twice, %d chats answered out of order; want none", missing, twice, disorder)
	}
}

// TestFleetReplicaKilledMidLoad: the same load, and one of the three
// replicas is killed with SIGKILL a third of the way through. The
// balancer sends its share to the others; the conversations it held are
// taken over once their leases lapse: every message accepted is answered,
// each chat's first answers in order, and the number answered twice (a
// message in flight at the kill, sent but not recorded) is reported.
func TestFleetReplicaKilledMidLoad(t *testing.T) {
	pgtest.DSN(t)
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := fleetModel(t)
	procs, lb := startFleet(t, 3, tg, ai.URL)
	load := &fleetLoad{chats: 100, usersPerChat: 3, perChat: 30}
	total := load.chats * load.perChat
	sent := make(chan error, 1)
	go func() { sent <- load.post(lb.URL+"/tg", 4*time.Minute) }()
	waitFor(t, 3*time.Minute, "a third of the load answered", func() bool { return tg.SentCount() >= total/3 })
	procs[1].kill9(t)
	killed := time.Now()
	atKill := tg.SentCount()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	load.waitAnswered(t, tg, 3*time.Minute)
	took := time.Since(killed)
	for _, p := range []*serveProc{procs[0], procs[2]} {
		p.term(t)
	}
	missing, twice, disorder := load.check(load.answers(tg))
	t.Logf("replica killed after %d bot messages; the other two finished %v later; %d of %d messages missing, %d answered twice, %d chats out of order",
		atKill, took.Round(time.Millisecond), missing, total, twice, disorder)
	if missing > 0 || disorder > 0 {
		t.Errorf("%d messages lost, %d chats answered out of order; want none", missing, disorder)
	}
	// Only a message in flight on the killed replica (at most one per
	// worker) can be answered twice.
	if twice > 40 {
		t.Errorf("%d messages answered twice; at most the killed replica's 40 in flight may be", twice)
	}
}

// TestFleetPollingLeaderKilled: two replicas in polling mode; one polls.
// Killed, the other polls within 10s, and no update is lost: those pushed
// before, during and after the kill are all answered.
func TestFleetPollingLeaderKilled(t *testing.T) {
	pgtest.DSN(t)
	dsn, _ := pgtest.SchemaDSN(t)
	tg := telegramtest.NewServer(tgBotID, "chorusbot")
	defer tg.Close()
	ai := fleetModel(t)
	env := func() []string {
		return telegramEnv(tg, ai.URL, t.TempDir(), "CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN="+dsn,
			"CHORUS_STORE_LEASE_TTL=3s", "CHORUS_ENGINE_RATE_PER_MINUTE=0")
	}
	a := startServe(t, env())
	b := startServe(t, env())
	const leads = "receiving: this replica leads"
	var leader, standby *serveProc
	waitFor(t, 60*time.Second, "one replica polling", func() bool {
		switch {
		case strings.Contains(a.stderr.String(), leads):
			leader, standby = a, b
		case strings.Contains(b.stderr.String(), leads):
			leader, standby = b, a
		}
		return leader != nil
	})
	waitFor(t, 30*time.Second, "the standby ready", func() bool { code, _ := standby.readyz(); return code == http.StatusOK })
	if strings.Contains(standby.stderr.String(), leads) {
		t.Fatal("both replicas poll")
	}

	const users = 20
	push := func(round int) {
		for u := range users {
			id := int64(9000 + u)
			tg.Push(telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(id), telegramtest.User(id, fmt.Sprint("P", u), "en"), round, fmt.Sprintf("round %d from %d", round, u))))
		}
	}
	answered := func(round int) bool {
		for u := range users {
			if repliesTo(tg, int64(9000+u), "Answer to:")[round] == 0 {
				return false
			}
		}
		return true
	}
	push(1)
	waitFor(t, 60*time.Second, "round 1 answered", func() bool { return answered(1) })
	push(2) // in the leader's hands, or still at Telegram, at the kill
	leader.kill9(t)
	killed := time.Now()
	push(3)
	waitFor(t, 30*time.Second, "the standby polling", func() bool { return strings.Contains(standby.stderr.String(), leads) })
	took := time.Since(killed)
	waitFor(t, 60*time.Second, "rounds 2 and 3 answered", func() bool { return answered(2) && answered(3) })
	standby.term(t)
	t.Logf("the standby polled %v after the leader was killed (store.lease_ttl 3s)", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("the standby took %v to poll; want within 10s", took)
	}
}

// TestFleetDiscordShards: two replicas run Discord shards 0/2 and 1/2
// against the fake gateway, which routes each guild's events to the
// shard (guild_id >> 22) % 2 names, as Discord does. Each replica has a
// model of its own, so the answer tells who gave it: every guild is
// answered by the replica of its shard, each message once.
func TestFleetDiscordShards(t *testing.T) {
	pgtest.DSN(t)
	dsn, _ := pgtest.SchemaDSN(t)
	dc := discordtest.NewServer(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	defer dc.Close()
	type guild struct{ id, channel string }
	var guilds []guild
	for i := range 8 {
		g := guild{id: strconv.FormatUint(uint64(1_234_567_000+i)<<22|uint64(4096+i), 10), channel: strconv.Itoa(7000 + i)}
		guilds = append(guilds, g)
		dc.AddGuild(discordtest.Guild{ID: g.id, Name: "Guild " + g.id, OwnerID: "1", Channels: []string{g.channel}})
	}
	var procs []*serveProc
	for shard := range 2 {
		procs = append(procs, discordReplica(t, dc, dsn, fmt.Sprintf("Shard%d", shard),
			"CHORUS_DISCORD_SHARD_ID="+strconv.Itoa(shard), "CHORUS_DISCORD_SHARD_COUNT=2"))
	}
	for _, p := range procs {
		waitFor(t, 60*time.Second, "a replica connected", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	}
	ids := dc.Identifies()
	if len(ids) != 2 {
		t.Fatalf("%d IDENTIFYs, want one per shard", len(ids))
	}
	const per = 3
	for _, g := range guilds {
		for i := range per {
			if _, err := dc.MessageCreate(discordtest.UserMessage{ChannelID: g.channel, GuildID: g.id, AuthorID: "600", Name: "ann",
				Content: fmt.Sprintf("<@%s> question %d in %s", dc.BotID(), i, g.id), Mentions: []string{dc.BotID()}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	answers := func(g guild) []string {
		var out []string
		for _, m := range dc.BotMessages(g.channel) {
			if strings.Contains(m.Content, "answers:") {
				out = append(out, m.Content)
			}
		}
		return out
	}
	waitFor(t, 60*time.Second, "every guild answered", func() bool {
		for _, g := range guilds {
			if len(answers(g)) < per {
				return false
			}
		}
		return true
	})
	served := [2]int{}
	for _, g := range guilds {
		id, _ := strconv.ParseUint(g.id, 10, 64)
		want := int((id >> 22) % 2)
		got := answers(g)
		if len(got) != per {
			t.Errorf("guild %s: %d answers, want %d: %q", g.id, len(got), per, got)
		}
		for _, a := range got {
			if !strings.HasPrefix(a, fmt.Sprintf("Shard%d answers:", want)) {
				t.Errorf("guild %s (shard %d) answered by the other replica: %q", g.id, want, a)
			}
		}
		served[want]++
	}
	if served[0] == 0 || served[1] == 0 {
		t.Fatalf("the guilds fell on one shard only (%v): the test proves nothing", served)
	}
	t.Logf("%d guilds on shard 0 and %d on shard 1, each answered by its shard's replica", served[0], served[1])
}

// discordReplica starts a chorus serve on the Discord fake and the shared
// schema, with a model of its own whose answers start with name.
func discordReplica(t *testing.T, dc *discordtest.Server, dsn, name string, extra ...string) *serveProc {
	t.Helper()
	ai := newFakeOpenAI(t, func(req chatRequest) string {
		return fmt.Sprintf("%s answers: %s", name, req.Messages[len(req.Messages)-1].Content)
	})
	return startServe(t, append([]string{
		"CHORUS_DISCORD_TOKEN=discord-test-token", "CHORUS_DISCORD_API_URL=" + dc.URL, "CHORUS_DISCORD_GATEWAY_URL=" + dc.GatewayURL,
		"CHORUS_STORE_DRIVER=postgres", "CHORUS_STORE_DSN=" + dsn, "CHORUS_ENGINE_RATE_PER_MINUTE=0",
		"CHORUS_MODERATION_CLASSIFIERS=false", "CHORUS_LLM_BASE_URL=" + ai.URL + "/v1", "CHORUS_LLM_MODEL=test-model",
		"CHORUS_DATA_DIR=" + t.TempDir(), "CHORUS_KB_DIR=" + filepath.Join(t.TempDir(), "no-kb"), "CHORUS_LOG_LEVEL=info",
	}, extra...))
}

// TestFleetDiscordShardsClaimed: three replicas with discord.shard_auto
// and two shards: two claim one shard each from PostgreSQL, the third
// waits; each guild is answered by the replica holding its shard. When
// one holder is killed, the spare claims its shard within seconds and
// answers that shard's guilds.
func TestFleetDiscordShardsClaimed(t *testing.T) {
	pgtest.DSN(t)
	dsn, _ := pgtest.SchemaDSN(t)
	dc := discordtest.NewServer(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	defer dc.Close()
	type guild struct{ id, channel string }
	var guilds []guild
	for i := range 4 {
		g := guild{id: strconv.FormatUint(uint64(987_000+i)<<22, 10), channel: strconv.Itoa(8000 + i)}
		guilds = append(guilds, g)
		dc.AddGuild(discordtest.Guild{ID: g.id, Name: "Guild " + g.id, OwnerID: "1", Channels: []string{g.channel}})
	}
	shardOf := func(g guild) int { id, _ := strconv.ParseUint(g.id, 10, 64); return int((id >> 22) % 2) }
	names := []string{"R0", "R1", "R2"}
	var procs []*serveProc
	for _, name := range names {
		procs = append(procs, discordReplica(t, dc, dsn, name, "CHORUS_DISCORD_SHARD_AUTO=true", "CHORUS_DISCORD_SHARD_COUNT=2",
			"CHORUS_STORE_LEASE_TTL=2s"))
	}
	// holder returns the replica receiving shard s, -1 when none.
	holder := func(s int) int {
		for i, p := range procs {
			if !p.exited() && strings.Contains(p.stderr.String(), fmt.Sprintf("msg=\"receiving this shard\" adapter=discord shard=%d/2", s)) {
				return i
			}
		}
		return -1
	}
	waitFor(t, 60*time.Second, "both shards claimed", func() bool { return holder(0) >= 0 && holder(1) >= 0 })
	for _, p := range procs {
		waitFor(t, 30*time.Second, "every replica ready", func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	}
	if holder(0) == holder(1) {
		t.Fatalf("one replica claimed both shards")
	}
	ask := func(round int) {
		for _, g := range guilds {
			if _, err := dc.MessageCreate(discordtest.UserMessage{ChannelID: g.channel, GuildID: g.id, AuthorID: "600", Name: "ann",
				Content: fmt.Sprintf("<@%s> round %d in %s", dc.BotID(), round, g.id), Mentions: []string{dc.BotID()}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	answerTo := func(g guild, round int) []string {
		var out []string
		for _, m := range dc.BotMessages(g.channel) {
			if strings.Contains(m.Content, fmt.Sprintf("round %d in", round)) {
				out = append(out, m.Content)
			}
		}
		return out
	}
	// check waits for one answer in every guild and wants it from the
	// replica from(shard) names: in round 1 the shard's holder; after a
	// kill, any live replica, since a conversation the dead replica held
	// is taken over by whichever live replica finds it first.
	check := func(round int, from func(shard int) []int) {
		t.Helper()
		waitFor(t, 60*time.Second, fmt.Sprint("round ", round, " answered"), func() bool {
			for _, g := range guilds {
				if len(answerTo(g, round)) == 0 {
					return false
				}
			}
			return true
		})
		for _, g := range guilds {
			got := answerTo(g, round)
			var want []string
			ok := len(got) == 1
			for _, r := range from(shardOf(g)) {
				want = append(want, names[r])
			}
			if ok {
				ok = slices.ContainsFunc(want, func(n string) bool { return strings.HasPrefix(got[0], n+" answers:") })
			}
			if !ok {
				t.Errorf("round %d, guild %s (shard %d): answers %q, want one from %v", round, g.id, shardOf(g), got, want)
			}
		}
	}
	first := [2]int{holder(0), holder(1)}
	ask(1)
	check(1, func(shard int) []int { return []int{first[shard]} })

	victim := first[1]
	procs[victim].kill9(t)
	killed := time.Now()
	var spare int
	waitFor(t, 30*time.Second, "the spare claiming the dead replica's shard", func() bool {
		spare = holder(1)
		return spare >= 0 && spare != victim
	})
	took := time.Since(killed)
	ask(2)
	check(2, func(shard int) []int {
		if shard == 0 {
			return []int{first[0]}
		}
		return []int{spare, first[0]}
	})
	t.Logf("shards 0 and 1 claimed by %s and %s; %s killed, %s received shard 1 %v later (store.lease_ttl 2s)",
		names[first[0]], names[first[1]], names[victim], names[spare], took.Round(10*time.Millisecond))
}
