package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	tg "github.com/go-telegram/bot"
)

// apiReply is the Bot API's answer: ok, and the result or the error.
type apiReply[T any] struct {
	OK          bool   `json:"ok"`
	Result      T      `json:"result"`
	Description string `json:"description"`
	ErrorCode   int    `json:"error_code"`
	Parameters  struct {
		RetryAfter      int `json:"retry_after"`
		MigrateToChatID int `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// errUndecodable marks an answer that is not the Bot API's JSON (a
// proxy's error page).
var errUndecodable = errors.New("error decode response body")

// callJSON posts params to a Bot API method as a JSON body (which the Bot
// API accepts for every method without a file) and decodes the answer, of
// at most limit bytes; status is the HTTP status. Its errors never hold
// the token, which is in the URL.
func callJSON[T any](ctx context.Context, a *Adapter, method string, params any, limit int64) (r apiReply[T], status int, err error) {
	body, err := json.Marshal(params)
	if err != nil {
		return r, 0, fmt.Errorf("error build request for method %s, %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.APIURL+"/bot"+a.cfg.Token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return r, 0, fmt.Errorf("error create request for method %s: bad API URL", method)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.client.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, and the URL holds the token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return r, 0, fmt.Errorf("error do request for method %s, %w", method, err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(io.LimitReader(res.Body, limit)).Decode(&r); err != nil {
		return r, res.StatusCode, fmt.Errorf("%w for method %s, %w", errUndecodable, method, err)
	}
	return r, res.StatusCode, nil
}

// postJSON calls a Bot API method with params as a JSON body and decodes
// the result into dest. The library sends every method as
// multipart/form-data, built by reflection in a goroutine behind a pipe:
// for the text methods a reply streams through (sendMessage,
// editMessageText) that cost more than the request itself. Errors are the
// library's, with its sentinels and types (tg.ErrorBadRequest,
// *tg.TooManyRequestsError, ...), so that do's retries and the callers'
// checks read them alike.
func (a *Adapter) postJSON(ctx context.Context, method string, params, dest any) error {
	r, _, err := callJSON[json.RawMessage](ctx, a, method, params, 16<<20)
	if err != nil {
		return err
	}
	if !r.OK {
		return apiError(method, r.ErrorCode, r.Description, r.Parameters.RetryAfter, r.Parameters.MigrateToChatID)
	}
	if dest != nil {
		if err := json.Unmarshal(r.Result, dest); err != nil {
			return fmt.Errorf("error decode response result for method %s, %w", method, err)
		}
	}
	return nil
}

// apiError is the error go-telegram/bot returns for a Bot API answer that
// is not ok.
func apiError(method string, code int, desc string, retryAfter, migrateTo int) error {
	switch code {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tg.ErrorForbidden, desc)
	case http.StatusBadRequest:
		if migrateTo != 0 {
			return &tg.MigrateError{Message: fmt.Sprintf("%s: %s", tg.ErrorBadRequest, desc), MigrateToChatID: migrateTo}
		}
		return fmt.Errorf("%w, %s", tg.ErrorBadRequest, desc)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tg.ErrorUnauthorized, desc)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tg.ErrorNotFound, desc)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tg.ErrorConflict, desc)
	case http.StatusTooManyRequests:
		return &tg.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", tg.ErrorTooManyRequests, desc), RetryAfter: retryAfter}
	default:
		return fmt.Errorf("error response from telegram for method %s, %d %s", method, code, desc)
	}
}
