package bot

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Each package declares its own section of the configuration (the engine's
// is Config, with Roles and Persona beside it) with its yaml tags, its
// defaults and a Validate method that names every bad field by its YAML
// path within the section. Package configs decodes the file, prefixes the
// paths with the section's and reports every problem at once. The helpers
// below are the checks the sections share.

// FieldError is a bad field of a configuration section: its YAML path
// within the section ("webhook.listen") and what is wrong with it and
// allowed.
type FieldError struct {
	Path string
	Msg  string
}

// Error returns "path: msg".
func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Field returns the path and the message; package configs prefixes the
// path with the section's.
func (e *FieldError) Field() (path, msg string) { return e.Path, e.Msg }

// Problems collects the FieldErrors of a Validate method, so that every
// problem is reported at once. The zero value is ready.
type Problems struct{ errs []error }

// Add records a problem with the field at path.
func (p *Problems) Add(path, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the problems joined, nil when there is none.
func (p *Problems) Err() error { return errors.Join(p.errs...) }

// NonNegative checks an int, float or duration that must be 0 or more.
func (p *Problems) NonNegative(path string, v any) {
	switch v := v.(type) {
	case int:
		if v < 0 {
			p.Add(path, "must be 0 or more, got %d", v)
		}
	case float64:
		if v < 0 || v != v {
			p.Add(path, "must be 0 or more, got %v", v)
		}
	case time.Duration:
		if v < 0 {
			p.Add(path, "must be a duration of 0 or more such as \"30s\", got %s", v)
		}
	default:
		panic(fmt.Sprintf("bot: Problems.NonNegative: %T", v))
	}
}

// Positive checks a duration that must be more than 0.
func (p *Problems) Positive(path string, d time.Duration) {
	if d <= 0 {
		p.Add(path, "must be a positive duration such as \"30s\", got %s", d)
	}
}

// NotBlank checks every item of a list that must not be empty or blank.
func (p *Problems) NotBlank(path string, items []string) {
	for i, s := range items {
		if strings.TrimSpace(s) == "" {
			p.Add(fmt.Sprintf("%s[%d]", path, i), "must not be empty")
		}
	}
}

// OneOf checks that v is one of allowed (an empty v is reported too).
func OneOf[T ~string](p *Problems, path string, v T, allowed ...T) {
	if slices.Contains(allowed, v) {
		return
	}
	qs := make([]string, len(allowed))
	for i, a := range allowed {
		qs[i] = strconv.Quote(string(a))
	}
	var want string
	switch len(qs) {
	case 1:
		want = qs[0]
	case 2:
		want = qs[0] + " or " + qs[1]
	default:
		want = strings.Join(qs[:len(qs)-1], ", ") + " or " + qs[len(qs)-1]
	}
	p.Add(path, "must be %s, got %q", want, string(v))
}

// URL checks an absolute URL with one of schemes and a host. The value is
// quoted only with its credentials hidden (RedactURL), since URLs may
// carry them.
func (p *Problems) URL(path, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil {
		p.Add(path, "must be a URL with scheme %s, got an unparsable value", strings.Join(schemes, " or "))
		return
	}
	if !slices.Contains(schemes, strings.ToLower(u.Scheme)) || u.Host == "" {
		p.Add(path, "must be an absolute URL with scheme %s, got %q", strings.Join(schemes, " or "), RedactURL(raw))
	}
}

// Listen checks a host:port listen address (the host may be empty).
func (p *Problems) Listen(path, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.Add(path, "must be host:port such as \"127.0.0.1:9464\" or \":8443\", got %q", addr)
		return
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		p.Add(path, "port must be a number from 0 to 65535, got %q", port)
	}
	if strings.ContainsAny(host, " /") {
		p.Add(path, "host must be a name or an IP address, got %q", host)
	}
}

// Regexps checks that each pattern compiles (Go RE2 syntax).
func (p *Problems) Regexps(path string, res []string) {
	for i, re := range res {
		if _, err := regexp.Compile(re); err != nil {
			p.Add(fmt.Sprintf("%s[%d]", path, i), "must be a valid regular expression (Go RE2 syntax): %v", err)
		}
	}
}

// IDs checks platform ids that must be integers (Telegram user and chat
// ids, Discord snowflakes); what names them in the message.
func (p *Problems) IDs(path string, ids []string, what string) {
	for i, id := range ids {
		if _, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64); err != nil {
			p.Add(fmt.Sprintf("%s[%d]", path, i), "must be a numeric %s, got %q", what, id)
		}
	}
}

// ChatIDs checks the values of a map of chat ids by platform
// (managers_channel): none may be empty.
func (p *Problems) ChatIDs(path string, m map[string]string) {
	for _, k := range SortedKeys(m) {
		if strings.TrimSpace(m[k]) == "" {
			p.Add(path+"."+k, "must be a chat id, got an empty string")
		}
	}
}

// SortedKeys returns the keys of m, sorted, so that problems are reported
// in a stable order.
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Redaction replaces secrets shown to a person (check-config, errors).
const Redaction = "[redacted]"

// RedactURL hides the user info of a URL ("https://u:p@host" becomes
// "https://[redacted]@host") and the values of its secret query
// parameters ("?api-key=[redacted]"); other values are returned as they
// are.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") || strings.Contains(raw, "?") {
			return Redaction
		}
		return raw
	}
	changed := false
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if SecretParam(k) {
				q[k] = []string{Redaction}
				changed = true
			}
		}
		if changed {
			u.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(Redaction), Redaction)
		}
	}
	if u.User == nil {
		if !changed {
			return raw
		}
		return u.String()
	}
	u.User = nil
	s := u.String()
	scheme := u.Scheme + "://"
	if strings.HasPrefix(s, scheme) {
		return scheme + Redaction + "@" + strings.TrimPrefix(s, scheme)
	}
	return Redaction
}

// SecretParam reports whether a URL query parameter holds a secret
// (?api-key=, ?token=, ...).
func SecretParam(k string) bool {
	k = strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(k))
	switch k {
	case "apikey", "key", "token", "accesstoken", "secret", "password", "passwd", "sig", "signature", "auth", "code":
		return true
	}
	return false
}

// URLSecrets returns the secrets a URL carries: its password and the
// values of its secret query parameters, for the redaction in front of
// the logs.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
	}
	for k, vs := range u.Query() {
		if SecretParam(k) {
			out = append(out, vs...)
		}
	}
	return out
}
