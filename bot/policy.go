package bot

import (
	"context"
	"fmt"
)

// handle runs the pipeline for one message and reports whether the store
// already marked it done.
func (e *Engine) handle(ctx context.Context, m *Message, q queued) (bool, error) {
	p, ok := e.Platform(m.Platform)
	if !ok {
		return false, fmt.Errorf("%w: %q", ErrUnknownPlatform, m.Platform)
	}
	auth := e.AuthorityOf(m)
	role := auth.Role
	lang := q.lang
	if lang == "" {
		lang = e.langOf(m)
	}
	env := &Env{e: e, Platform: p, Lang: lang, Role: role, Auth: auth, View: e.ViewOf(m, auth), Received: q.received, msg: m, replay: q.replay}

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
			return e.stopped(ctx, m, lang, q), nil
		}
	}
	conv := m.ConversationKey()
	// A message recorded with its intake (handleRecorded) is stored.
	if _, err := e.record(ctx, m, lang, conv, q.recorded); err != nil {
		// Accepted but not recorded (a full disk): say so, once; it
		// stays pending and is handled again (process).
		if q.tries == 0 && !m.Edited && (m.Command != nil || e.shouldAnswer(m)) {
			if rerr := env.Reply(ctx, env.T("store_failed")); rerr != nil {
				e.log.Warn("send notice failed", "err", rerr)
			}
		}
		return false, &storeError{fmt.Errorf("bot: store message: %w", err)}
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

// stopped handles a message an inspector stopped: it is not kept in the
// conversation, but its author was seen. A turn stored at a one-commit
// intake (recorded; or, on a replay, perhaps before a crash) is taken
// back, with the message marked done, and stopped reports true.
func (e *Engine) stopped(ctx context.Context, m *Message, lang string, q queued) bool {
	if !q.recorded { // a recorded message's author was seen at intake
		if err := e.store.Touch(ctx, m, lang); err != nil {
			e.log.Warn("profile update failed", "err", err)
		}
	}
	if e.intake == nil || !q.recorded && (!q.replay || m.Edited) {
		return false
	}
	if err := e.intake.Dismiss(ctx, m, m.ConversationKey()); err != nil {
		e.log.Warn("remove a stopped message's turn failed", "err", err)
		return false
	}
	return true
}

// record stores m's turn and touches its author's profile
// (Store.Incoming), unless that was done at intake (recorded).
func (e *Engine) record(ctx context.Context, m *Message, lang, conv string, recorded bool) (uint64, error) {
	if recorded {
		return 0, nil
	}
	return e.store.Incoming(ctx, m, lang, conv, e.userTurn(m))
}

// langOf is the language m is written in.
func (e *Engine) langOf(m *Message) string {
	// A command's name is English whatever the user speaks: judge the
	// language by its arguments, and by the locale when there are none.
	langText := m.Text
	if m.Command != nil {
		langText = m.Command.Args
	}
	return DetectLang(langText, m.Author.Lang, e.catalog)
}

// userTurn is the turn that stores m.
func (e *Engine) userTurn(m *Message) Turn {
	text := m.Text
	if m.Command != nil {
		if spec, ok := e.Command(m.Command.Name); ok && spec.PrivateArgs {
			text = "/" + m.Command.Name // the user it names is not ours to keep
		}
	}
	return Turn{Role: RoleUser, User: m.UserKey(), Name: m.Author.Name,
		MsgID: m.ID, Text: text, Time: m.Time, Tokens: e.tokens.Count(text)}
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

// storeError is a failure to record a message being handled: the message
// is not marked done, and is handled again.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }
