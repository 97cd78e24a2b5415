package bot

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"sync"
	"unicode"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// DefaultLang is the language used when nothing better is known.
const DefaultLang = "en"

// Catalog holds the bot's own messages per language. Another language is one
// more JSON file (a flat object of key to text, with {name} placeholders)
// added with Add or LoadCatalogDir. It is safe for concurrent use.
type Catalog struct {
	mu   sync.RWMutex
	msgs map[string]map[string]string
}

// NewCatalog returns a catalogue holding the built-in languages.
func NewCatalog() *Catalog {
	c := &Catalog{msgs: map[string]map[string]string{}}
	entries, _ := catalogFS.ReadDir("catalog")
	for _, e := range entries {
		data, err := catalogFS.ReadFile("catalog/" + e.Name())
		if err != nil {
			panic(err) // embedded: can't happen
		}
		if err := c.AddJSON(strings.TrimSuffix(e.Name(), path.Ext(e.Name())), data); err != nil {
			panic(err) // embedded files are tested
		}
	}
	return c
}

// AddJSON merges a JSON catalogue for lang.
func (c *Catalog) AddJSON(lang string, data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("bot: catalog %s: %w", lang, err)
	}
	c.Add(lang, m)
	return nil
}

// Add merges messages for lang; packages add their own keys this way.
func (c *Catalog) Add(lang string, msgs map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.msgs[lang] == nil {
		c.msgs[lang] = map[string]string{}
	}
	for k, v := range msgs {
		c.msgs[lang][k] = v
	}
}

// Has reports whether lang has a catalogue.
func (c *Catalog) Has(lang string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.msgs[lang] != nil
}

// Langs lists the languages held.
func (c *Catalog) Langs() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.msgs))
	for l := range c.msgs {
		out = append(out, l)
	}
	return out
}

// T returns the message key in lang (falling back to English, then to the
// key itself), with {name} placeholders replaced from pairs of args. A
// {name|ONE|OTHER} placeholder is ONE when the argument reads "1" and
// OTHER otherwise: "{users} active {users|user|users}".
func (c *Catalog) T(lang, key string, args ...any) string {
	c.mu.RLock()
	s, ok := c.msgs[lang][key]
	if !ok {
		s, ok = c.msgs[DefaultLang][key]
	}
	c.mu.RUnlock()
	if !ok {
		s = key
	}
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		name, value := fmt.Sprint(args[i]), fmt.Sprint(args[i+1])
		s = pluralize(s, name, value == "1")
		pairs = append(pairs, "{"+name+"}", value)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// pluralize replaces every {name|ONE|OTHER} in s by ONE or OTHER.
func pluralize(s, name string, one bool) string {
	open := "{" + name + "|"
	for {
		i := strings.Index(s, open)
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s
		}
		singular, plural, _ := strings.Cut(s[i+len(open):i+j], "|")
		form := plural
		if one {
			form = singular
		}
		s = s[:i] + form + s[i+j+1:]
	}
}

// DetectLang guesses the language of text: "zh" when Han characters make up
// a good part of its letters, otherwise the base of hint (the platform
// locale) when the catalogue has it and the text has too few letters to tell,
// otherwise "en". It is deliberately simple: the bot needs to pick a
// catalogue, not to do linguistics.
func DetectLang(text, hint string, c *Catalog) string {
	var han, letters int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
		}
	}
	base := strings.ToLower(hint)
	if i := strings.IndexAny(base, "-_"); i > 0 {
		base = base[:i]
	}
	if han > 0 && han*10 >= letters*3 {
		return "zh"
	}
	if letters < 4 && base != "" && (c == nil || c.Has(base)) {
		return base
	}
	if han == 0 && base != "" && base != "zh" && c != nil && c.Has(base) {
		return base
	}
	return DefaultLang
}
