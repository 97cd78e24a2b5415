package metrics

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric Chorus exports.
const Namespace = "chorus"

// Other is the label value for anything outside a label's fixed set: an
// unknown platform, an unregistered command, a model not in the list.
const Other = "other"

// UnknownModel labels LLM calls whose model was not reported (a call that
// failed before the provider named it).
const UnknownModel = "unknown"

// LatencyBuckets are the histogram buckets, in seconds, for reply latency
// and LLM calls: from 5 ms (an offline answer takes a few) to a minute (a
// long completion on a slow model). With 50 ms as the first bound, a 3 ms
// answer read as 25 ms in histogram_quantile.
var LatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60}

// DefaultModels are model names known without configuration.
var DefaultModels = []string{"offline"}

// NegativeLabel is the sentiment label counted in the negative share.
const NegativeLabel = "negative"

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	PromptPer1M     float64 `json:"prompt_per_1m" yaml:"prompt_per_1m"`
	CompletionPer1M float64 `json:"completion_per_1m" yaml:"completion_per_1m"`
}

// Cost returns the price of u in US dollars.
func (p Price) Cost(u bot.Usage) float64 {
	return (float64(u.PromptTokens)*p.PromptPer1M + float64(u.CompletionTokens)*p.CompletionPer1M) / 1e6
}

// Option configures Metrics.
type Option func(*config)

type config struct {
	prices     map[string]Price
	platforms  []string
	commands   []string
	models     []string
	categories []string
	actions    []string
	labels     []string
	alerts     []string
	storeSize  func() (int64, error)
	userKey    func(string) string
	fleet      bot.KV
	version    string
	revision   string
	now        func() time.Time
}

// WithPrices sets the per-model price table for chorus_llm_cost_usd_total.
// Models in it are known models (their own label value).
func WithPrices(p map[string]Price) Option {
	return func(c *config) {
		c.prices = make(map[string]Price, len(p))
		for k, v := range p {
			c.prices[k] = v
		}
	}
}

// The label sets: what the engine's vocabulary (package bot) says an event
// may carry, and what the running parts declare (Declare): the platforms
// added, the commands registered, and the plug-ins' categories, actions,
// sentiment labels and alert kinds. A value outside its set is Other.

// WithPlatforms adds platform names to the known set.
func WithPlatforms(names ...string) Option {
	return func(c *config) { c.platforms = append(c.platforms, names...) }
}

// WithCommands adds command names to the known set. Commands registered on
// the engine after New can be added with AddCommands.
func WithCommands(names ...string) Option {
	return func(c *config) { c.commands = append(c.commands, names...) }
}

// WithModels adds model names to the known set.
func WithModels(names ...string) Option {
	return func(c *config) { c.models = append(c.models, names...) }
}

// WithCategories adds moderation categories to the known set.
func WithCategories(names ...string) Option {
	return func(c *config) { c.categories = append(c.categories, names...) }
}

// WithActions adds moderation actions to the known set.
func WithActions(names ...string) Option {
	return func(c *config) { c.actions = append(c.actions, names...) }
}

// WithSentimentLabels adds sentiment labels to the known set.
func WithSentimentLabels(names ...string) Option {
	return func(c *config) { c.labels = append(c.labels, names...) }
}

// WithAlertKinds adds early-warning alert kinds to the known set.
func WithAlertKinds(names ...string) Option {
	return func(c *config) { c.alerts = append(c.alerts, names...) }
}

// WithStoreSize exports chorus_store_size_bytes from fn, called at scrape
// time (the bbolt file's size). A failing fn leaves the gauge out of that
// scrape.
func WithStoreSize(fn func() (int64, error)) Option {
	return func(c *config) { c.storeSize = fn }
}

// WithBuildInfo sets the version and VCS revision of chorus_build_info
// (default: read from the binary's build info).
func WithBuildInfo(version, revision string) Option {
	return func(c *config) { c.version, c.revision = version, revision }
}

// WithUserKey sets what chorus_active_users tells users apart by (default:
// the user key itself). Give it the key of the stored activity the figure
// is rebuilt from at start (see Seen), so that a user seen before and
// after a restart counts once.
func WithUserKey(key func(user string) string) Option {
	return func(c *config) { c.userKey = key }
}

// WithClock replaces time.Now for the sliding windows, for tests.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// labelSet maps a raw value to itself when known, to Other otherwise.
// It is safe for concurrent use.
type labelSet struct {
	mu    sync.RWMutex
	known map[string]bool
}

func newLabelSet(groups ...[]string) *labelSet {
	s := &labelSet{known: map[string]bool{}}
	for _, g := range groups {
		s.add(g...)
	}
	return s
}

func (s *labelSet) add(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n != "" && n != Other {
			s.known[n] = true
		}
	}
}

func (s *labelSet) get(v string) string {
	v = strings.ToLower(v)
	s.mu.RLock()
	ok := s.known[v]
	s.mu.RUnlock()
	if ok {
		return v
	}
	return Other
}

// values lists the known values, sorted, for pre-initialising series.
func (s *labelSet) values() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.known))
	for k := range s.known {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// strs turns a list of typed values into label values.
func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// Metrics holds Chorus's collectors and turns engine events into them. It
// implements bot.Observer; Observe is safe for concurrent use and does no
// I/O.
type Metrics struct {
	cfg config
	now func() time.Time

	platforms, commands, models, categories, actions, labels, alerts *labelSet
	campaigns                                                        *labelSet
	chatKinds, outcomes, purposes, rateReasons                       *labelSet

	received     *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	replies      *prometheus.CounterVec
	commandsRun  *prometheus.CounterVec
	firstToken   *prometheus.HistogramVec
	replyLatency *prometheus.HistogramVec

	llmRequests   *prometheus.CounterVec
	llmDuration   *prometheus.HistogramVec
	llmPrompt     *prometheus.CounterVec
	llmCompletion *prometheus.CounterVec
	llmCost       *prometheus.CounterVec

	verdicts  *prometheus.CounterVec
	modAction *prometheus.CounterVec
	blocked   *prometheus.CounterVec
	sentiment *prometheus.CounterVec
	alertsRun *prometheus.CounterVec
	feedback  *prometheus.CounterVec

	clicks      *prometheus.CounterVec
	conversions *prometheus.CounterVec

	queueDepth  prometheus.Gauge
	inFlight    prometheus.Gauge
	panics      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	connected   *prometheus.GaugeVec
	// connMu orders the writes of chorus_adapter_connected; reported
	// holds the platforms whose adapter has said connected or not.
	connMu     sync.Mutex
	reported   map[string]bool
	reconnects *prometheus.CounterVec
	refused    *prometheus.CounterVec

	share  *shareWindow
	active *activeUsers
}

var _ bot.Observer = (*Metrics)(nil)

// New builds the collectors and registers every one of them on reg. It
// fails if reg already holds a collector of the same name (New called twice
// on one registry).
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	if reg == nil {
		return nil, fmt.Errorf("metrics: New: nil registerer")
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.version == "" && cfg.revision == "" {
		cfg.version, cfg.revision = readBuildInfo()
	}
	priced := make([]string, 0, len(cfg.prices))
	for name := range cfg.prices {
		priced = append(priced, name)
	}
	m := &Metrics{
		cfg:         cfg,
		now:         cfg.now,
		platforms:   newLabelSet(cfg.platforms),
		commands:    newLabelSet(cfg.commands),
		models:      newLabelSet(DefaultModels, cfg.models, priced),
		categories:  newLabelSet(cfg.categories),
		actions:     newLabelSet(cfg.actions),
		labels:      newLabelSet(cfg.labels),
		alerts:      newLabelSet(cfg.alerts),
		campaigns:   newLabelSet(nil),
		chatKinds:   newLabelSet(strs(bot.ChatKinds)),
		outcomes:    newLabelSet(strs(bot.ReplyOutcomes), strs(bot.CommandOutcomes), strs(bot.LLMOutcomes)),
		purposes:    newLabelSet(strs(bot.Purposes)),
		rateReasons: newLabelSet(strs(bot.LimitReasons)),
		reported:    map[string]bool{},
		share:       &shareWindow{},
		active:      newActiveUsers(),
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: LatencyBuckets}, labels)
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	}

	m.received = counter("messages_received_total", "Fresh messages received, by platform and chat kind.", "platform", "chat_kind")
	m.duplicates = counter("duplicates_dropped_total", "Redelivered messages dropped, by platform.", "platform")
	m.replies = counter("replies_sent_total", "LLM replies finished, by platform and outcome.", "platform", "outcome")
	m.commandsRun = counter("commands_total", "Commands run, by command and outcome.", "command", "outcome")
	m.firstToken = histogram("reply_first_token_seconds", "Time from receipt of a message to the first visible token of its reply.", "platform")
	m.replyLatency = histogram("reply_duration_seconds", "Time from receipt of a message to its complete reply.", "platform")

	m.llmRequests = counter("llm_requests_total", "LLM calls, by model, purpose and outcome.", "model", "purpose", "outcome")
	m.llmDuration = histogram("llm_request_duration_seconds", "Duration of LLM calls, streaming included.", "model", "purpose")
	m.llmPrompt = counter("llm_prompt_tokens_total", "Prompt tokens sent to the LLM, by model.", "model")
	m.llmCompletion = counter("llm_completion_tokens_total", "Completion tokens received from the LLM, by model.", "model")
	m.llmCost = counter("llm_cost_usd_total", "Estimated LLM spend in US dollars from the configured price table, by model.", "model")

	m.verdicts = counter("moderation_verdicts_total", "Moderation verdicts, by category.", "category")
	m.modAction = counter("moderation_actions_total", "Moderation actions taken, by action.", "action")
	m.blocked = counter("output_blocked_total", "Sentences of the bot's own replies blocked by an output check before anyone saw them, by check.", "check")
	m.sentiment = counter("sentiment_messages_total", "Messages scored for sentiment, by label.", "label")
	m.alertsRun = counter("alerts_total", "Early-warning alerts raised, by kind.", "kind")
	m.feedback = counter("answer_feedback_total", "Followers' ratings of the bot's answers (the buttons under them; one per follower per answer), by rating.", "rating")

	m.clicks = counter("link_clicks_total", "Clicks on tracked links by people (not preview fetchers), by platform and campaign kind.", "platform", "kind")
	m.conversions = counter("conversions_total", "Signed conversions attributed to a click, by platform and campaign kind.", "platform", "kind")

	m.queueDepth = gauge("engine_queue_depth", "Messages accepted and not yet handled, in flight included.")
	m.inFlight = gauge("engine_in_flight", "Messages being handled now.")
	m.panics = counter("panics_recovered_total", "Handler panics recovered, by platform.", "platform")
	m.rateLimited = counter("rate_limited_total", "Answers refused by rate limits or token budgets, by reason.", "reason")
	m.connected = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "adapter_connected",
		Help: "Whether a platform adapter is connected (1) or not (0)."}, []string{"platform"})
	m.reconnects = counter("adapter_reconnects_total", "Adapter reconnects, by platform.", "platform")
	m.refused = counter("webhook_unauthorized_total", "Webhook requests refused for want of the right secret, by platform.", "platform")

	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "build_info",
		Help: "Build information; the value is always 1."}, []string{"version", "revision", "goversion"})
	buildInfo.WithLabelValues(cfg.version, cfg.revision, runtime.Version()).Set(1)

	cs := []prometheus.Collector{
		m.received, m.duplicates, m.replies, m.commandsRun, m.firstToken, m.replyLatency,
		m.llmRequests, m.llmDuration, m.llmPrompt, m.llmCompletion, m.llmCost,
		m.verdicts, m.modAction, m.blocked, m.sentiment, m.alertsRun, m.clicks, m.conversions, m.feedback,
		m.queueDepth, m.inFlight, m.panics, m.rateLimited, m.connected, m.reconnects, m.refused,
		buildInfo, &windowCollector{m: m},
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	m.zero()
	return m, nil
}

// zero creates every series whose labels are all known at zero, so that
// rate() sees the first event, an alert on increase() or on "== 0" works
// from the first scrape, and a dashboard shows the series that have been
// quiet. adapter_connected, whose zero means "down", is created by
// Connecting for the adapters that report their connection.
func (m *Metrics) zero() {
	platforms := m.platforms.values()
	for _, p := range platforms {
		for _, k := range bot.ChatKinds {
			m.received.WithLabelValues(p, string(k))
		}
		m.duplicates.WithLabelValues(p)
		m.panics.WithLabelValues(p)
		m.reconnects.WithLabelValues(p)
		m.refused.WithLabelValues(p)
		m.firstToken.WithLabelValues(p)
		m.replyLatency.WithLabelValues(p)
		for _, o := range bot.ReplyOutcomes {
			m.replies.WithLabelValues(p, string(o))
		}
	}
	for _, c := range append(m.commands.values(), Other) {
		for _, o := range bot.CommandOutcomes {
			m.commandsRun.WithLabelValues(c, string(o))
		}
	}
	for _, model := range m.models.values() {
		m.llmPrompt.WithLabelValues(model)
		m.llmCompletion.WithLabelValues(model)
		if _, ok := m.price(model); ok {
			m.llmCost.WithLabelValues(model)
		}
		for _, p := range bot.Purposes {
			for _, o := range bot.LLMOutcomes {
				m.llmRequests.WithLabelValues(model, string(p), string(o))
			}
		}
	}
	for _, c := range m.categories.values() {
		m.verdicts.WithLabelValues(c)
	}
	for _, a := range m.actions.values() {
		m.modAction.WithLabelValues(a)
	}
	for _, l := range m.labels.values() {
		m.sentiment.WithLabelValues(l)
	}
	for _, k := range m.alerts.values() {
		m.alertsRun.WithLabelValues(k)
	}
	for _, r := range bot.LimitReasons {
		m.rateLimited.WithLabelValues(string(r))
	}
	for _, p := range platforms {
		for _, k := range m.campaigns.values() {
			m.clicks.WithLabelValues(p, k)
			m.conversions.WithLabelValues(p, k)
		}
	}
	for _, c := range bot.Checks {
		m.blocked.WithLabelValues(string(c))
	}
	for _, r := range bot.Ratings {
		m.feedback.WithLabelValues(string(r))
	}
}

// Declare adds what the running parts may put in their events (see
// Engine.Labels: the platforms added, the commands registered, the
// plug-ins' categories, actions, sentiment labels and alert kinds) to the
// known label sets, and creates their series at zero. Call it once the
// engine is built and its platforms added.
func (m *Metrics) Declare(l bot.Labels) {
	m.platforms.add(l.Platforms...)
	m.commands.add(l.Commands...)
	m.categories.add(l.Categories...)
	m.actions.add(l.Actions...)
	m.labels.add(l.Sentiments...)
	m.alerts.add(l.Alerts...)
	m.campaigns.add(l.Campaigns...)
	m.zero()
}

// Connecting declares the platforms whose adapters report their
// connection (EventAdapter connected and disconnected; the console does
// not): chorus_adapter_connected is 0 for each from now until its adapter
// first connects, so that the alert on "== 0" fires for an adapter that
// never connected (a wrong token, an unreachable API) as well as for one
// that dropped. A platform whose adapter has reported already is left as
// it is. The platforms join the known set, like Declare's.
func (m *Metrics) Connecting(platforms ...string) {
	m.Declare(bot.Labels{Platforms: platforms})
	m.connMu.Lock()
	defer m.connMu.Unlock()
	for _, name := range platforms {
		p := m.platforms.get(name)
		if !m.reported[p] {
			m.reported[p] = true
			m.connected.WithLabelValues(p).Set(0)
		}
	}
}

// Seen counts a user, by the key WithUserKey gives, as active at t: at
// start, the users stored activity saw over the last 30 days rebuild
// chorus_active_users, so that a restart doesn't reset it to zero. Only
// the last time a user was seen matters for every window; a t in the
// future counts as now.
func (m *Metrics) Seen(key string, t time.Time) {
	if now := m.now(); t.After(now) {
		t = now
	}
	m.active.add(t, key)
}

// AddCommands adds command names to the known set, for commands registered
// on the engine after New.
func (m *Metrics) AddCommands(names ...string) { m.Declare(bot.Labels{Commands: names}) }

// AddModels adds model names to the known set.
func (m *Metrics) AddModels(names ...string) { m.models.add(names...) }

// Observe implements bot.Observer.
func (m *Metrics) Observe(e bot.Event) {
	switch e.Kind {
	case bot.EventMessageReceived:
		m.received.WithLabelValues(m.platforms.get(e.Platform), m.chatKinds.get(string(e.ChatKind))).Inc()
		if e.User != "" {
			user := e.User
			if m.cfg.userKey != nil {
				user = m.cfg.userKey(user)
			}
			m.active.add(m.now(), user)
		}
	case bot.EventDuplicate:
		m.duplicates.WithLabelValues(m.platforms.get(e.Platform)).Inc()
	case bot.EventFirstToken:
		m.firstToken.WithLabelValues(m.platforms.get(e.Platform)).Observe(e.Duration.Seconds())
	case bot.EventReplySent:
		p := m.platforms.get(e.Platform)
		m.replies.WithLabelValues(p, m.outcomes.get(string(e.Outcome))).Inc()
		m.replyLatency.WithLabelValues(p).Observe(e.Duration.Seconds())
	case bot.EventCommand:
		m.commandsRun.WithLabelValues(m.commands.get(e.Command), m.outcomes.get(string(e.Outcome))).Inc()
	case bot.EventLLMCall:
		m.observeLLM(e)
	case bot.EventModerated:
		if e.Category != "" {
			m.verdicts.WithLabelValues(m.categories.get(e.Category)).Inc()
		}
		if e.Action != "" {
			m.modAction.WithLabelValues(m.actions.get(e.Action)).Inc()
		}
	case bot.EventOutputBlocked:
		m.blocked.WithLabelValues(string(bot.Check(e.Label).Known())).Inc()
	case bot.EventScored:
		label := m.labels.get(e.Label)
		m.sentiment.WithLabelValues(label).Inc()
		m.share.add(m.now(), label == NegativeLabel)
	case bot.EventAlert:
		m.alertsRun.WithLabelValues(m.alerts.get(e.Category)).Inc()
	case bot.EventClick:
		m.clicks.WithLabelValues(m.platforms.get(e.Platform), m.campaigns.get(e.Label)).Inc()
	case bot.EventConversion:
		m.conversions.WithLabelValues(m.platforms.get(e.Platform), m.campaigns.get(e.Label)).Inc()
	case bot.EventFeedback:
		if r := bot.Rating(e.Label); r == bot.RatingUp || r == bot.RatingDown {
			m.feedback.WithLabelValues(string(r)).Inc()
		}
	case bot.EventPanic:
		m.panics.WithLabelValues(m.platforms.get(e.Platform)).Inc()
	case bot.EventQueue:
		m.queueDepth.Set(float64(e.Queued))
		m.inFlight.Set(float64(e.InFlight))
	case bot.EventRateLimited:
		m.rateLimited.WithLabelValues(m.rateReasons.get(string(e.Reason))).Inc()
	case bot.EventAdapter:
		p := m.platforms.get(e.Platform)
		switch e.State {
		case bot.AdapterConnected, bot.AdapterDisconnected:
			up := 0.0
			if e.State == bot.AdapterConnected {
				up = 1
			}
			m.connMu.Lock()
			m.reported[p] = true
			m.connected.WithLabelValues(p).Set(up)
			m.connMu.Unlock()
		case bot.AdapterReconnect:
			m.reconnects.WithLabelValues(p).Inc()
		case bot.AdapterUnauthorized:
			m.refused.WithLabelValues(p).Inc()
		}
	}
}

func (m *Metrics) observeLLM(e bot.Event) {
	model := UnknownModel
	if e.Model != "" && !strings.EqualFold(e.Model, UnknownModel) {
		model = m.models.get(e.Model)
	}
	purpose := m.purposes.get(string(e.Purpose))
	m.llmRequests.WithLabelValues(model, purpose, m.outcomes.get(string(e.Outcome))).Inc()
	m.llmDuration.WithLabelValues(model, purpose).Observe(e.Duration.Seconds())
	if e.Usage.PromptTokens > 0 {
		m.llmPrompt.WithLabelValues(model).Add(float64(e.Usage.PromptTokens))
	}
	if e.Usage.CompletionTokens > 0 {
		m.llmCompletion.WithLabelValues(model).Add(float64(e.Usage.CompletionTokens))
	}
	if p, ok := m.price(e.Model); ok && e.Usage.Total() > 0 {
		m.llmCost.WithLabelValues(model).Add(p.Cost(e.Usage))
	}
}

func (m *Metrics) price(model string) (Price, bool) {
	if p, ok := m.cfg.prices[model]; ok {
		return p, true
	}
	for k, p := range m.cfg.prices {
		if strings.EqualFold(k, model) {
			return p, true
		}
	}
	return Price{}, false
}

// windowCollector computes the gauges that depend on the time of the
// scrape: active users, the negative share, the store size.
type windowCollector struct{ m *Metrics }

var (
	activeDesc = prometheus.NewDesc(Namespace+"_active_users",
		"Distinct users who wrote over the window (5m, 1d, 30d), estimated with HyperLogLog.", []string{"window"}, nil)
	shareDesc = prometheus.NewDesc(Namespace+"_sentiment_negative_share",
		"Share of scored messages labelled negative over the last hour (0 when none was scored).", nil, nil)
	storeDesc = prometheus.NewDesc(Namespace+"_store_size_bytes",
		"Size of the bbolt data file in bytes.", nil, nil)
)

func (c *windowCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeDesc
	ch <- shareDesc
	if c.m.cfg.storeSize != nil {
		ch <- storeDesc
	}
}

func (c *windowCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.m.now()
	counts := c.m.active.counts(now)
	if c.m.cfg.fleet != nil {
		if fc, ok := c.m.fleetCounts(now); ok {
			counts = fc
		}
	}
	for i, n := range counts {
		ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(n), activeWindows[i].name)
	}
	ch <- prometheus.MustNewConstMetric(shareDesc, prometheus.GaugeValue, c.m.share.share(now))
	if fn := c.m.cfg.storeSize; fn != nil {
		if size, err := fn(); err == nil {
			ch <- prometheus.MustNewConstMetric(storeDesc, prometheus.GaugeValue, float64(size))
		}
	}
}

func readBuildInfo() (version, revision string) {
	version, revision = "devel", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, revision
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			revision = s.Value
		}
	}
	return version, revision
}

// NewRegistry returns a fresh registry holding the Go runtime and process
// collectors; pass it to New and to NewServer.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
