// Package discordtest is a fake Discord for tests and load runs: an
// httptest REST server for the endpoints Chorus uses and a websocket
// gateway that speaks the real frames (HELLO, IDENTIFY, READY, heartbeat
// and ACK, RESUME and RESUMED, dispatches with sequence numbers). It lets
// the real discordgo client run against it, bound to 127.0.0.1.
//
// Point the adapter at it with Config.APIURL = Server.URL and
// Config.GatewayURL = Server.GatewayURL.
package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// APIPrefix is the path of the REST API on the fake.
const APIPrefix = "/api/v10"

// Gateway opcodes used by the fake.
const (
	OpDispatch       = 0
	OpHeartbeat      = 1
	OpIdentify       = 2
	OpResume         = 6
	OpInvalidSession = 9
	OpHello          = 10
	OpHeartbeatACK   = 11
)

// discordEpoch is the first millisecond of 2015, the origin of snowflakes.
const discordEpoch = 1420070400000

// Options shape a Server.
type Options struct {
	// HeartbeatInterval is sent in HELLO (default 250ms).
	HeartbeatInterval time.Duration
	// BotID and AppID are the bot user's and the application's ids
	// (defaults "100" and "200").
	BotID, AppID string
	// BotName is the bot's username (default "chorus").
	BotName string
}

// Role is a guild role.
type Role struct {
	ID          string
	Name        string
	Permissions int64
}

// Guild is a guild sent in GUILD_CREATE after READY.
type Guild struct {
	ID       string
	Name     string
	OwnerID  string
	Roles    []Role
	Channels []string
	// Threads are thread channel ids (type 11) whose parent is the first
	// channel.
	Threads []string
	// BotRoles are the roles of the bot's own member (its managed role).
	BotRoles []string
	// SystemChannel is the channel Discord posts joins in
	// (system_channel_id).
	SystemChannel string
	// Members is the approximate_member_count GET /guilds/{id}?with_counts=true
	// answers.
	Members int
}

// Call is one REST request the fake served.
type Call struct {
	Method string
	// Path is the URL path below APIPrefix ("/channels/1/messages").
	Path   string
	Query  string
	Status int
	// Payload is the decoded JSON body (payload_json for multipart); nil
	// when there was none.
	Payload map[string]any
	// Files are the names of uploaded files.
	Files []string
	At    time.Time
}

// Message is a message the fake holds: posted by the bot through the REST
// API, or injected as a user's by MessageCreate.
type Message struct {
	ID        string
	ChannelID string
	AuthorID  string
	Content   string
	// Versions is every content the message had, first to last.
	Versions []string
	Deleted  bool
	// Token is the interaction token for interaction responses and
	// follow-ups.
	Token string
	Files []string
	// Buttons are the message's buttons (its action rows' components), in
	// order.
	Buttons []Button
}

// Button is a button component of a message.
type Button struct {
	Style    int    `json:"style"`
	Label    string `json:"label,omitempty"`
	Emoji    string `json:"-"`
	CustomID string `json:"custom_id,omitempty"`
	URL      string `json:"url,omitempty"`
}

// Failure is a scripted error answer.
type Failure struct {
	Method string
	// PathContains selects requests whose path contains it.
	PathContains string
	Status       int
	Body         string
	Header       http.Header
	// Times is how many requests get it (default 1).
	Times int
}

// Identify is what a client sent in IDENTIFY.
type Identify struct {
	Token   string  `json:"token"`
	Intents int     `json:"intents"`
	Shard   *[2]int `json:"shard"`
}

type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  int64           `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

type session struct {
	id  string
	seq int64
	// shard is what IDENTIFY asked for: [shard_id, num_shards].
	shard *[2]int
}

type conn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	sess *session
}

// OnShard reports whether Discord sends the events of guild (empty: a
// DM) to the shard [shard_id, num_shards]: (guild_id >> 22) % num_shards
// names it, and DMs go to shard 0. No shard, or one of one, gets all.
func OnShard(shard *[2]int, guild string) bool {
	if shard == nil || shard[1] <= 1 {
		return true
	}
	if guild == "" {
		return shard[0] == 0
	}
	id, err := strconv.ParseUint(guild, 10, 64)
	if err != nil {
		return false
	}
	return int((id>>22)%uint64(shard[1])) == shard[0]
}

// eventGuild is the guild an event's payload belongs to.
func eventGuild(event string, raw []byte) string {
	var d struct {
		ID      string `json:"id"`
		GuildID string `json:"guild_id"`
	}
	_ = json.Unmarshal(raw, &d)
	if strings.HasPrefix(event, "GUILD_") && d.GuildID == "" {
		return d.ID
	}
	return d.GuildID
}

func (c *conn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// Server is a fake Discord. It is safe for concurrent use.
type Server struct {
	// URL is the REST API base (http://127.0.0.1:PORT/api/v10).
	URL string
	// GatewayURL is the websocket gateway (ws://127.0.0.1:PORT/ws).
	GatewayURL string
	opts       Options
	http       *httptest.Server
	upgrader   websocket.Upgrader

	mu         sync.Mutex
	calls      []Call
	msgs       map[string]*Message
	order      []string
	next       int64
	guilds     []Guild
	chGuild    map[string]string
	failures   []*Failure
	identifies []Identify
	resumes    int
	conns      map[*conn]bool
	sessions   map[string]*session
	commands   map[string][]map[string]any
	ixChannel  map[string]string
	callbacks  map[string]int
	changed    chan struct{}
}

// NewServer starts a fake Discord on 127.0.0.1. Close it when done.
func NewServer(opts Options) *Server {
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 250 * time.Millisecond
	}
	if opts.BotID == "" {
		opts.BotID = "100"
	}
	if opts.AppID == "" {
		opts.AppID = "200"
	}
	if opts.BotName == "" {
		opts.BotName = "chorus"
	}
	s := &Server{
		opts:      opts,
		msgs:      map[string]*Message{},
		chGuild:   map[string]string{},
		conns:     map[*conn]bool{},
		sessions:  map[string]*session{},
		commands:  map[string][]map[string]any{},
		ixChannel: map[string]string{},
		callbacks: map[string]int{},
		changed:   make(chan struct{}),
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL + APIPrefix
	s.GatewayURL = "ws" + strings.TrimPrefix(s.http.URL, "http") + "/ws"
	return s
}

// Close drops every gateway connection and stops the server.
func (s *Server) Close() {
	s.Drop()
	s.http.CloseClientConnections()
	s.http.Close()
}

// BotID is the bot user's id.
func (s *Server) BotID() string { return s.opts.BotID }

// AppID is the application's id.
func (s *Server) AppID() string { return s.opts.AppID }

// AddGuild makes a guild known: its channels answer GET /channels/{id}
// and it is sent in GUILD_CREATE to sessions identifying afterwards.
func (s *Server) AddGuild(g Guild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guilds = append(s.guilds, g)
	for _, c := range g.Channels {
		s.chGuild[c] = g.ID
	}
	for _, c := range g.Threads {
		s.chGuild[c] = g.ID
	}
}

// Fail scripts error answers for matching requests, in the order added.
func (s *Server) Fail(f Failure) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.failures = append(s.failures, &f)
	s.mu.Unlock()
}

// touch wakes Wait callers; s.mu is held.
func (s *Server) touch() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond reports true or ctx ends. cond is evaluated after
// every change of the fake's state and must not call Wait.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("discordtest: wait: %w", ctx.Err())
		}
	}
}

// Calls returns the REST calls served so far, optionally only those with
// the given method whose path contains pathContains.
func (s *Server) Calls(method, pathContains string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if (method == "" || c.Method == method) && strings.Contains(c.Path, pathContains) {
			out = append(out, c)
		}
	}
	return out
}

// Message returns a copy of a message the fake holds.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.msgs[id]
	if !ok {
		return Message{}, false
	}
	c := *m
	c.Versions = slices.Clone(m.Versions)
	return c, true
}

// BotMessages returns copies of the bot's messages in a channel, oldest
// first, deleted ones left out.
func (s *Server) BotMessages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.order {
		m := s.msgs[id]
		if m.ChannelID == channelID && m.AuthorID == s.opts.BotID && !m.Deleted {
			c := *m
			c.Versions = slices.Clone(m.Versions)
			out = append(out, c)
		}
	}
	return out
}

// Identifies returns the IDENTIFY payloads received.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.identifies)
}

// Resumes counts RESUME requests answered with RESUMED.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// Connections counts gateway connections that identified or resumed.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.sess != nil {
			n++
		}
	}
	return n
}

// Commands returns the application commands last registered for a guild
// ("" for global).
func (s *Server) Commands(guildID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[guildID])
}

// Callbacks returns the interaction response type sent for an interaction
// id, 0 when none.
func (s *Server) Callbacks(interactionID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbacks[interactionID]
}

// Drop closes every gateway connection abruptly, as a network failure
// would; clients reconnect and resume.
func (s *Server) Drop() {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.NetConn().Close()
	}
}

// newID returns a fresh snowflake; s.mu is held.
func (s *Server) newID() string {
	s.next++
	return strconv.FormatInt((time.Now().UnixMilli()-discordEpoch)<<22|(s.next&0x3fffff), 10)
}

// sessionWait is how long Dispatch waits for a session: a client sees
// READY (and reports itself connected) a moment before the fake has sent
// the guilds and opened the session to dispatches.
const sessionWait = 5 * time.Second

// Dispatch sends an event (op 0) with the next sequence number to every
// connected session of the shard the event's guild belongs to (OnShard),
// as Discord does. It fails when none is connected within sessionWait.
func (s *Server) Dispatch(event string, d any) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("discordtest: dispatch %s: %w", event, err)
	}
	guild := eventGuild(event, raw)
	s.waitSession(guild)
	s.mu.Lock()
	var targets []*conn
	var frames []frame
	for c := range s.conns {
		if c.sess == nil || !OnShard(c.sess.shard, guild) {
			continue
		}
		c.sess.seq++
		targets = append(targets, c)
		frames = append(frames, frame{Op: OpDispatch, T: event, S: c.sess.seq, D: raw})
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		return errors.New("discordtest: dispatch: no gateway session connected")
	}
	for i, c := range targets {
		if err := c.write(frames[i]); err != nil {
			return fmt.Errorf("discordtest: dispatch %s: %w", event, err)
		}
	}
	return nil
}

// waitSession waits up to sessionWait until a session of the shard of
// guild takes dispatches.
func (s *Server) waitSession(guild string) {
	for deadline := time.Now().Add(sessionWait); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		for c := range s.conns {
			if c.sess != nil && OnShard(c.sess.shard, guild) {
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
	}
}

// DispatchRaw writes a raw text frame to every connected session, for
// malformed input.
func (s *Server) DispatchRaw(text string) error {
	s.waitSession("")
	s.mu.Lock()
	var targets []*conn
	for c := range s.conns {
		if c.sess != nil {
			targets = append(targets, c)
		}
	}
	s.mu.Unlock()
	if len(targets) == 0 {
		return errors.New("discordtest: dispatch: no gateway session connected")
	}
	for _, c := range targets {
		c.wmu.Lock()
		err := c.ws.WriteMessage(websocket.TextMessage, []byte(text))
		c.wmu.Unlock()
		if err != nil {
			return fmt.Errorf("discordtest: dispatch raw: %w", err)
		}
	}
	return nil
}

// UserMessage is a message from a user for MessageCreate.
type UserMessage struct {
	ChannelID string
	// GuildID empty makes it a DM.
	GuildID  string
	AuthorID string
	Name     string
	Content  string
	// Mentions are user ids mentioned (the bot's id for @bot).
	Mentions     []string
	MentionRoles []string
	// ReplyTo is the id of a message the fake holds being replied to.
	ReplyTo string
	// Roles are the author's member role ids; Bot marks a bot author.
	Roles []string
	Bot   bool
}

// MessageCreate stores a user's message and dispatches MESSAGE_CREATE. It
// returns the message id.
func (s *Server) MessageCreate(m UserMessage) (string, error) {
	s.mu.Lock()
	id := s.newID()
	s.msgs[id] = &Message{ID: id, ChannelID: m.ChannelID, AuthorID: m.AuthorID, Content: m.Content, Versions: []string{m.Content}}
	s.order = append(s.order, id)
	var ref map[string]any
	if r, ok := s.msgs[m.ReplyTo]; ok {
		ref = s.messageJSON(r)
	}
	s.touch()
	s.mu.Unlock()
	d := map[string]any{
		"id": id, "channel_id": m.ChannelID, "content": m.Content, "type": 0,
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"author":    map[string]any{"id": m.AuthorID, "username": m.Name, "bot": m.Bot},
		"mentions":  userList(m.Mentions), "mention_roles": nonNil(m.MentionRoles),
	}
	if m.GuildID != "" {
		d["guild_id"] = m.GuildID
		d["member"] = map[string]any{"roles": nonNil(m.Roles), "nick": ""}
	}
	if m.ReplyTo != "" {
		d["type"] = 19
		d["message_reference"] = map[string]any{"message_id": m.ReplyTo, "channel_id": m.ChannelID}
		if ref != nil {
			d["referenced_message"] = ref
		}
	}
	return id, s.Dispatch("MESSAGE_CREATE", d)
}

// SlashCommand is an application command invocation for Interaction.
type SlashCommand struct {
	ChannelID string
	// GuildID empty makes it a DM invocation.
	GuildID string
	UserID  string
	Name    string
	Command string
	// Args is the value of the "args" option; empty sends no option.
	Args string
	// Permissions is the member's computed permission bit set.
	Permissions int64
	Roles       []string
	Locale      string
}

// Interaction dispatches INTERACTION_CREATE for a slash command and returns
// the interaction id and token.
func (s *Server) Interaction(c SlashCommand) (id, token string, err error) {
	s.mu.Lock()
	id = s.newID()
	token = "tok-" + id
	s.ixChannel[token] = c.ChannelID
	s.mu.Unlock()
	data := map[string]any{"id": "cmd-" + c.Command, "name": c.Command, "type": 1}
	if c.Args != "" {
		data["options"] = []any{map[string]any{"name": "args", "type": 3, "value": c.Args}}
	}
	user := map[string]any{"id": c.UserID, "username": c.Name}
	d := map[string]any{
		"id": id, "application_id": s.opts.AppID, "type": 2, "data": data,
		"channel_id": c.ChannelID, "token": token, "version": 1, "locale": c.Locale,
	}
	if c.GuildID != "" {
		d["guild_id"] = c.GuildID
		d["member"] = map[string]any{"user": user, "roles": nonNil(c.Roles), "permissions": strconv.FormatInt(c.Permissions, 10)}
	} else {
		d["user"] = user
	}
	return id, token, s.Dispatch("INTERACTION_CREATE", d)
}

// Press is a user pressing a button of one of the bot's messages.
type Press struct {
	ChannelID string
	// GuildID empty makes it a press in a DM.
	GuildID   string
	UserID    string
	Name      string
	MessageID string
	CustomID  string
}

// PressButton dispatches INTERACTION_CREATE of type 3 (message component)
// for a press of the button with p.CustomID under message p.MessageID, as
// Discord does (with the message), and returns the interaction id, whose
// response Callbacks reports. It fails when the message has no such
// button.
func (s *Server) PressButton(p Press) (id string, err error) {
	s.mu.Lock()
	m, ok := s.msgs[p.MessageID]
	found := false
	if ok {
		for _, b := range m.Buttons {
			found = found || b.CustomID == p.CustomID
		}
	}
	if !found {
		s.mu.Unlock()
		return "", fmt.Errorf("discordtest: message %s has no button %q", p.MessageID, p.CustomID)
	}
	id = s.newID()
	token := "tok-" + id
	s.ixChannel[token] = p.ChannelID
	msg := s.messageJSON(m)
	s.mu.Unlock()
	user := map[string]any{"id": p.UserID, "username": p.Name}
	d := map[string]any{
		"id": id, "application_id": s.opts.AppID, "type": 3, "token": token, "version": 1,
		"channel_id": p.ChannelID, "message": msg,
		"data": map[string]any{"custom_id": p.CustomID, "component_type": 2},
	}
	if p.GuildID != "" {
		d["guild_id"] = p.GuildID
		d["member"] = map[string]any{"user": user, "roles": []string{}, "permissions": "0"}
	} else {
		d["user"] = user
	}
	return id, s.Dispatch("INTERACTION_CREATE", d)
}

func userList(ids []string) []any {
	out := []any{}
	for _, id := range ids {
		out = append(out, map[string]any{"id": id, "username": "u" + id})
	}
	return out
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// messageJSON renders a held message; s.mu is held.
func (s *Server) messageJSON(m *Message) map[string]any {
	author := map[string]any{"id": m.AuthorID, "username": "u" + m.AuthorID}
	if m.AuthorID == s.opts.BotID {
		author = map[string]any{"id": s.opts.BotID, "username": s.opts.BotName, "bot": true}
	}
	return map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "type": 0,
		"author": author, "timestamp": time.Now().UTC().Format(time.RFC3339Nano), "components": componentsJSON(m.Buttons)}
}

// ---- gateway ----

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws}
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.touch()
		s.mu.Unlock()
		_ = ws.Close()
	}()
	hello, _ := json.Marshal(map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()})
	if c.write(frame{Op: OpHello, D: hello}) != nil {
		return
	}
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			return
		}
		switch f.Op {
		case OpHeartbeat:
			if c.write(frame{Op: OpHeartbeatACK}) != nil {
				return
			}
		case OpIdentify:
			if !s.identify(c, f.D) {
				return
			}
		case OpResume:
			if !s.resume(c, f.D) {
				return
			}
		}
	}
}

func (s *Server) identify(c *conn, d json.RawMessage) bool {
	var id Identify
	if json.Unmarshal(d, &id) != nil {
		return false
	}
	s.mu.Lock()
	sess := &session{id: "sess-" + s.newID()}
	s.sessions[sess.id] = sess
	s.identifies = append(s.identifies, id)
	sess.shard = id.Shard
	var guilds []Guild
	for _, g := range s.guilds {
		if OnShard(id.Shard, g.ID) {
			guilds = append(guilds, g)
		}
	}
	sess.seq++
	seq := sess.seq
	s.mu.Unlock()
	var unavailable []any
	for _, g := range guilds {
		unavailable = append(unavailable, map[string]any{"id": g.ID, "unavailable": true})
	}
	ready, _ := json.Marshal(map[string]any{
		"v": 10, "session_id": sess.id, "resume_gateway_url": s.GatewayURL,
		"user":        map[string]any{"id": s.opts.BotID, "username": s.opts.BotName, "bot": true},
		"application": map[string]any{"id": s.opts.AppID, "flags": 0},
		"guilds":      nonNilAny(unavailable), "shard": id.Shard,
	})
	if c.write(frame{Op: OpDispatch, T: "READY", S: seq, D: ready}) != nil {
		return false
	}
	for _, g := range guilds {
		raw, _ := json.Marshal(s.guildJSON(g))
		s.mu.Lock()
		sess.seq++
		seq := sess.seq
		s.mu.Unlock()
		if c.write(frame{Op: OpDispatch, T: "GUILD_CREATE", S: seq, D: raw}) != nil {
			return false
		}
	}
	// Only now may Dispatch reach the session: READY and the guilds come
	// first, as on Discord.
	s.mu.Lock()
	c.sess = sess
	s.touch()
	s.mu.Unlock()
	return true
}

func (s *Server) resume(c *conn, d json.RawMessage) bool {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if json.Unmarshal(d, &r) != nil {
		return false
	}
	s.mu.Lock()
	sess, ok := s.sessions[r.SessionID]
	if !ok {
		s.mu.Unlock()
		no, _ := json.Marshal(false)
		return c.write(frame{Op: OpInvalidSession, D: no}) == nil
	}
	sess.seq++
	seq := sess.seq
	s.mu.Unlock()
	if c.write(frame{Op: OpDispatch, T: "RESUMED", S: seq, D: json.RawMessage(`{}`)}) != nil {
		return false
	}
	s.mu.Lock()
	c.sess = sess
	s.resumes++
	s.touch()
	s.mu.Unlock()
	return true
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNilAny(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

func (s *Server) guildJSON(g Guild) map[string]any {
	roles := []any{map[string]any{"id": g.ID, "name": "@everyone", "permissions": "0"}}
	for _, r := range g.Roles {
		roles = append(roles, map[string]any{"id": r.ID, "name": r.Name, "permissions": strconv.FormatInt(r.Permissions, 10)})
	}
	var channels, threads []any
	for _, c := range g.Channels {
		channels = append(channels, map[string]any{"id": c, "name": "chan-" + c, "type": 0, "guild_id": g.ID})
	}
	for _, t := range g.Threads {
		parent := ""
		if len(g.Channels) > 0 {
			parent = g.Channels[0]
		}
		threads = append(threads, map[string]any{"id": t, "name": "thread-" + t, "type": 11, "guild_id": g.ID, "parent_id": parent})
	}
	members := []any{map[string]any{"user": map[string]any{"id": s.opts.BotID, "username": s.opts.BotName, "bot": true}, "roles": nonNil(g.BotRoles)}}
	return map[string]any{"id": g.ID, "name": g.Name, "owner_id": g.OwnerID, "roles": roles, "system_channel_id": nilIfEmpty(g.SystemChannel),
		"channels": nonNilAny(channels), "threads": nonNilAny(threads), "members": members}
}

// ---- REST ----

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/ws") {
		s.serveWS(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
		http.NotFound(w, r)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, APIPrefix)
	call := Call{Method: r.Method, Path: path, Query: r.URL.RawQuery, At: time.Now()}
	if err := decodeBody(r, &call); err != nil {
		s.reply(w, &call, http.StatusBadRequest, map[string]any{"message": err.Error(), "code": 50109})
		return
	}
	if r.Header.Get("Authorization") == "" {
		s.reply(w, &call, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
		return
	}
	s.mu.Lock()
	for i, f := range s.failures {
		if (f.Method == "" || f.Method == r.Method) && strings.Contains(path, f.PathContains) {
			f.Times--
			if f.Times <= 0 {
				s.failures = slices.Delete(s.failures, i, i+1)
			}
			s.mu.Unlock()
			for k, v := range f.Header {
				w.Header()[k] = v
			}
			call.Status = f.Status
			s.record(call)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, f.Body)
			return
		}
	}
	s.mu.Unlock()
	status, body := s.route(r.Method, path, &call)
	s.reply(w, &call, status, body)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.touch()
	s.mu.Unlock()
}

func (s *Server) reply(w http.ResponseWriter, c *Call, status int, body any) {
	c.Status = status
	s.record(*c)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func decodeBody(r *http.Request, c *Call) error {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json":
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return err
		}
		if len(raw) > 0 && raw[0] == '{' {
			return json.Unmarshal(raw, &c.Payload)
		}
		if len(raw) > 0 {
			var arr []any
			if err := json.Unmarshal(raw, &arr); err != nil {
				return err
			}
			c.Payload = map[string]any{"items": arr}
		}
	case strings.HasPrefix(ct, "multipart/"):
		if params["boundary"] == "" {
			return errors.New("multipart without boundary")
		}
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return err
		}
		if pj := r.MultipartForm.Value["payload_json"]; len(pj) > 0 {
			if err := json.Unmarshal([]byte(pj[0]), &c.Payload); err != nil {
				return err
			}
		}
		for _, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				c.Files = append(c.Files, fh.Filename)
			}
		}
		slices.Sort(c.Files)
	}
	return nil
}

func notFound() (int, any) {
	return http.StatusNotFound, map[string]any{"message": "Unknown Message", "code": 10008}
}

func (s *Server) route(method, path string, c *Call) (int, any) {
	p := strings.Split(strings.Trim(path, "/"), "/")
	at := func(i int) string {
		if i < len(p) {
			return p[i]
		}
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case method == http.MethodGet && (path == "/gateway" || path == "/gateway/bot"):
		return http.StatusOK, map[string]any{"url": s.GatewayURL, "shards": 1,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}}
	case method == http.MethodGet && path == "/users/@me":
		return http.StatusOK, map[string]any{"id": s.opts.BotID, "username": s.opts.BotName, "bot": true}
	case at(0) == "channels" && len(p) == 2 && method == http.MethodGet:
		g, ok := s.chGuild[at(1)]
		if !ok {
			return http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": 10003}
		}
		return http.StatusOK, map[string]any{"id": at(1), "guild_id": g, "type": 0}
	case at(0) == "guilds" && len(p) == 2 && method == http.MethodGet:
		for _, g := range s.guilds {
			if g.ID == at(1) {
				out := s.guildJSON(g)
				if q, _ := url.ParseQuery(c.Query); q.Get("with_counts") == "true" {
					out["approximate_member_count"] = g.Members
					out["approximate_presence_count"] = g.Members / 3
				}
				return http.StatusOK, out
			}
		}
		return http.StatusNotFound, map[string]any{"message": "Unknown Guild", "code": 10004}
	case at(0) == "channels" && at(2) == "typing" && method == http.MethodPost:
		return http.StatusNoContent, nil
	case at(0) == "channels" && at(2) == "messages" && len(p) == 3 && method == http.MethodPost:
		if msg := checkComponents(c.Payload); msg != "" {
			return http.StatusBadRequest, map[string]any{"message": msg, "code": 50035}
		}
		m := s.addMessage(at(1), str(c.Payload, "content"), "", c.Files)
		m.Buttons = buttonsOf(c.Payload["components"])
		return http.StatusOK, s.messageJSON(m)
	case at(0) == "channels" && at(2) == "messages" && len(p) == 4 && method == http.MethodPatch:
		m, ok := s.msgs[at(3)]
		if !ok || m.ChannelID != at(1) || m.Deleted {
			return notFound()
		}
		if msg := checkComponents(c.Payload); msg != "" {
			return http.StatusBadRequest, map[string]any{"message": msg, "code": 50035}
		}
		s.setContent(m, c.Payload)
		return http.StatusOK, s.messageJSON(m)
	case at(0) == "channels" && at(2) == "messages" && len(p) == 4 && method == http.MethodDelete:
		if m, ok := s.msgs[at(3)]; ok {
			m.Deleted = true
		}
		return http.StatusNoContent, nil
	case at(0) == "guilds" && at(2) == "members" && len(p) == 4 && method == http.MethodPatch:
		return http.StatusOK, map[string]any{"user": map[string]any{"id": at(3)}, "roles": []string{},
			"communication_disabled_until": c.Payload["communication_disabled_until"]}
	case at(0) == "guilds" && at(2) == "bans" && len(p) == 4 && method == http.MethodPut:
		return http.StatusNoContent, nil
	case at(0) == "applications" && method == http.MethodPut && (len(p) == 3 && at(2) == "commands" || len(p) == 5 && at(2) == "guilds" && at(4) == "commands"):
		guild := ""
		if len(p) == 5 {
			guild = at(3)
		}
		items, _ := c.Payload["items"].([]any)
		var cmds []map[string]any
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				m["id"] = s.newID()
				m["application_id"] = at(1)
				cmds = append(cmds, m)
			}
		}
		s.commands[guild] = cmds
		out := make([]any, 0, len(cmds))
		for _, m := range cmds {
			out = append(out, m)
		}
		return http.StatusOK, out
	case at(0) == "interactions" && len(p) == 4 && at(3) == "callback" && method == http.MethodPost:
		t, _ := c.Payload["type"].(float64)
		s.callbacks[at(1)] = int(t)
		return http.StatusNoContent, nil
	case at(0) == "webhooks" && len(p) == 3 && method == http.MethodPost:
		ch, ok := s.ixChannel[at(2)]
		if !ok {
			return http.StatusNotFound, map[string]any{"message": "Unknown Webhook", "code": 10015}
		}
		if msg := checkComponents(c.Payload); msg != "" {
			return http.StatusBadRequest, map[string]any{"message": msg, "code": 50035}
		}
		m := s.addMessage(ch, str(c.Payload, "content"), at(2), c.Files)
		m.Buttons = buttonsOf(c.Payload["components"])
		return http.StatusOK, s.messageJSON(m)
	case at(0) == "webhooks" && len(p) == 5 && at(3) == "messages" && method == http.MethodPatch:
		token := at(2)
		ch, ok := s.ixChannel[token]
		if !ok {
			return http.StatusNotFound, map[string]any{"message": "Unknown Webhook", "code": 10015}
		}
		var m *Message
		if at(4) == "@original" {
			for _, id := range s.order {
				if x := s.msgs[id]; x.Token == token {
					m = x
					break
				}
			}
			if m == nil {
				m = s.addMessage(ch, "", token, nil)
				m.Versions = nil
			}
		} else if x, ok := s.msgs[at(4)]; ok && x.Token == token {
			m = x
		}
		if m == nil {
			return notFound()
		}
		if msg := checkComponents(c.Payload); msg != "" {
			return http.StatusBadRequest, map[string]any{"message": msg, "code": 50035}
		}
		s.setContent(m, c.Payload)
		m.Files = append(m.Files, c.Files...)
		return http.StatusOK, s.messageJSON(m)
	}
	return http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0}
}

// addMessage stores a bot message; s.mu is held.
func (s *Server) addMessage(channel, content, token string, files []string) *Message {
	id := s.newID()
	m := &Message{ID: id, ChannelID: channel, AuthorID: s.opts.BotID, Content: content, Versions: []string{content}, Token: token, Files: files}
	s.msgs[id] = m
	s.order = append(s.order, id)
	return m
}

// setContent applies an edit payload; s.mu is held.
func (s *Server) setContent(m *Message, payload map[string]any) {
	if c, ok := payload["content"].(string); ok {
		m.Content = c
		m.Versions = append(m.Versions, c)
	}
	if raw, ok := payload["components"]; ok {
		m.Buttons = buttonsOf(raw)
	}
}

// checkComponents checks a payload's components as Discord does: action
// rows (type 1) of at most five buttons (type 2), each with a custom_id
// of 1 to 100 characters unless it is a link (style 5). It returns the
// error message Discord would give, "" when they are valid.
func checkComponents(payload map[string]any) string {
	raw, ok := payload["components"]
	if !ok || raw == nil {
		return ""
	}
	rows, ok := raw.([]any)
	if !ok || len(rows) > 5 {
		return "Invalid Form Body: components"
	}
	for _, r := range rows {
		row, _ := r.(map[string]any)
		if t, _ := row["type"].(float64); t != 1 {
			return "Invalid Form Body: components.type must be 1 (action row)"
		}
		cs, _ := row["components"].([]any)
		if len(cs) == 0 || len(cs) > 5 {
			return "Invalid Form Body: an action row holds 1 to 5 components"
		}
		for _, c := range cs {
			b, _ := c.(map[string]any)
			if t, _ := b["type"].(float64); t != 2 {
				return "Invalid Form Body: only buttons are supported by the fake"
			}
			style, _ := b["style"].(float64)
			id, _ := b["custom_id"].(string)
			if style != 5 && (len(id) == 0 || len(id) > 100) {
				return "Invalid Form Body: custom_id must be 1 to 100 characters"
			}
		}
	}
	return ""
}

// buttonsOf reads the buttons of a checked components payload.
func buttonsOf(raw any) []Button {
	var out []Button
	rows, _ := raw.([]any)
	for _, r := range rows {
		row, _ := r.(map[string]any)
		cs, _ := row["components"].([]any)
		for _, c := range cs {
			b, _ := c.(map[string]any)
			style, _ := b["style"].(float64)
			btn := Button{Style: int(style), Label: str(b, "label"), CustomID: str(b, "custom_id"), URL: str(b, "url")}
			if e, ok := b["emoji"].(map[string]any); ok {
				btn.Emoji = str(e, "name")
			}
			out = append(out, btn)
		}
	}
	return out
}

// componentsJSON renders a message's buttons as one action row.
func componentsJSON(bs []Button) []any {
	if len(bs) == 0 {
		return []any{}
	}
	var cs []any
	for _, b := range bs {
		c := map[string]any{"type": 2, "style": b.Style}
		if b.Label != "" {
			c["label"] = b.Label
		}
		if b.Emoji != "" {
			c["emoji"] = map[string]any{"name": b.Emoji}
		}
		if b.CustomID != "" {
			c["custom_id"] = b.CustomID
		}
		if b.URL != "" {
			c["url"] = b.URL
		}
		cs = append(cs, c)
	}
	return []any{map[string]any{"type": 1, "components": cs}}
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}
