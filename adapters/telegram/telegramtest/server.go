// Package telegramtest is a fake Telegram Bot API server for tests and load
// runs. It speaks the real wire format (multipart/form-data, urlencoded or
// JSON requests; {"ok":...} JSON answers), keeps a queue of updates served
// by getUpdates with real long-poll semantics, remembers the messages the
// bot sent and edited, records every call, and can be told to fail a method
// (429 with retry_after, 5xx, "can't parse entities") for its next calls.
//
// It binds to 127.0.0.1 only.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"
)

// Method names the fake answers.
const (
	MethodGetMe                 = "getMe"
	MethodGetUpdates            = "getUpdates"
	MethodSetMyCommands         = "setMyCommands"
	MethodSendMessage           = "sendMessage"
	MethodEditMessageText       = "editMessageText"
	MethodSendChatAction        = "sendChatAction"
	MethodDeleteMessage         = "deleteMessage"
	MethodRestrictChatMember    = "restrictChatMember"
	MethodBanChatMember         = "banChatMember"
	MethodGetChatAdministrators = "getChatAdministrators"
	MethodGetChatMemberCount    = "getChatMemberCount"
	MethodSendPhoto             = "sendPhoto"
	MethodSendDocument          = "sendDocument"
	MethodSetWebhook            = "setWebhook"
	MethodDeleteWebhook         = "deleteWebhook"
	MethodAnswerCallbackQuery   = "answerCallbackQuery"
)

// Call is one recorded API request.
type Call struct {
	Method string
	// Params are the form fields (or JSON fields, objects re-encoded as
	// JSON text), as Telegram would read them.
	Params map[string]string
	// Files are uploaded files by field name.
	Files map[string][]byte
	// FileNames are the uploaded files' names by field name.
	FileNames map[string]string
	// ContentType is the request body's media type
	// ("application/json", "multipart/form-data", ...; "" without one).
	ContentType string
	At          time.Time
}

// Sent is a message the bot sent, with its current text.
type Sent struct {
	ChatID    int64
	MessageID int
	ThreadID  int
	ReplyTo   int
	Text      string
	ParseMode string
	// Kind is "text", "photo" or "document".
	Kind  string
	Edits int
	// Buttons are the inline keyboard under the message (reply_markup), row
	// by row.
	Buttons [][]Button
}

// Button is one inline keyboard button.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// query is a callback query the fake delivered, and how it was answered.
type query struct {
	answered bool
	text     string
}

type failure struct {
	code       int
	desc       string
	retryAfter int
	left       int
}

// Server is the fake Bot API. Create it with NewServer; Close it when done.
type Server struct {
	// URL is the base URL to give the client (WithServerURL).
	URL string
	// BotID and BotUsername are what getMe answers.
	BotID       int64
	BotUsername string

	srv *httptest.Server

	mu       sync.Mutex
	updates  []models.Update
	nextUpd  int64
	arrived  chan struct{} // closed and replaced when an update arrives
	changed  chan struct{} // closed and replaced on every call
	calls    []Call
	sent     []*Sent
	byKey    map[[2]int64]*Sent
	nextMsg  map[int64]int
	admins   map[int64][]int64
	members  map[int64]int
	failures map[string][]*failure
	confirm  int64 // highest update id confirmed by an offset
	queries  map[string]*query
	nextQ    int
}

// NewServer starts a fake Bot API for a bot with the given id and username.
func NewServer(botID int64, username string) *Server {
	s := &Server{
		BotID: botID, BotUsername: username,
		arrived: make(chan struct{}), changed: make(chan struct{}),
		byKey: map[[2]int64]*Sent{}, nextMsg: map[int64]int{},
		admins: map[int64][]int64{}, members: map[int64]int{}, failures: map[string][]*failure{}, queries: map[string]*query{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server, ending pending long polls.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Push queues an update, assigning its update_id, and wakes long polls. It
// returns the id.
func (s *Server) Push(u models.Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpd++
	u.ID = s.nextUpd
	s.updates = append(s.updates, u)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return u.ID
}

// Pending is the number of updates not yet confirmed by an offset.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Press presses the inline button carrying data under the bot's message
// messageID in chat, as user from: the bot gets a callback_query update
// (with the message it pressed on, as Telegram sends it) and must answer it
// with answerCallbackQuery. It returns the query's id, or an error when
// the message has no such button.
func (s *Server) Press(chat models.Chat, messageID int, from models.User, data string) (string, error) {
	s.mu.Lock()
	m := s.byKey[[2]int64{chat.ID, int64(messageID)}]
	var found bool
	if m != nil {
		for _, row := range m.Buttons {
			for _, b := range row {
				found = found || b.CallbackData == data
			}
		}
	}
	if !found {
		s.mu.Unlock()
		return "", fmt.Errorf("telegramtest: message %d in chat %d has no button with data %q", messageID, chat.ID, data)
	}
	s.nextQ++
	id := fmt.Sprintf("%d%06d", s.BotID, s.nextQ)
	s.queries[id] = &query{}
	msg := s.model(m)
	msg.Chat = chat
	msg.ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: keyboard(m.Buttons)}
	s.mu.Unlock()
	s.Push(models.Update{CallbackQuery: &models.CallbackQuery{ID: id, From: from, ChatInstance: fmt.Sprint(chat.ID), Data: data,
		Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &msg}}})
	return id, nil
}

func keyboard(rows [][]Button) [][]models.InlineKeyboardButton {
	var out [][]models.InlineKeyboardButton
	for _, row := range rows {
		var r []models.InlineKeyboardButton
		for _, b := range row {
			r = append(r, models.InlineKeyboardButton{Text: b.Text, CallbackData: b.CallbackData, URL: b.URL})
		}
		out = append(out, r)
	}
	return out
}

// Answer reports whether the bot answered the callback query id, and the
// notification text it gave.
func (s *Server) Answer(id string) (answered bool, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queries[id]
	if q == nil {
		return false, ""
	}
	return q.answered, q.text
}

// SetAdmins sets the administrators getChatAdministrators reports for a chat;
// the first is the creator.
func (s *Server) SetAdmins(chatID int64, userIDs ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admins[chatID] = slices.Clone(userIDs)
}

// SetMemberCount sets what getChatMemberCount answers for a chat; a chat
// never set is "Bad Request: chat not found", as for a chat the bot is
// not in.
func (s *Server) SetMemberCount(chatID int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[chatID] = n
}

// Fail makes the next n calls of method fail with the HTTP-style error code
// and description; retryAfter > 0 adds parameters.retry_after (for 429).
func (s *Server) Fail(method string, n, code int, description string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], &failure{code: code, desc: description, retryAfter: retryAfter, left: n})
}

// Calls returns the recorded calls, only of the methods named if any.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns copies of the messages the bot sent to chat, in order.
func (s *Server) Messages(chatID int64) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sent
	for _, m := range s.sent {
		if m.ChatID == chatID {
			out = append(out, *m)
		}
	}
	return out
}

// SentCount is the number of messages the bot sent, in all chats.
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// WaitFor calls cond after every API call until it returns true or timeout
// passes, and reports whether it did. It is a bound on a test, not a
// measurement.
func (s *Server) WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond()
		}
	}
}

// apiResponse is the Bot API envelope.
type apiResponse struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result,omitempty"`
	ErrorCode   int    `json:"error_code,omitempty"`
	Description string `json:"description,omitempty"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after,omitempty"`
	} `json:"parameters,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, r apiResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(r)
}

func writeErr(w http.ResponseWriter, code int, desc string, retryAfter int) {
	r := apiResponse{OK: false, ErrorCode: code, Description: desc}
	if retryAfter > 0 {
		r.Parameters = &struct {
			RetryAfter int `json:"retry_after,omitempty"`
		}{retryAfter}
	}
	writeJSON(w, code, r)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// /bot<token>/<method>
	path := strings.TrimPrefix(r.URL.Path, "/")
	tok, method, ok := strings.Cut(path, "/")
	if !ok || !strings.HasPrefix(tok, "bot") || len(tok) <= len("bot") {
		writeErr(w, http.StatusNotFound, "Not Found", 0)
		return
	}
	call, err := parseCall(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	call.Method = method
	call.At = time.Now()

	s.mu.Lock()
	s.calls = append(s.calls, call)
	f := s.takeFailure(method)
	s.notifyLocked()
	s.mu.Unlock()
	if f != nil {
		writeErr(w, f.code, f.desc, f.retryAfter)
		return
	}
	if method == MethodGetUpdates {
		s.getUpdates(w, r, call)
		return
	}
	s.mu.Lock()
	code, res, desc := s.answer(call)
	s.notifyLocked()
	s.mu.Unlock()
	if code != http.StatusOK {
		writeErr(w, code, desc, 0)
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: res})
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) takeFailure(method string) *failure {
	fs := s.failures[method]
	for len(fs) > 0 && fs[0].left <= 0 {
		fs = fs[1:]
	}
	s.failures[method] = fs
	if len(fs) == 0 {
		return nil
	}
	fs[0].left--
	return fs[0]
}

func parseCall(r *http.Request) (Call, error) {
	c := Call{Params: map[string]string{}, Files: map[string][]byte{}, FileNames: map[string]string{}}
	for k, v := range r.URL.Query() {
		c.Params[k] = v[0]
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return c, err
	}
	if len(body) == 0 {
		return c, nil // a method without parameters (getMe)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	c.ContentType = ct
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return c, fmt.Errorf("multipart: %w", err)
		}
		for k, v := range r.MultipartForm.Value {
			c.Params[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return c, err
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return c, err
			}
			c.Files[k], c.FileNames[k] = data, fhs[0].Filename
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return c, err
		}
		for k, v := range r.PostForm {
			c.Params[k] = v[0]
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return c, fmt.Errorf("json: %w", err)
		}
		for k, raw := range m {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				c.Params[k] = str
			} else {
				c.Params[k] = string(raw)
			}
		}
	}
	return c, nil
}

func (c Call) int64(k string) int64 {
	n, _ := strconv.ParseInt(c.Params[k], 10, 64)
	return n
}

func (c Call) int(k string) int { return int(c.int64(k)) }

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, c Call) {
	offset, limit := c.int64("offset"), c.int("limit")
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout := time.Duration(c.int("timeout")) * time.Second
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if offset > 0 {
			// An offset confirms every update before it.
			i := 0
			for i < len(s.updates) && s.updates[i].ID < offset {
				i++
			}
			s.updates = s.updates[i:]
			s.confirm = max(s.confirm, offset-1)
		}
		out := slices.Clone(s.updates[:min(limit, len(s.updates))])
		wait := s.arrived
		s.mu.Unlock()
		if len(out) > 0 || timeout <= 0 {
			if out == nil {
				out = []models.Update{}
			}
			writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: out})
			return
		}
		select {
		case <-wait:
		case <-deadline.C:
			timeout = 0
		case <-r.Context().Done():
			return
		}
	}
}

// answer handles every method but getUpdates; s.mu is held.
func (s *Server) answer(c Call) (int, any, string) {
	switch c.Method {
	case MethodGetMe:
		return http.StatusOK, models.User{ID: s.BotID, IsBot: true, FirstName: "Chorus", Username: s.BotUsername}, ""
	case MethodSetMyCommands, MethodSendChatAction, MethodRestrictChatMember, MethodBanChatMember,
		MethodSetWebhook, MethodDeleteWebhook:
		if c.Params["chat_id"] == "" && c.Method != MethodSetMyCommands && c.Method != MethodSetWebhook && c.Method != MethodDeleteWebhook {
			return http.StatusBadRequest, nil, "Bad Request: chat_id is empty"
		}
		return http.StatusOK, true, ""
	case MethodDeleteMessage:
		k := [2]int64{c.int64("chat_id"), c.int64("message_id")}
		if k[1] == 0 {
			return http.StatusBadRequest, nil, "Bad Request: message to delete not found"
		}
		return http.StatusOK, true, ""
	case MethodGetChatAdministrators:
		chat := c.int64("chat_id")
		var out []map[string]any
		for i, id := range s.admins[chat] {
			status := "administrator"
			if i == 0 {
				status = "creator"
			}
			out = append(out, map[string]any{"status": status, "user": models.User{ID: id, FirstName: "admin"}})
		}
		if out == nil {
			out = []map[string]any{}
		}
		return http.StatusOK, out, ""
	case MethodGetChatMemberCount:
		n, ok := s.members[c.int64("chat_id")]
		if !ok {
			return http.StatusBadRequest, nil, "Bad Request: chat not found"
		}
		return http.StatusOK, n, ""
	case MethodSendMessage, MethodSendPhoto, MethodSendDocument:
		return s.send(c)
	case MethodAnswerCallbackQuery:
		q := s.queries[c.Params["callback_query_id"]]
		if q == nil || q.answered {
			return http.StatusBadRequest, nil, "Bad Request: query is too old and response timeout expired or query ID is invalid"
		}
		if len([]rune(c.Params["text"])) > 200 {
			return http.StatusBadRequest, nil, "Bad Request: text is too long"
		}
		q.answered, q.text = true, c.Params["text"]
		return http.StatusOK, true, ""
	case MethodEditMessageText:
		k := [2]int64{c.int64("chat_id"), c.int64("message_id")}
		m := s.byKey[k]
		if m == nil {
			return http.StatusBadRequest, nil, "Bad Request: message to edit not found"
		}
		text := c.Params["text"]
		if err := checkText(text, c.Params["parse_mode"]); err != nil {
			return http.StatusBadRequest, nil, "Bad Request: " + err.Error()
		}
		buttons, err := parseMarkup(c.Params["reply_markup"])
		if err != nil {
			return http.StatusBadRequest, nil, "Bad Request: " + err.Error()
		}
		if text == m.Text && c.Params["parse_mode"] == m.ParseMode && slices.EqualFunc(buttons, m.Buttons, slices.Equal) {
			return http.StatusBadRequest, nil, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
		}
		m.Text, m.ParseMode, m.Buttons = text, c.Params["parse_mode"], buttons
		m.Edits++
		return http.StatusOK, s.model(m), ""
	}
	return http.StatusNotFound, nil, "Not Found: method not found"
}

// MaxTextLen is Telegram's limit on a message's text after entities
// parsing, in UTF-16 code units: an emoji outside the Basic Multilingual
// Plane counts twice.
const MaxTextLen = 4096

func checkText(text, parseMode string) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("message text is empty")
	}
	visible := text
	if parseMode == string(models.ParseModeHTML) {
		if err := CheckHTML(text); err != nil {
			return fmt.Errorf("can't parse entities: %w", err)
		}
		visible = VisibleText(text)
	}
	if n := UTF16Len(visible); n > MaxTextLen {
		return fmt.Errorf("message is too long")
	}
	return nil
}

// UTF16Len is the length of s in UTF-16 code units, as Telegram counts it.
func UTF16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// VisibleText is the text of a Telegram HTML message after entities
// parsing: tags removed, entities unescaped.
func VisibleText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '<' {
			if j := strings.IndexByte(s[i:], '>'); j >= 0 {
				i += j + 1
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return html.UnescapeString(b.String())
}

func (s *Server) send(c Call) (int, any, string) {
	chat := c.int64("chat_id")
	if chat == 0 {
		return http.StatusBadRequest, nil, "Bad Request: chat not found"
	}
	m := &Sent{ChatID: chat, ThreadID: c.int("message_thread_id"), ParseMode: c.Params["parse_mode"]}
	switch c.Method {
	case MethodSendMessage:
		m.Kind, m.Text = "text", c.Params["text"]
		if err := checkText(m.Text, m.ParseMode); err != nil {
			return http.StatusBadRequest, nil, "Bad Request: " + err.Error()
		}
	case MethodSendPhoto, MethodSendDocument:
		field := "photo"
		m.Kind = "photo"
		if c.Method == MethodSendDocument {
			field, m.Kind = "document", "document"
		}
		if len(c.Files[field]) == 0 && c.Params[field] == "" {
			return http.StatusBadRequest, nil, "Bad Request: there is no " + field + " in the request"
		}
		m.Text = c.Params["caption"]
		if m.Text != "" {
			if err := checkText(m.Text, m.ParseMode); err != nil {
				return http.StatusBadRequest, nil, "Bad Request: " + err.Error()
			}
		}
	}
	buttons, err := parseMarkup(c.Params["reply_markup"])
	if err != nil {
		return http.StatusBadRequest, nil, "Bad Request: " + err.Error()
	}
	m.Buttons = buttons
	if rp := c.Params["reply_parameters"]; rp != "" {
		var p models.ReplyParameters
		if err := json.Unmarshal([]byte(rp), &p); err != nil {
			return http.StatusBadRequest, nil, "Bad Request: can't parse reply parameters JSON object"
		}
		m.ReplyTo = p.MessageID
	}
	s.nextMsg[chat]++
	m.MessageID = 100000 + s.nextMsg[chat]
	s.sent = append(s.sent, m)
	s.byKey[[2]int64{chat, int64(m.MessageID)}] = m
	return http.StatusOK, s.model(m), ""
}

// parseMarkup reads an inline keyboard as Telegram checks it: callback
// data of 1 to 64 bytes.
func parseMarkup(raw string) ([][]Button, error) {
	if raw == "" {
		return nil, nil
	}
	var mk struct {
		InlineKeyboard [][]Button `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &mk); err != nil {
		return nil, fmt.Errorf("can't parse reply keyboard markup JSON object")
	}
	for _, row := range mk.InlineKeyboard {
		for _, b := range row {
			if b.URL == "" && (len(b.CallbackData) == 0 || len(b.CallbackData) > 64) {
				return nil, fmt.Errorf("BUTTON_DATA_INVALID")
			}
		}
	}
	return mk.InlineKeyboard, nil
}

func (s *Server) model(m *Sent) models.Message {
	return models.Message{ID: m.MessageID, MessageThreadID: m.ThreadID, Chat: models.Chat{ID: m.ChatID},
		From: &models.User{ID: s.BotID, IsBot: true, Username: s.BotUsername}, Date: int(time.Now().Unix()), Text: m.Text}
}

// CheckHTML reports whether s is text Telegram's HTML parse mode accepts
// as Chorus writes it: only the tags b, i, code, pre and a (with one href
// attribute), balanced and properly nested, nothing inside code or pre, no
// link inside a link, and no raw '<', '>' or '&' outside tags and entities.
func CheckHTML(s string) error {
	var stack []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return fmt.Errorf("unclosed tag at byte %d", i)
			}
			tag := s[i+1 : i+j]
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return fmt.Errorf("unexpected end tag </%s> at byte %d", name, i)
				}
				stack = stack[:len(stack)-1]
			} else {
				name, attr, _ := strings.Cut(tag, " ")
				switch name {
				case "b", "i", "code", "pre":
					if attr != "" {
						return fmt.Errorf("unexpected attribute in <%s>", name)
					}
				case "a":
					v, ok := strings.CutPrefix(attr, `href="`)
					if !ok || !strings.HasSuffix(v, `"`) || strings.ContainsAny(v[:len(v)-1], `"<`) || len(v) < 2 {
						return fmt.Errorf("bad <a> attributes %q", attr)
					}
					if slices.Contains(stack, "a") {
						return fmt.Errorf("nested <a> at byte %d", i)
					}
				default:
					return fmt.Errorf("unsupported tag <%s>", name)
				}
				if n := len(stack); n > 0 && (stack[n-1] == "code" || stack[n-1] == "pre") {
					return fmt.Errorf("tag <%s> inside <%s>", name, stack[n-1])
				}
				stack = append(stack, name)
			}
			i += j + 1
		case '&':
			ok := false
			for _, e := range []string{"&amp;", "&lt;", "&gt;", "&quot;"} {
				if strings.HasPrefix(s[i:], e) {
					ok = true
					i += len(e)
					break
				}
			}
			if !ok {
				return fmt.Errorf("raw '&' at byte %d", i)
			}
		case '>':
			return fmt.Errorf("raw '>' at byte %d", i)
		default:
			i++
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed <%s>", stack[len(stack)-1])
	}
	return nil
}
