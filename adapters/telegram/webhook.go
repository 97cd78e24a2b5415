package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/chorusbot/chorus/bot"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// secretHeader carries the webhook secret Telegram was given.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// webhookPath is the path of the public URL, "/" when it has none.
func (a *Adapter) webhookPath() string {
	if u, err := url.Parse(a.cfg.Webhook.PublicURL); err == nil && u.Path != "" {
		return u.Path
	}
	return "/"
}

// WebhookHandler is the http.Handler that receives updates in webhook
// mode; Run serves it on Webhook.Listen. A request without the right
// secret gets 401 and is not read; a malformed body gets 400; a handler
// refusal (engine closing) gets 503 so that Telegram redelivers. At most
// maxWebhookInFlight requests are handled at once; more wait their turn.
func (a *Adapter) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, statusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get(secretHeader)
		if subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.Webhook.Secret)) != 1 {
			a.log.Warn("webhook request with a wrong secret", "remote", r.RemoteAddr)
			http.Error(w, statusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, statusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		var upd models.Update
		if err := json.Unmarshal(body, &upd); err != nil || upd.ID == 0 {
			a.events.Emit(bot.Event{Kind: bot.EventAdapter, Platform: PlatformName, State: bot.AdapterBadUpdate})
			http.Error(w, statusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		select {
		case a.whSem <- struct{}{}:
		case <-r.Context().Done():
			http.Error(w, statusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		defer func() { <-a.whSem }()
		a.ctxMu.RLock()
		base := a.handleCtx
		a.ctxMu.RUnlock()
		// Handle under the adapter's context, but give up waiting for
		// the engine when Telegram hangs up.
		ctx, cancel := context.WithCancel(base)
		defer cancel()
		stop := context.AfterFunc(r.Context(), cancel)
		defer stop()
		if err := a.handleUpdate(ctx, &upd); errors.Is(err, bot.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// Not taken: Telegram will deliver it again.
			http.Error(w, statusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// runWebhook serves WebhookHandler on Webhook.Listen and, when PublicURL
// is set, registers it with setWebhook, until ctx ends.
func (a *Adapter) runWebhook(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Webhook.Listen)
	if err != nil {
		return fmt.Errorf("telegram: webhook listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(a.webhookPath(), a.WebhookHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	a.whMu.Lock()
	a.whAddr = ln.Addr().String()
	a.whMu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("webhook listening", "addr", ln.Addr().String(), "path", a.webhookPath())

	if a.cfg.Webhook.PublicURL != "" {
		go a.setWebhook(ctx)
	}
	select {
	case err := <-errc:
		a.setConnected(false)
		return fmt.Errorf("telegram: webhook serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.log.Warn("webhook shutdown", "err", err)
	}
	a.setConnected(false)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("telegram: webhook serve: %w", err)
	}
	return nil
}

// setWebhook registers the public URL, retrying with back-off until it
// succeeds or ctx ends.
func (a *Adapter) setWebhook(ctx context.Context) {
	b := bot.Backoff{Min: a.retryBase, Max: time.Minute}
	for {
		err := a.do(ctx, "setWebhook", 1, func(ctx context.Context) error {
			_, err := a.api.SetWebhook(ctx, &tg.SetWebhookParams{URL: a.cfg.Webhook.PublicURL, SecretToken: a.cfg.Webhook.Secret,
				MaxConnections: maxWebhookInFlight,
				AllowedUpdates: allowedUpdates})
			return err
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		wait := b.Next()
		a.log.Warn("setWebhook failed, retrying", "err", err, "in", wait)
		if bot.Sleep(ctx, wait) != nil {
			return
		}
	}
}
