package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// sendAttempts bounds tries of one send on network errors and 5xx.
const sendAttempts = 4

// Telegram error descriptions the adapter reacts to.
const (
	descNotModified    = "message is not modified"
	descCantParse      = "can't parse entities"
	descDeleteNotFound = "message to delete not found"
)

var statusRe = regexp.MustCompile(`error response from telegram for method \S+, (\d{3}) `)

// transient reports whether err is worth retrying: a network error, an
// undecodable answer (a proxy's error page) or a 5xx. Known 4xx answers,
// 429 and context errors are not.
func transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case tg.IsTooManyRequestsError(err), tg.IsMigrateError(err),
		errors.Is(err, tg.ErrorBadRequest), errors.Is(err, tg.ErrorForbidden), errors.Is(err, tg.ErrorUnauthorized),
		errors.Is(err, tg.ErrorNotFound), errors.Is(err, tg.ErrorConflict):
		return false
	}
	if m := statusRe.FindStringSubmatch(err.Error()); m != nil {
		code, _ := strconv.Atoi(m[1])
		return code >= 500
	}
	return true
}

// do runs op, retrying transient failures with back-off up to attempts
// times. A 429 becomes *bot.RateLimitError for the caller to wait out.
// Errors are wrapped "telegram: OP: ...".
func (a *Adapter) do(ctx context.Context, op string, attempts int, fn func(context.Context) error) error {
	b := bot.Backoff{Min: a.retryBase, Max: 10 * time.Second}
	var err error
	for try := 1; ; try++ {
		err = fn(ctx)
		var tmr *tg.TooManyRequestsError
		if errors.As(err, &tmr) {
			ra := time.Duration(tmr.RetryAfter) * time.Second
			if ra <= 0 {
				ra = time.Second
			}
			return fmt.Errorf("telegram: %s: %w", op, &bot.RateLimitError{RetryAfter: ra, Op: op})
		}
		if !transient(err) || try >= attempts || ctx.Err() != nil {
			break
		}
		a.log.Debug("retrying Bot API call", "op", op, "try", try, "err", err)
		if serr := bot.Sleep(ctx, b.Next()); serr != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("telegram: %s: %w", op, err)
	}
	return nil
}

func parseChat(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("telegram: bad chat id %q: %w", id, err)
	}
	return n, nil
}

func parseInt(what, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("telegram: bad %s %q: %w", what, s, err)
	}
	return n, nil
}

// render formats text for HTML parse mode; text whose HTML would show
// nothing (only markers) goes as plain text.
func render(text string) (string, models.ParseMode) {
	html := FormatHTML(text)
	if strings.TrimSpace(plainText(html)) == "" {
		return text, ""
	}
	return html, models.ParseModeHTML
}

func cantParse(err error) bool { return err != nil && strings.Contains(err.Error(), descCantParse) }

// Send implements bot.Platform: sendMessage as a reply (in the topic, if
// any), or sendPhoto (PNG) / sendDocument for attachments with the text
// as caption when it fits. It returns the id of the last message sent.
func (a *Adapter) Send(ctx context.Context, out bot.Out) (string, error) {
	chat, err := parseChat(out.Chat.ID)
	if err != nil {
		return "", err
	}
	thread, err := parseInt("thread id", out.Chat.Thread)
	if err != nil {
		return "", err
	}
	replyTo, err := parseInt("reply-to id", out.ReplyTo)
	if err != nil {
		return "", err
	}
	var reply *models.ReplyParameters
	if replyTo > 0 {
		reply = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	text := strings.TrimSpace(out.Text)
	if len(out.Attachments) == 0 {
		if text == "" {
			return "", errors.New("telegram: send: empty message")
		}
		return a.sendText(ctx, chat, thread, reply, text, feedbackMarkup(out))
	}
	caption := ""
	var last string
	if text != "" && len(out.Attachments) == 1 && a.Limits().Len(text) <= maxCaption-24 {
		caption = text
	} else if text != "" {
		if last, err = a.sendText(ctx, chat, thread, reply, text, nil); err != nil {
			return "", err
		}
		reply = nil
	}
	for i, att := range out.Attachments {
		c := ""
		if i == 0 {
			c = caption
		}
		id, err := a.sendFile(ctx, chat, thread, reply, att, c)
		if err != nil {
			return last, err
		}
		last, reply = id, nil
	}
	return last, nil
}

// feedbackMarkup is the 👍/👎 inline keyboard an answer's final message
// carries (bot.Out.Feedback), nil for any other message.
func feedbackMarkup(out bot.Out) models.ReplyMarkup {
	if !out.Final || out.Feedback == "" {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
		{Text: "👍", CallbackData: bot.FeedbackData(bot.RatingUp, out.Feedback)},
		{Text: "👎", CallbackData: bot.FeedbackData(bot.RatingDown, out.Feedback)},
	}}}
}

func (a *Adapter) sendText(ctx context.Context, chat int64, thread int, reply *models.ReplyParameters, text string, markup models.ReplyMarkup) (string, error) {
	body, mode := render(text)
	p := &tg.SendMessageParams{ChatID: chat, MessageThreadID: thread, Text: body, ParseMode: mode,
		ReplyParameters: reply, LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()}, ReplyMarkup: markup}
	var msg *models.Message
	send := func(ctx context.Context) error { msg = nil; return a.postJSON(ctx, "sendMessage", p, &msg) }
	err := a.do(ctx, "sendMessage", sendAttempts, send)
	if cantParse(err) {
		a.log.Warn("Telegram refused the formatted reply; sending plain text")
		p.Text, p.ParseMode = text, ""
		err = a.do(ctx, "sendMessage", sendAttempts, send)
	}
	if err != nil {
		return "", err
	}
	if msg == nil {
		return "", errors.New("telegram: sendMessage: no message in the answer")
	}
	return strconv.Itoa(msg.ID), nil
}

func (a *Adapter) sendFile(ctx context.Context, chat int64, thread int, reply *models.ReplyParameters, att bot.Attachment, caption string) (string, error) {
	body, mode := "", models.ParseMode("")
	if caption != "" {
		body, mode = render(caption)
	}
	name := att.Name
	if name == "" {
		name = "file"
	}
	isPNG := att.MIME == "image/png" || (att.MIME == "" && bytes.HasPrefix(att.Data, []byte("\x89PNG\r\n\x1a\n")))
	var msg *models.Message
	op := "sendDocument"
	if isPNG {
		op = "sendPhoto"
	}
	send := func(ctx context.Context) (err error) {
		// A reader is consumed by each try: make a fresh one.
		file := &models.InputFileUpload{Filename: name, Data: bytes.NewReader(att.Data)}
		if isPNG {
			msg, err = a.api.SendPhoto(ctx, &tg.SendPhotoParams{ChatID: chat, MessageThreadID: thread, Photo: file,
				Caption: body, ParseMode: mode, ReplyParameters: reply})
		} else {
			msg, err = a.api.SendDocument(ctx, &tg.SendDocumentParams{ChatID: chat, MessageThreadID: thread, Document: file,
				Caption: body, ParseMode: mode, ReplyParameters: reply})
		}
		return err
	}
	err := a.do(ctx, op, sendAttempts, send)
	if cantParse(err) {
		body, mode = caption, ""
		err = a.do(ctx, op, sendAttempts, send)
	}
	if err != nil {
		return "", err
	}
	return strconv.Itoa(msg.ID), nil
}

// Edit implements bot.Platform with editMessageText. An edit to the same
// text is not an error.
func (a *Adapter) Edit(ctx context.Context, out bot.Out, id string) error {
	chat, err := parseChat(out.Chat.ID)
	if err != nil {
		return err
	}
	mid, err := parseInt("message id", id)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(out.Text)
	if text == "" {
		return errors.New("telegram: edit: empty message")
	}
	body, mode := render(text)
	p := &tg.EditMessageTextParams{ChatID: chat, MessageID: mid, Text: body, ParseMode: mode,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()}, ReplyMarkup: feedbackMarkup(out)}
	edit := func(ctx context.Context) error { return a.postJSON(ctx, "editMessageText", p, nil) }
	err = a.do(ctx, "editMessageText", sendAttempts, edit)
	if cantParse(err) {
		a.log.Warn("Telegram refused the formatted edit; sending plain text")
		p.Text, p.ParseMode = text, ""
		err = a.do(ctx, "editMessageText", sendAttempts, edit)
	}
	if err != nil && strings.Contains(err.Error(), descNotModified) {
		return nil
	}
	return err
}

// Delete implements bot.Platform with deleteMessage. A message already
// gone is not an error.
func (a *Adapter) Delete(ctx context.Context, chat bot.Chat, id string) error {
	c, err := parseChat(chat.ID)
	if err != nil {
		return err
	}
	mid, err := parseInt("message id", id)
	if err != nil {
		return err
	}
	err = a.do(ctx, "deleteMessage", sendAttempts, func(ctx context.Context) error {
		_, err := a.api.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: c, MessageID: mid})
		return err
	})
	if err != nil && strings.Contains(err.Error(), descDeleteNotFound) {
		return nil
	}
	return err
}

// Typing implements bot.Platform with sendChatAction "typing". It is not
// retried: the next tick sends another.
func (a *Adapter) Typing(ctx context.Context, chat bot.Chat) error {
	c, err := parseChat(chat.ID)
	if err != nil {
		return err
	}
	thread, err := parseInt("thread id", chat.Thread)
	if err != nil {
		return err
	}
	return a.do(ctx, "sendChatAction", 1, func(ctx context.Context) error {
		_, err := a.api.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: c, MessageThreadID: thread, Action: models.ChatActionTyping})
		return err
	})
}

// Restrict implements bot.Platform with restrictChatMember: every
// permission off until the given time. Telegram treats an until date less
// than 30 seconds or more than 366 days away as forever.
func (a *Adapter) Restrict(ctx context.Context, chat bot.Chat, userID string, until time.Time) error {
	c, err := parseChat(chat.ID)
	if err != nil {
		return err
	}
	uid, err := strconv.ParseInt(userID, 10, 64)
	if err != nil {
		return fmt.Errorf("telegram: restrict: bad user id %q: %w", userID, err)
	}
	if chat.Kind == bot.ChatDM {
		return fmt.Errorf("telegram: restrict in a private chat: %w", bot.ErrUnsupported)
	}
	var untilDate int
	if !until.IsZero() {
		untilDate = int(until.Unix())
	}
	return a.do(ctx, "restrictChatMember", sendAttempts, func(ctx context.Context) error {
		_, err := a.api.RestrictChatMember(ctx, &tg.RestrictChatMemberParams{ChatID: c, UserID: uid,
			Permissions: &models.ChatPermissions{}, UseIndependentChatPermissions: true, UntilDate: untilDate})
		return err
	})
}

// Ban implements bot.Platform with banChatMember.
func (a *Adapter) Ban(ctx context.Context, chat bot.Chat, userID string) error {
	c, err := parseChat(chat.ID)
	if err != nil {
		return err
	}
	uid, err := strconv.ParseInt(userID, 10, 64)
	if err != nil {
		return fmt.Errorf("telegram: ban: bad user id %q: %w", userID, err)
	}
	if chat.Kind == bot.ChatDM {
		return fmt.Errorf("telegram: ban in a private chat: %w", bot.ErrUnsupported)
	}
	return a.do(ctx, "banChatMember", sendAttempts, func(ctx context.Context) error {
		_, err := a.api.BanChatMember(ctx, &tg.BanChatMemberParams{ChatID: c, UserID: uid})
		return err
	})
}

var _ bot.MemberCounter = (*Adapter)(nil)

// MemberCount implements bot.MemberCounter with getChatMemberCount: the
// members of a group, or the subscribers of a channel.
func (a *Adapter) MemberCount(ctx context.Context, chat bot.Chat) (int, error) {
	c, err := parseChat(chat.ID)
	if err != nil {
		return 0, err
	}
	var n int
	err = a.do(ctx, "getChatMemberCount", sendAttempts, func(ctx context.Context) error {
		var err error
		n, err = a.api.GetChatMemberCount(ctx, &tg.GetChatMemberCountParams{ChatID: c})
		return err
	})
	return n, err
}

// isAdmin reports whether user administers chat, from a cache refreshed by
// getChatAdministrators every AdminCacheTTL. A failed lookup counts as "no"
// and is retried after a short while.
func (a *Adapter) isAdmin(ctx context.Context, chat, user int64) bool {
	if ids, ok := a.admins.get(chat, time.Now()); ok {
		return ids[user]
	}
	var members []models.ChatMember
	err := a.do(ctx, "getChatAdministrators", 1, func(ctx context.Context) (err error) {
		members, err = a.api.GetChatAdministrators(ctx, &tg.GetChatAdministratorsParams{ChatID: chat})
		return err
	})
	if err != nil {
		a.log.Debug("getChatAdministrators failed", "err", err)
		a.admins.put(chat, map[int64]bool{}, time.Now(), time.Minute)
		return false
	}
	ids := map[int64]bool{}
	for _, m := range members {
		switch {
		case m.Owner != nil && m.Owner.User != nil:
			ids[m.Owner.User.ID] = true
		case m.Administrator != nil:
			ids[m.Administrator.User.ID] = true
		}
	}
	a.admins.put(chat, ids, time.Now(), 0)
	return ids[user]
}

type adminEntry struct {
	ids     map[int64]bool
	expires time.Time
}

// adminCache holds chat administrators per chat. Entries expire; the map
// is swept when it grows, so it follows active chats.
type adminCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[int64]adminEntry
}

func (c *adminCache) get(chat int64, now time.Time) (map[int64]bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[chat]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.ids, true
}

func (c *adminCache) put(chat int64, ids map[int64]bool, now time.Time, ttl time.Duration) {
	if ttl <= 0 {
		ttl = c.ttl
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= 10000 {
		for k, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, k)
			}
		}
	}
	c.m[chat] = adminEntry{ids: ids, expires: now.Add(ttl)}
}

// statusText is used in webhook answers.
func statusText(code int) string { return http.StatusText(code) }
