package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

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
		allowed, overBudget := e.admit(ctx, uk, conv, now)
		if !allowed {
			return limited(LimitRate, "rate_limited")
		}
		if overBudget {
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
	// An answer carries the feedback buttons; one that ends otherwise
	// (an apology, the fallback) loses them before its final text.
	w := NewStreamWriter(env.Platform, Out{Chat: m.Chat, ReplyTo: m.ID, Interaction: m.Interaction, Feedback: m.ID})
	w.Gate = e.gate(g, m)
	w.MaxMessages, w.CapNote = e.cfg.ReplyMaxMessages, env.T("reply_capped")
	marker := e.sendMarker(ctx, env, w)
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
			e.spend(ctx, uk, conv, usage.Total(), now)
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
	case w.Capped() && strings.TrimSpace(w.Text()) == "":
		// Cut at reply_max_bytes before a sentence was shown.
		w.Set(env.T("apology"))
		outcome = OutcomeApology
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
	if outcome != OutcomeOK && outcome != OutcomeCut {
		w.NoFeedback()
	}
	// The final text must reach the user even when the answer's own
	// deadline passed: give it a fresh, short one.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer fcancel()
	if err := w.Finish(fctx); err != nil {
		marker.clear(fctx) // it is marked done: never replayed
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
	env.done = e.storeReply(fctx, m, conv, reply, topics)
	e.events.Emit(Event{Kind: EventReplySent, Platform: m.Platform, Chat: conv, User: uk, Outcome: outcome, Duration: shownAt.Sub(env.Received)})
	if env.done {
		marker.clear(fctx)
	}
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

// storeReply stores the reply shown (Store.Outgoing), trying again after
// a growing pause while the store cannot write (a full disk): the user
// has the reply, and storing it is what keeps a replay from answering
// again. It gives up after storeRetryFor or when the engine closes, and
// reports whether the reply was stored.
func (e *Engine) storeReply(ctx context.Context, m *Message, conv string, reply Turn, topics []string) bool {
	b := Backoff{Min: storeRetryMin, Max: storeRetryMax}
	until := time.Now().Add(storeRetryFor)
	for tries := 1; time.Now().Before(until); tries++ {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_, err := e.store.Outgoing(sctx, m, conv, reply, topics)
		cancel()
		if err == nil {
			return true
		}
		e.log.Error("store reply failed; trying again", "tries", tries, "err", err)
		if Sleep(e.base, b.Next()) != nil {
			return false
		}
	}
	return false
}

// gate is the check every sentence of an answer grounded in g passes
// before it is shown: pings the user did not write are removed, the
// output checker judges it, and what passed goes through the plug-ins'
// rewriters (tracked links), after the checks so that they judge what
// the model wrote; with no message (a preview) nothing is rewritten.
func (e *Engine) gate(g *Grounding, m *Message) func(ctx context.Context, s string) (string, Violation) {
	return func(ctx context.Context, s string) (string, Violation) {
		s = StripPings(s, g.Query)
		if e.checker != nil {
			if v := e.checker.CheckSentence(ctx, s, g); v.Blocked() {
				return s, v
			}
		}
		if m != nil {
			for _, r := range e.rewriters {
				s = r.RewriteSentence(ctx, s, m)
			}
		}
		return s, Violation{}
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
	read := 0
	for {
		d, rerr := s.Recv()
		if read += len(d); read > e.cfg.ReplyMaxBytes && rerr == nil {
			// A model that streams on and on: stop reading (Close
			// ends the request) and end the reply as a capped one.
			w.Cap()
			d = ""
			e.log.Warn("the model's answer is too long: cut", "max_bytes", e.cfg.ReplyMaxBytes)
		}
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
	// The window ends with the message being answered, the prompt puts
	// the question last on its own: drop it from the window, and in a
	// group what other members wrote after it (they are answered in
	// parallel), so the answer sees the history as it was asked in.
	for i := len(win) - 1; i >= 0; i-- {
		if win[i].Role == RoleUser && win[i].MsgID == m.ID {
			win = win[:i]
			break
		}
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
	e.fmu.Lock()
	if e.folding[conv] {
		e.fmu.Unlock()
		return // another member's answer is folding it; the next one checks again
	}
	e.folding[conv] = true
	e.fmu.Unlock()
	defer func() {
		e.fmu.Lock()
		delete(e.folding, conv)
		e.fmu.Unlock()
	}()
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
