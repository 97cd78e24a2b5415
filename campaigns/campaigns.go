package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/manage"
)

// KV buckets the campaigns keep their state in.
const (
	// BucketPosts holds published and scheduled posts (Post as JSON),
	// keyed by post id.
	BucketPosts = "campaign_posts"
)

// Defaults.
const (
	// DefaultTick is how often scheduled posts are looked at.
	DefaultTick = 15 * time.Second
	// LateAfter is how long after its time a post counts as late: one
	// sent at start for a time that passed while Chorus was down.
	LateAfter = time.Minute
	// maxAhead bounds how far ahead a post may be scheduled.
	maxAhead = 366 * 24 * time.Hour
)

// Deps are what the campaigns work with. KV is required.
type Deps struct {
	// KV keeps the posts, links, clicks and conversions.
	KV bot.KV
	// Knowledge grounds the output checks on what is published (a price
	// must be one the knowledge base states); nil for none.
	Knowledge bot.Knowledge
	// Checks are the output checks every published text passes; nil for
	// none.
	Checks bot.OutputChecker
	// Log is where background work logs (default: discard).
	Log *slog.Logger
}

// Option configures Campaigns.
type Option func(*Campaigns)

// WithClock replaces time.Now, for tests (the engine's clock).
func WithClock(now func() time.Time) Option { return func(c *Campaigns) { c.now = now } }

// WithFlushEvery sets how often counted clicks are written
// (DefaultFlushEvery); a crash loses at most this much.
func WithFlushEvery(d time.Duration) Option { return func(c *Campaigns) { c.flushEvery = d } }

// WithTick sets how often scheduled posts are looked at (DefaultTick).
func WithTick(d time.Duration) Option { return func(c *Campaigns) { c.tick = d } }

// Campaigns publishes, tracks and reports. Create it with New; install
// its Plugin on the engine and serve its Handler on the public listener.
// It is safe for concurrent use.
type Campaigns struct {
	cfg    Config
	lcfg   LinksConfig
	loc    *time.Location
	kv     bot.KV
	kb     bot.Knowledge
	checks bot.OutputChecker
	log    *slog.Logger
	now    func() time.Time
	tick   time.Duration

	// domains are links.domains, normalised; base is the short links'
	// base URL (nil: links are not rewritten).
	domains []string
	base    *url.URL

	// lmu guards the link cache: code to link, index key to code.
	lmu   sync.Mutex
	cache map[string]Link
	index map[string]string

	// Clicks: cmu guards the counting state, fmu serialises writing it
	// (and conversions' changes of the figures); kick asks Run to flush.
	cmu        sync.Mutex
	clicks     clickState
	fmu        sync.Mutex
	dmu        sync.Mutex
	kick       chan struct{}
	flushEvery time.Duration
	kmu        sync.Mutex
	ckey       []byte

	// Members: joins waits for the welcome worker; amu guards pending
	// (members within their activation window who have not written, by
	// user key, with when they joined) and the greeting buckets by chat.
	joins   chan memberJob
	amu     sync.Mutex
	pending map[string]time.Time
	buckets map[string]*bucket

	hmu  sync.RWMutex
	host *bot.Host

	// pmu serialises changes of posts (the scheduler and the commands).
	pmu   sync.Mutex
	idSeq uint64
	// started is when Run began: a scheduled post due before it was due
	// while Chorus was down.
	started time.Time
}

// New returns the campaigns over their dependencies. It does no I/O.
func New(cfg Config, links LinksConfig, d Deps, opts ...Option) (*Campaigns, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("campaigns: config: %w", err)
	}
	if err := links.Validate(); err != nil {
		return nil, fmt.Errorf("campaigns: links: %w", err)
	}
	if d.KV == nil {
		return nil, errors.New("campaigns: New: nil KV")
	}
	c := &Campaigns{cfg: cfg, lcfg: links, loc: cfg.location(), kv: d.KV, kb: d.Knowledge, checks: d.Checks, log: d.Log,
		now: time.Now, tick: DefaultTick, cache: map[string]Link{}, index: map[string]string{},
		kick: make(chan struct{}, 1), flushEvery: DefaultFlushEvery}
	c.clicks.pending = map[string]*Stats{}
	c.joins, c.pending, c.buckets = make(chan memberJob, joinQueue), map[string]time.Time{}, map[string]*bucket{}
	for _, d := range links.Domains {
		c.domains = append(c.domains, normDomain(d))
	}
	if links.BaseURL != "" {
		c.base, _ = url.Parse(strings.TrimRight(links.BaseURL, "/"))
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

var _ manage.Publisher = (*Campaigns)(nil)

// Plugin is what the campaigns add to the engine: their messages, the
// Host their background work reaches the platforms through, and the
// scheduler sending posts when their time comes.
func (c *Campaigns) Plugin() bot.Plugin {
	h := func(en, zh string) map[string]string { return map[string]string{"en": en, "zh": zh} }
	kinds := make([]string, len(Kinds))
	for i, k := range Kinds {
		kinds[i] = string(k)
	}
	return bot.Plugin{
		Name: "campaigns",
		Commands: []bot.CommandSpec{
			{Name: "campaigns", Role: bot.RoleManager, Usage: "[period]", Help: h("posts, announcements and answers with their reach, clicks and conversions (default 30d)", "帖子、公告和回答的覆盖、点击与转化（默认 30 天）"), Run: c.cmdCampaigns},
			{Name: "campaign", Role: bot.RoleManager, Usage: "ID", Help: h("one campaign's reach, clicks, conversions and links, with a chart", "单个推广活动的覆盖、点击、转化和链接，附图表"), Run: c.cmdCampaign},
		},
		Labels:  bot.Labels{Campaigns: kinds},
		Catalog: map[string]map[string]string{"en": catalogEN, "zh": catalogZH},
		Attach: func(h *bot.Host) {
			c.hmu.Lock()
			c.host = h
			c.hmu.Unlock()
		},
		Rewriter: c,
		Observer: c,
		Keeper:   c,
		Start:    c.loadPending,
		Run:      c.Run,
	}
}

func (c *Campaigns) getHost() *bot.Host {
	c.hmu.RLock()
	defer c.hmu.RUnlock()
	return c.host
}

// Run sends scheduled posts when their time comes until ctx ends. Its
// first pass, at start, sends the posts whose time passed while Chorus
// was down (marked late) and settles posts a crash left half-sent.
func (c *Campaigns) Run(ctx context.Context) error {
	c.pmu.Lock()
	c.started = c.now()
	c.pmu.Unlock()
	if err := c.recover(ctx); err != nil {
		c.log.Warn("campaigns: settling interrupted posts failed", "err", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { c.flushLoop(ctx) })
	wg.Go(func() { c.memberLoop(ctx) })
	t := time.NewTicker(c.tick)
	defer t.Stop()
	for {
		if err := c.sendDue(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("campaigns: sending scheduled posts failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// flushLoop writes counted clicks every flushEvery, or sooner when many
// wait, until ctx ends; then once more.
func (c *Campaigns) flushLoop(ctx context.Context) {
	t := time.NewTicker(c.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
			if err := c.flush(fctx); err != nil {
				c.log.Warn("campaigns: writing clicks at stop failed", "err", err)
			}
			cancel()
			return
		case <-t.C:
		case <-c.kick:
		}
		if err := c.flush(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("campaigns: writing clicks failed; kept for the next try", "err", err)
		}
	}
}
