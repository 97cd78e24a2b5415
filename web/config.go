package web

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// DefaultListen is where the web listener binds unless told otherwise:
// loopback, for a TLS proxy in front of it.
const DefaultListen = "127.0.0.1:8080"

// Config is the "web" section of the configuration: the public HTTP
// listener and the console served on it.
type Config struct {
	// Listen is host:port; empty disables the listener (and the console).
	Listen string `yaml:"listen"`
	// BaseURL is the public address links are built from (sign-in links,
	// campaign links), e.g. https://chorus.example.com; empty means
	// http://LISTEN. With https the console's session cookie is Secure.
	BaseURL string `yaml:"base_url"`
	// Secret signs the console's sign-in links (at least 32 characters).
	// Empty: a key is made once and kept in DATA_DIR/console.key, which
	// chorus console-link reads too; set it when replicas share a store.
	Secret     string `yaml:"secret" secret:"secret_file"`
	SecretFile string `yaml:"secret_file"`
	// SessionTTL is how long a console session lasts from sign-in.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// FullDMReview shows the whole text of private messages in the
	// console. Off (the default): a DM's content shows only for exchanges
	// that need review, masked as for the model. Only an owner may turn it
	// on here or in the console.
	FullDMReview bool `yaml:"full_dm_review"`
}

// DefaultConfig is the "web" section as Chorus ships it.
func DefaultConfig() Config { return Config{Listen: DefaultListen, SessionTTL: DefaultSessionTTL} }

// DefaultSessionTTL is how long a console session lasts unless told
// otherwise: a working day.
const DefaultSessionTTL = 12 * time.Hour

// Validate checks the "web" section.
func (c Config) Validate() error {
	var p bot.Problems
	if c.Listen != "" {
		p.Listen("listen", c.Listen)
	}
	if c.BaseURL != "" {
		p.URL("base_url", c.BaseURL, "http", "https")
		if u, err := url.Parse(c.BaseURL); err == nil && (u.RawQuery != "" || u.Fragment != "" || u.User != nil) {
			p.Add("base_url", "must be a plain address without query, fragment or credentials")
		}
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		p.Add("secret", "must be at least 32 characters (value not shown)")
	}
	if c.SessionTTL < time.Minute {
		p.Add("session_ttl", "must be at least 1m, got %s", c.SessionTTL)
	}
	return p.Err()
}

// Base is the public address without a trailing slash: BaseURL, or
// http://LISTEN when it is empty (an unspecified host reads as
// 127.0.0.1).
func (c Config) Base() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "http://" + c.Listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Secure reports whether the public address is https: cookies then
// carry the Secure attribute.
func (c Config) Secure() bool { return strings.HasPrefix(strings.ToLower(c.Base()), "https://") }
