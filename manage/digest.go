package manage

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/textkit"
)

const (
	maxDigestHours = 24 * 30
	// maxTopics and maxUnanswered bound what a digest lists.
	maxTopics     = 5
	maxUnanswered = 5
	maxMembers    = 3
	// digestOverhead is what the map prompt's own words cost, kept out of
	// a chunk's budget.
	digestOverhead = 150
	// maxReduceRounds bounds the reduce step's recursion when the
	// partial summaries don't fit one call.
	maxReduceRounds = 3
)

// topic is one thread of conversation: messages sharing its terms.
type topic struct {
	Terms    []string
	Count    int
	Examples []bot.Turn
}

// member is one participant and how much they wrote.
type member struct {
	Name  string
	Count int
}

// digestFacts is what a digest says, computed without a model.
type digestFacts struct {
	Hours      int
	Messages   int
	People     int
	Turns      []bot.Turn // the span, commands left out, oldest first
	Topics     []topic
	Unanswered []bot.Turn
	Mood       string
	Members    []member
}

func (t *Tools) cmdDigest(ctx context.Context, env *bot.Env, c *bot.Command) error {
	hours := t.cfg.DigestHours
	conv := env.Message().ConversationKey()
	for _, f := range c.Fields() {
		if strings.Contains(f, "/") {
			// Another chat is for a room that sees every chat.
			if f != conv && !env.View.All() {
				return env.Reply(ctx, env.T("manage.digest_other_chat"))
			}
			conv = f
			continue
		}
		h, ok := parseHours(f)
		if !ok {
			return env.Reply(ctx, env.T("manage.digest_usage", "max", maxDigestHours))
		}
		hours = h
	}
	if !env.View.Covers(conv) {
		return env.Reply(ctx, env.T("manage.digest_other_chat"))
	}
	turns, err := t.history.Window(ctx, conv, t.cfg.DigestReadTokens)
	if err != nil {
		return fmt.Errorf("manage: digest: read history: %w", err)
	}
	since := t.now().Add(-time.Duration(hours) * time.Hour)
	self := env.Message().ID
	var span []bot.Turn
	for _, tu := range turns {
		if tu.Time.Before(since) || strings.HasPrefix(strings.TrimSpace(tu.Text), "/") {
			continue
		}
		if tu.Role == bot.RoleUser && tu.MsgID == self && conv == env.Message().ConversationKey() {
			continue
		}
		span = append(span, tu)
	}
	facts := t.analyse(env, span, hours)
	if facts.Messages == 0 {
		return env.Reply(ctx, env.T("manage.digest_empty", "hours", hours))
	}
	var b strings.Builder
	b.WriteString(env.T("manage.digest_header", "hours", hours, "messages", facts.Messages, "people", facts.People))
	written, werr := t.writtenDigest(ctx, env, facts)
	switch {
	case werr == nil:
		// The model's words may repeat what members wrote: mask them as
		// every quote is.
		b.WriteString("\n\n" + bot.MaskPII(strings.TrimSpace(written)))
		t.writeUnanswered(&b, env, facts)
		t.writeMembers(&b, env, facts)
	default:
		if !errors.Is(werr, errOffline) {
			t.log.Warn("manage: digest: model failed, sending the extractive digest", "err", werr)
		}
		t.writeTopics(&b, env, facts)
		t.writeUnanswered(&b, env, facts)
		b.WriteString("\n\n" + env.T("manage.digest_mood", "mood", facts.Mood))
		t.writeMembers(&b, env, facts)
		if !errors.Is(werr, errOffline) {
			b.WriteString("\n\n" + env.T("manage.digest_llm_failed"))
		}
	}
	return env.Reply(ctx, b.String())
}

// parseHours reads "24", "24h" or "2d".
func parseHours(s string) (int, bool) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "h"):
		s = strings.TrimSuffix(s, "h")
	case strings.HasSuffix(s, "d"):
		s, mult = strings.TrimSuffix(s, "d"), 24
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n*mult > maxDigestHours {
		return 0, false
	}
	return n * mult, true
}

// analyse computes the digest's facts from the turns of the span.
func (t *Tools) analyse(env *bot.Env, span []bot.Turn, hours int) digestFacts {
	f := digestFacts{Hours: hours, Turns: span}
	counts := map[string]*member{}
	var users []bot.Turn
	var texts []string
	for _, tu := range span {
		if tu.Role != bot.RoleUser {
			continue
		}
		users = append(users, tu)
		texts = append(texts, tu.Text)
		m := counts[tu.User]
		if m == nil {
			m = &member{Name: tu.Name} // never the user's id
			counts[tu.User] = m
		}
		m.Count++
	}
	f.Messages, f.People = len(users), len(counts)
	for _, m := range counts {
		f.Members = append(f.Members, *m)
	}
	sort.Slice(f.Members, func(i, j int) bool {
		if f.Members[i].Count != f.Members[j].Count {
			return f.Members[i].Count > f.Members[j].Count
		}
		return f.Members[i].Name < f.Members[j].Name
	})
	if len(f.Members) > maxMembers {
		f.Members = f.Members[:maxMembers]
	}
	f.Topics = clusterTopics(users)
	f.Unanswered = unanswered(span)
	if t.mood != nil {
		f.Mood = t.mood(texts)
	} else {
		pos, neg := moodCounts(texts)
		f.Mood = describeMood(env, pos, neg, len(texts))
	}
	return f
}

func describeMood(env *bot.Env, pos, neg, n int) string {
	key := "manage.mood_neutral"
	switch {
	case pos == 0 && neg == 0:
	case pos >= 2*neg && pos*5 >= n:
		key = "manage.mood_positive"
	case neg >= 2*pos && neg*5 >= n:
		key = "manage.mood_negative"
	case pos > 0 && neg > 0:
		key = "manage.mood_mixed"
	}
	return env.T(key, "pos", pos, "neg", neg)
}

// clusterTopics groups messages into threads by shared terms: the most
// widespread term not yet used seeds a thread with every unassigned
// message containing it, and the thread is named by its seed and the
// terms most common among its messages.
//
// Threads are named by surface words as people wrote them ("arrived",
// "燕麦奶"), never by stems.
func clusterTopics(users []bot.Turn) []topic {
	sets := make([]map[string]bool, len(users))
	df := map[string]int{}
	var labels textkit.Labels
	for i, tu := range users {
		sets[i] = topicSet(tu.Text, &labels)
		for term := range sets[i] {
			df[term]++
		}
	}
	assigned := make([]bool, len(users))
	var out []topic
	for _, seed := range topTerms(df, len(df), 2) {
		if len(out) == maxTopics {
			break
		}
		var members []int
		for i, s := range sets {
			if !assigned[i] && s[seed] {
				members = append(members, i)
			}
		}
		if len(members) < 2 {
			continue
		}
		inner := map[string]int{}
		for _, i := range members {
			assigned[i] = true
			for term := range sets[i] {
				if term != seed {
					inner[term]++
				}
			}
		}
		tp := topic{Terms: append([]string{seed}, topTerms(inner, 2, 2)...), Count: len(members)}
		// Examples: the messages that carry most of the thread's terms,
		// longer ones first among equals.
		sort.SliceStable(members, func(a, b int) bool {
			sa, sb := overlap(sets[members[a]], tp.Terms), overlap(sets[members[b]], tp.Terms)
			if sa != sb {
				return sa > sb
			}
			return len(users[members[a]].Text) > len(users[members[b]].Text)
		})
		for _, i := range members[:min(2, len(members))] {
			tp.Examples = append(tp.Examples, users[i])
		}
		out = append(out, tp)
	}
	for i := range out {
		for j, term := range out[i].Terms {
			out[i].Terms[j] = labels.Label(term)
		}
	}
	return out
}

func overlap(s map[string]bool, ts []string) int {
	n := 0
	for _, x := range ts {
		if s[x] {
			n++
		}
	}
	return n
}

// unanswered lists the user questions left unanswered, by the definition
// /gaps shares (unansweredQuestion): nobody answered (no later reply of
// the bot to the asker, the next message not from someone else, and no
// later message from someone else sharing a term with the question), or
// the bot's reply was an honest "I don't know" (bot.Turn.Unanswered).
func unanswered(span []bot.Turn) []bot.Turn {
	sets := make([]map[string]bool, len(span))
	setOf := func(i int) map[string]bool {
		if sets[i] == nil {
			sets[i] = termSet(span[i].Text)
		}
		return sets[i]
	}
	var out []bot.Turn
	for i, q := range span {
		if q.Role != bot.RoleUser {
			continue
		}
		answered, botSaidNo := false, false
		for j := i + 1; j < len(span) && !answered; j++ {
			r := span[j]
			switch {
			case r.Role == bot.RoleAssistant && r.User == q.User:
				answered, botSaidNo = true, r.Unanswered
			case r.Role == bot.RoleUser && r.User != q.User && (j == i+1 || jaccard(setOf(i), setOf(j)) > 0):
				answered = true
			}
		}
		if unansweredQuestion(q.Text, answered, botSaidNo) {
			out = append(out, q)
		}
	}
	return out
}

func (t *Tools) writeTopics(b *strings.Builder, env *bot.Env, f digestFacts) {
	if len(f.Topics) == 0 {
		b.WriteString("\n\n" + env.T("manage.digest_no_topics"))
		return
	}
	b.WriteString("\n\n" + env.T("manage.digest_topics"))
	for _, tp := range f.Topics {
		b.WriteString("\n• " + env.T("manage.digest_topic", "terms", strings.Join(tp.Terms, ", "), "count", tp.Count))
		for _, ex := range tp.Examples {
			fmt.Fprintf(b, "\n   – %s", env.Quote(ex.Name, ex.Text, 160))
		}
	}
}

func (t *Tools) writeUnanswered(b *strings.Builder, env *bot.Env, f digestFacts) {
	if len(f.Unanswered) == 0 {
		b.WriteString("\n\n" + env.T("manage.digest_all_answered"))
		return
	}
	b.WriteString("\n\n" + env.T("manage.digest_unanswered", "count", len(f.Unanswered)))
	for _, q := range f.Unanswered[:min(maxUnanswered, len(f.Unanswered))] {
		fmt.Fprintf(b, "\n• %s", env.Quote(q.Name, q.Text, 200))
	}
}

func (t *Tools) writeMembers(b *strings.Builder, env *bot.Env, f digestFacts) {
	parts := make([]string, 0, len(f.Members))
	for _, m := range f.Members {
		name := m.Name
		if name == "" {
			name = env.T("someone")
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", name, m.Count))
	}
	b.WriteString("\n\n" + env.T("manage.digest_members", "members", strings.Join(parts, ", ")))
}

// errOffline says the model is the offline provider or unreachable: the
// caller falls back to what it can do without one.
var errOffline = errors.New("manage: no language model")

// complete calls the engine's model and reports the call as an event. A
// response of the offline provider, or an error wrapping
// bot.ErrLLMUnavailable, becomes errOffline.
func (t *Tools) complete(ctx context.Context, env *bot.Env, req bot.Request) (bot.Response, error) {
	if t.model == nil {
		return bot.Response{}, errOffline
	}
	start := time.Now()
	resp, err := t.model.Complete(ctx, req)
	outcome := bot.OutcomeOK
	if err != nil {
		outcome = bot.OutcomeError
		if errors.Is(err, bot.ErrLLMTimeout) || errors.Is(err, context.DeadlineExceeded) {
			outcome = bot.OutcomeTimeout
		}
	}
	env.Emit(bot.Event{Kind: bot.EventLLMCall, Model: resp.Model, Purpose: req.Purpose, Outcome: outcome, Duration: time.Since(start), Usage: resp.Usage})
	switch {
	case errors.Is(err, bot.ErrLLMUnavailable):
		return resp, fmt.Errorf("%w: %w", errOffline, err)
	case err != nil:
		return resp, fmt.Errorf("manage: llm: %w", err)
	case resp.Offline:
		return resp, errOffline
	}
	return resp, nil
}

// userText is the text of the last user message of a prompt: what the
// offline provider reads as the request's Query.
func userText(msgs []bot.ChatMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == bot.RoleUser {
			return msgs[i].Content
		}
	}
	return ""
}

// writtenDigest has the model write the digest: the transcript is cut into
// chunks within DigestChunkTokens, each summarised (map), and the partial
// summaries with the computed facts are written into one digest (reduce).
// A short chat is one call.
func (t *Tools) writtenDigest(ctx context.Context, env *bot.Env, f digestFacts) (string, error) {
	chunks := t.chunkTurns(f.Turns, env.Persona().BotName)
	if len(chunks) == 0 || t.prompts == nil {
		return "", errOffline
	}
	if len(chunks) == 1 {
		return t.reduce(ctx, env, f, nil, transcript(chunks[0], env.Persona().BotName))
	}
	partials, err := t.mapChunks(ctx, env, chunks)
	if err != nil {
		return "", err
	}
	for round := 0; round < maxReduceRounds; round++ {
		if t.count(strings.Join(partials, "\n")) <= t.cfg.DigestChunkTokens || len(partials) == 1 {
			break
		}
		partials, err = t.regroup(ctx, env, partials)
		if err != nil {
			return "", err
		}
	}
	return t.reduce(ctx, env, f, partials, "")
}

func (t *Tools) count(s string) int { return t.tokens.Count(s) }

// chunkTurns cuts turns into consecutive runs whose transcript lines fit
// DigestChunkTokens less the prompt's overhead. A single line longer than
// that is clipped.
func (t *Tools) chunkTurns(turns []bot.Turn, botName string) [][]bot.Turn {
	budget := max(t.cfg.DigestChunkTokens-digestOverhead, 50)
	var out [][]bot.Turn
	var cur []bot.Turn
	used := 0
	for _, tu := range turns {
		n := t.count(line(tu, botName)) + 1
		if n > budget {
			tu.Text = clip(tu.Text, budget/2)
			n = t.count(line(tu, botName)) + 1
		}
		if used+n > budget && len(cur) > 0 {
			out = append(out, cur)
			cur, used = nil, 0
		}
		cur = append(cur, tu)
		used += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func line(tu bot.Turn, botName string) string {
	name := tu.Name
	if tu.Role == bot.RoleAssistant {
		name = botName
	}
	if name == "" {
		name = tu.Role
	}
	return name + ": " + strings.ReplaceAll(tu.Text, "\n", " ")
}

func transcript(turns []bot.Turn, botName string) string {
	var b strings.Builder
	for i, tu := range turns {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line(tu, botName))
	}
	return b.String()
}

// mapChunks summarises each chunk, at most DigestParallel at a time, and
// returns the partial summaries in chunk order. The first offline or
// failed call fails the whole step.
func (t *Tools) mapChunks(ctx context.Context, env *bot.Env, chunks [][]bot.Turn) ([]string, error) {
	return t.summarise(ctx, env, chunks, false)
}

// summarise runs one summary call per chunk; regroup says the chunks are
// partial summaries rather than messages.
func (t *Tools) summarise(ctx context.Context, env *bot.Env, chunks [][]bot.Turn, regroup bool) ([]string, error) {
	p := env.Persona()
	out := make([]string, len(chunks))
	errs := make([]error, len(chunks))
	sem := make(chan struct{}, t.cfg.DigestParallel)
	var wg sync.WaitGroup
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, ch := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("manage: digest map panicked: %v\n%s", r, debug.Stack())
					cancel()
				}
			}()
			select {
			case sem <- struct{}{}:
			case <-mctx.Done():
				errs[i] = mctx.Err()
				return
			}
			defer func() { <-sem }()
			msgs, err := t.prompts.DigestPart(bot.DigestPartInput{Persona: p, Lang: env.Lang, Part: i + 1, Parts: len(chunks),
				Regroup: regroup, Transcript: transcript(ch, p.BotName)})
			if err != nil {
				errs[i] = fmt.Errorf("manage: digest prompt: %w", err)
				cancel()
				return
			}
			resp, err := t.complete(mctx, env, bot.Request{Purpose: bot.PurposeDigest, Lang: env.Lang, Persona: p, Turns: ch, MaxTokens: 300,
				Query: userText(msgs), Messages: msgs})
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			out[i] = strings.TrimSpace(resp.Text)
		}()
	}
	wg.Wait()
	// Prefer the cause over the cancellations it triggered.
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
		if err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return out, nil
}

// regroup folds partial summaries that don't fit one reduce call into
// fewer, longer ones.
func (t *Tools) regroup(ctx context.Context, env *bot.Env, partials []string) ([]string, error) {
	budget := max(t.cfg.DigestChunkTokens-digestOverhead, 50)
	var groups [][]bot.Turn
	var cur []bot.Turn
	used := 0
	for _, s := range partials {
		n := t.count(s) + 1
		if used+n > budget && len(cur) > 0 {
			groups = append(groups, cur)
			cur, used = nil, 0
		}
		cur = append(cur, bot.Turn{Role: bot.RoleUser, Name: "summary", Text: s})
		used += n
	}
	groups = append(groups, cur)
	if len(groups) >= len(partials) {
		// Each partial alone fills a call: merge pairwise instead.
		groups = groups[:0]
		for i := 0; i < len(partials); i += 2 {
			g := []bot.Turn{{Role: bot.RoleUser, Name: "summary", Text: partials[i]}}
			if i+1 < len(partials) {
				g = append(g, bot.Turn{Role: bot.RoleUser, Name: "summary", Text: partials[i+1]})
			}
			groups = append(groups, g)
		}
	}
	return t.summarise(ctx, env, groups, true)
}

// reduce writes the digest from partial summaries (or, for a short chat,
// the transcript itself) and the computed facts.
func (t *Tools) reduce(ctx context.Context, env *bot.Env, f digestFacts, partials []string, transcriptText string) (string, error) {
	p := env.Persona()
	in := bot.DigestInput{Persona: p, Lang: env.Lang, Hours: f.Hours, Messages: f.Messages, People: f.People, Mood: f.Mood,
		Partials: partials, Transcript: transcriptText}
	for _, tp := range f.Topics {
		in.Topics = append(in.Topics, bot.DigestTopic{Terms: tp.Terms, Count: tp.Count})
	}
	for _, q := range f.Unanswered[:min(maxUnanswered, len(f.Unanswered))] {
		in.Unanswered = append(in.Unanswered, bot.DigestQuestion{Name: q.Name, Text: q.Text})
	}
	msgs, err := t.prompts.Digest(in)
	if err != nil {
		return "", fmt.Errorf("manage: digest prompt: %w", err)
	}
	resp, err := t.complete(ctx, env, bot.Request{Purpose: bot.PurposeDigest, Lang: env.Lang, Persona: p, MaxTokens: 600, Query: userText(msgs),
		Messages: msgs})
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(resp.Text) == "" {
		return "", errors.New("manage: digest: empty answer")
	}
	return resp.Text, nil
}
