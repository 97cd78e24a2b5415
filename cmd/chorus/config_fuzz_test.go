package main

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/chorusbot/chorus/configs"
)

// FuzzLoad checks that loading a config from any bytes never panics, and
// that a config that loads can be validated, redacted, printed and loaded
// again from its printed form.
func FuzzLoad(f *testing.F) {
	if data, err := os.ReadFile("chorus.example.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("telegram:\n  mdoe: poll\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := configs.LoadBytes(data, defaultConfig)
		if err != nil {
			if cfg != nil {
				t.Fatalf("LoadBytes returned a config with error %v", err)
			}
			return
		}
		_ = cfg.validate()
		r := configs.Redacted(cfg)
		out, err := yaml.Marshal(r)
		if err != nil {
			t.Fatalf("marshal loaded config: %v", err)
		}
		if _, err := configs.LoadBytes(out, defaultConfig); err != nil {
			t.Fatalf("printed config does not load: %v\n%s", err, out)
		}
	})
}
