package configs

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/chorusbot/chorus/bot"
)

// Redaction replaces secrets in Redacted.
const Redaction = bot.Redaction

// tagged is a string field found by its struct tag, with its YAML path.
type tagged struct {
	path string
	v    reflect.Value
	// value is the tag's value; file the secret's file field, when any.
	value string
	file  *tagged
}

// taggedFields returns the string fields below v that carry tag.
func taggedFields(v reflect.Value, path, tag string) []tagged {
	var out []tagged
	var p []string
	if path != "" {
		p = strings.Split(path, ".")
	}
	leaves(v, p, func(l leaf) {
		tv, ok := l.sf.Tag.Lookup(tag)
		if !ok || l.v.Kind() != reflect.String {
			return
		}
		f := tagged{path: l.yamlPath(), v: l.v, value: tv}
		if tag == "secret" && tv != "" {
			if fp, fv, ok := l.sibling(tv); ok && fv.Kind() == reflect.String {
				f.file = &tagged{path: fp, v: fv}
			}
		}
		out = append(out, f)
	})
	return out
}

// readSecretFiles fills each secret from its file field. A secret set
// from the environment wins over its file; one set in YAML as well as its
// file is ambiguous and an error.
func readSecretFiles(cfg any, fromEnv map[string]bool) error {
	var errs []error
	for _, s := range taggedFields(reflect.ValueOf(cfg).Elem(), "", "secret") {
		if s.file == nil || s.file.v.String() == "" || fromEnv[s.path] {
			continue
		}
		if s.v.String() != "" {
			errs = append(errs, fmt.Errorf("configs: %s and %s are both set; keep one", s.path, s.file.path))
			continue
		}
		name := s.file.v.String()
		data, err := os.ReadFile(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("configs: %s: read secret: %w", s.file.path, err))
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			errs = append(errs, fmt.Errorf("configs: %s: %s is empty", s.file.path, name))
			continue
		}
		s.v.SetString(v)
	}
	return errors.Join(errs...)
}

// Secrets returns the values of the secrets of cfg (a pointer to the root
// struct) that are set: the fields tagged secret, and the passwords and
// secret query parameters of the URLs tagged redact:"url". The redaction
// in front of the logs replaces them.
func Secrets(cfg any) []string {
	v := reflect.ValueOf(cfg).Elem()
	var out []string
	for _, s := range taggedFields(v, "", "secret") {
		if s.v.String() != "" {
			out = append(out, s.v.String())
		}
	}
	for _, u := range taggedFields(v, "", "redact") {
		out = append(out, bot.URLSecrets(u.v.String())...)
	}
	return out
}

// Redacted returns a copy of cfg fit to print: every secret that is set
// becomes "[redacted]", and the passwords and secret parameters of URLs
// are hidden.
func Redacted[T any](cfg *T) *T {
	r := Clone(cfg)
	v := reflect.ValueOf(r).Elem()
	for _, s := range taggedFields(v, "", "secret") {
		if s.v.String() != "" {
			s.v.SetString(Redaction)
		}
	}
	for _, u := range taggedFields(v, "", "redact") {
		u.v.SetString(bot.RedactURL(u.v.String()))
	}
	return r
}
