package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
		now: time.Now, tick: DefaultTick}
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
	return bot.Plugin{
		Name:    "campaigns",
		Catalog: map[string]map[string]string{"en": catalogEN, "zh": catalogZH},
		Attach: func(h *bot.Host) {
			c.hmu.Lock()
			c.host = h
			c.hmu.Unlock()
		},
		Run: c.Run,
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
