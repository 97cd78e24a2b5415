package telegram

import (
	"context"
	"sync"

	"github.com/go-telegram/bot/models"
)

// dispatchers is how many goroutines hand updates to the engine. The
// engine's Accept waits for a disk sync; with one goroutine the adapter
// could take no more updates per second than the disk syncs, with several
// the store commits their Accepts together. Updates of one chat always go
// to the same dispatcher, so they reach the engine in order.
const dispatchers = 8

// dispatcherQueue bounds the updates waiting per dispatcher; a full queue
// blocks the poller (back-pressure), it does not grow.
const dispatcherQueue = 4

// dispatch fans updates out by chat, in order within a chat.
type dispatch struct {
	queues [dispatchers]chan *models.Update
	wg     sync.WaitGroup
}

// start launches the dispatchers; they run handle until stop.
func (d *dispatch) start(handle func(*models.Update)) {
	for i := range d.queues {
		d.queues[i] = make(chan *models.Update, dispatcherQueue)
		d.wg.Add(1)
		go func(q chan *models.Update) {
			defer d.wg.Done()
			for upd := range q {
				handle(upd)
			}
		}(d.queues[i])
	}
}

// send queues upd on its chat's dispatcher, blocking while that one is
// full, until ctx ends.
func (d *dispatch) send(ctx context.Context, upd *models.Update) bool {
	q := d.queues[uint64(updateChatID(upd))%dispatchers]
	select {
	case q <- upd:
		return true
	case <-ctx.Done():
		return false
	}
}

// stop closes the queues and waits for what they hold to be handled.
func (d *dispatch) stop() {
	for _, q := range d.queues {
		close(q)
	}
	d.wg.Wait()
}

// updateChatID is the chat an update belongs to, 0 when it has none.
func updateChatID(u *models.Update) int64 {
	for _, m := range []*models.Message{u.Message, u.EditedMessage, u.ChannelPost, u.EditedChannelPost} {
		if m != nil {
			return m.Chat.ID
		}
	}
	return 0
}
