package configs

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/chorusbot/chorus/bot"
)

// FieldError is one problem found by Validate: the field's YAML path
// ("telegram.webhook.listen") and what is wrong with it and allowed.
type FieldError = bot.FieldError

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

// validator is a section that checks itself: its FieldErrors name fields
// by their path within the section.
type validator interface{ Validate() error }

// Validate checks cfg (a pointer to the root struct) and returns every
// problem joined, each a *FieldError naming the field by its YAML path;
// nil when the config is usable. Each section (a field of the root, or
// the root itself) that has a Validate method runs it, and its field
// paths get the section's prefix; then the fields tagged platform are
// checked against platforms, the names of the platforms the binary speaks.
func Validate(cfg any, platforms []string) error {
	var errs []error
	v := reflect.ValueOf(cfg)
	if r, ok := cfg.(validator); ok {
		errs = append(errs, prefixed("", r.Validate())...)
	}
	root := v.Elem()
	t := root.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !sf.IsExported() || root.Field(i).Kind() != reflect.Struct {
			continue
		}
		if s, ok := root.Field(i).Addr().Interface().(validator); ok {
			errs = append(errs, prefixed(name, s.Validate())...)
		}
	}
	var p bot.Problems
	checkPlatforms(&p, root, platforms)
	return errors.Join(append(errs, p.Err())...)
}

// prefixed puts prefix before the path of every field error in err; an
// error that names no field is named after the section.
func prefixed(prefix string, err error) []error {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = append(errs, prefixed(prefix, e)...)
		}
		return errs
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []error{&FieldError{Path: joinPath(prefix, fe.Path), Msg: fe.Msg}}
	}
	return []error{&FieldError{Path: prefix, Msg: err.Error()}}
}

// checkPlatforms checks the fields tagged platform against platforms:
// "keys" (a map keyed by platform), "users" (user keys PLATFORM:ID),
// "homes" (home chats PLATFORM:NUMERIC_ID).
func checkPlatforms(p *bot.Problems, v reflect.Value, platforms []string) {
	list := quoteList(platforms)
	leaves(v, nil, func(l leaf) {
		fp := l.yamlPath()
		switch l.sf.Tag.Get("platform") {
		case "keys":
			keys := make([]string, 0, l.v.Len())
			for _, k := range l.v.MapKeys() {
				keys = append(keys, k.String())
			}
			slices.Sort(keys)
			for _, k := range keys {
				if !slices.Contains(platforms, k) {
					p.Add(fp+"."+k, "unknown platform %q; use %s", k, list)
				}
			}
		case "users":
			for j, k := range l.v.Interface().([]string) {
				plat, id, ok := strings.Cut(k, ":")
				if !ok || id == "" || !slices.Contains(platforms, plat) {
					p.Add(fmt.Sprintf("%s[%d]", fp, j), "must be a user key PLATFORM:ID with platform %s, such as \"telegram:42\", got %q", list, k)
				}
			}
		case "homes":
			for j, k := range l.v.Interface().([]string) {
				plat, id, ok := strings.Cut(strings.TrimSpace(k), ":")
				if _, err := strconv.ParseInt(id, 10, 64); !ok || err != nil || !slices.Contains(platforms, plat) {
					p.Add(fmt.Sprintf("%s[%d]", fp, j), "must be PLATFORM:ID with a numeric id (a chat, or a Discord server) and platform %s, such as \"telegram:-1001234567890\" or \"discord:81234\", got %q", list, k)
				}
			}
		}
	})
}

func quoteList(xs []string) string {
	qs := make([]string, len(xs))
	for i, x := range xs {
		qs[i] = strconv.Quote(x)
	}
	return strings.Join(qs, ", ")
}
