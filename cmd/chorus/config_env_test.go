package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/configs"
)

func TestLoadEnvOverrides(t *testing.T) {
	cfg := defaultConfig()
	err := configs.LoadEnv(cfg, []string{
		"CHORUS_LLM_BASE_URL=http://127.0.0.1:11434/v1",
		"CHORUS_LLM_API_KEY=sk-env",
		"CHORUS_LLM_MODEL=llama3.1",
		"CHORUS_DATA_DIR=/data",
		"CHORUS_TELEGRAM_TOKEN=1:tok",
		"CHORUS_DISCORD_TOKEN=dtok",
		"CHORUS_TELEGRAM_API_URL=http://127.0.0.1:8081",
		"CHORUS_TELEGRAM_WEBHOOK_SECRET=hooksecret",
		"CHORUS_ENGINE_WORKERS=12",
		"CHORUS_ENGINE_RATE_PER_MINUTE=2.5",
		"CHORUS_ENGINE_LLM_TIMEOUT=90s",
		"CHORUS_ADMIN_LISTEN=:9000",
		"CHORUS_LLM_MASK_PII=false",
		"CHORUS_ROLES_OWNERS=telegram:42, discord:7 ,,",
		"CHORUS_LOG_LEVEL=debug",
		"CHORUS_ANALYTICS_SENTIMENT_MODE=llm",
		"CHORUS_DISCORD_SHARD_COUNT=4",
		"CHORUS_UNKNOWN_THING=ignored",
		"PATH=/bin",
		"NOEQUALS",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"llm.base_url", cfg.LLM.BaseURL, "http://127.0.0.1:11434/v1"},
		{"llm.api_key", cfg.LLM.APIKey, "sk-env"},
		{"llm.model", cfg.LLM.Model, "llama3.1"},
		{"data_dir", cfg.DataDir, "/data"},
		{"telegram.token", cfg.Telegram.Token, "1:tok"},
		{"discord.token", cfg.Discord.Token, "dtok"},
		{"telegram.api_url", cfg.Telegram.APIURL, "http://127.0.0.1:8081"},
		{"telegram.webhook.secret", cfg.Telegram.Webhook.Secret, "hooksecret"},
		{"engine.workers", cfg.Engine.Workers, 12},
		{"engine.rate_per_minute", cfg.Engine.RatePerMinute, 2.5},
		{"engine.llm_timeout", cfg.Engine.LLMTimeout, 90 * time.Second},
		{"admin.listen", cfg.Admin.Listen, ":9000"},
		{"llm.mask_pii", cfg.LLM.MaskPII, false},
		{"roles.owners", cfg.Roles.Owners, []string{"telegram:42", "discord:7"}},
		{"log.level", cfg.Log.Level, logDebug},
		{"analytics.sentiment_mode", cfg.Analytics.SentimentMode, analytics.ModeLLM},
		{"discord.shard_count", cfg.Discord.ShardCount, 4},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if err := cfg.validate(); err != nil {
		t.Errorf("Validate() after env = %v", err)
	}
}

func TestLoadEnvErrors(t *testing.T) {
	tests := []struct {
		env  string
		want string
	}{
		{"CHORUS_ENGINE_WORKERS=abc", `CHORUS_ENGINE_WORKERS (sets engine.workers): want an integer, got "abc"`},
		{"CHORUS_ENGINE_WORKERS=99999999999999999999", "CHORUS_ENGINE_WORKERS"},
		{"CHORUS_ENGINE_RATE_PER_MINUTE=fast", "CHORUS_ENGINE_RATE_PER_MINUTE (sets engine.rate_per_minute): want a number"},
		{"CHORUS_ENGINE_RATE_PER_MINUTE=NaN", "want a number"},
		{"CHORUS_ENGINE_LLM_TIMEOUT=60", `CHORUS_ENGINE_LLM_TIMEOUT (sets engine.llm_timeout): want a duration such as "30s"`},
		{"CHORUS_LLM_MASK_PII=nope", "CHORUS_LLM_MASK_PII (sets llm.mask_pii): want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			err := configs.LoadEnv(defaultConfig(), []string{tt.env})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("configs.LoadEnv(%s) = %v, want it to mention %q", tt.env, err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "configs: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	// All bad variables are reported at once.
	err := configs.LoadEnv(defaultConfig(), []string{"CHORUS_ENGINE_WORKERS=x", "CHORUS_RETENTION_DAYS=y"})
	if err == nil || !strings.Contains(err.Error(), "CHORUS_ENGINE_WORKERS") || !strings.Contains(err.Error(), "CHORUS_RETENTION_DAYS") {
		t.Errorf("LoadEnv with two bad variables = %v", err)
	}
}

func TestLoadEnvEmptyIsUnset(t *testing.T) {
	cfg := defaultConfig()
	cfg.Telegram.Token = "1:yaml"
	if err := configs.LoadEnv(cfg, []string{"CHORUS_TELEGRAM_TOKEN=", "CHORUS_ENGINE_WORKERS="}); err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Token != "1:yaml" || cfg.Engine.Workers != 0 {
		t.Errorf("empty variables changed the config: %q %d", cfg.Telegram.Token, cfg.Engine.Workers)
	}
}

func TestOpenAIKeyFallback(t *testing.T) {
	tests := []struct {
		name    string
		yamlKey string
		keyFile string
		env     []string
		want    string
	}{
		{"fallback", "", "", []string{"OPENAI_API_KEY=sk-openai"}, "sk-openai"},
		{"chorus wins", "", "", []string{"OPENAI_API_KEY=sk-openai", "CHORUS_LLM_API_KEY=sk-chorus"}, "sk-chorus"},
		{"yaml key wins over fallback", "sk-yaml", "", []string{"OPENAI_API_KEY=sk-openai"}, "sk-yaml"},
		{"key file wins over fallback", "", "/some/file", []string{"OPENAI_API_KEY=sk-openai"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.LLM.APIKey, cfg.LLM.APIKeyFile = tt.yamlKey, tt.keyFile
			if err := configs.LoadEnv(cfg, tt.env); err != nil {
				t.Fatal(err)
			}
			if cfg.LLM.APIKey != tt.want {
				t.Errorf("api_key = %q, want %q", cfg.LLM.APIKey, tt.want)
			}
		})
	}
}

func TestEnvVars(t *testing.T) {
	vars := configs.EnvVars(defaultConfig())
	byName := map[string]string{}
	for _, v := range vars {
		if prev, dup := byName[v.Name]; dup {
			t.Errorf("%s sets both %s and %s", v.Name, prev, v.Path)
		}
		byName[v.Name] = v.Path
	}
	want := map[string]string{
		"CHORUS_LLM_BASE_URL":            "llm.base_url",
		"CHORUS_LLM_API_KEY":             "llm.api_key",
		"CHORUS_LLM_MODEL":               "llm.model",
		"CHORUS_DATA_DIR":                "data_dir",
		"CHORUS_TELEGRAM_TOKEN":          "telegram.token",
		"CHORUS_DISCORD_TOKEN":           "discord.token",
		"CHORUS_TELEGRAM_API_URL":        "telegram.api_url",
		"CHORUS_ENGINE_WORKERS":          "engine.workers",
		"CHORUS_ADMIN_LISTEN":            "admin.listen",
		"CHORUS_WEB_LISTEN":              "web.listen",
		"CHORUS_WEB_BASE_URL":            "web.base_url",
		"CHORUS_TELEGRAM_WEBHOOK_SECRET": "telegram.webhook.secret",
		"CHORUS_TELEGRAM_TOKEN_FILE":     "telegram.token_file",
		"CHORUS_MODERATION_WORDS":        "moderation.words",
	}
	for name, path := range want {
		if byName[name] != path {
			t.Errorf("%s sets %q, want %q", name, byName[name], path)
		}
	}
	for _, skipped := range []string{"CHORUS_LLM_PRICES", "CHORUS_ANALYTICS_COMPETITORS", "CHORUS_ANNOUNCE_CHANNELS"} {
		if _, ok := byName[skipped]; ok {
			t.Errorf("%s should not exist: maps and lists of structures come from the file", skipped)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	tg := writeFile(t, dir, "tg", "  123:abc-DEF\n")
	dc := writeFile(t, dir, "dc", "discord-token\n")
	key := writeFile(t, dir, "key", "sk-file\r\n")
	hook := writeFile(t, dir, "hook", "hook_secret")
	cfgPath := writeFile(t, dir, "chorus.yaml", `
llm:
  api_key_file: `+key+`
telegram:
  token_file: `+tg+`
  webhook:
    secret_file: `+hook+`
discord:
  token_file: `+dc+`
`)
	cfg, err := loadConfigFile(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Token != "123:abc-DEF" || cfg.Discord.Token != "discord-token" || cfg.LLM.APIKey != "sk-file" || cfg.Telegram.Webhook.Secret != "hook_secret" {
		t.Errorf("secrets not read and trimmed: %q %q %q %q", cfg.Telegram.Token, cfg.Discord.Token, cfg.LLM.APIKey, cfg.Telegram.Webhook.Secret)
	}
	if err := cfg.validate(); err != nil {
		t.Error(err)
	}

	// The environment wins over the file.
	cfg, err = loadConfigFile(cfgPath, []string{"CHORUS_TELEGRAM_TOKEN=9:env"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Token != "9:env" {
		t.Errorf("env token = %q, want 9:env", cfg.Telegram.Token)
	}
	// A *_FILE variable works like the field.
	cfg, err = loadConfigFile("", []string{"CHORUS_DISCORD_TOKEN_FILE=" + dc})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Discord.Token != "discord-token" {
		t.Errorf("discord token from CHORUS_DISCORD_TOKEN_FILE = %q", cfg.Discord.Token)
	}
}

func TestSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty", " \n")
	tok := writeFile(t, dir, "tok", "1:abc")
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"missing", "telegram:\n  token_file: " + filepath.Join(dir, "nope") + "\n", "telegram.token_file: read secret"},
		{"empty", "discord:\n  token_file: " + empty + "\n", "discord.token_file: " + empty + " is empty"},
		{"both", "telegram:\n  token: 1:abc\n  token_file: " + tok + "\n", "telegram.token and telegram.token_file are both set"},
		{"webhook missing", "telegram:\n  webhook:\n    secret_file: " + filepath.Join(dir, "nope") + "\n", "telegram.webhook.secret_file"},
		{"llm missing", "llm:\n  api_key_file: " + filepath.Join(dir, "nope") + "\n", "llm.api_key_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "c.yaml", tt.yaml)
			_, err := loadConfigFile(p, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadFrom = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	c := defaultConfig()
	c.LLM.APIKey = "sk-SECRET1"
	c.LLM.BaseURL = "https://user:SECRET2@llm.example.com/v1"
	c.Telegram.Token = "1:SECRET3"
	c.Telegram.Webhook.Secret = "SECRET4"
	c.Discord.Token = "SECRET5"
	r := configs.Redacted(c)
	out := mustYAML(t, r)
	if strings.Contains(out, "SECRET") {
		t.Fatalf("redacted config reveals a secret:\n%s", out)
	}
	for _, got := range []string{r.LLM.APIKey, r.Telegram.Token, r.Telegram.Webhook.Secret, r.Discord.Token} {
		if got != configs.Redaction {
			t.Errorf("secret shown as %q, want %q", got, configs.Redaction)
		}
	}
	if r.LLM.BaseURL != "https://[redacted]@llm.example.com/v1" {
		t.Errorf("base_url = %q", r.LLM.BaseURL)
	}
	if c.LLM.APIKey != "sk-SECRET1" || c.Telegram.Token != "1:SECRET3" {
		t.Errorf("Redacted changed the original")
	}
	// Unset secrets stay empty, so check-config shows what is missing.
	if d := configs.Redacted(defaultConfig()); d.Telegram.Token != "" || d.LLM.APIKey != "" {
		t.Errorf("unset secrets shown as set: %+v", d.Telegram)
	}
}

func TestHomeChatsFromEnvAndValidated(t *testing.T) {
	c, err := loadConfigFile("", []string{"CHORUS_ROLES_HOME_CHATS=telegram:-1001234, discord:81234"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Roles.HomeChats; len(got) != 2 || got[0] != "telegram:-1001234" || got[1] != "discord:81234" {
		t.Fatalf("home chats = %q", got)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"telegram:@brand", "slack:1", "discord:", "-1001234"} {
		c := defaultConfig()
		c.Roles.HomeChats = []string{bad}
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), "roles.home_chats[0]") {
			t.Errorf("home chat %q: %v", bad, err)
		}
	}
}

func TestRedactedHidesQuerySecrets(t *testing.T) {
	c := defaultConfig()
	c.LLM.BaseURL = "https://gw.example.com/openai/v1?api-version=2024-02-01&api-key=supersecret123"
	out, err := yaml.Marshal(configs.Redacted(c))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "supersecret123") || !strings.Contains(string(out), "api-version=2024-02-01") {
		t.Errorf("redacted config:\n%s", out)
	}
	if !slices.Contains(c.secrets(), "supersecret123") {
		t.Errorf("Secrets() = %q lacks the query key", c.secrets())
	}
}

func TestUnknownEnv(t *testing.T) {
	got := configs.UnknownEnv([]string{
		"CHORUS_ENGIN_WORKERS=16",   // a typo: named with the closest variable
		"CHORUS_ENGINE_WORKERS=16",  // known
		"CHORUS_TRAIN=1",            // a test switch, not a setting
		"CHORUS_COMPLETELY_OFF=yes", // nothing close
		"HOME=/root",                // not ours
	}, defaultConfig())
	if len(got) != 2 {
		t.Fatalf("UnknownEnv = %q, want two warnings", got)
	}
	if !strings.Contains(got[1], "CHORUS_ENGIN_WORKERS") || !strings.Contains(got[1], "did you mean CHORUS_ENGINE_WORKERS?") {
		t.Errorf("typo warning = %q", got[1])
	}
	if !strings.Contains(got[0], "CHORUS_COMPLETELY_OFF") || strings.Contains(got[0], "did you mean") {
		t.Errorf("far-off warning = %q", got[0])
	}
}
