package manage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
// them.
type Config struct {
	// DigestHours is the span /digest covers without an argument
	// (default 24).
	DigestHours int
	// DigestReadTokens bounds how much history /digest reads, in tokens
	// (default 60000); older turns in the span are left out.
	DigestReadTokens int
	// DigestChunkTokens is the size of one map step of the map-reduce
	// digest, in tokens as the engine counts them (default 3000).
	DigestChunkTokens int
	// DigestParallel bounds concurrent LLM calls of the map step
	// (default 4).
	DigestParallel int
	// GapSimilarity is the least token Jaccard similarity for two
	// questions to be grouped (default 0.3).
	GapSimilarity float64
	// GapMaxQuestions bounds how many recorded questions /gaps reads,
	// the most recent kept (default 2000).
	GapMaxQuestions int
	// GapBatch is how many questions Observe buffers before Run writes
	// them as one KV record (default 32).
	GapBatch int
	// FlushEvery is how often Run writes buffered questions (default 30s).
	FlushEvery time.Duration
	// PostPassages is how many knowledge-base passages ground a post
	// (default 3).
	PostPassages int
	// PostLimits overrides or adds platform character limits for /post
	// ("x": 280).
	PostLimits map[string]int
	// Channels are the announcement chat ids per platform name
	// ("telegram": ["@brand_news"]).
	Channels map[string][]string
	// AnnounceTTL is how long an /announce preview can be confirmed
	// (default 10 minutes).
	AnnounceTTL time.Duration
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

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.DigestHours < 0 || c.DigestHours > maxDigestHours:
		return fmt.Errorf("manage: config: DigestHours %d out of range 1..%d", c.DigestHours, maxDigestHours)
	case c.DigestChunkTokens < 0 || (c.DigestChunkTokens > 0 && c.DigestChunkTokens < 100):
		return fmt.Errorf("manage: config: DigestChunkTokens %d too small (at least 100)", c.DigestChunkTokens)
	case c.GapSimilarity < 0 || c.GapSimilarity > 1:
		return fmt.Errorf("manage: config: GapSimilarity %v out of range 0..1", c.GapSimilarity)
	}
	for p, n := range c.PostLimits {
		if n < 20 {
			return fmt.Errorf("manage: config: PostLimits[%q] %d too small (at least 20)", p, n)
		}
	}
	for p, ids := range c.Channels {
		for _, id := range ids {
			if id == "" {
				return fmt.Errorf("manage: config: Channels[%q] has an empty chat id", p)
			}
		}
	}
	return nil
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

// WithClock replaces the engine's clock, for tests.
func WithClock(now func() time.Time) Option { return func(t *Tools) { t.now = now } }

// Tools are the community managers' commands. Create them with New, then
// Register them on an engine. Tools are safe for concurrent use.
type Tools struct {
	cfg    Config
	mood   func([]string) string
	now    func() time.Time
	checks bot.OutputChecker

	// e and kv are set by Register before reg, and read by commands
	// (which run after Register) directly; Observe, Run and Flush, which
	// may run before, go through reg.
	e   *bot.Engine
	kv  bot.KV
	reg atomic.Pointer[bot.Engine]

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

// New returns the tools. It does no I/O.
func New(cfg Config, opts ...Option) (*Tools, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tools{
		cfg:      cfg.defaults(),
		kick:     make(chan struct{}, 1),
		sessions: map[string]*postSession{},
		pending:  map[string]pendingAnnouncement{},
	}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

// Register adds /digest, /post, /gaps, /persona and /announce and their
// catalogue keys to e, adds t as an observer of e's events (do not add it
// again with bot.WithObserver), and applies the persona override stored in
// e's KV. When e has no KV the tools keep their state in memory, lost on
// restart.
func Register(e *bot.Engine, t *Tools) error {
	if e == nil || t == nil {
		return errors.New("manage: Register: nil engine or tools")
	}
	t.e = e
	t.kv = e.KV()
	if t.kv == nil {
		e.Logger().Warn("manage: the engine has no KV; drafts, gaps and the persona override are kept in memory only")
		t.kv = bot.NewMemKV()
	}
	if t.now == nil {
		t.now = e.Now
	}
	e.Catalog.Add("en", catalogEN)
	e.Catalog.Add("zh", catalogZH)
	h := func(en, zh string) map[string]string { return map[string]string{"en": en, "zh": zh} }
	specs := []bot.CommandSpec{
		{Name: "digest", Role: bot.RoleManager, Usage: "[hours] [PLATFORM/CHAT]", Help: h("what this chat discussed: topics, unanswered questions, mood, members", "本群讨论摘要：话题、未回答的问题、情绪、活跃成员"), Run: t.cmdDigest},
		{Name: "post", Role: bot.RoleManager, Usage: "PLATFORM BRIEF | again | keep N | list | show ID", Help: h("draft a social post in the brand's voice", "以品牌口吻起草社交媒体帖子"), Run: t.cmdPost},
		{Name: "gaps", Role: bot.RoleManager, Usage: "[period]", Help: h("questions the knowledge base could not answer (default 7d)", "知识库无法回答的问题（默认 7 天）"), Run: t.cmdGaps},
		{Name: "persona", Role: bot.RoleManager, Usage: "show | set FIELD VALUE | reset", Help: h("show or change the bot's persona", "查看或修改机器人的人设"), Run: t.cmdPersona},
		{Name: "announce", Role: bot.RoleOwner, Usage: "TEXT | confirm CODE | cancel", Help: h("post an announcement to every platform's channels", "向各平台的公告频道发布公告"), Run: t.cmdAnnounce},
	}
	for _, s := range specs {
		if err := e.Register(s); err != nil {
			return fmt.Errorf("manage: %w", err)
		}
	}
	if err := e.AddKeeper("manage", t); err != nil {
		return fmt.Errorf("manage: %w", err)
	}
	t.reg.Store(e)
	e.Events.Add(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := t.loadPersona(ctx); err != nil {
		return err
	}
	return nil
}

// refuse answers like the engine does for a command above the asker's role
// and audits the attempt; for sub-commands with a higher role than their
// command (/persona set).
func refuse(ctx context.Context, env *bot.Env, command string, need bot.Role) error {
	m := env.Message()
	env.Engine.Audit(ctx, bot.AuditEntry{Platform: m.Platform, Chat: m.ConversationKey(), User: m.UserKey(), Name: m.Author.Name, Actor: m.UserKey(),
		Kind: "refused", Rule: "/" + command, Note: "needs " + need.String()})
	return env.Reply(ctx, env.T("refused_role", "command", command, "role", env.T("role."+need.String())))
}
