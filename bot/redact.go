package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces a secret in text that goes to a log or to a user.
const Redacted = "[redacted]"

// Shapes of secrets that are found without being configured: a platform
// or proxy may echo them back in an error page or a JSON description.
var (
	// Telegram bot tokens, as a URL path ("/bot123456:AAE...") or bare.
	reTelegramToken = regexp.MustCompile(`\b(bot)?[0-9]{5,16}:[A-Za-z0-9_-]{30,}`)
	// Discord bot tokens: three base64url parts.
	reDiscordToken = regexp.MustCompile(`\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}`)
	// Authorization and Proxy-Authorization header values, in header,
	// JSON or Go-map form; the scheme word is kept.
	reAuthHeader = regexp.MustCompile(`(?i)((?:proxy-)?authorization["']?\s*[:=]\s*\[?["']?)(?:(bearer|basic|bot|token)\s+)?[^\s"',;\]]+`)
	// A bearer credential anywhere.
	reBearer = regexp.MustCompile(`(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}`)
	// OpenAI-style API keys, also when a provider shows them half-masked.
	reAPIKey = regexp.MustCompile(`\bsk-[A-Za-z0-9_*.-]{8,}`)
	// Secret-looking URL query parameters (?api-key=..., &token=...).
	reQuerySecret = regexp.MustCompile(`(?i)([?&](?:api[-_]?key|key|token|access[-_]?token|secret|password|passwd|sig|signature|auth|code)=)[^&\s"'#]+`)
)

// Redactor removes secrets from text: the values it was given (tokens, API
// keys, webhook secrets) in any of the forms they take in a URL, Telegram
// and Discord bot tokens, Authorization header values, bearer credentials,
// OpenAI-style keys and secret URL query parameters, wherever they appear.
// It is the one step in front of every log handler (Handler) and every
// error text shown to a person. The zero value redacts the shapes only. It
// is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// NewRedactor returns a Redactor for the given secret values; empty ones
// are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers more secret values (a configuration loaded later).
// Values shorter than 6 characters are ignored: replacing "abc" in every
// log line would hide more than it protects.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) < 6 {
			continue
		}
		for _, form := range []string{s, strings.TrimPrefix(s, "Bot "), url.PathEscape(s), url.QueryEscape(s)} {
			if len(form) >= 6 && !slices.Contains(r.secrets, form) {
				r.secrets = append(r.secrets, form)
			}
		}
	}
	// Longest first, so a secret that contains another goes whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Redact returns s with every secret replaced by Redacted. A nil Redactor
// redacts the shapes only.
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	if r != nil {
		r.mu.RLock()
		for _, sec := range r.secrets {
			if strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Redacted)
			}
		}
		r.mu.RUnlock()
	}
	if digitsColon(s) {
		s = reTelegramToken.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasPrefix(m, "bot") {
				return "bot" + Redacted
			}
			return Redacted
		})
	}
	if longRun(s, 24) {
		s = reDiscordToken.ReplaceAllString(s, Redacted)
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "authorization") {
		s = reAuthHeader.ReplaceAllStringFunc(s, func(m string) string {
			sub := reAuthHeader.FindStringSubmatch(m)
			out := sub[1]
			if sub[2] != "" {
				out += sub[2] + " "
			}
			return out + Redacted
		})
	}
	if strings.Contains(lower, "bearer") {
		s = reBearer.ReplaceAllString(s, "$1 "+Redacted)
	}
	if strings.Contains(s, "sk-") {
		s = reAPIKey.ReplaceAllString(s, Redacted)
	}
	if strings.ContainsAny(s, "?&") && strings.Contains(s, "=") {
		s = reQuerySecret.ReplaceAllString(s, "${1}"+Redacted)
	}
	return s
}

// digitsColon reports whether s has five digits in a row followed by a
// colon, as a Telegram bot token has; most log lines don't, and then the
// token's regexp is not run.
func digitsColon(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			run++
		case c == ':' && run >= 5:
			return true
		default:
			run = 0
		}
	}
	return false
}

// longRun reports whether s has n token characters (letters, digits, _ and
// -) in a row, as every part of a Discord token's first segment has.
func longRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			if run++; run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// RedactError returns err's text redacted, "" for nil.
func (r *Redactor) RedactError(err error) string {
	if err == nil {
		return ""
	}
	return r.Redact(err.Error())
}

// Handler wraps h so that every record's message and attribute values
// (strings, errors, anything printed with %v, in groups too) are redacted
// before h sees them.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	if rh, ok := h.(*redactHandler); ok && rh.r == r {
		return h
	}
	return &redactHandler{r: r, next: h}
}

type redactHandler struct {
	r    *Redactor
	next slog.Handler
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &redactHandler{r: h.r, next: h.next.WithAttrs(red)}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{r: h.r, next: h.next.WithGroup(name)}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = h.attr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.r.Redact(x.Error()))
		case []byte:
			return slog.String(a.Key, h.r.Redact(string(x)))
		case nil:
			return a
		default:
			// Structs, slices, maps: what the handler would print.
			return slog.String(a.Key, h.r.Redact(fmt.Sprintf("%+v", x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
