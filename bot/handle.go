package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// Env is what a command or an inspector may reach while one message is
// handled: the message and where it came from, who wrote it and what the
// room may see, and a few narrow ways to act (reply, audit, emit an event,
// reach another platform, read the persona). A plug-in never holds the
// engine.
type Env struct {
	e        *Engine
	Platform Platform
	// Lang is the language chosen for the bot's words to this user.
	Lang string
	// Role is the author's effective role here (Auth.Role).
	Role Role
	// Auth is what the author may do, and where (Engine.AuthorityOf).
	Auth Authority
	// View is what the room the message was written in may see
	// (Engine.ViewOf): reports keep to it.
	View View
	// Received is when the message arrived.
	Received time.Time
	msg      *Message
	// done is set once the store has marked msg done (Store.Outgoing).
	done bool
}

// T translates a catalogue key into the user's language. The values of
// args are data (names, counts, what a user wrote): they are escaped for
// the platform's markup, so that a display name like
// "[Claim refund](https://evil.example)" shows as written and links
// nowhere. A caller that means to pass markup uses Catalog().T.
func (env *Env) T(key string, args ...any) string {
	if m := env.markup(); m != MarkupPlain {
		esc := make([]any, len(args))
		for i, a := range args {
			esc[i] = a
			if s, ok := a.(string); ok && i%2 == 1 {
				esc[i] = Escape(m, s)
			}
		}
		args = esc
	}
	return env.e.catalog.T(env.Lang, key, args...)
}

// Audit writes an entry to the audit log (its time, redaction of secrets
// and masking of personal data are the engine's).
func (env *Env) Audit(ctx context.Context, a AuditEntry) { env.e.audit(ctx, a) }

// Emit sends an event to the engine's observers (the metrics, analytics).
func (env *Env) Emit(ev Event) { env.e.events.Emit(ev) }

// PlatformFor returns another platform the engine speaks, by name: to
// notify the managers' channel, to post an announcement.
func (env *Env) PlatformFor(name string) (Platform, bool) { return env.e.Platform(name) }

// Persona is the persona in force.
func (env *Env) Persona() Persona { return env.e.Persona() }

// Redact removes secrets from text shown to a person (an error in a
// managers' notice); see Redactor.
func (env *Env) Redact(s string) string { return env.e.redactor.Redact(s) }

// Catalog is the bot's own messages, unescaped, in every language (for
// text that goes elsewhere than the message's chat: an alert to the
// managers).
func (env *Env) Catalog() *Catalog { return env.e.catalog }

// Esc escapes s (a name, a quote of what a user wrote) for the markup of
// the platform the message came from.
func (env *Env) Esc(s string) string { return Escape(env.markup(), s) }

func (env *Env) markup() Markup {
	if env.Platform == nil {
		return MarkupPlain
	}
	return env.Platform.Limits().Markup
}

// Reply sends text in the message's chat (in its thread), as a reply to it.
func (env *Env) Reply(ctx context.Context, text string) error {
	_, err := env.Send(ctx, Out{Text: text})
	return err
}

// Send sends out in the message's chat, filling Chat, ReplyTo and
// Interaction when unset, splitting it at the platform's length limit and
// waiting out rate limits. It returns the id of the last message sent.
func (env *Env) Send(ctx context.Context, out Out) (string, error) {
	if out.Chat.ID == "" {
		out.Chat = env.msg.Chat
		if out.ReplyTo == "" {
			out.ReplyTo = env.msg.ID
		}
		if out.Interaction == "" {
			out.Interaction = env.msg.Interaction
		}
	}
	out.Final = true
	return SendSplit(ctx, env.Platform, out)
}

// Message returns the message being handled.
func (env *Env) Message() *Message { return env.msg }

// process handles one message on its conversation's turn. It never panics.
func (e *Engine) process(q queued) {
	m := q.m
	if e.base.Err() != nil {
		return // closing: leave it pending for the next start
	}
	ctx, cancel := context.WithTimeout(e.base, e.cfg.HandlerTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("panic handling message", "platform", m.Platform, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			e.events.Emit(Event{Kind: EventPanic, Platform: m.Platform})
			// Mark it done: a message that panics would panic again on replay.
			if err := e.store.Done(context.Background(), &m); err != nil {
				e.log.Error("mark done after panic", "err", err)
			}
		}
	}()
	done, err := e.handle(ctx, &m, q)
	if err != nil {
		e.log.Warn("handling message failed", "platform", m.Platform, "err", err)
	}
	if ctx.Err() != nil && e.base.Err() != nil {
		return // cancelled by Close: replay later
	}
	if done {
		return
	}
	if err := e.store.Done(context.Background(), &m); err != nil {
		e.log.Error("mark message done", "platform", m.Platform, "err", err)
	}
}

// handle runs the pipeline for one message and reports whether the store
// already marked it done.
func (e *Engine) handle(ctx context.Context, m *Message, q queued) (bool, error) {
	p, ok := e.Platform(m.Platform)
	if !ok {
		return false, fmt.Errorf("%w: %q", ErrUnknownPlatform, m.Platform)
	}
	auth := e.AuthorityOf(m)
	role := auth.Role
	// A command's name is English whatever the user speaks: judge the
	// language by its arguments, and by the locale when there are none.
	langText := m.Text
	if m.Command != nil {
		langText = m.Command.Args
	}
	lang := DetectLang(langText, m.Author.Lang, e.catalog)
	env := &Env{e: e, Platform: p, Lang: lang, Role: role, Auth: auth, View: e.ViewOf(m, auth), Received: q.received, msg: m}

	e.events.Emit(Event{Kind: EventMessageReceived, Platform: m.Platform, ChatKind: m.Chat.Kind,
		Chat: m.ConversationKey(), User: m.UserKey(), Lang: lang, Text: m.Text, Time: q.received})

	if m.Author.IsBot {
		return false, nil
	}
	for _, in := range e.inspectors {
		v, err := in.Inspect(ctx, m, env)
		if err != nil {
			e.log.Warn("inspector failed", "platform", m.Platform, "err", err)
			continue
		}
		if v.Notice != "" {
			if err := env.Reply(ctx, v.Notice); err != nil {
				e.log.Warn("send notice failed", "err", err)
			}
		}
		if v.Stop {
			// Not stored in the conversation, but the author was seen.
			if err := e.store.Touch(ctx, m, lang); err != nil {
				e.log.Warn("profile update failed", "err", err)
			}
			return false, nil
		}
	}
	conv := m.ConversationKey()
	text := m.Text
	if m.Command != nil {
		if spec, ok := e.Command(m.Command.Name); ok && spec.PrivateArgs {
			text = "/" + m.Command.Name // the user it names is not ours to keep
		}
	}
	turn := Turn{Role: RoleUser, User: m.UserKey(), Name: m.Author.Name,
		MsgID: m.ID, Text: text, Time: m.Time, Tokens: e.tokens.Count(text)}
	if _, err := e.store.Incoming(ctx, m, lang, conv, turn); err != nil {
		return false, fmt.Errorf("bot: store message: %w", err)
	}
	if m.Edited {
		return false, nil // an edit updates the record; it is not a new question
	}
	if q.replay && e.answered(ctx, conv, m.ID) {
		// Accepted, answered and stored before the crash, but not marked
		// done: don't answer twice.
		return false, nil
	}
	if m.Command != nil {
		return env.done, e.runCommand(ctx, env, m)
	}
	if !e.shouldAnswer(m) {
		return false, nil
	}
	err := e.answer(ctx, env, m.Text)
	return env.done, err
}

// replyID is the MsgID stored on the bot's turn answering message id, so
// that a replay after a crash can tell the message was answered.
func replyID(id string) string { return "re:" + id }

// answered reports whether the recent history holds the bot's answer to
// message id.
func (e *Engine) answered(ctx context.Context, conv, id string) bool {
	win, err := e.store.Window(ctx, conv, 8*e.cfg.WindowTokens)
	if err != nil {
		return false
	}
	want := replyID(id)
	for i := len(win) - 1; i >= 0; i-- {
		if win[i].Role == RoleAssistant && win[i].MsgID == want {
			return true
		}
	}
	return false
}

// shouldAnswer is the reply policy: always in DMs; elsewhere when mentioned,
// replied to, or in an open chat.
func (e *Engine) shouldAnswer(m *Message) bool {
	switch {
	case m.Chat.Kind == ChatDM, m.Mentioned, m.ReplyToBot:
		return true
	case e.open[m.ConversationKey()], e.open[m.Chat.ID], e.open[ConversationKey(m.Platform, m.Chat.ID, "")]:
		return true
	}
	return false
}

// answer answers query for the message being handled with the LLM: rate
// limits and budgets, prompt assembly, streaming to the platform, output
// filtering, storing the reply, summary folding.
func (e *Engine) answer(ctx context.Context, env *Env, query string) error {
	m := env.msg
	now := e.now()
	uk, conv := m.UserKey(), m.ConversationKey()
	limited := func(reason LimitReason, msg string) error {
		e.events.Emit(Event{Kind: EventRateLimited, Platform: m.Platform, Reason: reason})
		e.events.Emit(Event{Kind: EventReplySent, Platform: m.Platform, Chat: conv, User: uk, Outcome: OutcomeLimited, Duration: e.now().Sub(env.Received)})
		return env.Reply(ctx, env.T(msg))
	}
	if env.Role < RoleManager {
		if !e.rate.allow(uk, now) {
			return limited(LimitRate, "rate_limited")
		}
		if e.budgets.over("u:"+uk, e.cfg.UserDailyTokens, now) || e.budgets.over("c:"+conv, e.cfg.ChatDailyTokens, now) {
			return limited(LimitBudget, "budget_exhausted")
		}
	}
	typingCtx, stopTyping := context.WithCancel(ctx)
	defer stopTyping()
	go e.keepTyping(typingCtx, env.Platform, m.Chat)

	req, g, ret, err := e.buildRequest(ctx, env, query)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, e.cfg.LLMTimeout)
	defer cancel()
	w := NewStreamWriter(env.Platform, Out{Chat: m.Chat, ReplyTo: m.ID, Interaction: m.Interaction})
	w.Gate = e.gate(g)
	w.MaxMessages, w.CapNote = e.cfg.ReplyMaxMessages, env.T("reply_capped")
	w.OnFirst = func() {
		stopTyping()
		e.events.Emit(Event{Kind: EventFirstToken, Platform: m.Platform, Chat: conv, Duration: e.now().Sub(env.Received)})
	}
	var (
		outcome  Outcome
		noAnswer bool
		req0     = req
	)
	// One attempt, and when a sentence is blocked one more with the
	// reason; then the fallback.
	for attempt := 0; ; attempt++ {
		start := e.now()
		_, usage, model, llmOutcome, said, streamErr := e.stream(lctx, req, w)
		noAnswer = said
		e.events.Emit(Event{Kind: EventLLMCall, Model: model, Purpose: PurposeChat, Outcome: llmOutcome,
			Duration: e.now().Sub(start), Usage: usage})
		if usage.Total() > 0 {
			e.budgets.add("u:"+uk, usage.Total(), now)
			e.budgets.add("c:"+conv, usage.Total(), now)
		}
		outcome = llmOutcome
		if outcome == OutcomeOK || outcome == OutcomeCut {
			w.End(lctx)
		}
		v, sentence, blocked := w.Blocked()
		if !blocked {
			if outcome != OutcomeOK && outcome != OutcomeCut {
				e.log.Warn("llm failed", "platform", m.Platform, "err", streamErr)
			}
			break
		}
		last := attempt > 0 || lctx.Err() != nil
		var next Request
		if !last {
			var rerr error
			if next, rerr = e.reask(req0, v.Reason); rerr != nil {
				e.log.Error("cannot ask again", "err", rerr)
				last = true
			}
		}
		e.outputBlocked(ctx, m, v, sentence, last)
		if last {
			w.Append(env.T("output_fallback"))
			outcome = OutcomeBlocked
			break
		}
		req = next
		w.Restart()
	}
	switch {
	case outcome == OutcomeBlocked:
	case w.Capped():
		w.Append(w.CapNote)
		outcome = OutcomeCut
	case outcome == OutcomeOK:
	case outcome == OutcomeCut:
		w.Append(env.T("cut"))
	case strings.TrimSpace(w.Text()) != "":
		// The model failed after a first attempt was blocked and
		// some of it had passed: end as a blocked reply would.
		w.Append(env.T("output_fallback"))
		outcome = OutcomeBlocked
	default:
		w.Set(env.T("apology"))
		outcome = OutcomeApology
	}
	// The final text must reach the user even when the answer's own
	// deadline passed: give it a fresh, short one.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer fcancel()
	if err := w.Finish(fctx); err != nil {
		outcome = OutcomeError
		e.events.Emit(Event{Kind: EventReplySent, Platform: m.Platform, Chat: conv, User: uk, Outcome: outcome, Duration: e.now().Sub(env.Received)})
		return fmt.Errorf("bot: send reply: %w", err)
	}
	// The user has the whole reply now; storing it is not their wait.
	shownAt := e.now()
	shown, _ := SanitizeText(w.Text())
	unanswered := e.kb != nil && (!ret.relevant || noAnswer)
	reply := Turn{Role: RoleAssistant, User: uk, Name: e.Persona().BotName,
		MsgID: replyID(m.ID), Text: shown, Time: e.now(), Tokens: e.tokens.Count(shown), Unanswered: unanswered}
	var topics []string
	for _, p := range req.Passages {
		topics = append(topics, p.Source)
	}
	if _, err := e.store.Outgoing(fctx, m, conv, reply, topics); err != nil {
		e.log.Error("store reply failed", "err", err)
	} else {
		env.done = true
	}
	e.events.Emit(Event{Kind: EventReplySent, Platform: m.Platform, Chat: conv, User: uk, Outcome: outcome, Duration: shownAt.Sub(env.Received)})
	if e.kb != nil && strings.TrimSpace(query) != "" && (outcome == OutcomeOK || outcome == OutcomeCut) {
		q := Event{Kind: EventQuestion, Platform: m.Platform, ChatKind: m.Chat.Kind, Chat: conv, User: uk, Lang: env.Lang, Text: query,
			Outcome: OutcomeOK, Label: ret.best.Source, Score: ret.best.Relevance}
		if unanswered {
			q.Outcome = OutcomeUnanswered
		}
		e.events.Emit(q)
	}
	if outcome == OutcomeOK || outcome == OutcomeCut {
		e.maybeFold(fctx, conv, env.Lang)
	}
	return nil
}

// gate is the check every sentence of an answer grounded in g passes
// before it is shown: pings the user did not write are removed, then the
// output checker judges it.
func (e *Engine) gate(g *Grounding) func(ctx context.Context, s string) (string, Violation) {
	return func(ctx context.Context, s string) (string, Violation) {
		s = StripPings(s, g.Query)
		if e.checker == nil {
			return s, Violation{}
		}
		return s, e.checker.CheckSentence(ctx, s, g)
	}
}

// outputBlocked audits and counts a blocked sentence. The sentence is kept
// in the audit log, masked, for managers to review.
func (e *Engine) outputBlocked(ctx context.Context, m *Message, v Violation, sentence string, final bool) {
	action := "reask"
	if final {
		action = "fallback"
	}
	kept := v.Masked
	if kept == "" {
		kept = MaskPII(sentence)
	}
	e.audit(ctx, AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Name: m.Author.Name, Actor: "output-checks",
		Kind: AuditOutputBlocked, Rule: string(v.Check.Known()), Action: action, Excerpt: Excerpt(kept, 300), Note: v.Detail})
	e.events.Emit(Event{Kind: EventOutputBlocked, Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(),
		Label: string(v.Check.Known()), Action: action})
}

// reask returns req asking the model once more, told why its draft was
// not sent. The note (Prompts.Reask) goes into the first system message,
// which every chat template accepts, rather than as a message of its own.
func (e *Engine) reask(req Request, reason string) (Request, error) {
	if reason == "" {
		reason = "part of your draft broke the rules of this chat"
	}
	note, err := e.prompts.Reask(reason)
	if err != nil {
		return req, fmt.Errorf("bot: assemble the re-ask: %w", err)
	}
	msgs := slices.Clone(req.Messages)
	i := slices.IndexFunc(msgs, func(c ChatMessage) bool { return c.Role == RoleSystem })
	if i < 0 {
		msgs = append([]ChatMessage{{Role: RoleSystem, Content: note}}, msgs...)
	} else {
		msgs[i].Content = strings.TrimRight(msgs[i].Content, "\n") + "\n\n" + note
	}
	req.Messages = msgs
	req.Reask = reason
	return req, nil
}

// stream runs the LLM and feeds w until the model ends or w stops (a
// blocked sentence, the cap). outcome is OutcomeOK (the model ended, or
// the writer stopped it), OutcomeCut (some text then failure),
// OutcomeTimeout or OutcomeError (nothing usable).
//
// NoAnswerMarker is taken out of the text before w sees it; noAnswer
// reports whether the model wrote it.
func (e *Engine) stream(ctx context.Context, req Request, w *StreamWriter) (text string, usage Usage, model string, outcome Outcome, noAnswer bool, err error) {
	model = "unknown"
	s, err := e.llm.Stream(ctx, req)
	if err != nil {
		return "", usage, model, failOutcome(err), false, err
	}
	defer s.Close()
	var b strings.Builder
	var mf markerFilter
	write := func(d string) {
		if d != "" {
			b.WriteString(d)
			w.Write(ctx, d)
		}
	}
	for {
		d, rerr := s.Recv()
		write(mf.Write(d))
		if rerr != nil {
			write(mf.Flush())
		}
		if rerr == io.EOF || (rerr == nil && w.Stopped()) {
			if r, ok := s.(interface{ Model() string }); ok {
				model = r.Model()
			}
			// What is shown is what passed the checks, the marker taken
			// out on the way: it is never replaced with unchecked text.
			text, _ = StripNoAnswer(b.String())
			return text, s.Usage(), model, OutcomeOK, mf.found, nil
		}
		if rerr != nil {
			if b.Len() > 0 {
				return b.String(), s.Usage(), model, OutcomeCut, mf.found, rerr
			}
			return "", s.Usage(), model, failOutcome(rerr), mf.found, rerr
		}
	}
}

func failOutcome(err error) Outcome {
	if errors.Is(err, ErrLLMTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return OutcomeTimeout
	}
	return OutcomeError
}

func (e *Engine) keepTyping(ctx context.Context, p Platform, chat Chat) {
	t := time.NewTicker(4 * time.Second)
	defer t.Stop()
	for {
		if err := p.Typing(ctx, chat); err != nil && !errors.Is(err, ErrUnsupported) && ctx.Err() == nil {
			e.log.Debug("typing failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// buildRequest gathers the prompt's parts and assembles it.
// The grounding returned is what the prompt holds, for the output checks.
func (e *Engine) buildRequest(ctx context.Context, env *Env, query string) (Request, *Grounding, retrieval, error) {
	m := env.msg
	conv := m.ConversationKey()
	persona := e.Persona()
	in := PromptInput{Persona: persona, Lang: env.Lang, Query: query, UserName: m.Author.Name, Now: e.now()}
	var contact []Passage
	var ret retrieval
	in.Passages, contact, ret = e.retrieve(ctx, query, env.Lang)
	in.Contact = contact
	if s, err := e.store.Summary(ctx, conv); err == nil {
		in.Summary = s.Text
	}
	win, err := e.store.Window(ctx, conv, e.cfg.WindowTokens)
	if err != nil {
		return Request{}, nil, ret, fmt.Errorf("bot: load window: %w", err)
	}
	// The window ends with the message being answered; the prompt puts
	// the question last on its own, so drop it from the window.
	if n := len(win); n > 0 && win[n-1].Role == RoleUser && win[n-1].MsgID == m.ID {
		win = win[:n-1]
	}
	in.Window = win
	if p, err := e.store.Profile(ctx, m.UserKey()); err == nil {
		in.Profile = &p
	}
	msgs, err := e.prompts.Answer(in)
	if err != nil {
		return Request{}, nil, ret, fmt.Errorf("bot: assemble prompt: %w", err)
	}
	g := &Grounding{Query: query, Lang: env.Lang, Persona: persona, Passages: append(slices.Clip(in.Passages), contact...),
		Window: win, Summary: in.Summary}
	return Request{Purpose: PurposeChat, Messages: msgs, MaxTokens: e.cfg.ReplyMaxTokens,
		Query: query, Lang: env.Lang, Passages: in.Passages, Contact: contact, Persona: persona}, g, ret, nil
}

// maybeFold folds turns that fell out of the window into the summary once
// there are SummaryEvery of them.
func (e *Engine) maybeFold(ctx context.Context, conv, lang string) {
	win, err := e.store.Window(ctx, conv, e.cfg.WindowTokens)
	if err != nil || len(win) == 0 {
		return
	}
	sum, err := e.store.Summary(ctx, conv)
	if err != nil {
		return
	}
	first := win[0].Seq
	if first <= sum.UpTo+1 || first-sum.UpTo-1 < uint64(e.cfg.SummaryEvery) {
		return
	}
	turns, err := e.store.Turns(ctx, conv, sum.UpTo+1, first-1, 1000)
	if err != nil || len(turns) == 0 {
		return
	}
	persona := e.Persona()
	msgs, err := e.prompts.Summary(SummaryInput{Persona: persona, Lang: lang, Previous: sum.Text, Turns: turns})
	if err != nil {
		e.log.Warn("assemble summary prompt", "err", err)
		return
	}
	req := Request{Purpose: PurposeSummary, Lang: lang, Turns: turns, Summary: sum.Text, Persona: persona, MaxTokens: 300,
		Messages: msgs}
	start := e.now()
	resp, err := e.llm.Complete(ctx, req)
	outcome := OutcomeOK
	if err != nil {
		outcome = failOutcome(err)
	}
	e.events.Emit(Event{Kind: EventLLMCall, Model: resp.Model, Purpose: PurposeSummary, Outcome: outcome, Duration: e.now().Sub(start), Usage: resp.Usage})
	if err != nil {
		e.log.Warn("summary failed", "err", err)
		return
	}
	users := map[string]bool{}
	for _, u := range sum.Users {
		users[u] = true
	}
	for _, t := range turns {
		users[t.User] = true
	}
	ns := Summary{Text: strings.TrimSpace(resp.Text), UpTo: turns[len(turns)-1].Seq, Updated: e.now()}
	for u := range users {
		ns.Users = append(ns.Users, u)
	}
	if err := e.store.SetSummary(ctx, conv, ns); err != nil {
		e.log.Warn("store summary failed", "err", err)
	}
}
