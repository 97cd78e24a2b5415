package telegram

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/go-telegram/bot/models"
)

// allowedUpdates are the update kinds Chorus reads, for getUpdates and
// setWebhook: messages, their edits, channel posts, the presses of the
// feedback buttons, and chat_member (members joining: Telegram sends it only
// when asked, and only to a bot that administers the chat).
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateEditedMessage,
	models.AllowedUpdateChannelPost, models.AllowedUpdateEditedChannelPost, models.AllowedUpdateCallbackQuery,
	models.AllowedUpdateChatMember}

// Polling bounds.
const (
	// pollLimit is how many updates one getUpdates returns at most (the
	// Bot API's maximum).
	pollLimit = 100
	// pollWorkers is how many lanes of a batch are handed to the engine
	// at once.
	pollWorkers = 8
	// maxPollBackoff caps the wait between failed polls, and between
	// retries of a batch the engine could not accept.
	maxPollBackoff = 30 * time.Second
)

// errPollToken is getUpdates' answer when Telegram rejects the token.
var errPollToken = errors.New("telegram: getUpdates: token rejected")

// pollError is a failed getUpdates; retryAfter is set for a 429.
type pollError struct {
	code       int
	desc       string
	retryAfter time.Duration
}

func (e *pollError) Error() string {
	return fmt.Sprintf("telegram: getUpdates: %d %s", e.code, e.desc)
}

// poll is the long-poll loop. An update is confirmed to Telegram (by the
// offset of the next getUpdates) only once the engine's Handle returned
// for it and for every update before it: Handle returns after the
// message is written to the store (Accept), so a crash at any moment
// loses no update: Telegram delivers again what was not confirmed, and
// the store drops what it had already accepted. When the engine cannot
// take an update (the store failed, the queue is full until shutdown)
// that update and the ones after it stay unconfirmed and are asked for
// again after a pause.
func (a *Adapter) poll(ctx context.Context) error {
	var offset, confirmed int64
	pollB := bot.Backoff{Min: a.retryBase, Max: maxPollBackoff}
	handleB := bot.Backoff{Min: a.retryBase, Max: maxPollBackoff}
	defer func() {
		if offset > confirmed {
			// Confirm what was handled, so that the next start is not
			// sent it again (it would be dropped as a duplicate anyway).
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			_, _ = a.getUpdates(cctx, offset, 0, 1)
		}
	}()
	for {
		upds, err := a.getUpdates(ctx, offset, a.pollWait(), pollLimit)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errPollToken) {
			return fmt.Errorf("%w: %w", bot.ErrFatal, err)
		}
		if err != nil {
			wait := pollB.Next()
			var pe *pollError
			if errors.As(err, &pe) && pe.retryAfter > wait {
				wait = pe.retryAfter
			}
			a.log.Warn("getUpdates failed; polling again", "err", err, "in", wait)
			if bot.Sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		pollB.Reset()
		confirmed = offset
		if len(upds) == 0 {
			continue
		}
		next, herr := a.deliver(ctx, upds)
		offset = max(offset, next)
		if ctx.Err() != nil {
			return nil
		}
		if herr != nil {
			wait := handleB.Next()
			a.log.Warn("an update could not be accepted; asking Telegram for it again", "err", herr, "in", wait)
			if bot.Sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		handleB.Reset()
	}
}

// pollWait is the long-poll timeout Telegram is asked for: a second less
// than the client's, in whole seconds.
func (a *Adapter) pollWait() int {
	return max(int((a.cfg.PollTimeout - time.Second).Seconds()), 1)
}

// deliver hands a batch of updates to the engine and returns the offset
// that confirms what it took: one past the last update when every one was
// accepted, else the id of the first one that was not (with its error).
//
// Updates are handed over in lanes, in parallel: a chat's updates in
// order, and in a group each member's in order (different members of a
// group may be accepted in either order, as the engine answers them). A
// lane stops at its first failure, so a member's later message is never
// accepted before an earlier one.
func (a *Adapter) deliver(ctx context.Context, upds []*models.Update) (int64, error) {
	lanes := map[string][]*models.Update{}
	var order []string
	for _, u := range upds {
		k := laneOf(u)
		if _, ok := lanes[k]; !ok {
			order = append(order, k)
		}
		lanes[k] = append(lanes[k], u)
	}
	var (
		mu       sync.Mutex
		firstBad int64 = math.MaxInt64
		badErr   error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, pollWorkers)
	)
	for _, k := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(lane []*models.Update) {
			defer func() { <-sem; wg.Done() }()
			for _, u := range lane {
				if err := a.handleUpdate(ctx, u); err != nil {
					mu.Lock()
					if u.ID < firstBad {
						firstBad, badErr = u.ID, err
					}
					mu.Unlock()
					return
				}
			}
		}(lanes[k])
	}
	wg.Wait()
	if badErr != nil {
		return firstBad, badErr
	}
	return upds[len(upds)-1].ID + 1, nil
}

// laneOf is the lane of an update within a batch: its chat, and in a
// group its author too.
func laneOf(u *models.Update) string {
	for _, m := range []*models.Message{u.Message, u.EditedMessage, u.ChannelPost, u.EditedChannelPost} {
		if m == nil {
			continue
		}
		k := strconv.FormatInt(m.Chat.ID, 10)
		if m.Chat.Type != models.ChatTypePrivate && m.From != nil {
			k += "/" + strconv.FormatInt(m.From.ID, 10)
		}
		return k
	}
	// A member joining (chat_member): its chat.
	if u.ChatMember != nil {
		return strconv.FormatInt(u.ChatMember.Chat.ID, 10)
	}
	// A press of a feedback button: its chat and the follower who pressed.
	if cq := u.CallbackQuery; cq != nil && cq.Message.Message != nil {
		return strconv.FormatInt(cq.Message.Message.Chat.ID, 10) + "/" + strconv.FormatInt(cq.From.ID, 10)
	}
	return ""
}

// getUpdates asks for the updates from offset on (confirming those
// before it), waiting up to wait seconds for one to arrive.
func (a *Adapter) getUpdates(ctx context.Context, offset int64, wait, limit int) ([]*models.Update, error) {
	params := map[string]any{"offset": offset, "limit": limit, "timeout": wait, "allowed_updates": allowedUpdates}
	r, status, err := callJSON[[]*models.Update](ctx, a, "getUpdates", params, 64<<20)
	switch {
	case errors.Is(err, errUndecodable):
		return nil, &pollError{code: status, desc: "undecodable answer"}
	case err != nil:
		return nil, fmt.Errorf("telegram: getUpdates: %w", err)
	}
	if !r.OK {
		if r.ErrorCode == http.StatusUnauthorized || r.ErrorCode == http.StatusNotFound {
			return nil, errPollToken
		}
		pe := &pollError{code: r.ErrorCode, desc: r.Description}
		if r.Parameters.RetryAfter > 0 {
			pe.retryAfter = time.Duration(r.Parameters.RetryAfter) * time.Second
		}
		return nil, pe
	}
	return r.Result, nil
}
