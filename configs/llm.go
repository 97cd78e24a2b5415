package configs

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// DefaultOpenAIURL is the endpoint used when an API key is set without a
// base URL.
const DefaultOpenAIURL = "https://api.openai.com/v1"

// LLMConfig is the "llm" section: any OpenAI-compatible endpoint, or the
// offline provider when neither base_url nor api_key is set.
type LLMConfig struct {
	// BaseURL is the endpoint ("http://127.0.0.1:11434/v1" for Ollama);
	// empty means OpenAI when APIKey is set, offline otherwise.
	BaseURL string `yaml:"base_url"`
	// APIKey is secret; prefer CHORUS_LLM_API_KEY, OPENAI_API_KEY or
	// APIKeyFile. Local servers need none.
	APIKey     string `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	Model      string `yaml:"model"`
	// Timeout bounds one HTTP attempt.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetries is how many times a 429, 5xx or timeout is retried.
	MaxRetries  int     `yaml:"max_retries"`
	Temperature float64 `yaml:"temperature"`
	// MaskPII masks e-mail addresses, phone numbers, card numbers, IBANs
	// and MaskPatterns before text leaves the machine.
	MaskPII bool `yaml:"mask_pii"`
	// MaskLoopback keeps masking on for a loopback BaseURL; false lets a
	// model on this machine see the text as written.
	MaskLoopback bool `yaml:"mask_loopback"`
	// MaskPatterns are extra patterns to mask, by placeholder name
	// ("ORDER": `#\d{6}`).
	MaskPatterns map[string]string `yaml:"mask_patterns"`
	// Prices per model, in currency units per million tokens, for cost
	// accounting.
	Prices map[string]Price `yaml:"prices"`
}

// Price is a model's price per million tokens.
type Price struct {
	PromptPer1M     float64 `yaml:"prompt_per_1m"`
	CompletionPer1M float64 `yaml:"completion_per_1m"`
}

func defaultLLM() LLMConfig {
	return LLMConfig{
		Model:        "gpt-4o-mini",
		Timeout:      30 * time.Second,
		MaxRetries:   3,
		Temperature:  0.3,
		MaskPII:      true,
		MaskLoopback: true,
		Prices: map[string]Price{
			"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.60},
			"gpt-4o":      {PromptPer1M: 2.50, CompletionPer1M: 10.00},
		},
	}
}

func (c *LLMConfig) fill() {
	if strings.TrimSpace(c.Model) == "" {
		c.Model = defaultLLM().Model
	}
}

var maskName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

func (c *LLMConfig) validate(p *problems) {
	if c.BaseURL != "" {
		checkURL(p, "llm.base_url", c.BaseURL, "http", "https")
	}
	if strings.ContainsAny(c.APIKey, " \t\r\n") {
		p.add("llm.api_key", "must not contain spaces or line breaks (value not shown)")
	}
	nonNegDuration(p, "llm.timeout", c.Timeout)
	if c.MaxRetries < 0 || c.MaxRetries > 10 {
		p.add("llm.max_retries", "must be from 0 to 10, got %d", c.MaxRetries)
	}
	if c.Temperature < 0 || c.Temperature > 2 || c.Temperature != c.Temperature {
		p.add("llm.temperature", "must be from 0 to 2, got %v", c.Temperature)
	}
	for _, name := range sortedKeys(c.MaskPatterns) {
		path := "llm.mask_patterns." + name
		if !maskName.MatchString(name) {
			p.add(path, "name must be a letter followed by letters, digits or _ (it becomes the placeholder), got %q", name)
		}
		re, err := regexp.Compile(c.MaskPatterns[name])
		if err != nil {
			p.add(path, "must be a valid regular expression (Go RE2 syntax): %v", err)
			continue
		}
		if re.MatchString("") {
			p.add(path, "must not match the empty string, got %q", c.MaskPatterns[name])
		}
	}
	for _, model := range sortedKeys(c.Prices) {
		pr := c.Prices[model]
		nonNegFloat(p, fmt.Sprintf("llm.prices.%s.prompt_per_1m", model), pr.PromptPer1M)
		nonNegFloat(p, fmt.Sprintf("llm.prices.%s.completion_per_1m", model), pr.CompletionPer1M)
	}
}

// Offline reports whether the offline provider answers: no base URL and no
// API key.
func (c LLMConfig) Offline() bool { return c.BaseURL == "" && c.APIKey == "" }

// Endpoint is the base URL to call: BaseURL, or DefaultOpenAIURL when only
// an API key is set.
func (c LLMConfig) Endpoint() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return DefaultOpenAIURL
}

// Loopback reports whether BaseURL points at this machine (localhost or a
// loopback address).
func (c LLMConfig) Loopback() bool {
	if c.BaseURL == "" {
		return false
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ShouldMask reports whether personal data is masked before it is sent:
// MaskPII, unless the endpoint is loopback and MaskLoopback is off.
func (c LLMConfig) ShouldMask() bool {
	return c.MaskPII && (c.MaskLoopback || !c.Loopback())
}
