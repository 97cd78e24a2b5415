package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/chorusbot/chorus/bot"
)

// Defaults for Config fields left zero.
const (
	DefaultBaseURL    = "https://api.openai.com/v1"
	DefaultTimeout    = 60 * time.Second
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 20 * time.Second
	// MaxRetryAfter is the longest Retry-After the client waits for; a
	// server asking for more is treated as unavailable now, since a chat
	// reply that late is no reply.
	MaxRetryAfter = 60 * time.Second
)

// Operations named in errors and logs.
const (
	opComplete = "complete"
	opStream   = "stream"
)

// Config is the "llm" section of the configuration, and configures a
// Client: any OpenAI-compatible endpoint. With neither BaseURL nor APIKey
// set the binary answers with the offline provider instead (Offline).
type Config struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1" or
	// "http://127.0.0.1:11434/v1" (Ollama). Empty means OpenAI's.
	BaseURL string `yaml:"base_url" redact:"url"`
	// APIKey is sent as a bearer token; secret. It may be empty: local
	// servers need none, and then no Authorization header is sent.
	APIKey     string `yaml:"api_key" secret:"api_key_file" env:"OPENAI_API_KEY"`
	APIKeyFile string `yaml:"api_key_file"`
	// Model is the model name; required.
	Model string `yaml:"model" empty:"default"`
	// Timeout bounds one attempt: the whole of a Complete, and for a
	// Stream the wait for the first chunk and every gap between chunks.
	// Zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// MaxRetries is how many times a 429, 5xx or timeout is retried (so
	// at most MaxRetries+1 requests); 0 never retries.
	MaxRetries int `yaml:"max_retries"`
	// Temperature is used when a Request sets none; zero leaves it to
	// the server.
	Temperature float64 `yaml:"temperature"`
	// MaskPII masks e-mail addresses, phone numbers, card numbers, IBANs
	// and MaskPatterns before text leaves the machine (and puts them back
	// in the reply).
	MaskPII bool `yaml:"mask_pii"`
	// MaskLoopback keeps masking on for a loopback BaseURL; false lets a
	// model on this machine see the text as written.
	MaskLoopback bool `yaml:"mask_loopback"`
	// MaskPatterns are extra regular expressions (Go syntax) to mask, by
	// placeholder name ("ORDER": `#\d{6}` masks as [ORDER_1]).
	MaskPatterns map[string]string `yaml:"mask_patterns"`
	// Prices per model, in currency units per million tokens, for cost
	// accounting.
	Prices Prices `yaml:"prices"`

	// MinBackoff and MaxBackoff bound the exponential back-off between
	// attempts (full jitter: a random wait in [0, min(Max, Min*2^n)]).
	// A Retry-After header from the server takes precedence.
	MinBackoff time.Duration `yaml:"-"`
	MaxBackoff time.Duration `yaml:"-"`
}

// DefaultConfig is the "llm" section as Chorus ships it: the offline
// provider until a base URL or key is set, then gpt-4o-mini with three
// retries and personal data masked.
func DefaultConfig() Config {
	return Config{
		Model:        "gpt-4o-mini",
		Timeout:      30 * time.Second,
		MaxRetries:   3,
		Temperature:  0.3,
		MaskPII:      true,
		MaskLoopback: true,
		Prices: Prices{
			"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.60},
			"gpt-4o":      {PromptPer1M: 2.50, CompletionPer1M: 10.00},
		},
	}
}

var maskName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// Validate checks the "llm" section.
// maxIdleConns is how many idle connections to the model's server the
// client keeps.
const maxIdleConns = 64

func (c Config) Validate() error {
	var p bot.Problems
	if c.BaseURL != "" {
		p.URL("base_url", c.BaseURL, "http", "https")
	}
	if strings.ContainsAny(c.APIKey, " \t\r\n") {
		p.Add("api_key", "must not contain spaces or line breaks (value not shown)")
	}
	p.NonNegative("timeout", c.Timeout)
	if c.MaxRetries < 0 || c.MaxRetries > 10 {
		p.Add("max_retries", "must be from 0 to 10, got %d", c.MaxRetries)
	}
	if c.Temperature < 0 || c.Temperature > 2 || c.Temperature != c.Temperature {
		p.Add("temperature", "must be from 0 to 2, got %v", c.Temperature)
	}
	for _, name := range bot.SortedKeys(c.MaskPatterns) {
		path := "mask_patterns." + name
		if !maskName.MatchString(name) {
			p.Add(path, "name must be a letter followed by letters, digits or _ (it becomes the placeholder), got %q", name)
		}
		re, err := regexp.Compile(c.MaskPatterns[name])
		if err != nil {
			p.Add(path, "must be a valid regular expression (Go RE2 syntax): %v", err)
			continue
		}
		if re.MatchString("") {
			p.Add(path, "must not match the empty string, got %q", c.MaskPatterns[name])
		}
	}
	for _, model := range bot.SortedKeys(c.Prices) {
		pr := c.Prices[model]
		p.NonNegative(fmt.Sprintf("prices.%s.prompt_per_1m", model), pr.PromptPer1M)
		p.NonNegative(fmt.Sprintf("prices.%s.completion_per_1m", model), pr.CompletionPer1M)
	}
	return p.Err()
}

// Offline reports whether the offline provider answers: no base URL and no
// API key.
func (c Config) Offline() bool { return c.BaseURL == "" && c.APIKey == "" }

// Endpoint is the base URL to call: BaseURL, or DefaultBaseURL when only
// an API key is set.
func (c Config) Endpoint() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return DefaultBaseURL
}

// Loopback reports whether BaseURL points at this machine (localhost or a
// loopback address).
func (c Config) Loopback() bool {
	if c.BaseURL == "" {
		return false
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return false
	}
	return isLoopback(u.Hostname())
}

// ShouldMask reports whether personal data is masked before it is sent:
// MaskPII, unless the endpoint is loopback and MaskLoopback is off.
func (c Config) ShouldMask() bool {
	return c.MaskPII && (c.MaskLoopback || !c.Loopback())
}

// Option customises a Client, mostly for tests.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (proxies, TLS, test servers). Its
// Transport is wrapped, not replaced.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithClock sets the clock used to read Retry-After dates.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithSleep sets how the client waits between attempts; tests record the
// waits instead of sleeping. sleep must return ctx's error when ctx ends
// first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// Client is a bot.LLM speaking the OpenAI chat-completions protocol. It is
// safe for concurrent use.
type Client struct {
	cfg   Config
	api   *openai.Client
	http  *http.Client
	log   *slog.Logger
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	// masker is the prototype whose rules each request's masker shares;
	// nil when masking is off.
	masker *Masker
}

var _ bot.LLM = (*Client)(nil)

// New returns a client for cfg. It does no network I/O.
func New(cfg Config, opts ...Option) (*Client, error) {
	if cfg.Model == "" {
		return nil, errors.New("llm: config: model is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("llm: config: base_url %q must be an http(s) URL", cfg.BaseURL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	c := &Client{cfg: cfg, now: time.Now, sleep: bot.Sleep}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShouldMask() {
		m, err := NewMasker(cfg.MaskPatterns)
		if err != nil {
			return nil, err
		}
		c.masker = m
	}
	hc := &http.Client{}
	if c.http != nil {
		*hc = *c.http
	}
	base := hc.Transport
	if base == nil {
		// Many answers stream at once: keep their connections for reuse
		// instead of opening (and leaving in TIME_WAIT) one per request
		// beyond the default transport's two idle ones per host.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = maxIdleConns
		base = tr
	}
	hc.Transport = &transport{base: base}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = hc
	c.api = openai.NewClientWithConfig(oc)
	return c, nil
}

// Masking reports whether the client masks personal data.
func (c *Client) Masking() bool { return c.masker != nil }

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// build turns req into the wire request, masking message contents with m
// when it is not nil.
func (c *Client) build(req bot.Request, m *Masker, stream bool) openai.ChatCompletionRequest {
	msgs := make([]openai.ChatCompletionMessage, 0, len(req.Messages))
	for _, cm := range req.Messages {
		content := cm.Content
		if m != nil {
			content = m.Mask(content)
		}
		msgs = append(msgs, openai.ChatCompletionMessage{Role: cm.Role, Content: content})
	}
	r := openai.ChatCompletionRequest{
		Model:       c.cfg.Model,
		Messages:    msgs,
		MaxTokens:   req.MaxTokens,
		Temperature: float32(c.cfg.Temperature),
		Stream:      stream,
	}
	if req.Temperature != 0 {
		r.Temperature = req.Temperature
	}
	if req.JSON {
		r.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	}
	if stream {
		r.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	// Reasoning models (o1, o3, o4, ...) take max_completion_tokens and no
	// sampling parameters; go-openai refuses the request otherwise.
	v := openai.NewReasoningValidator()
	if errors.Is(v.Validate(r), openai.ErrReasoningModelMaxTokensDeprecated) {
		r.MaxCompletionTokens, r.MaxTokens = r.MaxTokens, 0
	}
	if err := v.Validate(r); err != nil && r.Temperature != 0 {
		r.Temperature = 0
	}
	return r
}

func (c *Client) newMasker() *Masker {
	if c.masker == nil {
		return nil
	}
	return c.masker.Fork()
}

// Complete implements bot.LLM.
func (c *Client) Complete(ctx context.Context, req bot.Request) (bot.Response, error) {
	m := c.newMasker()
	creq := c.build(req, m, false)
	c.log.Debug("llm request", "op", opComplete, "purpose", req.Purpose, "messages", creq.Messages)
	var resp openai.ChatCompletionResponse
	err := c.retry(ctx, opComplete, req.Purpose, func(actx context.Context) error {
		tctx, cancel := context.WithTimeoutCause(actx, c.cfg.Timeout, errCallTimeout)
		defer cancel()
		var err error
		resp, err = c.api.CreateChatCompletion(tctx, creq)
		if err != nil && actx.Err() == nil && errors.Is(context.Cause(tctx), errCallTimeout) {
			return fmt.Errorf("%w: %w", errCallTimeout, err)
		}
		if err == nil && len(resp.Choices) == 0 {
			return errNoChoices
		}
		return err
	})
	if err != nil {
		return bot.Response{}, err
	}
	text := resp.Choices[0].Message.Content
	if m != nil {
		text = m.Unmask(text)
	}
	model := resp.Model
	if model == "" {
		model = c.cfg.Model
	}
	usage := bot.Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	if usage.Total() == 0 {
		usage = estimateUsage(creq.Messages, text)
	}
	c.log.Debug("llm reply", "op", opComplete, "model", model, "text", text)
	return bot.Response{Text: text, Model: model, Usage: usage}, nil
}

// errNoChoices is the failure of a 200 reply without choices.
var errNoChoices = errors.New("reply has no choices")

// estimateUsage fills in usage for servers that report none, so budgets
// still count something.
func estimateUsage(msgs []openai.ChatCompletionMessage, reply string) bot.Usage {
	var u bot.Usage
	for _, m := range msgs {
		u.PromptTokens += bot.ApproxTokens(m.Content) + 4
	}
	u.CompletionTokens = bot.ApproxTokens(reply)
	return u
}

// retry runs attempt until it succeeds, fails for good, or retries run
// out. attempt enforces the per-call timeout itself and reports a timeout
// by wrapping errCallTimeout.
func (c *Client) retry(ctx context.Context, op string, purpose bot.Purpose, attempt func(context.Context) error) error {
	for n := 1; ; n++ {
		actx, st := withCallState(ctx)
		err := attempt(actx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &Error{Op: op, Attempts: n, Kind: bot.ErrLLMTimeout, Err: ctx.Err()}
			}
			return fmt.Errorf("llm: %s: %w", op, ctx.Err())
		}
		status, retryAfter := st.snapshot()
		kind, code, retryable := classify(err, status)
		final := &Error{Op: op, Status: code, Attempts: n, Kind: kind, Err: err}
		if !retryable || n > c.cfg.MaxRetries {
			c.log.Warn("llm call failed", "op", op, "purpose", purpose, "status", code, "attempts", n, "kind", kind)
			c.log.Debug("llm call failed", "op", op, "err", err)
			return final
		}
		wait, ok := c.backoff(n, retryAfter)
		if !ok {
			c.log.Warn("llm retry-after too long", "op", op, "purpose", purpose, "status", code, "retry_after", retryAfter)
			return final
		}
		c.log.Info("llm call failed, retrying", "op", op, "purpose", purpose, "status", code, "attempt", n, "wait", wait)
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("llm: %s: %w", op, err)
		}
	}
}

// classify maps an attempt's error to a sentinel, the HTTP status and
// whether another attempt may help.
func classify(err error, status int) (kind error, code int, retryable bool) {
	if errors.Is(err, errCallTimeout) {
		return bot.ErrLLMTimeout, 0, true
	}
	var ae *openai.APIError
	var re *openai.RequestError
	switch {
	case errors.As(err, &ae) && ae.HTTPStatusCode != 0:
		code = ae.HTTPStatusCode
	case errors.As(err, &re) && re.HTTPStatusCode != 0:
		code = re.HTTPStatusCode
	case status >= http.StatusBadRequest:
		code = status
	}
	var ue *url.Error
	if code == 0 && status == 0 && !errors.As(err, &ue) {
		// No response and not a transport failure: the request was
		// refused before it was sent (go-openai's own validation).
		return bot.ErrLLMRejected, 0, false
	}
	switch {
	case code == http.StatusTooManyRequests:
		return bot.ErrLLMUnavailable, code, true
	case code == http.StatusRequestTimeout:
		return bot.ErrLLMTimeout, code, true
	case code >= 500:
		return bot.ErrLLMUnavailable, code, true
	case code >= 400:
		return bot.ErrLLMRejected, code, false
	}
	// Network errors, a dropped connection, an unreadable 200.
	return bot.ErrLLMUnavailable, 0, true
}

// backoff is the wait before attempt n+1: the server's Retry-After when it
// sent one (false when that is longer than MaxRetryAfter), else full
// jitter over an exponential ceiling.
func (c *Client) backoff(n int, retryAfter string) (time.Duration, bool) {
	if d, ok := parseRetryAfter(retryAfter, c.now()); ok {
		return d, d <= MaxRetryAfter
	}
	ceil := c.cfg.MinBackoff
	for i := 1; i < n && ceil < c.cfg.MaxBackoff; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.cfg.MaxBackoff)
	return time.Duration(rand.Int64N(int64(ceil) + 1)), true
}

// Stream implements bot.LLM. The request is retried until its first chunk
// arrives; after that a failure ends the stream with bot.ErrStreamCut.
func (c *Client) Stream(ctx context.Context, req bot.Request) (bot.Stream, error) {
	m := c.newMasker()
	creq := c.build(req, m, true)
	c.log.Debug("llm request", "op", opStream, "purpose", req.Purpose, "messages", creq.Messages)
	var out *stream
	err := c.retry(ctx, opStream, req.Purpose, func(actx context.Context) error {
		s := newStream(actx, c.cfg.Timeout, m, c.cfg.Model, creq.Messages)
		cs, err := c.api.CreateChatCompletionStream(s.ctx, creq)
		if err != nil {
			s.Close()
			return s.attemptErr(actx, err)
		}
		s.s = cs
		if err := s.prime(); err != nil {
			s.Close()
			return s.attemptErr(actx, err)
		}
		out = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attemptErr turns an error of an attempt into what retry classifies.
func (s *stream) attemptErr(actx context.Context, err error) error {
	if actx.Err() == nil && errors.Is(context.Cause(s.ctx), errCallTimeout) {
		return fmt.Errorf("%w: %w", errCallTimeout, err)
	}
	if errors.Is(err, io.EOF) {
		// Never hand io.EOF up as a failure: callers compare with it.
		return fmt.Errorf("stream ended before its first chunk: %v", err)
	}
	return err
}
