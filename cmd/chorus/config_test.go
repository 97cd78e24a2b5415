package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chorusbot/chorus/adapters/telegram"
	"github.com/chorusbot/chorus/configs"
	"github.com/chorusbot/chorus/llm"
)

func TestDefaultIsValid(t *testing.T) {
	if err := defaultConfig().validate(); err != nil {
		t.Fatalf("defaultConfig().validate() = %v", err)
	}
	cfg, err := loadConfigFile("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, defaultConfig()) {
		t.Errorf("loadConfigFile(\"\", nil) differs from defaultConfig()")
	}
	if !cfg.LLM.Offline() {
		t.Errorf("default LLM is not offline")
	}
	if cfg.Telegram.Enabled() || cfg.Discord.Enabled() {
		t.Errorf("default config enables a platform")
	}
}

// TestExampleMatchesDefaults keeps the example from drifting: it must load,
// validate, hold exactly the defaults, and document every field.
func TestExampleMatchesDefaults(t *testing.T) {
	data := configs.ExampleYAML
	cfg, err := configs.LoadBytes(data, defaultConfig)
	if err != nil {
		t.Fatalf("configs.LoadBytes(example, defaultConfig) = %v", err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("example does not validate: %v", err)
	}
	got, want := mustYAML(t, cfg), mustYAML(t, defaultConfig())
	if got != want {
		t.Errorf("example differs from defaultConfig()\nexample:\n%s\ndefault:\n%s", got, want)
	}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*yaml.Node{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			walk(n.Content[0], path)
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinPath(path, n.Content[i].Value)
				keys[p] = n.Content[i]
				walk(n.Content[i+1], p)
			}
		}
	}
	walk(&root, "")

	text := string(data)
	var check func(typ reflect.Type, path string)
	check = func(typ reflect.Type, path string) {
		for i := 0; i < typ.NumField(); i++ {
			tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			if tag == "-" || tag == "" {
				continue // not in the file: set in code
			}
			p := joinPath(path, tag)
			ft := typ.Field(i).Type
			k, ok := keys[p]
			switch {
			case !ok:
				t.Errorf("example lacks %s", p)
			case k.HeadComment == "" && k.LineComment == "":
				t.Errorf("example has no comment on %s", p)
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]() {
				check(ft, p)
			}
			// Fields of structures inside maps and lists must be named
			// somewhere, in a key or in an example comment.
			if (ft.Kind() == reflect.Map || ft.Kind() == reflect.Slice) && ft.Elem().Kind() == reflect.Struct {
				for _, sub := range yamlKeys(ft.Elem()) {
					if !strings.Contains(text, sub+":") {
						t.Errorf("example never shows %s.*.%s", p, sub)
					}
				}
			}
		}
	}
	check(reflect.TypeFor[Config](), "")
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// yamlKeys lists the YAML keys of a structure.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadBytesBadYAML(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"unknown top-level key", "telgram:\n  token: x\n", []string{"telgram (line 1): unknown key", "the top level has:", "telegram"}},
		{"unknown nested key", "log:\n  level: info\ntelegram:\n  mdoe: polling\n", []string{"telegram.mdoe (line 4): unknown key", "mode"}},
		{"unknown key in flow mapping", "telegram: {mode: polling, pollTimeout: 3s}\n", []string{"telegram.pollTimeout (line 1)", "poll_timeout"}},
		{"unknown key deep", "telegram:\n  webhook:\n    secrt: x\n", []string{"telegram.webhook.secrt (line 3)", "secret_file"}},
		{"unknown key in map value", "llm:\n  prices:\n    m:\n      prompt: 1\n", []string{"llm.prices.m.prompt (line 4)", "prompt_per_1m"}},
		{"unknown key in list item", "analytics:\n  competitors:\n    - name: A\n      alias: [b]\n", []string{"analytics.competitors[0].alias (line 4)", "aliases"}},
		{"wrong type int", "engine:\n  workers: abc\n", []string{"engine.workers (line 2): wrong type: want an integer", `"abc"`}},
		{"wrong type in flow", "engine: {workers: 2, queue_size: lots}\n", []string{"engine.queue_size (line 1)", "integer"}},
		{"wrong type long value", "engine:\n  rate_burst: abcdefghijkl\n", []string{"engine.rate_burst (line 2)"}},
		{"duration as bare number", "llm:\n  timeout: 30\n", []string{"llm.timeout (line 2)", "duration"}},
		{"bad duration", "retention:\n  interval: soon\n", []string{"retention.interval (line 2)", "duration"}},
		{"bool", "moderation:\n  enabled: maybe\n", []string{"moderation.enabled (line 2)", "true or false"}},
		{"list for string", "telegram:\n  token:\n    - a\n", []string{"telegram.token (line 3)", "want a string, got a list"}},
		{"map for list", "roles:\n  owners: {a: 1}\n", []string{"roles.owners (line 2)", "want a list, got a mapping"}},
		{"scalar for section", "engine: fast\n", []string{"engine (line 1)", "mapping"}},
		{"top-level list", "- a\n- b\n", []string{"(top level)", "mapping"}},
		{"duplicate key", "log:\n  level: debug\n  level: info\n", []string{"log.level (line 3): key set twice (first at line 2)"}},
		{"syntax error", "log: [\n", []string{"configs: parse:"}},
		{"two documents", "log: {level: info}\n---\nlog: {level: debug}\n", []string{"more than one YAML document"}},
		{"two problems", "engine:\n  workers: x\n  queue_size: y\n", []string{"engine.workers (line 2)", "engine.queue_size (line 3)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := configs.LoadBytes([]byte(tt.in), defaultConfig)
			if err == nil {
				t.Fatalf("LoadBytes succeeded: %+v", cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "configs: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestLoadBytesOverridesDefaults(t *testing.T) {
	in := `
data_dir: /var/lib/chorus
engine:
  workers: 8
  llm_timeout: 2m
llm:
  mask_pii: false
  temperature: 0
  prices:
    local-model: {prompt_per_1m: 0, completion_per_1m: 0}
retention:
  days: 0
telegram:
  api_url: ""
persona:
  do: []
`
	cfg, err := configs.LoadBytes([]byte(in), defaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/var/lib/chorus" || cfg.Engine.Workers != 8 || cfg.Engine.LLMTimeout != 2*time.Minute {
		t.Errorf("scalars not applied: %+v", cfg.Engine)
	}
	if cfg.LLM.MaskPII || cfg.LLM.Temperature != 0 || cfg.Retention.Days != 0 {
		t.Errorf("explicit false/zero did not override a default: %+v %+v", cfg.LLM, cfg.Retention)
	}
	if cfg.Engine.QueueSize != 4096 || cfg.Engine.RatePerMinute != 20 || !cfg.LLM.MaskLoopback {
		t.Errorf("unset fields lost their defaults")
	}
	if cfg.Telegram.APIURL != telegram.DefaultAPIURL {
		t.Errorf("empty api_url = %q, want the default", cfg.Telegram.APIURL)
	}
	if len(cfg.Persona.Do) != 0 {
		t.Errorf("persona.do: [] kept defaults %q", cfg.Persona.Do)
	}
	// Maps merge into the defaults: a price added keeps the built-in ones.
	if _, ok := cfg.LLM.Prices["local-model"]; !ok {
		t.Errorf("added price missing")
	}
	if _, ok := cfg.LLM.Prices["gpt-4o-mini"]; !ok {
		t.Errorf("default price dropped")
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chorus.yaml")
	if err := os.WriteFile(path, []byte("engine:\n  workers: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfigFile(path, nil)
	if err == nil || !strings.Contains(err.Error(), "engine.workers") || !strings.Contains(err.Error(), path) {
		t.Errorf("loadConfigFile(bad file) = %v, want the field and the file named", err)
	}
	_, err = loadConfigFile(filepath.Join(dir, "missing.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("loadConfigFile(missing) = %v", err)
	}
	if err := os.WriteFile(path, []byte("engine:\n  workers: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfigFile(path, []string{"CHORUS_ENGINE_WORKERS=5"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Engine.Workers != 5 {
		t.Errorf("env did not override the file: workers = %d", cfg.Engine.Workers)
	}
}

func TestClone(t *testing.T) {
	a := defaultConfig()
	a.Roles.Owners = []string{"telegram:1"}
	a.Announce.Channels = map[string][]string{"telegram": {"-1"}}
	b := configs.Clone(a)
	b.Roles.Owners[0] = "telegram:2"
	b.Announce.Channels["telegram"][0] = "-2"
	b.LLM.Prices["gpt-4o"] = llm.Price{}
	if a.Roles.Owners[0] != "telegram:1" || a.Announce.Channels["telegram"][0] != "-1" || a.LLM.Prices["gpt-4o"].PromptPer1M == 0 {
		t.Errorf("Clone shares memory with the original")
	}
}
