package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/memory"
)

var errNoConv = errors.New("empty conversation key")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the embedded folder is known at build time
	}
	return sub
}

// Accept implements bot.Inbox: in one statement it records the delivery's
// dedup key and, when it was new, queues the message as pending.
func (s *Store) Accept(ctx context.Context, m *bot.Message) (bool, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("pgstore: accept: %w", err)
	}
	var n int
	_, err = s.execScan(ctx, &n, acceptSQL, s.acceptArgs(m, body)...)
	if err != nil {
		return false, fmt.Errorf("pgstore: accept: %w", err)
	}
	return n == 1, nil
}

// acceptSQL records a delivery's dedup key and, when it was new, queues
// the message as pending; it returns 1 when it was new, else 0.
const acceptSQL = `WITH d AS (
		INSERT INTO dedup (key, accepted_ns) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING key
	), p AS (
		INSERT INTO pending (key, conv, body) SELECT key, $3, $4 FROM d ON CONFLICT (key) DO NOTHING
	) SELECT count(*) FROM d`

func (s *Store) acceptArgs(m *bot.Message, body []byte) []any {
	return []any{memory.DedupKey(m), ns(s.now()), []byte(m.ConversationKey()), body}
}

// execScan runs a writing statement that returns one row, in its own
// transaction.
func (s *Store) execScan(ctx context.Context, dst any, sql string, args ...any) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	err := s.pool.QueryRow(ctx, sql, args...).Scan(dst)
	if errors.Is(err, pgx.ErrNoRows) {
		s.stats.commits.Add(1)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.stats.commits.Add(1)
	return true, nil
}

const doneSQL = `DELETE FROM pending WHERE key = $1`

// Done implements bot.Inbox.
func (s *Store) Done(ctx context.Context, m *bot.Message) error {
	if _, err := s.exec(ctx, doneSQL, memory.DedupKey(m)); err != nil {
		return fmt.Errorf("pgstore: done: %w", err)
	}
	return nil
}

// Pending implements bot.Inbox: messages accepted and not Done, in the
// order they were accepted.
func (s *Store) Pending(ctx context.Context) ([]bot.Message, error) {
	var out []bot.Message
	rows, err := s.pool.Query(ctx, `SELECT body FROM pending ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: pending: %w", err)
	}
	if out, err = scanMessages(rows); err != nil {
		return nil, fmt.Errorf("pgstore: pending: %w", err)
	}
	return out, nil
}

// scanMessages decodes rows of one column, a message's JSON body, in order.
func scanMessages(rows pgx.Rows) ([]bot.Message, error) {
	var out []bot.Message
	var body []byte
	_, err := pgx.ForEachRow(rows, []any{&body}, func() error {
		var m bot.Message
		if err := json.Unmarshal(body, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// appendSQL calls chorus_append (see the migrations) with a turn.
const appendSQL = `SELECT chorus_append($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// appendArgs are appendSQL's arguments for t, cleaned as the bbolt store
// cleans them.
func (s *Store) appendArgs(conv string, t bot.Turn) ([]any, error) {
	if conv == "" {
		return nil, errNoConv
	}
	if t.Time.IsZero() {
		t.Time = s.now()
	}
	return []any{[]byte(conv), t.Role, []byte(t.User), []byte(memory.CleanText(t.Name)), []byte(t.MsgID),
		[]byte(memory.CleanText(t.Text)), ns(t.Time), int32(max(t.Tokens, 0)), t.Unanswered}, nil
}

// Append implements bot.History. A user turn whose MsgID the conversation
// already holds replaces that turn's text and tokens and returns its Seq;
// other turns get the conversation's next Seq.
func (s *Store) Append(ctx context.Context, conv string, t bot.Turn) (uint64, error) {
	args, err := s.appendArgs(conv, t)
	if err != nil {
		return 0, fmt.Errorf("pgstore: append: %w", err)
	}
	var seq int64
	if _, err := s.execScan(ctx, &seq, appendSQL, args...); err != nil {
		return 0, fmt.Errorf("pgstore: append: %w", err)
	}
	return uint64(seq), nil
}

const turnCols = `seq, role, usr, name, msg_id, text, at_ns, tokens, unanswered`

// convID is the subquery that finds a conversation's id from its key ($1).
const convID = `(SELECT id FROM conversations WHERE chorus_key(key) = chorus_key($1::bytea))`

func scanTurns(rows pgx.Rows, fn func(bot.Turn) bool) error {
	defer rows.Close()
	for rows.Next() {
		var (
			t                            bot.Turn
			seq, at                      int64
			tokens                       int32
			usr, name, msgID, text, role []byte
		)
		if err := rows.Scan(&seq, &role, &usr, &name, &msgID, &text, &at, &tokens, &t.Unanswered); err != nil {
			return err
		}
		t.Seq, t.Tokens, t.Time = uint64(seq), int(tokens), fromNS(at)
		t.Role, t.User, t.Name, t.MsgID, t.Text = roleOf(role), string(usr), string(name), string(msgID), string(text)
		if !fn(t) {
			break
		}
	}
	return rows.Err()
}

// roleOf shares the constants' storage for the usual roles.
func roleOf(b []byte) string {
	switch string(b) {
	case bot.RoleUser:
		return bot.RoleUser
	case bot.RoleAssistant:
		return bot.RoleAssistant
	}
	return string(b)
}

// windowPage is how many turns Window reads per round trip: the first
// page usually covers a prompt's budget.
const windowPage = 64

// Window implements bot.History: the most recent turns whose Tokens sum to
// at most budget, oldest first. It reads backward from the last turn a
// page at a time and stops at the first turn that does not fit, so its
// cost is set by the budget, never by the length of the history.
func (s *Store) Window(ctx context.Context, conv string, budget int) ([]bot.Turn, error) {
	if budget <= 0 {
		return nil, nil
	}
	var out []bot.Turn
	used, before, page, full := 0, int64(1)<<62, windowPage, false
	for !full {
		rows, err := s.pool.Query(ctx, `SELECT `+turnCols+` FROM turns WHERE conv = `+convID+` AND seq < $2 ORDER BY seq DESC LIMIT $3`,
			[]byte(conv), before, page)
		if err != nil {
			return nil, fmt.Errorf("pgstore: window: %w", err)
		}
		n := 0
		err = scanTurns(rows, func(t bot.Turn) bool {
			n++
			if used+t.Tokens > budget {
				full = true
				return false
			}
			used += t.Tokens
			out = append(out, t)
			before = int64(t.Seq)
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("pgstore: window: %w", err)
		}
		if n < page {
			break
		}
		page = 4 * windowPage
	}
	slices.Reverse(out)
	return out, nil
}

// Turns implements bot.History.
func (s *Store) Turns(ctx context.Context, conv string, from, to uint64, max int) ([]bot.Turn, error) {
	if max <= 0 || from > to {
		return nil, nil
	}
	to = min(to, 1<<62)
	rows, err := s.pool.Query(ctx, `SELECT `+turnCols+` FROM turns WHERE conv = `+convID+` AND seq BETWEEN $2 AND $3 ORDER BY seq LIMIT $4`,
		[]byte(conv), int64(min(from, 1<<62)), int64(to), max)
	if err != nil {
		return nil, fmt.Errorf("pgstore: turns: %w", err)
	}
	var out []bot.Turn
	if err := scanTurns(rows, func(t bot.Turn) bool { out = append(out, t); return true }); err != nil {
		return nil, fmt.Errorf("pgstore: turns: %w", err)
	}
	return out, nil
}

// Summary implements bot.History.
func (s *Store) Summary(ctx context.Context, conv string) (bot.Summary, error) {
	var body []byte
	err := s.pool.QueryRow(ctx, `SELECT summary FROM conversations WHERE chorus_key(key) = chorus_key($1::bytea)`, []byte(conv)).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && body == nil {
		return bot.Summary{}, nil
	}
	if err != nil {
		return bot.Summary{}, fmt.Errorf("pgstore: summary: %w", err)
	}
	var sum bot.Summary
	if err := json.Unmarshal(body, &sum); err != nil {
		return bot.Summary{}, fmt.Errorf("pgstore: summary: %w", err)
	}
	return sum, nil
}

// SetSummary implements bot.History. It also records which users the
// summary was built from, so Forget finds it.
func (s *Store) SetSummary(ctx context.Context, conv string, sum bot.Summary) error {
	if conv == "" {
		return fmt.Errorf("pgstore: set summary: %w", errNoConv)
	}
	sum.Text = memory.CleanText(sum.Text)
	if sum.Updated.IsZero() {
		sum.Updated = s.now()
	}
	body, err := json.Marshal(sum)
	if err != nil {
		return fmt.Errorf("pgstore: set summary: %w", err)
	}
	users := make([][]byte, 0, len(sum.Users))
	for _, u := range sum.Users {
		users = append(users, []byte(u))
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO conversations AS x (key, summary, summary_updated_ns) VALUES ($1, $2, $3)
		ON CONFLICT (chorus_key(key)) DO UPDATE SET summary = EXCLUDED.summary, summary_updated_ns = EXCLUDED.summary_updated_ns`,
		[]byte(conv), body, ns(sum.Updated))
	b.Queue(`DELETE FROM summary_users WHERE conv = `+convID, []byte(conv))
	b.Queue(`INSERT INTO summary_users (conv, usr) SELECT `+convID+`, u FROM unnest($2::bytea[]) AS u ON CONFLICT DO NOTHING`, []byte(conv), users)
	if err := s.write(ctx, b, nil); err != nil {
		return fmt.Errorf("pgstore: set summary: %w", err)
	}
	return nil
}

// touchSQL updates the author's profile in one statement, as the bbolt
// store's Touch does: the display name last among the latest names, the
// @username when given, first and last seen, the message count, the
// language when given, and the lower-case name and handle FindUsers
// compares.
const touchSQL = `INSERT INTO profiles AS p (usr, platform, names, handle, first_ns, last_ns, messages, lang, name_key, handle_key)
	VALUES ($1, $2, CASE WHEN $3::bytea = '' THEN '{}'::bytea[] ELSE ARRAY[$3::bytea] END, $4, $5, $5, 1, $6, $7, $8)
	ON CONFLICT (chorus_key(usr)) DO UPDATE SET
		names = CASE WHEN $3::bytea = '' THEN p.names ELSE chorus_push_name(p.names, $3::bytea, $9) END,
		name_key = CASE WHEN $3::bytea = '' THEN p.name_key ELSE $7 END,
		handle = CASE WHEN $4::bytea = '' THEN p.handle ELSE $4 END,
		handle_key = CASE WHEN $4::bytea = '' THEN p.handle_key ELSE $8 END,
		first_ns = least(p.first_ns, $5), last_ns = greatest(p.last_ns, $5),
		messages = p.messages + 1,
		lang = CASE WHEN $6::bytea = '' THEN p.lang ELSE $6 END`

func (s *Store) touchArgs(m *bot.Message, lang string) []any {
	user := m.UserKey()
	at := m.Time
	if at.IsZero() {
		at = s.now()
	}
	name, handle := memory.CleanText(m.Author.Name), memory.Handle(m.Author.Handle)
	platform, _, _ := strings.Cut(user, ":")
	key := func(n string) []byte {
		if k, ok := memory.IndexedName(n); ok {
			return []byte(k)
		}
		return nil
	}
	return []any{[]byte(user), []byte(platform), []byte(name), []byte(handle), ns(at), []byte(lang), key(name), key(handle), memory.MaxNames}
}

// Touch implements bot.Profiles.
func (s *Store) Touch(ctx context.Context, m *bot.Message, lang string) error {
	if _, err := s.exec(ctx, touchSQL, s.touchArgs(m, lang)...); err != nil {
		return fmt.Errorf("pgstore: touch: %w", err)
	}
	return nil
}

const profileSQL = `SELECT p.usr, p.names, p.handle, p.first_ns, p.last_ns, p.messages, p.lang,
	ARRAY(SELECT topic FROM profile_topics WHERE profile = p.id ORDER BY topic),
	ARRAY(SELECT n FROM profile_topics WHERE profile = p.id ORDER BY topic)
	FROM profiles p`

func scanProfile(row pgx.Row) (bot.Profile, error) {
	var (
		p                 bot.Profile
		usr, handle, lang []byte
		names, topics     [][]byte
		counts            []int64
		first, last, msgs int64
	)
	if err := row.Scan(&usr, &names, &handle, &first, &last, &msgs, &lang, &topics, &counts); err != nil {
		return bot.Profile{}, err
	}
	p.User, p.Handle, p.Lang = string(usr), string(handle), string(lang)
	p.FirstSeen, p.LastSeen, p.Messages = fromNS(first), fromNS(last), int(msgs)
	for _, n := range names {
		p.Names = append(p.Names, string(n))
	}
	if len(topics) > 0 {
		p.Topics = make(map[string]int, len(topics))
		for i, t := range topics {
			p.Topics[string(t)] = int(counts[i])
		}
	}
	return p, nil
}

// Profile implements bot.Profiles; bot.ErrNotFound for a user never
// touched (or forgotten).
func (s *Store) Profile(ctx context.Context, user string) (bot.Profile, error) {
	p, err := scanProfile(s.pool.QueryRow(ctx, profileSQL+` WHERE chorus_key(p.usr) = chorus_key($1::bytea)`, []byte(user)))
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.Profile{}, fmt.Errorf("pgstore: profile %q: %w", user, bot.ErrNotFound)
	}
	if err != nil {
		return bot.Profile{}, fmt.Errorf("pgstore: profile: %w", err)
	}
	return p, nil
}

const addTopicsSQL = `SELECT chorus_add_topics($1, $2, $3)`

func topicArgs(user string, topics []string) []any {
	ts := make([][]byte, len(topics))
	for i, t := range topics {
		ts[i] = []byte(memory.CleanText(t))
	}
	return []any{[]byte(user), ts, memory.MaxTopics}
}

// AddTopics implements bot.Profiles: an unknown user's topics are dropped,
// and past memory.MaxTopics distinct topics new ones are ignored.
func (s *Store) AddTopics(ctx context.Context, user string, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	if _, err := s.exec(ctx, addTopicsSQL, topicArgs(user, topics)...); err != nil {
		return fmt.Errorf("pgstore: add topics: %w", err)
	}
	return nil
}

// FindUsers implements bot.Directory: users of platform whose current
// display name or @username is name, ignoring case, at most limit, in
// user-key order.
func (s *Store) FindUsers(ctx context.Context, platform, name string, limit int) ([]bot.Profile, error) {
	key, ok := memory.FindName(name)
	if platform == "" || !ok || limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, profileSQL+` WHERE p.platform = $1 AND (p.name_key = $2 OR p.handle_key = $2) ORDER BY p.usr LIMIT $3`,
		[]byte(platform), []byte(key), limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: find users: %w", err)
	}
	defer rows.Close()
	var out []bot.Profile
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: find users: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: find users: %w", err)
	}
	return out, nil
}

var (
	_ bot.Recorder       = (*Store)(nil)
	_ bot.IntakeRecorder = (*Store)(nil)
)

// AcceptIncoming implements bot.IntakeRecorder: Accept and, for a fresh
// delivery, the author's profile and their turn, in one transaction (two
// round trips: the turn is written only when the accept was new).
func (s *Store) AcceptIncoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (bool, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("pgstore: accept incoming: %w", err)
	}
	args, err := s.appendArgs(conv, t)
	if err != nil {
		return false, fmt.Errorf("pgstore: accept incoming: %w", err)
	}
	var fresh bool
	err = s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, acceptSQL, s.acceptArgs(m, body)...).Scan(&n); err != nil {
			return err
		}
		if fresh = n == 1; !fresh {
			return nil
		}
		b := &pgx.Batch{}
		b.Queue(touchSQL, s.touchArgs(m, lang)...)
		b.Queue(appendSQL, args...)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return false, fmt.Errorf("pgstore: accept incoming: %w", err)
	}
	return fresh, nil
}

// Dismiss implements bot.IntakeRecorder: the user turn of m leaves the
// conversation and m is done, in one pipelined batch.
func (s *Store) Dismiss(ctx context.Context, m *bot.Message, conv string) error {
	if conv == "" {
		return fmt.Errorf("pgstore: dismiss: %w", errNoConv)
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM turns WHERE conv = `+convID+` AND role = 'user' AND msg_id <> '' AND chorus_key(msg_id) = chorus_key($2::bytea)`,
		[]byte(conv), []byte(m.ID))
	b.Queue(doneSQL, memory.DedupKey(m))
	if err := s.write(ctx, b, nil); err != nil {
		return fmt.Errorf("pgstore: dismiss: %w", err)
	}
	return nil
}

// Incoming implements bot.Recorder: the author's profile and their turn
// in one pipelined batch, one round trip and one commit.
func (s *Store) Incoming(ctx context.Context, m *bot.Message, lang, conv string, t bot.Turn) (uint64, error) {
	args, err := s.appendArgs(conv, t)
	if err != nil {
		return 0, fmt.Errorf("pgstore: record incoming: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(touchSQL, s.touchArgs(m, lang)...)
	var seq int64
	b.Queue(appendSQL, args...).QueryRow(func(r pgx.Row) error { return r.Scan(&seq) })
	if err := s.write(ctx, b, nil); err != nil {
		return 0, fmt.Errorf("pgstore: record incoming: %w", err)
	}
	return uint64(seq), nil
}

// Outgoing implements bot.Recorder: the reply, the topics asked about and
// the done marker in one pipelined batch.
func (s *Store) Outgoing(ctx context.Context, m *bot.Message, conv string, reply bot.Turn, topics []string) (uint64, error) {
	args, err := s.appendArgs(conv, reply)
	if err != nil {
		return 0, fmt.Errorf("pgstore: record outgoing: %w", err)
	}
	b := &pgx.Batch{}
	var seq int64
	b.Queue(appendSQL, args...).QueryRow(func(r pgx.Row) error { return r.Scan(&seq) })
	b.Queue(doneSQL, memory.DedupKey(m))
	if len(topics) > 0 {
		b.Queue(addTopicsSQL, topicArgs(m.UserKey(), topics)...)
	}
	if err := s.write(ctx, b, nil); err != nil {
		return 0, fmt.Errorf("pgstore: record outgoing: %w", err)
	}
	return uint64(seq), nil
}
