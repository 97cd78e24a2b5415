package configs

import (
	"reflect"
	"slices"
	"strings"
)

// leaf is a field of the configuration that holds a value rather than
// more fields: its struct field, its value, the struct holding it (a
// secret's file field is its sibling) and its YAML path.
type leaf struct {
	sf     reflect.StructField
	v      reflect.Value
	parent reflect.Value
	path   []string
}

// yamlPath is the leaf's path joined with dots ("telegram.webhook.secret").
func (l leaf) yamlPath() string { return strings.Join(l.path, ".") }

// sibling returns the path and value of the field with YAML key key in the
// struct holding l.
func (l leaf) sibling(key string) (string, reflect.Value, bool) {
	f, ok := fieldByTag(l.parent.Type(), key)
	if !ok {
		return "", reflect.Value{}, false
	}
	return strings.Join(append(slices.Clip(l.path[:len(l.path)-1]), key), "."), l.parent.FieldByIndex(f.Index), true
}

// leaves calls fn for every field with a YAML key below v (a struct),
// descending into the structures that are sections and subsections;
// fields tagged yaml:"-" are set in code and skipped.
func leaves(v reflect.Value, path []string, fn func(leaf)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" || !sf.IsExported() {
			continue
		}
		p := append(slices.Clip(path), key)
		if fv := v.Field(i); fv.Kind() == reflect.Struct {
			leaves(fv, p, fn)
		} else {
			fn(leaf{sf: sf, v: fv, parent: v, path: p})
		}
	}
}
