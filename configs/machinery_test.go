package configs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/bot"
)

// testRoot is a root struct with one section of each kind of field the
// machinery handles by tag.
type testRoot struct {
	Mode  string     `yaml:"mode" empty:"default"`
	Svc   testSvc    `yaml:"svc"`
	Hooks []testHook `yaml:"hooks"`
}

type testSvc struct {
	URL      string            `yaml:"url" redact:"url"`
	Key      string            `yaml:"key" secret:"key_file" env:"OTHER_KEY"`
	KeyFile  string            `yaml:"key_file"`
	Channels map[string]string `yaml:"channels" platform:"keys"`
	Owners   []string          `yaml:"owners" platform:"users"`
	Homes    []string          `yaml:"homes" platform:"homes"`
	Workers  int               `yaml:"workers"`
	Code     int               `yaml:"-"`
}

type testHook struct {
	Name string `yaml:"name"`
}

// Validate names a bad field within the section.
func (s testSvc) Validate() error {
	var p bot.Problems
	p.NonNegative("workers", s.Workers)
	return p.Err()
}

func testDefaults() *testRoot { return &testRoot{Mode: "fast", Svc: testSvc{Workers: 2}} }

func TestMachineryByTag(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(" from-file \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.yaml")
	yaml := "mode: \"\"\nsvc:\n  url: https://u:pw@h.example/x?token=tk\n  key_file: " + keyFile + "\n  channels: {irc: \"1\"}\n  owners: [\"a:1\", \"x\"]\n  homes: [\"a:-100\", \"a:abc\"]\n  workers: -1\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, []string{"CHORUS_SVC_WORKERS=-3"}, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != "fast" {
		t.Errorf("empty:\"default\" field = %q, want the default", cfg.Mode)
	}
	if cfg.Svc.Key != "from-file" || cfg.Svc.Workers != -3 {
		t.Errorf("secret file or env not applied: %+v", cfg.Svc)
	}
	var paths []string
	for _, fe := range FieldErrors(Validate(cfg, []string{"a", "b"})) {
		paths = append(paths, fe.Path)
	}
	want := []string{"svc.workers", "svc.channels.irc", "svc.owners[1]", "svc.homes[1]"}
	if !slices.Equal(paths, want) {
		t.Errorf("problems at %q, want %q", paths, want)
	}
	if s := Secrets(cfg); !slices.Contains(s, "from-file") || !slices.Contains(s, "pw") || !slices.Contains(s, "tk") {
		t.Errorf("Secrets = %q", s)
	}
	r := Redacted(cfg)
	if r.Svc.Key != Redaction || strings.Contains(r.Svc.URL, "pw") || strings.Contains(r.Svc.URL, "tk") || cfg.Svc.Key != "from-file" {
		t.Errorf("Redacted: %+v (original %+v)", r.Svc, cfg.Svc)
	}
	// The env tag stands in only when nothing else set the field.
	c2, err := Load("", []string{"OTHER_KEY=alt"}, testDefaults)
	if err != nil || c2.Svc.Key != "alt" {
		t.Errorf("env tag: %q, %v", c2.Svc.Key, err)
	}
	if vars := EnvVars(testDefaults()); !slices.ContainsFunc(vars, func(v EnvVar) bool { return v.Name == "CHORUS_SVC_KEY_FILE" }) ||
		slices.ContainsFunc(vars, func(v EnvVar) bool { return strings.Contains(v.Name, "CODE") || strings.Contains(v.Name, "HOOKS") }) {
		t.Errorf("EnvVars = %+v", vars)
	}
	_, err = LoadBytes([]byte("svc:\n  wrokers: 1\nhooks:\n  - nmae: x\n"), testDefaults)
	for _, w := range []string{"svc.wrokers (line 2): unknown key; svc has: url, key, key_file, channels, owners, homes, workers", "hooks[0].nmae (line 4)"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("LoadBytes error %v lacks %q", err, w)
		}
	}
}
