package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
	"github.com/chorusbot/chorus/prompts"
	"github.com/go-telegram/bot/models"
)

const (
	botID    = 9000
	botName  = "chorus_bot"
	userID   = 42
	groupID  = -1001234
	waitLong = 15 * time.Second
)

// events records adapter events.
type events struct {
	mu    sync.Mutex
	list  []bot.Event
	votes []bot.Event
}

func (e *events) Observe(ev bot.Event) {
	if ev.Kind == bot.EventFeedback {
		e.mu.Lock()
		e.votes = append(e.votes, ev)
		e.mu.Unlock()
		return
	}
	if ev.Kind != bot.EventAdapter {
		return
	}
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *events) outcomes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		out = append(out, string(ev.State)+"/"+ev.Category)
	}
	return out
}

type harness struct {
	t      testing.TB
	fake   *telegramtest.Server
	eng    *bot.Engine
	ad     *Adapter
	llm    *bottest.LLM
	store  *bottest.MemStore
	events *events
	msgID  int
}

// start runs a fake Bot API, an engine and the adapter over them; cfg
// changes the adapter's config.
func start(t testing.TB, llm *bottest.LLM, cfg func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, fake: telegramtest.NewServer(botID, botName), llm: llm, store: bottest.NewMemStore(), events: &events{}, msgID: 500}
	t.Cleanup(h.fake.Close)
	// The test group is a home chat, so its administrators manage it.
	eng, err := bot.New(bot.Config{Workers: 4, Roles: bot.Roles{HomeChats: []string{"telegram:" + strconv.Itoa(groupID)}, Managers: []string{"telegram:7"}}}, h.store, llm, bot.WithPrompts(prompts.Default()), bot.WithObserver(h.events))
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	c := Config{Token: "123:TEST", APIURL: h.fake.URL, PollTimeout: 2 * time.Second, ManagerIDs: []string{"7"}}
	if cfg != nil {
		cfg(&c)
	}
	ad, err := New(c, eng, WithCommands(eng.Commands), WithObserver(h.events), withRetryBase(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h.ad = ad
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
		case <-time.After(waitLong):
			t.Error("Run did not return after cancel")
		}
		eng.Close()
	})
	if !h.fake.WaitFor(waitLong, ad.Ready) {
		t.Fatal("adapter never connected")
	}
	return h
}

// push sends a text message from user in chat and returns its id.
func (h *harness) push(chat models.Chat, from models.User, text string, edit func(*models.Message)) int {
	h.msgID++
	m := telegramtest.Text(chat, from, h.msgID, text)
	if edit != nil {
		edit(m)
	}
	h.fake.Push(telegramtest.MessageUpdate(m))
	return h.msgID
}

// waitMessages waits until chat has n bot messages whose texts satisfy
// done (nil: any), and returns them.
func (h *harness) waitMessages(chat int64, n int, done func([]telegramtest.Sent) bool) []telegramtest.Sent {
	h.t.Helper()
	var got []telegramtest.Sent
	ok := h.fake.WaitFor(waitLong, func() bool {
		got = h.fake.Messages(chat)
		return len(got) >= n && (done == nil || done(got))
	})
	if !ok {
		h.t.Fatalf("chat %d: want %d messages, have %+v", chat, n, got)
	}
	return got
}

// idle waits until the engine has handled everything queued.
func (h *harness) idle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := h.eng.WaitIdle(ctx); err != nil {
		h.t.Fatal(err)
	}
}

func fixed(text string) func(bot.Request) (string, error) {
	return func(bot.Request) (string, error) { return text, nil }
}

func TestPrivateConversationStreams(t *testing.T) {
	reply := "Our **espresso** costs $3 & the *latte* $4.\n\n- free wifi\n- open <9am>\n\nSee [menu](https://example.com/menu)."
	llm := &bottest.LLM{Reply: fixed(reply), Chunk: 6, Delay: 60 * time.Millisecond}
	h := start(t, llm, nil)
	chat := telegramtest.PrivateChat(userID)
	id := h.push(chat, telegramtest.User(userID, "Ann", "en"), "how much is coffee?", nil)

	want := FormatHTML(reply)
	msgs := h.waitMessages(userID, 1, func(s []telegramtest.Sent) bool { return s[0].Text == want })
	if len(msgs) != 1 {
		t.Fatalf("want one growing message, got %d", len(msgs))
	}
	m := msgs[0]
	if m.ReplyTo != id || m.ParseMode != "HTML" {
		t.Errorf("reply_to=%d parse_mode=%q, want %d HTML", m.ReplyTo, m.ParseMode, id)
	}
	if m.Edits < 1 {
		t.Errorf("want the reply to grow by edits, got %d edits", m.Edits)
	}
	if len(h.fake.Calls(telegramtest.MethodSendChatAction)) == 0 {
		t.Error("no typing action sent")
	}
	if q := h.llm.Requests()[0].Query; q != "how much is coffee?" {
		t.Errorf("query = %q", q)
	}
	h.idle()
	turns := h.store.TurnsOf("telegram/42")
	if len(turns) != 2 || turns[1].Text != reply {
		t.Errorf("stored turns = %+v", turns)
	}
}

func TestGroupAnswersOnlyWhenAddressed(t *testing.T) {
	llm := &bottest.LLM{Reply: func(r bot.Request) (string, error) { return "answer to " + r.Query, nil }}
	h := start(t, llm, nil)
	if err := h.eng.Register(bot.CommandSpec{Name: "secret", Role: bot.RoleManager, Help: map[string]string{"en": "managers only"},
		Run: func(ctx context.Context, env *bot.Env, _ *bot.Command) error { return env.Reply(ctx, "granted") }}); err != nil {
		t.Fatal(err)
	}
	h.fake.SetAdmins(groupID, 1, 77)
	group := telegramtest.GroupChat(groupID, false)
	ann := telegramtest.User(userID, "Ann", "en")

	h.push(group, ann, "just chatting among ourselves", nil)
	h.push(group, ann, "/help@otherbot", nil)
	h.push(group, ann, "@"+botName+" when do you open?", nil)
	h.waitMessages(groupID, 1, nil)
	h.idle()
	msgs := h.fake.Messages(groupID)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "answer to when do you open?") {
		t.Fatalf("want one answer to the mention (mention stripped), got %+v", msgs)
	}

	// A reply to the bot's message is addressed to it.
	h.push(group, ann, "and on sundays?", func(m *models.Message) {
		m.ReplyToMessage = &models.Message{ID: msgs[0].MessageID, From: &models.User{ID: botID, IsBot: true}, Chat: group}
	})
	h.waitMessages(groupID, 2, nil)

	// /help@us is ours.
	h.push(group, ann, "/help@"+botName, nil)
	msgs = h.waitMessages(groupID, 3, nil)
	if !strings.Contains(msgs[2].Text, "/ask") {
		t.Errorf("help text = %q", msgs[2].Text)
	}

	// Chat administrators are managers; other members are not.
	h.push(group, telegramtest.User(77, "Admin", "en"), "/secret", nil)
	msgs = h.waitMessages(groupID, 4, nil)
	if msgs[3].Text != "granted" {
		t.Errorf("admin got %q", msgs[3].Text)
	}
	h.push(group, ann, "/secret", nil)
	msgs = h.waitMessages(groupID, 5, nil)
	if msgs[4].Text == "granted" {
		t.Error("a member ran a manager command")
	}
	// The administrator list was fetched once and cached.
	if n := len(h.fake.Calls(telegramtest.MethodGetChatAdministrators)); n != 1 {
		t.Errorf("getChatAdministrators called %d times, want 1", n)
	}
	h.idle()
	if n := len(h.fake.Messages(groupID)); n != 5 {
		t.Errorf("group has %d bot messages, want 5", n)
	}
	if !slices.Contains(h.events.outcomes(), string(bot.AdapterSkipped)+"/"+SkipOtherBot) {
		t.Errorf("no skip event for /help@otherbot: %v", h.events.outcomes())
	}
}

func TestRateLimitedEditStillDelivers(t *testing.T) {
	reply := strings.Repeat("The final words matter. ", 10)
	h := start(t, &bottest.LLM{Reply: fixed(reply), Chunk: 10}, nil)
	h.fake.Fail(telegramtest.MethodEditMessageText, 1, http.StatusTooManyRequests, "Too Many Requests: retry after 1", 1)
	h.push(telegramtest.PrivateChat(userID), telegramtest.User(userID, "Ann", "en"), "talk", nil)
	want := FormatHTML(reply)
	h.waitMessages(userID, 1, func(s []telegramtest.Sent) bool { return s[0].Text == strings.TrimSpace(want) })
	if n := len(h.fake.Calls(telegramtest.MethodEditMessageText)); n < 2 {
		t.Errorf("want the 429'd edit retried, saw %d edit calls", n)
	}
	// The text methods a reply streams through go as JSON bodies (the
	// library would send multipart forms).
	for _, c := range h.fake.Calls(telegramtest.MethodSendMessage, telegramtest.MethodEditMessageText) {
		if c.ContentType != "application/json" {
			t.Errorf("%s sent as %q, want application/json", c.Method, c.ContentType)
		}
	}
}

// replyInTwo has the model answer question with reply and returns the
// messages the fake received, failing unless there are two that rebuild it.
func replyInTwo(t *testing.T, reply, question string) []telegramtest.Sent {
	t.Helper()
	h := start(t, &bottest.LLM{Reply: fixed(reply), Chunk: 500}, nil)
	h.push(telegramtest.PrivateChat(userID), telegramtest.User(userID, "Ann", "en"), question, nil)
	h.fake.WaitFor(waitLong, func() bool {
		msgs := h.fake.Messages(userID)
		return len(msgs) == 2 && strings.TrimSpace(msgs[0].Text)+"\n\n"+strings.TrimSpace(msgs[1].Text) == reply
	})
	h.idle()
	msgs := h.fake.Messages(userID)
	if len(msgs) != 2 {
		t.Fatalf("want 2 messages, got %d", len(msgs))
	}
	return msgs
}

func TestLongReplySplits(t *testing.T) {
	var paras []string
	for i := 0; len(strings.Join(paras, "\n\n")) < 6000; i++ {
		paras = append(paras, fmt.Sprintf("Paragraph %d. ", i)+strings.TrimSpace(strings.Repeat("Coffee is brewed with care. ", 8)))
	}
	reply := strings.Join(paras, "\n\n")
	msgs := replyInTwo(t, reply, "tell me everything")
	if got := msgs[0].Text + "\n\n" + msgs[1].Text; got != reply {
		t.Fatalf("pieces don't rebuild the reply on a paragraph boundary:\n%q\n%q", msgs[0].Text[len(msgs[0].Text)-40:], msgs[1].Text[:40])
	}
	for _, m := range msgs {
		if n := len([]rune(m.Text)); n > 4096 {
			t.Errorf("message of %d characters", n)
		}
	}
	if msgs[1].ReplyTo != 0 {
		t.Errorf("second piece replies to %d, want only the first to reply", msgs[1].ReplyTo)
	}
}

func TestWebhook(t *testing.T) {
	llm := &bottest.LLM{Reply: fixed("pong")}
	h := start(t, llm, func(c *Config) {
		c.Mode = ModeWebhook
		c.Webhook = Webhook{Listen: "127.0.0.1:0", PublicURL: "https://bot.example.invalid/tg/hook", Secret: "s3cret"}
	})
	var addr string
	h.fake.WaitFor(waitLong, func() bool { addr = h.ad.WebhookAddr(); return addr != "" })
	if !h.fake.WaitFor(waitLong, func() bool { return len(h.fake.Calls(telegramtest.MethodSetWebhook)) > 0 }) {
		t.Fatal("setWebhook never called")
	}
	sw := h.fake.Calls(telegramtest.MethodSetWebhook)[0]
	if sw.Params["url"] != "https://bot.example.invalid/tg/hook" || sw.Params["secret_token"] != "s3cret" {
		t.Errorf("setWebhook params = %v", sw.Params)
	}
	post := func(secret, body string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/tg/hook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set(secretHeader, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	upd := func(id int, text string) string {
		u := telegramtest.MessageUpdate(telegramtest.Text(telegramtest.PrivateChat(userID), telegramtest.User(userID, "Ann", "en"), id, text))
		u.ID = int64(id)
		b, _ := json.Marshal(u)
		return string(b)
	}
	if code := post("wrong", upd(1, "intruder")); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: status %d, want 401", code)
	}
	if code := post("", upd(2, "no secret")); code != http.StatusUnauthorized {
		t.Errorf("no secret: status %d, want 401", code)
	}
	if code := post("s3cret", `{"update_id": 3, "message": {`); code != http.StatusBadRequest {
		t.Errorf("malformed body: status %d, want 400", code)
	}
	if code := post("s3cret", upd(4, "ping")); code != http.StatusOK {
		t.Errorf("good request: status %d, want 200", code)
	}
	msgs := h.waitMessages(userID, 1, func(s []telegramtest.Sent) bool { return s[0].Text == "pong" })
	h.idle()
	if len(msgs) != 1 || len(llm.Requests()) != 1 || llm.Requests()[0].Query != "ping" {
		t.Errorf("only the authenticated update must be processed: %d messages, requests %+v", len(msgs), llm.Requests())
	}
	if len(h.fake.Calls(telegramtest.MethodGetUpdates)) != 0 {
		t.Error("webhook mode polled getUpdates")
	}
}

func TestModerationActions(t *testing.T) {
	h := start(t, &bottest.LLM{}, nil)
	ctx := context.Background()
	chat := bot.Chat{ID: strconv.Itoa(groupID), Kind: bot.ChatGroup}
	until := time.Unix(1893456000, 0)
	if err := h.ad.Restrict(ctx, chat, "42", until); err != nil {
		t.Fatal(err)
	}
	if err := h.ad.Delete(ctx, chat, "321"); err != nil {
		t.Fatal(err)
	}
	if err := h.ad.Ban(ctx, chat, "43"); err != nil {
		t.Fatal(err)
	}
	r := h.fake.Calls(telegramtest.MethodRestrictChatMember)
	if len(r) != 1 {
		t.Fatalf("restrict calls: %d", len(r))
	}
	p := r[0].Params
	if p["chat_id"] != strconv.Itoa(groupID) || p["user_id"] != "42" || p["until_date"] != "1893456000" {
		t.Errorf("restrict params = %v", p)
	}
	var perms map[string]bool
	if err := json.Unmarshal([]byte(p["permissions"]), &perms); err != nil {
		t.Fatalf("permissions %q: %v", p["permissions"], err)
	}
	for k, v := range perms {
		if v {
			t.Errorf("permission %s left on", k)
		}
	}
	d := h.fake.Calls(telegramtest.MethodDeleteMessage)
	if len(d) != 1 || d[0].Params["chat_id"] != strconv.Itoa(groupID) || d[0].Params["message_id"] != "321" {
		t.Errorf("delete calls = %+v", d)
	}
	b := h.fake.Calls(telegramtest.MethodBanChatMember)
	if len(b) != 1 || b[0].Params["user_id"] != "43" {
		t.Errorf("ban calls = %+v", b)
	}
	if err := h.ad.Ban(ctx, bot.Chat{ID: "42", Kind: bot.ChatDM}, "42"); err == nil {
		t.Error("ban in a private chat should be unsupported")
	}
}

func TestForumTopicAndEdits(t *testing.T) {
	llm := &bottest.LLM{Reply: func(r bot.Request) (string, error) { return "re: " + r.Query, nil }}
	h := start(t, llm, nil)
	forum := telegramtest.GroupChat(groupID, true)
	ann := telegramtest.User(userID, "Ann", "en")
	topic := func(m *models.Message) { m.IsTopicMessage, m.MessageThreadID = true, 7 }
	h.push(forum, ann, "@"+botName+" in the topic", topic)
	msgs := h.waitMessages(groupID, 1, nil)
	if msgs[0].ThreadID != 7 {
		t.Errorf("reply thread = %d, want 7", msgs[0].ThreadID)
	}
	h.idle()
	conv := bot.ConversationKey(PlatformName, strconv.Itoa(groupID), "7")
	if turns := h.store.TurnsOf(conv); len(turns) != 2 {
		t.Fatalf("conversation %s has %d turns, want 2", conv, len(turns))
	}

	// An edit updates the stored message and is not answered again.
	dm := telegramtest.PrivateChat(userID)
	first := h.push(dm, ann, "first version", nil)
	h.waitMessages(userID, 1, nil)
	h.idle()
	m := telegramtest.Text(dm, ann, first, "second version")
	h.fake.Push(telegramtest.EditedUpdate(m))
	h.push(dm, ann, "next", nil)
	h.waitMessages(userID, 2, nil)
	h.idle()
	turns := h.store.TurnsOf("telegram/42")
	if len(turns) != 4 || turns[0].Text != "second version" {
		t.Errorf("after the edit: %+v", turns)
	}
	if n := len(h.fake.Messages(userID)); n != 2 {
		t.Errorf("the edit was answered: %d replies", n)
	}
}

func TestMediaWithoutTextSkipped(t *testing.T) {
	h := start(t, &bottest.LLM{Reply: func(r bot.Request) (string, error) { return "nice: " + r.Query, nil }}, nil)
	dm := telegramtest.PrivateChat(userID)
	ann := telegramtest.User(userID, "Ann", "en")
	h.push(dm, ann, "", func(m *models.Message) { m.Photo = []models.PhotoSize{{FileID: "p1"}} })
	h.push(dm, ann, "", func(m *models.Message) { m.Sticker = &models.Sticker{FileID: "s1"} })
	h.push(dm, ann, "", func(m *models.Message) { m.Photo = []models.PhotoSize{{FileID: "p2"}}; m.Caption = "my latte art" })
	h.waitMessages(userID, 1, nil)
	h.idle()
	if msgs := h.fake.Messages(userID); len(msgs) != 1 || msgs[0].Text != "nice: my latte art" {
		t.Errorf("replies = %+v", h.fake.Messages(userID))
	}
	n := 0
	for _, o := range h.events.outcomes() {
		if o == string(bot.AdapterSkipped)+"/"+SkipNoText {
			n++
		}
	}
	if n != 2 {
		t.Errorf("skipped events = %v, want 2 no_text", h.events.outcomes())
	}
}

func TestChannelPosts(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			h := start(t, &bottest.LLM{}, func(c *Config) { c.ChannelPosts = on })
			got := make(chan bot.Message, 1)
			h.ad.h = bot.HandlerFunc(func(_ context.Context, m bot.Message) error { got <- m; return nil })
			post := &models.Message{ID: 5, Chat: models.Chat{ID: -100777, Type: models.ChatTypeChannel, Title: "News"},
				SenderChat: &models.Chat{ID: -100777, Title: "News"}, Text: "launch today", Date: 1}
			if err := h.ad.handleUpdate(context.Background(), &models.Update{ID: 1, ChannelPost: post}); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-got:
				if !on || m.Chat.Kind != bot.ChatChannel || m.Text != "launch today" {
					t.Errorf("channel post handled = %+v (on=%v)", m, on)
				}
			default:
				if on {
					t.Error("channel post not handled")
				}
			}
		})
	}
}

func TestCommandsRegisteredWithScopes(t *testing.T) {
	h := start(t, &bottest.LLM{}, func(c *Config) { c.HomeChatIDs = []string{strconv.Itoa(groupID)} })
	if !h.fake.WaitFor(waitLong, func() bool { return len(h.fake.Calls(telegramtest.MethodGetUpdates)) > 0 }) {
		t.Fatal("never polled")
	}
	scopes := map[string][]string{}
	for _, c := range h.fake.Calls(telegramtest.MethodSetMyCommands) {
		var scope struct {
			Type   string          `json:"type"`
			ChatID json.RawMessage `json:"chat_id"`
		}
		if err := json.Unmarshal([]byte(c.Params["scope"]), &scope); err != nil {
			t.Fatalf("scope %q: %v", c.Params["scope"], err)
		}
		var cmds []models.BotCommand
		if err := json.Unmarshal([]byte(c.Params["commands"]), &cmds); err != nil {
			t.Fatalf("commands %q: %v", c.Params["commands"], err)
		}
		for _, cmd := range cmds {
			if !validCommand(cmd.Command) || cmd.Description == "" {
				t.Errorf("bad command %+v", cmd)
			}
			if c.Params["language_code"] == "" {
				key := scope.Type
				if scope.Type == "chat_administrators" {
					key += ":" + strings.Trim(string(scope.ChatID), `"`)
				}
				scopes[key] = append(scopes[key], cmd.Command)
			}
		}
	}
	// Managers' commands for the administrators of the home chat only,
	// never for every chat's administrators.
	home := "chat_administrators:" + strconv.Itoa(groupID)
	if !slices.Contains(scopes["default"], "help") || !slices.Contains(scopes[home], "help") {
		t.Errorf("scopes = %v", scopes)
	}
	if _, ok := scopes["all_chat_administrators"]; ok {
		t.Errorf("manager commands offered to the administrators of every chat: %v", scopes)
	}
	if !slices.Contains(scopes["chat"], "help") {
		t.Errorf("configured manager's private chat scope missing: %v", scopes)
	}
}

func TestOutagesAreRetried(t *testing.T) {
	h := start(t, &bottest.LLM{Reply: fixed("still here")}, nil)
	h.fake.Fail(telegramtest.MethodGetUpdates, 2, http.StatusBadGateway, "Bad Gateway", 0)
	h.fake.Fail(telegramtest.MethodSendMessage, 2, http.StatusInternalServerError, "Internal Server Error", 0)
	h.push(telegramtest.PrivateChat(userID), telegramtest.User(userID, "Ann", "en"), "are you there?", nil)
	h.waitMessages(userID, 1, func(s []telegramtest.Sent) bool { return s[0].Text == "still here" })
	oc := h.events.outcomes()
	if !slices.Contains(oc, string(bot.AdapterDisconnected)+"/") || !slices.Contains(oc, string(bot.AdapterReconnect)+"/") {
		t.Errorf("connection events = %v", oc)
	}
	// The fake shows the message before the adapter has read the answer
	// to its send, which is what marks it connected again: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for !h.ad.Ready() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !h.ad.Ready() {
		t.Error("not connected after recovery")
	}
}

func TestUnparseableHTMLFallsBackToPlain(t *testing.T) {
	h := start(t, &bottest.LLM{Reply: fixed("**bold** claim"), Chunk: 100}, nil)
	h.fake.Fail(telegramtest.MethodSendMessage, 1, http.StatusBadRequest, "Bad Request: can't parse entities: unsupported start tag", 0)
	h.push(telegramtest.PrivateChat(userID), telegramtest.User(userID, "Ann", "en"), "hi", nil)
	h.waitMessages(userID, 1, nil)
	h.idle()
	sends := h.fake.Calls(telegramtest.MethodSendMessage)
	if len(sends) != 2 || sends[0].Params["parse_mode"] != "HTML" || sends[1].Params["parse_mode"] != "" || sends[1].Params["text"] != "**bold** claim" {
		t.Errorf("want an HTML send refused, then the same text plain; got %+v", sends)
	}
	if msgs := h.fake.Messages(userID); len(msgs) != 1 || plainText(msgs[0].Text) != "bold claim" && msgs[0].Text != "**bold** claim" {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestRateLimitErrorType(t *testing.T) {
	h := start(t, &bottest.LLM{}, nil)
	h.fake.Fail(telegramtest.MethodSendMessage, 1, http.StatusTooManyRequests, "Too Many Requests: retry after 3", 3)
	_, err := h.ad.Send(context.Background(), bot.Out{Chat: bot.Chat{ID: "42", Kind: bot.ChatDM}, Text: "x"})
	var rl *bot.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Fatalf("err = %v, want RateLimitError of 3s", err)
	}
}

func TestAttachments(t *testing.T) {
	h := start(t, &bottest.LLM{}, nil)
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...)
	chat := bot.Chat{ID: "42", Kind: bot.ChatDM}
	if _, err := h.ad.Send(context.Background(), bot.Out{Chat: chat, Text: "**chart**", Attachments: []bot.Attachment{{Name: "c.png", MIME: "image/png", Data: png}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ad.Send(context.Background(), bot.Out{Chat: chat, Text: "your data", Attachments: []bot.Attachment{{Name: "export.json", MIME: "application/json", Data: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	ph := h.fake.Calls(telegramtest.MethodSendPhoto)
	doc := h.fake.Calls(telegramtest.MethodSendDocument)
	if len(ph) != 1 || string(ph[0].Files["photo"]) != string(png) || ph[0].Params["caption"] != "<b>chart</b>" {
		t.Errorf("sendPhoto = %+v", ph)
	}
	if len(doc) != 1 || doc[0].FileNames["document"] != "export.json" || doc[0].Params["caption"] != "your data" {
		t.Errorf("sendDocument = %+v", doc)
	}
}

func TestConvertSurvivesMalformedUpdates(t *testing.T) {
	h := start(t, &bottest.LLM{}, nil)
	h.ad.h = bot.HandlerFunc(func(context.Context, bot.Message) error { panic("boom") })
	bad := &models.Update{ID: 1, Message: &models.Message{ID: 1, Chat: models.Chat{ID: 1, Type: models.ChatTypePrivate}, Text: "@x",
		Entities: []models.MessageEntity{{Type: models.MessageEntityTypeMention, Offset: 40, Length: -3}}}}
	if err := h.ad.handleUpdate(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(h.events.outcomes(), string(bot.AdapterBadUpdate)+"/") {
		t.Errorf("panic not counted: %v", h.events.outcomes())
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{Token: "1:a"}, true},
		{"no token", Config{}, false},
		{"bad mode", Config{Token: "1:a", Mode: "push"}, false},
		{"webhook without secret", Config{Token: "1:a", Mode: ModeWebhook, Webhook: Webhook{Listen: ":8443"}}, false},
		{"webhook", Config{Token: "1:a", Mode: ModeWebhook, Webhook: Webhook{Listen: ":8443", PublicURL: "https://bot.example/tg", Secret: "s"}}, true},
		{"bad manager", Config{Token: "1:a", ManagerIDs: []string{"ann"}}, false},
		{"bad api url", Config{Token: "1:a", APIURL: "api.telegram.org"}, false},
	}
	noop := bot.HandlerFunc(func(context.Context, bot.Message) error { return nil })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, noop); (err == nil) != tt.ok {
				t.Errorf("New() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	// Without a token the section is valid: the adapter is off.
	if err := (Config{}).Validate(); err != nil || (Config{}).Enabled() {
		t.Errorf("empty section: Validate() = %v, Enabled() = %v", err, (Config{}).Enabled())
	}
}

func TestRunRetriesGetMeAndRejectsBadToken(t *testing.T) {
	fake := telegramtest.NewServer(botID, botName)
	defer fake.Close()
	noop := bot.HandlerFunc(func(context.Context, bot.Message) error { return nil })
	fast := bot.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}

	fake.Fail(telegramtest.MethodGetMe, 2, http.StatusBadGateway, "Bad Gateway", 0)
	ad, err := New(Config{Token: "1:a", APIURL: fake.URL, PollTimeout: 2 * time.Second}, noop, withRetryBase(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if ad.Ready() {
		t.Fatal("ready before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bot.RunAdapter(ctx, ad, nil, fast) }()
	if !fake.WaitFor(waitLong, ad.Ready) {
		t.Fatal("never connected after getMe failures")
	}
	if n := len(fake.Calls(telegramtest.MethodGetMe)); n != 3 {
		t.Errorf("getMe called %d times, want 3", n)
	}
	if ad.BotUsername() != botName {
		t.Errorf("username = %q", ad.BotUsername())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunAdapter after cancel = %v, want nil", err)
	}

	fake.Fail(telegramtest.MethodGetMe, 1, http.StatusUnauthorized, "Unauthorized", 0)
	ad, err = New(Config{Token: "1:a", APIURL: fake.URL, PollTimeout: 2 * time.Second}, noop, withRetryBase(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := bot.RunAdapter(context.Background(), ad, nil, fast); !errors.Is(err, bot.ErrFatal) || !strings.Contains(err.Error(), "token rejected") {
		t.Errorf("RunAdapter with a rejected token = %v", err)
	}
}

// Telegram counts a message's length in UTF-16 code units: an emoji counts
// twice. A reply of 3,000 characters, half of them emoji, is 4,500 code
// units: too long for one message although it has fewer than 4,096
// characters.
func TestEmojiReplySplitsByUTF16(t *testing.T) {
	var paras []string
	for i := 0; len([]rune(strings.Join(paras, "\n\n"))) < 3000; i++ {
		paras = append(paras, fmt.Sprintf("Paragraph %d ", i)+strings.Repeat("🎉🙂 ", 30)+"done.")
	}
	reply := strings.Join(paras, "\n\n")
	if n, u := len([]rune(reply)), telegramtest.UTF16Len(reply); n >= 4096 || u <= 4096 {
		t.Fatalf("the reply has %d characters and %d UTF-16 units; the test needs < 4096 and > 4096", n, u)
	}
	msgs := replyInTwo(t, reply, "celebrate")
	for _, m := range msgs {
		if u := telegramtest.UTF16Len(telegramtest.VisibleText(m.Text)); u > telegramtest.MaxTextLen {
			t.Errorf("message of %d UTF-16 code units", u)
		}
	}
	if got := msgs[0].Text + "\n\n" + msgs[1].Text; got != reply {
		t.Errorf("pieces don't rebuild the reply on a paragraph boundary")
	}
}

func TestMemberCount(t *testing.T) {
	h := start(t, &bottest.LLM{}, nil)
	h.fake.SetMemberCount(groupID, 1234)
	n, err := h.ad.MemberCount(context.Background(), bot.Chat{ID: strconv.Itoa(groupID), Kind: bot.ChatGroup})
	if err != nil || n != 1234 {
		t.Fatalf("MemberCount = %d, %v; want 1234", n, err)
	}
	if calls := h.fake.Calls(telegramtest.MethodGetChatMemberCount); len(calls) != 1 || calls[0].Params["chat_id"] != strconv.Itoa(groupID) {
		t.Fatalf("calls = %+v", calls)
	}
	if _, err := h.ad.MemberCount(context.Background(), bot.Chat{ID: "-100999", Kind: bot.ChatChannel}); err == nil || !strings.Contains(err.Error(), "chat not found") {
		t.Fatalf("unknown chat: err = %v", err)
	}
}
