package configs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// ExampleYAML is configs/chorus.example.yaml: every field with its
// default and a comment. cmd/chorus tests that it loads to exactly the
// defaults and documents every field.
//
//go:embed chorus.example.yaml
var ExampleYAML []byte

// Load reads the YAML file at path onto defaults() (the defaults alone
// when path is empty), applies the environment ("KEY=value" strings, as
// os.Environ returns) and reads secret files. The caller validates the
// result (Validate).
func Load[T any](path string, environ []string, defaults func() *T) (*T, error) {
	cfg := defaults()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("configs: read %s: %w", path, err)
		}
		cfg, err = LoadBytes(data, defaults)
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, path)
		}
	}
	fromEnv, err := applyEnv(cfg, environ)
	if err != nil {
		return nil, err
	}
	if err := readSecretFiles(cfg, fromEnv); err != nil {
		return nil, err
	}
	fill(reflect.ValueOf(cfg).Elem(), reflect.ValueOf(defaults()).Elem())
	return cfg, nil
}

// LoadBytes decodes YAML onto defaults(). It reads no environment and no
// files, so it is safe on untrusted input; unknown keys and values of the
// wrong type are errors naming the YAML path and line.
func LoadBytes[T any](data []byte, defaults func() *T) (*T, error) {
	cfg := defaults()
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	if err := decodeStrict(data, cfg); err != nil {
		return nil, err
	}
	fill(reflect.ValueOf(cfg).Elem(), reflect.ValueOf(defaults()).Elem())
	return cfg, nil
}

// decodeStrict decodes one YAML document into cfg with unknown keys
// rejected, and rewrites yaml's line-numbered errors to name fields.
func decodeStrict(data []byte, cfg any) (err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; config files are
		// outside input, so a panic there must become an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("configs: parse: malformed YAML (%v)", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return explainTypeError(data, te, reflect.TypeOf(cfg).Elem())
		}
		return fmt.Errorf("configs: parse: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("configs: parse: the file holds more than one YAML document; use one")
	}
	return nil
}

// fill restores the default of every string field tagged empty:"default"
// left blank, so that "api_url:" in a file means the default rather than
// an invalid config.
func fill(v, def reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		switch fv := v.Field(i); {
		case fv.Kind() == reflect.Struct:
			fill(fv, def.Field(i))
		case f.Tag.Get("empty") == "default" && fv.Kind() == reflect.String && strings.TrimSpace(fv.String()) == "":
			fv.Set(def.Field(i))
		}
	}
}

// Clone returns a deep copy of cfg, so that callers may change one without
// the other seeing it.
func Clone[T any](cfg *T) *T {
	v := deepCopy(reflect.ValueOf(cfg).Elem())
	out := v.Interface().(T)
	return &out
}

func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if out.Field(i).CanSet() {
				out.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(iter.Key(), deepCopy(iter.Value()))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(deepCopy(v.Elem()))
		return out
	default:
		return v
	}
}

// DefaultPath is the config file used when --config is not given and the
// file exists in the working directory.
const DefaultPath = "chorus.yaml"

// ResolvePath returns the config file to load for a --config flag value:
// the flag when set, DefaultPath when that file exists, and "" (built-in
// defaults) otherwise.
func ResolvePath(flag string) string {
	if flag != "" {
		return flag
	}
	if st, err := os.Stat(DefaultPath); err == nil && !st.IsDir() {
		return DefaultPath
	}
	return ""
}
