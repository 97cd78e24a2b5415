package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/configs"
)

// yamlBlock finds the ```yaml fenced blocks of a Markdown file.
var yamlBlock = regexp.MustCompile("(?ms)^```ya?ml\\n(.*?)^```")

// TestDocSnippetsLoad: every YAML snippet in the README and docs/ decodes
// strictly, so that one copied as it is never stops serve with an unknown
// key.
func TestDocSnippetsLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "README.md"))
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range yamlBlock.FindAllSubmatch(data, -1) {
			n++
			if _, err := configs.LoadBytes(m[1], defaultConfig); err != nil {
				t.Errorf("%s, YAML snippet %d does not load: %v\n%s", f, i+1, err, strings.TrimSpace(string(m[1])))
			}
		}
	}
	if n == 0 {
		t.Fatal("found no YAML snippet in the README and docs/: the pattern is wrong")
	}
}
