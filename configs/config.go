package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chorusbot/chorus/memory/pgstore"
)

// DefaultDataDir is where state lives when nothing else is said.
const DefaultDataDir = "./chorus-data"

// Config is the whole configuration of the chorus binary. Each section is
// declared, defaulted and validated in its own file.
type Config struct {
	// DataDir holds the bbolt file and other state.
	DataDir    string           `yaml:"data_dir"`
	Log        LogConfig        `yaml:"log"`
	Persona    PersonaConfig    `yaml:"persona"`
	Engine     EngineConfig     `yaml:"engine"`
	Roles      RolesConfig      `yaml:"roles"`
	LLM        LLMConfig        `yaml:"llm"`
	KB         KBConfig         `yaml:"kb"`
	Prompts    PromptsConfig    `yaml:"prompts"`
	Retention  RetentionConfig  `yaml:"retention"`
	Telegram   TelegramConfig   `yaml:"telegram"`
	Discord    DiscordConfig    `yaml:"discord"`
	Admin      AdminConfig      `yaml:"admin"`
	Moderation ModerationConfig `yaml:"moderation"`
	Analytics  AnalyticsConfig  `yaml:"analytics"`
	Announce   AnnounceConfig   `yaml:"announce"`
	// Store is where state lives: bbolt in DataDir, or PostgreSQL.
	Store pgstore.Config `yaml:"store"`
}

// Default returns the built-in configuration: offline LLM, console only,
// state under ./chorus-data. It is valid as it is.
func Default() *Config {
	return &Config{
		DataDir:    DefaultDataDir,
		Log:        defaultLog(),
		Persona:    defaultPersona(),
		Engine:     defaultEngine(),
		Roles:      defaultRoles(),
		LLM:        defaultLLM(),
		KB:         defaultKB(),
		Prompts:    defaultPrompts(),
		Retention:  defaultRetention(),
		Telegram:   defaultTelegram(),
		Discord:    defaultDiscord(),
		Admin:      defaultAdmin(),
		Moderation: defaultModeration(),
		Analytics:  defaultAnalytics(),
		Announce:   defaultAnnounce(),
		Store:      pgstore.DefaultConfig(),
	}
}

// fill restores defaults for fields left empty where empty is not a
// meaningful choice (an API URL, a mode), so that "api_url:" in a file
// means the default rather than an invalid config.
func (c *Config) fill() {
	if strings.TrimSpace(c.DataDir) == "" {
		c.DataDir = DefaultDataDir
	}
	c.Log.fill()
	c.Persona.fill()
	c.LLM.fill()
	c.Telegram.fill()
	c.Discord.fill()
	c.Analytics.fill()
}

// Load reads the YAML file at path (the built-in defaults when path is
// empty), applies the process environment and reads secret files. The
// caller calls Validate on the result.
func Load(path string) (*Config, error) {
	return LoadFrom(path, os.Environ())
}

// LoadFrom is Load with the environment given as "KEY=value" strings, for
// tests and for callers that sandbox the environment.
func LoadFrom(path string, environ []string) (*Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("configs: read %s: %w", path, err)
		}
		cfg, err = LoadBytes(data)
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, path)
		}
	}
	fromEnv, err := applyEnv(cfg, environ)
	if err != nil {
		return nil, err
	}
	if err := cfg.readSecretFiles(fromEnv); err != nil {
		return nil, err
	}
	cfg.fill()
	return cfg, nil
}

// LoadBytes decodes YAML onto the defaults. It reads no environment and no
// files, so it is safe on untrusted input; unknown keys and values of the
// wrong type are errors naming the YAML path and line.
func LoadBytes(data []byte) (*Config, error) {
	cfg := Default()
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, nil
	}
	if err := decodeStrict(data, cfg); err != nil {
		return nil, err
	}
	cfg.fill()
	return cfg, nil
}

// decodeStrict decodes one YAML document into cfg with unknown keys
// rejected, and rewrites yaml's line-numbered errors to name fields.
func decodeStrict(data []byte, cfg *Config) (err error) {
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
			return explainTypeError(data, te)
		}
		return fmt.Errorf("configs: parse: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("configs: parse: the file holds more than one YAML document; use one")
	}
	return nil
}

// Validate checks every field and returns all problems joined, each a
// *FieldError naming the field by its YAML path; nil when the config is
// usable.
func (c *Config) Validate() error {
	var p problems
	if strings.TrimSpace(c.DataDir) == "" {
		p.add("data_dir", "must not be empty")
	}
	c.Log.validate(&p)
	c.Persona.validate(&p)
	c.Engine.validate(&p)
	c.Roles.validate(&p)
	c.LLM.validate(&p)
	c.KB.validate(&p)
	c.Prompts.validate(&p)
	c.Retention.validate(&p)
	c.Telegram.validate(&p)
	c.Discord.validate(&p)
	c.Admin.validate(&p)
	c.Moderation.validate(&p)
	c.Analytics.validate(&p)
	c.Announce.validate(&p)
	if err := c.Store.Validate(); err != nil {
		path, msg, _ := strings.Cut(err.Error(), ": ")
		p.add(path, "%s", msg)
	}
	return p.err()
}

// Clone returns a deep copy, so that callers may change one without the
// other seeing it.
func (c *Config) Clone() *Config {
	v := deepCopy(reflect.ValueOf(c).Elem())
	out := v.Interface().(Config)
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
