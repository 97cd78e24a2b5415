package configs

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

// FieldError is one problem found by Validate: the field's YAML path
// ("telegram.webhook.listen") and what is wrong with it and allowed.
type FieldError struct {
	Path string
	Msg  string
}

// Error returns "path: msg", for example
// `telegram.mode: must be "polling" or "webhook", got "poll"`.
func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// FieldErrors unpacks the problems in an error returned by Validate (or
// anything wrapping one), in the order they were found.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects FieldErrors so Validate reports them all at once.
type problems struct{ errs []error }

func (p *problems) add(path, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// oneOf checks that v is one of allowed (an empty v is reported too).
func oneOf[T ~string](p *problems, path string, v T, allowed ...T) {
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
	p.add(path, "must be %s, got %q", want, string(v))
}

func nonNegInt(p *problems, path string, v int) {
	if v < 0 {
		p.add(path, "must be 0 or more, got %d", v)
	}
}

func nonNegFloat(p *problems, path string, v float64) {
	if v < 0 || v != v {
		p.add(path, "must be 0 or more, got %v", v)
	}
}

func nonNegDuration(p *problems, path string, d time.Duration) {
	if d < 0 {
		p.add(path, "must be a duration of 0 or more such as \"30s\", got %s", d)
	}
}

func positiveDuration(p *problems, path string, d time.Duration) {
	if d <= 0 {
		p.add(path, "must be a positive duration such as \"30s\", got %s", d)
	}
}

// checkURL checks an absolute URL with one of schemes and a host. The
// value is quoted only with its user info removed, since URLs may carry
// credentials.
func checkURL(p *problems, path, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil {
		p.add(path, "must be a URL with scheme %s, got an unparsable value", strings.Join(schemes, " or "))
		return
	}
	if !slices.Contains(schemes, strings.ToLower(u.Scheme)) || u.Host == "" {
		p.add(path, "must be an absolute URL with scheme %s, got %q", strings.Join(schemes, " or "), redactURL(raw))
	}
}

// checkListen checks a host:port listen address (host may be empty).
func checkListen(p *problems, path, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(path, "must be host:port such as \"127.0.0.1:9464\" or \":8443\", got %q", addr)
		return
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		p.add(path, "port must be a number from 0 to 65535, got %q", port)
	}
	if strings.ContainsAny(host, " /") {
		p.add(path, "host must be a name or an IP address, got %q", host)
	}
}

// checkRegexps checks that each pattern compiles.
func checkRegexps(p *problems, path string, res []string) {
	for i, re := range res {
		if _, err := regexp.Compile(re); err != nil {
			p.add(fmt.Sprintf("%s[%d]", path, i), "must be a valid regular expression (Go RE2 syntax): %v", err)
		}
	}
}

// checkIDs checks platform ids that must be integers (Telegram user and
// chat ids, Discord snowflakes).
func checkIDs(p *problems, path string, ids []string, what string) {
	for i, id := range ids {
		if _, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64); err != nil {
			p.add(fmt.Sprintf("%s[%d]", path, i), "must be a numeric %s, got %q", what, id)
		}
	}
}

// checkUserKeys checks "platform:id" user keys as the engine builds them.
func checkUserKeys(p *problems, path string, keys []string) {
	for i, k := range keys {
		plat, id, ok := strings.Cut(k, ":")
		if !ok || id == "" || !slices.Contains(Platforms, Platform(plat)) {
			p.add(fmt.Sprintf("%s[%d]", path, i), "must be a user key PLATFORM:ID with platform %s, such as \"telegram:42\", got %q", platformList(), k)
		}
	}
}

// checkPlatformKeys checks the keys of a map keyed by platform name.
func checkPlatformKeys[V any](p *problems, path string, m map[string]V) {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(Platforms, Platform(k)) {
			p.add(path+"."+k, "unknown platform %q; use %s", k, platformList())
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Platform names a chat platform in config maps (managers_channel,
// announce.channels) and user keys.
type Platform string

// Platforms Chorus speaks.
const (
	PlatformTelegram Platform = "telegram"
	PlatformDiscord  Platform = "discord"
	PlatformConsole  Platform = "console"
)

// Platforms lists every Platform, for validation messages.
var Platforms = []Platform{PlatformTelegram, PlatformDiscord, PlatformConsole}

func platformList() string {
	qs := make([]string, len(Platforms))
	for i, pl := range Platforms {
		qs[i] = strconv.Quote(string(pl))
	}
	return strings.Join(qs, ", ")
}
