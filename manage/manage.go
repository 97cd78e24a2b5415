package manage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// KV buckets the tools keep their state in.
const (
	// BucketPersona holds the run-time persona override (key "override").
	BucketPersona = "persona"
	// BucketDrafts holds kept post drafts, keyed by draft id.
	BucketDrafts = "drafts"
	// BucketGaps holds batches of unanswered questions, keyed by the
	// time of the newest question in the batch.
	BucketGaps = "gaps"
)

// Config is how the tools behave. Zero fields take the defaults named on
// them. Its one field in the configuration file is Channels: the
// "announce" section.
type Config struct {
	// DigestHours is the span /digest covers without an argument
	// (default 24).
	DigestHours int `yaml:"-"`
	// DigestReadTokens bounds how much history /digest reads, in tokens
	// (default 60000); older turns in the span are left out.
	DigestReadTokens int `yaml:"-"`
	// DigestChunkTokens is the size of one map step of the map-reduce
	// digest, in tokens as the engine counts them (default 3000).
	DigestChunkTokens int `yaml:"-"`
	// DigestParallel bounds concurrent LLM calls of the map step
	// (default 4).
	DigestParallel int `yaml:"-"`
	// GapSimilarity is the least token Jaccard similarity for two
	// questions to be grouped (default 0.3).
	GapSimilarity float64 `yaml:"-"`
	// GapMaxQuestions bounds how many recorded questions /gaps reads,
	// the most recent kept (default 2000).
	GapMaxQuestions int `yaml:"-"`
	// GapBatch is how many questions Observe buffers before Run writes
	// them as one KV record (default 32).
	GapBatch int `yaml:"-"`
	// FlushEvery is how often Run writes buffered questions (default 30s).
	FlushEvery time.Duration `yaml:"-"`
	// PostPassages is how many knowledge-base passages ground a post
	// (default 3).
	PostPassages int `yaml:"-"`
	// PostLimits overrides or adds platform character limits for /post
	// ("x": 280).
	PostLimits map[string]int `yaml:"-"`
	// Channels are the announcement chat ids per platform name
	// ("telegram": ["@brand_news"]).
	Channels map[string][]string `yaml:"channels" platform:"keys"`
	// AnnounceTTL is how long an /announce preview can be confirmed
	// (default 10 minutes).
	AnnounceTTL time.Duration `yaml:"-"`
}

func (c Config) defaults() Config {
	if c.DigestHours <= 0 {
		c.DigestHours = 24
	}
	if c.DigestReadTokens <= 0 {
		c.DigestReadTokens = 60000
	}
	if c.DigestChunkTokens <= 0 {
		c.DigestChunkTokens = 3000
	}
	if c.DigestParallel <= 0 {
		c.DigestParallel = 4
	}
	if c.GapSimilarity <= 0 {
		c.GapSimilarity = 0.3
	}
	if c.GapMaxQuestions <= 0 {
		c.GapMaxQuestions = 2000
	}
	if c.GapBatch <= 0 {
		c.GapBatch = 32
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = 30 * time.Second
	}
	if c.PostPassages <= 0 {
		c.PostPassages = 3
	}
	if c.AnnounceTTL <= 0 {
		c.AnnounceTTL = 10 * time.Minute
	}
	return c
}

// Validate checks the config: the "announce" section (Channels) by its
// YAML path, the fields set in code by their Go names.
func (c Config) Validate() error {
	var p bot.Problems
	if c.DigestHours < 0 || c.DigestHours > maxDigestHours {
		p.Add("DigestHours", "%d out of range 1..%d", c.DigestHours, maxDigestHours)
	}
	if c.DigestChunkTokens < 0 || (c.DigestChunkTokens > 0 && c.DigestChunkTokens < 100) {
		p.Add("DigestChunkTokens", "%d too small (at least 100)", c.DigestChunkTokens)
	}
	if c.GapSimilarity < 0 || c.GapSimilarity > 1 {
		p.Add("GapSimilarity", "%v out of range 0..1", c.GapSimilarity)
	}
	for _, k := range bot.SortedKeys(c.PostLimits) {
		if n := c.PostLimits[k]; n < 20 {
			p.Add("PostLimits."+k, "%d too small (at least 20)", n)
		}
	}
	for _, k := range bot.SortedKeys(c.Channels) {
		for i, id := range c.Channels[k] {
			if id == "" {
				p.Add(fmt.Sprintf("channels.%s[%d]", k, i), "must be a chat id, got an empty string")
			}
		}
	}
	return p.Err()
}

// Option configures Tools.
type Option func(*Tools)

// WithMood replaces the built-in mood lexicon of /digest: mood gets the
// texts of the users' messages and returns a short description ("mostly
// positive"). The analytics package's sentiment labels can be plugged in
// this way.
func WithMood(mood func(texts []string) string) Option { return func(t *Tools) { t.mood = mood } }

// WithChecks runs the checks of the bot's own words on /post drafts (a
// flagged draft is shown with the reason, not dropped) and on /announce
// texts (a warning in the preview, before confirmation).
func WithChecks(c bot.OutputChecker) Option { return func(t *Tools) { t.checks = c } }

// Prompts renders the tools' prompts (the digest's map and reduce steps,
// /post's drafts); package prompts implements it with the templates Chorus
// ships.
type Prompts interface {
	DigestPart(in bot.DigestPartInput) ([]bot.ChatMessage, error)
	Digest(in bot.DigestInput) ([]bot.ChatMessage, error)
	Post(in bot.PostInput) ([]bot.ChatMessage, error)
}

// Deps are what the tools work with. KV and History are required.
type Deps struct {
	// KV keeps the drafts, the knowledge gaps and the persona override.
	KV bot.KV
	// History is the conversations /digest reads.
	History bot.History
	// Knowledge grounds /post's drafts and /announce's checks; nil for
	// none.
	Knowledge bot.Knowledge
	// Model writes digests and drafts, with Prompts; without them /digest
	// is extractive and /post says it needs a model.
	Model   bot.LLM
	Prompts Prompts
	// Tokens counts tokens as the engine does (default bot.ApproxTokens).
	Tokens bot.TokenCounter
	// Personas is the persona in force, which /persona changes and the
	// override stored in KV sets at start; nil leaves /persona showing
	// the persona without changing it.
	Personas *bot.Personas
	// Log is where the tools log (default: discard).
	Log *slog.Logger
}

// WithClock replaces time.Now, for tests (the engine's clock: /gaps reads
// the questions by it).
func WithClock(now func() time.Time) Option { return func(t *Tools) { t.now = now } }

// Tools are the community managers' commands. Create them with New, then
// Register them on an engine. Tools are safe for concurrent use.
type Tools struct {
	cfg     Config
	prompts Prompts
	mood    func([]string) string
	now     func() time.Time
	checks  bot.OutputChecker

	publisher Publisher

	kv       bot.KV
	history  bot.History
	kb       bot.Knowledge
	model    bot.LLM
	tokens   bot.TokenCounter
	personas *bot.Personas
	log      *slog.Logger

	// gaps buffer: Observe appends, flush writes.
	gmu     sync.Mutex
	gbuf    []gapRecord
	dropped int
	kick    chan struct{}
	flushMu sync.Mutex
	gseq    uint64

	// post sessions per manager (user key): the last brief and variants.
	pmu      sync.Mutex
	sessions map[string]*postSession

	// pending announcements per owner (user key).
	amu     sync.Mutex
	pending map[string]pendingAnnouncement
}

// New returns the tools over their dependencies. It does no I/O (the
// persona override is read when the engine starts: Plugin's Start).
func New(cfg Config, d Deps, opts ...Option) (*Tools, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("manage: config: %w", err)
	}
	if d.KV == nil || d.History == nil {
		return nil, errors.New("manage: New: nil KV or History")
	}
	t := &Tools{
		cfg:      cfg.defaults(),
		kv:       d.KV,
		history:  d.History,
		kb:       d.Knowledge,
		model:    d.Model,
		prompts:  d.Prompts,
		tokens:   d.Tokens,
		personas: d.Personas,
		log:      d.Log,
		now:      time.Now,
		kick:     make(chan struct{}, 1),
		sessions: map[string]*postSession{},
		pending:  map[string]pendingAnnouncement{},
	}
	if t.model == nil {
		t.prompts = nil
	}
	if t.tokens == nil {
		t.tokens = bot.TokenCounterFunc(bot.ApproxTokens)
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

// Plugin is what the tools add to the engine: /digest, /post, /gaps,
// /persona and /announce with their messages, an observer recording the
// questions answered "I don't know", their Keeper (questions, drafts,
// sessions), the persona override applied at start, and the periodic
// flush of the recorded questions.
func (t *Tools) Plugin() bot.Plugin {
	h := func(en, zh string) map[string]string { return map[string]string{"en": en, "zh": zh} }
	return bot.Plugin{
		Name:     "manage",
		Observer: t,
		Commands: []bot.CommandSpec{
			{Name: "digest", Role: bot.RoleManager, Usage: "[hours] [PLATFORM/CHAT]", Help: h("what this chat discussed: topics, unanswered questions, mood, members", "本群讨论摘要：话题、未回答的问题、情绪、活跃成员"), Run: t.cmdDigest},
			{Name: "post", Role: bot.RoleManager, Usage: "PLATFORM BRIEF | again | keep N | list | show ID | publish N [CHANNEL] [at TIME] | scheduled | cancel ID", Help: h("draft a social post in the brand's voice", "以品牌口吻起草社交媒体帖子"), Run: t.cmdPost},
			{Name: "gaps", Role: bot.RoleManager, Usage: "[period]", Help: h("questions the knowledge base could not answer (default 7d)", "知识库无法回答的问题（默认 7 天）"), Run: t.cmdGaps},
			{Name: "persona", Role: bot.RoleManager, Usage: "show | set FIELD VALUE | reset", Help: h("show or change the bot's persona", "查看或修改机器人的人设"), Run: t.cmdPersona},
			{Name: "announce", Role: bot.RoleOwner, Usage: "TEXT | confirm CODE | cancel", Help: h("post an announcement to every platform's channels", "向各平台的公告频道发布公告"), Run: t.cmdAnnounce},
		},
		Catalog: map[string]map[string]string{"en": catalogEN, "zh": catalogZH},
		Keeper:  t,
		Start:   t.loadPersona,
		Run:     t.Run,
	}
}

// refuse answers like the engine does for a command above the asker's role
// and audits the attempt; for sub-commands with a higher role than their
// command (/persona set).
func refuse(ctx context.Context, env *bot.Env, command string, need bot.Role) error {
	m := env.Message()
	env.Audit(ctx, bot.AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Name: m.Author.Name, Actor: m.UserKey(),
		Kind: bot.AuditRefused, Rule: "/" + command, Note: "needs " + need.String()})
	return env.Reply(ctx, env.T("refused_role", "command", command, "role", env.T("role."+need.String())))
}
