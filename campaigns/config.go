package campaigns

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	// Time zones are read from the binary, so that a distroless image
	// without /usr/share/zoneinfo still knows them.
	_ "time/tzdata"

	"github.com/chorusbot/chorus/bot"
)

// Config is the "campaigns" section: where posts are published and how
// their times are read.
type Config struct {
	// TimeZone is the IANA zone a scheduled time such as
	// "2026-12-24 09:00" is read in, and reports show days in (default
	// UTC).
	TimeZone string `yaml:"time_zone" empty:"default"`
	// Channels are the brand channels posts are published to, by
	// platform: Telegram channel or group ids ("-1001234567890"), Discord
	// channel ids. They are announce.channels, set by the binary: one
	// list of the brand's channels for /announce and /post publish.
	Channels map[string][]string `yaml:"-"`
	// Welcome greets members joining the community's chats.
	Welcome WelcomeConfig `yaml:"welcome"`
}

// WelcomeConfig is "campaigns.welcome": greeting new members.
type WelcomeConfig struct {
	// Chats are where members are greeted: Telegram groups
	// ("telegram:-1001234567890", the bot an administrator there) and
	// Discord servers ("discord:81234", greeted in the server's system
	// channel; needs discord.member_events). Empty: no welcome.
	Chats []string `yaml:"chats" platform:"homes"`
	// Rules is the line of the community's rules the greeting carries.
	Rules string `yaml:"rules"`
	// Link is a page for new members; tracked when its domain is one of
	// links.domains.
	Link string `yaml:"link"`
	// Template replaces the catalogue's greeting: {name}, {brand}, {bot},
	// {rules}, {link}.
	Template string `yaml:"template"`
	// PerMinute bounds the greetings in one chat per minute: members
	// joining past it (a raid) are recorded but not greeted.
	PerMinute int `yaml:"per_minute"`
}

// DefaultConfig is the section's defaults: UTC, no channels.
func DefaultConfig() Config { return Config{TimeZone: "UTC", Welcome: WelcomeConfig{PerMinute: 5}} }

// Validate checks the section, naming fields by their YAML path in it.
func (c Config) Validate() error {
	var p bot.Problems
	if _, err := time.LoadLocation(c.zone()); err != nil {
		p.Add("time_zone", "unknown time zone %q (use an IANA name such as \"Europe/Berlin\" or \"UTC\")", c.TimeZone)
	}
	if c.Welcome.PerMinute < 0 {
		p.Add("welcome.per_minute", "must be 0 or more (0: 5)")
	}
	if l := c.Welcome.Link; l != "" {
		p.URL("welcome.link", l, "http", "https")
	}
	for _, k := range bot.SortedKeys(c.Channels) {
		for i, id := range c.Channels[k] {
			if strings.TrimSpace(id) == "" {
				p.Add(k+"["+strconv.Itoa(i)+"]", "must be a chat id, got an empty string")
			}
		}
	}
	return p.Err()
}

func (c Config) zone() string {
	if c.TimeZone == "" {
		return "UTC"
	}
	return c.TimeZone
}

// location is the configured zone (UTC when it can't be loaded, which
// Validate reports).
func (c Config) location() *time.Location {
	loc, err := time.LoadLocation(c.zone())
	if err != nil {
		return time.UTC
	}
	return loc
}

// LinksConfig is the "links" section: which links are tracked and where
// their short links are served.
type LinksConfig struct {
	// Domains are the brand's domains: a link to one of them (or a
	// subdomain) in a published post, an announcement or an answer is
	// rewritten to a tracked short link. Empty: no link is rewritten.
	Domains []string `yaml:"domains"`
	// BaseURL is where short links point: BaseURL + "/l/CODE" (for
	// example "https://go.brand.example"). Empty: web.base_url.
	BaseURL string `yaml:"base_url"`
	// ConversionSecret signs POST /conversions (X-Chorus-Signature:
	// sha256=HMAC-SHA256 of the body); secret. Empty: conversions are
	// refused.
	ConversionSecret     string `yaml:"conversion_secret" secret:"conversion_secret_file"`
	ConversionSecretFile string `yaml:"conversion_secret_file"`
	// TrustForwardedFor takes the client address for unique clicks from
	// the last X-Forwarded-For entry: set it when a reverse proxy you run
	// stands in front of the public listener, never otherwise (anyone
	// could then choose their address).
	TrustForwardedFor bool `yaml:"trust_forwarded_for"`
}

// Validate checks the section, naming fields by their YAML path in it.
func (c LinksConfig) Validate() error {
	var p bot.Problems
	for i, d := range c.Domains {
		if normDomain(d) == "" || strings.ContainsAny(d, "/ :?#") {
			p.Add("domains["+strconv.Itoa(i)+"]", "must be a domain name such as \"brand.example\", got %q", d)
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			p.Add("base_url", "must be an absolute http(s) URL without query, such as \"https://go.brand.example\"")
		}
	}
	if len(c.Domains) > 0 && c.ConversionSecret != "" && len(c.ConversionSecret) < 16 {
		p.Add("conversion_secret", "too short: use at least 16 random characters")
	}
	return p.Err()
}

// normDomain lower-cases a domain and drops a leading "www." and dots at
// either end.
func normDomain(d string) string {
	d = strings.Trim(strings.ToLower(strings.TrimSpace(d)), ".")
	return strings.TrimPrefix(d, "www.")
}
