package campaigns

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
)

// SignatureHeader carries the signature of a conversion:
// "sha256=" + hex HMAC-SHA256 of the raw body with links.conversion_secret.
const SignatureHeader = "X-Chorus-Signature"

// maxConversionBody bounds a conversion's body.
const maxConversionBody = 16 << 10

// Handler serves the public side of the links: GET /l/{code} (the
// redirect) and POST /conversions. Mount it on the public listener for
// both paths.
func (c *Campaigns) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /l/{code}", c.serveRedirect)
	mux.HandleFunc("POST /conversions", c.serveConversion)
	return mux
}

// serveRedirect answers a click on a short link with a 302 to the link's
// stored target (never anything the request names: no open redirect),
// with the campaign's UTM parameters and a click id; a person's click is
// counted, a bot's or preview fetcher's is not. An unknown code is 404.
func (c *Campaigns) serveRedirect(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !codeRE.MatchString(code) {
		http.NotFound(w, r)
		return
	}
	l, ok, err := c.link(r.Context(), code)
	if err != nil {
		c.log.Warn("campaigns: reading a link failed", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	var id string
	if countable(r) {
		id, err = c.count(r.Context(), l, c.clientAddr(r))
		if err != nil {
			// The visitor still gets where they were going.
			c.log.Warn("campaigns: counting a click failed", "err", err)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target(l, id), http.StatusFound)
}

// Conversion is the body of POST /conversions.
type Conversion struct {
	// EventID identifies the event at the brand's side: a replay of it
	// is counted once.
	EventID string `json:"event_id"`
	// ClickID is the chorus_click the visitor arrived with.
	ClickID string `json:"click_id"`
	// Event names it: "signup", "purchase", ...
	Event    string   `json:"event"`
	Value    *float64 `json:"value,omitempty"`
	Currency string   `json:"currency,omitempty"`
}

// conversionRecord is what is kept of a conversion, by event id.
type conversionRecord struct {
	Conversion
	Campaign string    `json:"campaign"`
	Platform string    `json:"platform"`
	Chat     string    `json:"chat"`
	Time     time.Time `json:"time"`
}

// BucketConversions holds conversions by event id: a replay finds it.
const BucketConversions = "campaign_conversions"

// conversionReply is the JSON answer to POST /conversions.
type conversionReply struct {
	Status   string `json:"status"`
	Campaign string `json:"campaign,omitempty"`
	Error    string `json:"error,omitempty"`
}

func reply(w http.ResponseWriter, code int, r conversionReply) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(r)
}

// serveConversion takes a signed conversion: 401 for a bad or missing
// signature (or no secret configured), 400 for a body that is not a
// conversion, 404 for a click id Chorus did not issue, 200 "duplicate"
// for an event id already counted, 200 "counted" otherwise.
func (c *Campaigns) serveConversion(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConversionBody))
	if err != nil {
		reply(w, http.StatusRequestEntityTooLarge, conversionReply{Status: "error", Error: "body too large"})
		return
	}
	if !c.signed(r.Header.Get(SignatureHeader), body) {
		reply(w, http.StatusUnauthorized, conversionReply{Status: "error", Error: "missing or bad " + SignatureHeader})
		return
	}
	var cv Conversion
	if err := json.Unmarshal(body, &cv); err != nil {
		reply(w, http.StatusBadRequest, conversionReply{Status: "error", Error: "body is not a conversion: " + err.Error()})
		return
	}
	if msg := cv.problem(); msg != "" {
		reply(w, http.StatusBadRequest, conversionReply{Status: "error", Error: msg})
		return
	}
	status, campaign, err := c.convert(r.Context(), cv)
	switch {
	case err != nil:
		c.log.Warn("campaigns: recording a conversion failed", "err", err)
		reply(w, http.StatusServiceUnavailable, conversionReply{Status: "error", Error: "not recorded; try again"})
	case status == "unknown-click":
		reply(w, http.StatusNotFound, conversionReply{Status: "error", Error: "unknown click_id"})
	default:
		reply(w, http.StatusOK, conversionReply{Status: status, Campaign: campaign})
	}
}

// signed checks the signature header against the body.
func (c *Campaigns) signed(header string, body []byte) bool {
	if c.lcfg.ConversionSecret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(c.lcfg.ConversionSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the signature header value of body with secret, as the
// brand's site computes it.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// problem says what is wrong with a conversion, "" when nothing.
func (cv Conversion) problem() string {
	switch {
	case strings.TrimSpace(cv.EventID) == "" || len(cv.EventID) > 200 || !utf8.ValidString(cv.EventID):
		return "event_id is required (at most 200 characters)"
	case strings.TrimSpace(cv.ClickID) == "":
		return "click_id is required"
	case strings.TrimSpace(cv.Event) == "" || len(cv.Event) > 64 || !utf8.ValidString(cv.Event):
		return "event is required (at most 64 characters), such as \"signup\" or \"purchase\""
	case cv.Value != nil && (math.IsNaN(*cv.Value) || math.IsInf(*cv.Value, 0) || *cv.Value < 0):
		return "value must be a number, zero or more"
	case len(cv.Currency) > 8:
		return "currency must be a code such as \"EUR\""
	}
	return ""
}

// convert records cv once per event id and adds it to its click's
// campaign: "counted", or "duplicate" for an event id seen before, or
// "unknown-click".
func (c *Campaigns) convert(ctx context.Context, cv Conversion) (string, string, error) {
	code, _, ok := c.parseClick(ctx, cv.ClickID)
	if !ok {
		return "unknown-click", "", nil
	}
	l, ok, err := c.link(ctx, code)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "unknown-click", "", nil
	}
	c.fmu.Lock()
	defer c.fmu.Unlock()
	key := eventKey(cv.EventID)
	now := c.now()
	rec := conversionRecord{Conversion: cv, Campaign: l.Campaign, Platform: l.Platform, Chat: l.Chat, Time: now.UTC()}
	rec.Currency = strings.ToUpper(strings.TrimSpace(rec.Currency))
	// Recorded in one step of the KV (atomic on PostgreSQL), so that a
	// replay reaching another replica at the same moment counts once.
	err = bot.UpdateKV(ctx, c.kv, BucketConversions, key, func(_ []byte, found bool) ([]byte, error) {
		if found {
			return nil, errDuplicate
		}
		return json.Marshal(rec)
	})
	if errors.Is(err, errDuplicate) {
		return "duplicate", l.Campaign, nil
	}
	if err != nil {
		return "", "", err
	}
	value := 0.0
	if cv.Value != nil {
		value = *cv.Value
	}
	d := &Stats{Campaign: l.Campaign, Kind: l.Kind, Conversions: 1}
	day := now.In(c.loc).Format(time.DateOnly)
	inc(&d.ConversionDays, day, 1)
	inc(&d.Events, strings.ToLower(strings.TrimSpace(cv.Event)), 1)
	if cv.Value != nil {
		d.Values = map[string]float64{rec.Currency: value}
		d.ValueDays = map[string]float64{day + " " + rec.Currency: value}
	}
	cs := d.chat(l.Platform + "/" + l.Chat)
	cs.Conversions, cs.Value = 1, value
	if err := c.addStats(ctx, l.Campaign, d); err != nil {
		// Not counted: let the sender retry with the same event id.
		_ = c.kv.Delete(ctx, BucketConversions, key)
		return "", "", err
	}
	if h := c.getHost(); h != nil {
		h.Emit(bot.Event{Kind: bot.EventConversion, Platform: l.Platform, Chat: bot.ConversationKey(l.Platform, l.Chat, ""), Label: string(l.Kind), Score: value})
	}
	return "counted", l.Campaign, nil
}

// errDuplicate: the event id was counted before.
var errDuplicate = errors.New("campaigns: conversion already counted")

// eventKey is the key of an event id: a hash, so that any id fits.
func eventKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}
