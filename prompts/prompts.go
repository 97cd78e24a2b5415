// Package prompts holds the LLM prompt templates of Chorus: the chat system
// prompt, conversation summaries, moderation verdicts, sentiment batches,
// manager digests, social post drafts and the translation of questions
// for a knowledge-base search in the other language.
//
// Templates are text/template files embedded in the binary. A deployment
// can replace any of them by putting a file of the same name (system.tmpl,
// summary.tmpl, ...) in an override directory; New parses every template
// and runs it once on sample data, so a broken override is an error naming
// the file at startup rather than a failure on the first message.
//
// A template's main body becomes the system message. A template may also
// define a block named "user", which becomes the user message: that is
// where untrusted text (the message to moderate, the turns to summarise)
// goes, apart from the instructions.
//
// The package knows nothing of the engine: callers convert their own types
// to the plain data types declared here.
package prompts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"
)

//go:embed templates/*.tmpl
var builtin embed.FS

// Template names: the file names of the built-in templates, and of the
// files that replace them in an override directory.
const (
	NameSystem    = "system.tmpl"
	NameSummary   = "summary.tmpl"
	NameTranslate = "translate.tmpl"
)

// userBlock is the name of the optional block rendered as the user message.
const userBlock = "user"

// Roles of Message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one message of an assembled prompt.
type Message struct {
	Role    string
	Content string
}

// Set is a parsed set of templates. It is immutable and safe for
// concurrent use.
type Set struct {
	tmpls  map[string]*template.Template
	source map[string]string // where each template came from, for errors
}

// ErrUnknownTemplate is returned by Render and Messages for a name that is
// not one of the Names.
var ErrUnknownTemplate = errors.New("prompts: unknown template")

// New parses the built-in templates, then replaces each one for which
// overrideDir (when not empty) has a file of the same name. Files in
// overrideDir not ending in .tmpl are ignored; a .tmpl file that is not a
// known template is an error, so a misspelt override doesn't go unused.
// Every template is run once on sample data; a failure names the file.
func New(overrideDir string) (*Set, error) {
	s := &Set{tmpls: map[string]*template.Template{}, source: map[string]string{}}
	entries, err := fs.ReadDir(builtin, "templates")
	if err != nil {
		return nil, fmt.Errorf("prompts: read built-in templates: %w", err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(builtin, "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("prompts: read built-in %s: %w", e.Name(), err)
		}
		if err := s.add(e.Name(), "built-in "+e.Name(), string(data)); err != nil {
			return nil, err
		}
	}
	if overrideDir != "" {
		if err := s.override(overrideDir); err != nil {
			return nil, err
		}
	}
	for _, name := range s.Names() {
		sample, ok := samples[name]
		if !ok {
			return nil, fmt.Errorf("prompts: no sample data for %s", name)
		}
		if _, err := s.Messages(name, sample); err != nil {
			return nil, fmt.Errorf("prompts: %s fails on sample data: %w", s.source[name], err)
		}
	}
	return s, nil
}

func (s *Set) override(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("prompts: override dir: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if _, known := s.tmpls[e.Name()]; !known {
			return fmt.Errorf("prompts: %s is not a known template; overrides must be named one of %s", path, strings.Join(s.Names(), ", "))
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("prompts: read %s: %w", path, err)
		}
		if err := s.add(e.Name(), path, string(data)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Set) add(name, source, text string) error {
	if !utf8.ValidString(text) {
		return fmt.Errorf("prompts: parse %s: not valid UTF-8", source)
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return fmt.Errorf("prompts: parse %s: %w", source, err)
	}
	s.tmpls[name] = t
	s.source[name] = source
	return nil
}

// Names lists the templates, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.tmpls))
	for n := range s.tmpls {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (s *Set) lookup(name string) (*template.Template, error) {
	if !strings.HasSuffix(name, ".tmpl") {
		name += ".tmpl"
	}
	t, ok := s.tmpls[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownTemplate, name, strings.Join(s.Names(), ", "))
	}
	return t, nil
}

// Render runs the main body of the named template ("system.tmpl"; the
// extension may be left off) on data.
func (s *Set) Render(name string, data any) (string, error) {
	t, err := s.lookup(name)
	if err != nil {
		return "", err
	}
	return execute(t, data)
}

// Messages renders the named template as a prompt: the main body as the
// system message, then the "user" block, if the template defines one, as
// the user message. Empty messages are left out.
func (s *Set) Messages(name string, data any) ([]Message, error) {
	t, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	sys, err := execute(t, data)
	if err != nil {
		return nil, err
	}
	var msgs []Message
	if sys != "" {
		msgs = append(msgs, Message{Role: RoleSystem, Content: sys})
	}
	if u := t.Lookup(userBlock); u != nil {
		user, err := execute(u, data)
		if err != nil {
			return nil, err
		}
		if user != "" {
			msgs = append(msgs, Message{Role: RoleUser, Content: user})
		}
	}
	return msgs, nil
}

func execute(t *template.Template, data any) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("prompts: render %s: %w", t.Name(), err)
	}
	return strings.TrimSpace(b.String()), nil
}

// funcs are the helpers templates may use.
var funcs = template.FuncMap{
	// join joins a list with a separator.
	"join": func(sep string, xs []string) string { return strings.Join(xs, sep) },
	// oneline folds line breaks into spaces, so that an item of a
	// numbered list cannot start a line that looks like another item.
	"oneline": func(s string) string { return strings.Join(strings.Fields(s), " ") },
	// clip shortens s to at most n characters, marking the cut with "…".
	"clip": clip,
}

func clip(n int, s string) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
