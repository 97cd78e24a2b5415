package configs

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// keyAt is a key (or list item) of the YAML file with its path and, for a
// scalar value, the value's text.
type keyAt struct {
	path, key, value string
	kind             yaml.Kind
}

var (
	lineRE    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRE = regexp.MustCompile(`^field (.+) not found in type `)
	dupRE     = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	typeRE    = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
)

// explainTypeError rewrites yaml.v3's "line N: ..." errors so that each
// names the field by its YAML path, and for an unknown key lists the keys
// its section has.
func explainTypeError(data []byte, te *yaml.TypeError, root reflect.Type) error {
	lines := map[int][]keyAt{}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil {
		indexNode(&doc, "", lines, 0)
	}
	var errs []error
	for _, msg := range te.Errors {
		m := lineRE.FindStringSubmatch(msg)
		if m == nil {
			errs = append(errs, fmt.Errorf("configs: %s", msg))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		errs = append(errs, explainLine(root, line, m[2], lines[line]))
	}
	return errors.Join(errs...)
}

func explainLine(root reflect.Type, line int, msg string, keys []keyAt) error {
	if m := unknownRE.FindStringSubmatch(msg); m != nil {
		path := m[1]
		for _, k := range keys {
			if k.key == m[1] {
				path = k.path
				break
			}
		}
		parent, _ := splitPath(path)
		allowed := keysOf(root, parent)
		where := "the top level"
		if parent != "" {
			where = parent
		}
		return fmt.Errorf("configs: %s (line %d): unknown key; %s has: %s", path, line, where, strings.Join(allowed, ", "))
	}
	if m := dupRE.FindStringSubmatch(msg); m != nil {
		path := m[1]
		for _, k := range keys {
			if k.key == m[1] {
				path = k.path
			}
		}
		return fmt.Errorf("configs: %s (line %d): key set twice (first at line %s)", path, line, m[2])
	}
	if m := typeRE.FindStringSubmatch(msg); m != nil {
		path := "(top level)"
		if k, ok := matchValue(keys, m[1], m[2]); ok {
			path = k.path
		}
		var got string
		switch m[1] {
		case "!!seq":
			got = "a list"
		case "!!map":
			got = "a mapping"
		default:
			got = strconv.Quote(m[2])
		}
		return fmt.Errorf("configs: %s (line %d): wrong type: want %s, got %s", path, line, describeType(root, m[3]), got)
	}
	return fmt.Errorf("configs: line %d: %s", line, msg)
}

// matchValue picks the key on the error's line whose value yaml quoted
// (shortened to 7 characters and "..." when long); failing that, the
// deepest key on the line. A list or mapping where a scalar belongs is
// matched by its kind, the deepest first.
func matchValue(keys []keyAt, tag, quoted string) (keyAt, bool) {
	if len(keys) == 0 {
		return keyAt{}, false
	}
	if tag == "!!seq" || tag == "!!map" {
		want := yaml.SequenceNode
		if tag == "!!map" {
			want = yaml.MappingNode
		}
		for i := len(keys) - 1; i >= 0; i-- {
			if keys[i].kind == want {
				return keys[i], true
			}
		}
		return keyAt{}, false
	}
	if quoted != "" {
		prefix, short := strings.CutSuffix(quoted, "...")
		for _, k := range keys {
			if k.value == quoted || (short && strings.HasPrefix(k.value, prefix)) {
				return k, true
			}
		}
	}
	return keys[len(keys)-1], true
}

func describeType(root reflect.Type, name string) string {
	t, ok := configTypes(root)[name]
	if !ok {
		return name
	}
	if t == durationType {
		return `a duration such as "30s" or "1h"`
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping of keys to values"
	}
	return name
}

var typesCache sync.Map // reflect.Type (a root) -> map[string]reflect.Type

// configTypes maps the names yaml uses in its errors ("int",
// "telegram.Mode", "[]string") to the types found in the root struct.
func configTypes(root reflect.Type) map[string]reflect.Type {
	if m, ok := typesCache.Load(root); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if _, seen := m[t.String()]; seen {
			return
		}
		m[t.String()] = t
		switch t.Kind() {
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				walk(t.Field(i).Type)
			}
		case reflect.Slice, reflect.Map, reflect.Pointer:
			walk(t.Elem())
		}
	}
	walk(root)
	typesCache.Store(root, m)
	return m
}

// indexNode records every key of the document by line. Aliases are not
// followed, so a hostile file cannot make this expensive.
func indexNode(n *yaml.Node, path string, lines map[int][]keyAt, depth int) {
	if n == nil || depth > 64 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexNode(c, path, lines, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			ka := keyAt{path: p, key: k.Value, kind: v.Kind}
			if v.Kind == yaml.ScalarNode {
				ka.value = v.Value
			}
			lines[k.Line] = append(lines[k.Line], ka)
			if v.Line != k.Line {
				lines[v.Line] = append(lines[v.Line], ka)
			}
			indexNode(v, p, lines, depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			ka := keyAt{path: p, kind: c.Kind}
			if c.Kind == yaml.ScalarNode {
				ka.value = c.Value
			}
			lines[c.Line] = append(lines[c.Line], ka)
			indexNode(c, p, lines, depth+1)
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// splitPath splits "a.b[2].c" into "a.b[2]" and "c".
func splitPath(p string) (parent, last string) {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// keysOf lists the YAML keys of the structure at path in the root struct,
// or nil when path does not lead to a structure.
func keysOf(root reflect.Type, path string) []string {
	t := root
	if path != "" {
		for seg := range strings.SplitSeq(indexRE.ReplaceAllString(path, ".[]"), ".") {
			for t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
				t = t.Elem()
			}
			if seg == "[]" {
				continue
			}
			if t.Kind() != reflect.Struct {
				return nil
			}
			f, ok := fieldByTag(t, seg)
			if !ok {
				// A map key (llm.prices.MODEL): the element type follows.
				continue
			}
			t = f.Type
		}
	}
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return slices.Clip(keys)
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
