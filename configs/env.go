package configs

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment override.
const EnvPrefix = "CHORUS_"

// EnvVar is one environment override: its variable name and the YAML path
// of the field it sets.
type EnvVar struct {
	Name string
	Path string
}

// EnvVars lists every CHORUS_* variable of the configuration cfg (a
// pointer to the root struct), sorted by name. Maps and lists of
// structures (llm.prices, analytics.competitors, ...) have none: set them
// in the file.
func EnvVars(cfg any) []EnvVar {
	var out []EnvVar
	for _, f := range envFields(reflect.ValueOf(cfg).Elem(), nil) {
		out = append(out, EnvVar{Name: f.name, Path: f.path})
	}
	slices.SortFunc(out, func(a, b EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return out
}

type envField struct {
	name, path string
	v          reflect.Value
	// alt is another variable read when nothing else set the field (the
	// field's env tag), and file the path of its secret file field.
	alt, file string
}

var durationType = reflect.TypeFor[time.Duration]()

// envFields walks cfg's struct fields by yaml tag and returns the settable
// scalars and string lists with their variable names.
func envFields(v reflect.Value, path []string) []envField {
	var out []envField
	leaves(v, path, func(l leaf) {
		if !isEnvScalar(l.v.Type()) && (l.v.Kind() != reflect.Slice || l.v.Type().Elem().Kind() != reflect.String) {
			return
		}
		ef := envField{
			name: EnvPrefix + strings.ToUpper(strings.Join(l.path, "_")),
			path: l.yamlPath(),
			v:    l.v,
			alt:  l.sf.Tag.Get("env"),
		}
		if file := l.sf.Tag.Get("secret"); file != "" {
			ef.file, _, _ = l.sibling(file)
		}
		out = append(out, ef)
	})
	return out
}

func isEnvScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// LoadEnv applies CHORUS_* overrides from environ ("KEY=value" strings, as
// os.Environ returns) to cfg (a pointer to the root struct), and each
// field's env tag variable when nothing configured the field (no value,
// no secret file). An empty value counts as unset, so that a blank
// variable in a compose file does not wipe a setting. A value that doesn't
// parse is an error naming the variable; all such errors are returned
// together.
func LoadEnv(cfg any, environ []string) error {
	_, err := applyEnv(cfg, environ)
	return err
}

// applyEnv is LoadEnv, also returning the YAML paths it set.
func applyEnv(cfg any, environ []string) (map[string]bool, error) {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && v != "" {
			env[k] = v
		}
	}
	set := map[string]bool{}
	var errs []error
	fields := envFields(reflect.ValueOf(cfg).Elem(), nil)
	byPath := make(map[string]envField, len(fields))
	for _, f := range fields {
		byPath[f.path] = f
		raw, ok := env[f.name]
		if !ok {
			continue
		}
		if err := setFromString(f.v, raw); err != nil {
			errs = append(errs, fmt.Errorf("configs: %s (sets %s): %w", f.name, f.path, err))
			continue
		}
		set[f.path] = true
	}
	for _, f := range fields {
		raw := env[f.alt]
		if f.alt == "" || raw == "" || !f.v.IsZero() || (f.file != "" && !byPath[f.file].v.IsZero()) {
			continue
		}
		if err := setFromString(f.v, raw); err != nil {
			errs = append(errs, fmt.Errorf("configs: %s (sets %s): %w", f.alt, f.path, err))
			continue
		}
		set[f.path] = true
	}
	return set, errors.Join(errs...)
}

// setFromString parses raw into v by v's kind. Error messages quote raw;
// that is safe because every secret is a string, which cannot fail.
func setFromString(v reflect.Value, raw string) error {
	s := strings.TrimSpace(raw)
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want a duration such as \"30s\" or \"1h\", got %q", raw)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer, got %q", raw)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a whole number of 0 or more, got %q", raw)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("want a number, got %q", raw)
		}
		v.SetFloat(f)
	case reflect.Slice:
		var items []string
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				items = append(items, part)
			}
		}
		out := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, it := range items {
			out.Index(i).SetString(it)
		}
		v.Set(out)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// nonSettingEnv are CHORUS_* variables that are not settings: the test and
// training switches read by `go test`. UnknownEnv leaves them alone.
var nonSettingEnv = map[string]bool{
	"CHORUS_TRAIN":     true,
	"CHORUS_TRAIN_OUT": true,
	"CHORUS_DATASETS":  true,
}

// UnknownEnv returns one warning for each CHORUS_* variable in environ that
// sets nothing in the configuration cfg (a pointer to the root struct) (a typo such as CHORUS_ENGIN_WORKERS would otherwise be
// ignored without a word), naming the closest known variable when one is
// close. The warnings are sorted by variable.
func UnknownEnv(environ []string, cfg any) []string {
	known := EnvVars(cfg)
	isKnown := make(map[string]bool, len(known))
	for _, k := range known {
		isKnown[k.Name] = true
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || isKnown[name] || nonSettingEnv[name] {
			continue
		}
		best, bestD := "", -1
		for _, k := range known {
			if d := editDistance(name, k.Name); bestD < 0 || d < bestD {
				best, bestD = k.Name, d
			}
		}
		msg := name + " is not a Chorus setting and is ignored"
		if bestD >= 0 && bestD <= max(2, len(name)/5) {
			msg += "; did you mean " + best + "?"
		} else {
			msg += " (chorus check-config lists the configuration; every scalar field is CHORUS_<SECTION>_<KEY>)"
		}
		out = append(out, msg)
	}
	slices.Sort(out)
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes
// (variable names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
