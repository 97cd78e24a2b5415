package configs

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Redaction replaces secrets in Redacted.
const Redaction = "[redacted]"

// secret ties a secret field to its *_file field.
type secret struct {
	path, filePath string
	value, file    *string
}

func (c *Config) secrets() []secret {
	return []secret{
		{"llm.api_key", "llm.api_key_file", &c.LLM.APIKey, &c.LLM.APIKeyFile},
		{"telegram.token", "telegram.token_file", &c.Telegram.Token, &c.Telegram.TokenFile},
		{"telegram.webhook.secret", "telegram.webhook.secret_file", &c.Telegram.Webhook.Secret, &c.Telegram.Webhook.SecretFile},
		{"discord.token", "discord.token_file", &c.Discord.Token, &c.Discord.TokenFile},
		{"store.dsn", "store.dsn_file", &c.Store.DSN, &c.Store.DSNFile},
	}
}

// readSecretFiles fills each secret from its *_file field. A secret set
// from the environment wins over its file; one set in YAML as well as its
// file is ambiguous and an error.
func (c *Config) readSecretFiles(fromEnv map[string]bool) error {
	var errs []error
	for _, s := range c.secrets() {
		if *s.file == "" || fromEnv[s.path] {
			continue
		}
		if *s.value != "" {
			errs = append(errs, fmt.Errorf("configs: %s and %s are both set; keep one", s.path, s.filePath))
			continue
		}
		data, err := os.ReadFile(*s.file)
		if err != nil {
			errs = append(errs, fmt.Errorf("configs: %s: read secret: %w", s.filePath, err))
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			errs = append(errs, fmt.Errorf("configs: %s: %s is empty", s.filePath, *s.file))
			continue
		}
		*s.value = v
	}
	return errors.Join(errs...)
}

// Secrets returns the values of the secrets that are set (tokens, keys,
// the webhook secret, passwords and secret query parameters in URLs), for
// the redaction in front of the logs.
func (c *Config) Secrets() []string {
	var out []string
	for _, s := range c.secrets() {
		if *s.value != "" {
			out = append(out, *s.value)
		}
	}
	out = append(out, c.Store.Secrets()...)
	for _, raw := range []string{c.LLM.BaseURL, c.Telegram.APIURL, c.Telegram.Webhook.PublicURL, c.Discord.APIURL, c.Discord.GatewayURL} {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				out = append(out, p)
			}
		}
		for k, vs := range u.Query() {
			if secretParam(k) {
				out = append(out, vs...)
			}
		}
	}
	return out
}

// secretParam reports whether a URL query parameter holds a secret
// (?api-key=, ?token=, ...).
func secretParam(k string) bool {
	k = strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(k))
	switch k {
	case "apikey", "key", "token", "accesstoken", "secret", "password", "passwd", "sig", "signature", "auth", "code":
		return true
	}
	return false
}

// Redacted returns a copy fit to print: every secret that is set becomes
// "[redacted]" and passwords in URLs are hidden.
func (c *Config) Redacted() *Config {
	r := c.Clone()
	for _, s := range r.secrets() {
		if *s.value != "" {
			*s.value = Redaction
		}
	}
	r.LLM.BaseURL = redactURL(r.LLM.BaseURL)
	r.Telegram.APIURL = redactURL(r.Telegram.APIURL)
	r.Telegram.Webhook.PublicURL = redactURL(r.Telegram.Webhook.PublicURL)
	r.Discord.APIURL = redactURL(r.Discord.APIURL)
	r.Discord.GatewayURL = redactURL(r.Discord.GatewayURL)
	return r
}

// redactURL hides the user info of a URL ("https://u:p@host" becomes
// "https://[redacted]@host") and the values of secret query parameters
// ("?api-key=[redacted]"); other values are returned as they are.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") || strings.Contains(raw, "?") {
			return Redaction
		}
		return raw
	}
	changed := false
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if secretParam(k) {
				q[k] = []string{Redaction}
				changed = true
			}
		}
		if changed {
			u.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(Redaction), Redaction)
		}
	}
	if u.User == nil {
		if !changed {
			return raw
		}
		return u.String()
	}
	u.User = nil
	s := u.String()
	scheme := u.Scheme + "://"
	if strings.HasPrefix(s, scheme) {
		return scheme + Redaction + "@" + strings.TrimPrefix(s, scheme)
	}
	return Redaction
}
