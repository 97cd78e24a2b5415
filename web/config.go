package web

import (
	"net"
	"net/url"
	"strings"

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
}

// DefaultConfig is the "web" section as Chorus ships it.
func DefaultConfig() Config { return Config{Listen: DefaultListen} }

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
