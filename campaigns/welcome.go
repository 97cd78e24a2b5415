package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/chorusbot/chorus/analytics"
	"github.com/chorusbot/chorus/bot"
)

// BucketMembers holds members who joined a chat ("USER|CHAT": member as
// JSON): when, whether they were greeted, when they first wrote.
const BucketMembers = "campaign_members"

// ActivationWindow is how soon after joining a member must write to count
// as activated.
const ActivationWindow = 7 * 24 * time.Hour

// joinQueue bounds the joins and first messages waiting for the welcome
// worker; past it (a raid larger than that) joins are dropped.
const joinQueue = 1024

// member is what is kept of a member who joined a chat.
type member struct {
	User     string    `json:"user"`
	Chat     string    `json:"chat"`
	Joined   time.Time `json:"joined"`
	Welcomed bool      `json:"welcomed,omitempty"`
	// Active is when they first wrote in a community chat within
	// ActivationWindow of joining; zero when they have not.
	Active time.Time `json:"active,omitzero"`
}

func memberKey(user, chat string) string { return user + "|" + chat }

// memberJob is a join to record (and greet) or a first message to record.
type memberJob struct {
	ev     bot.Event
	active bool
}

// welcomeChat reports whether members joining ev's chat are greeted.
func (c *Campaigns) welcomeChat(ev bot.Event) bool {
	_, chatID, _ := strings.Cut(ev.Chat, "/")
	for _, k := range c.cfg.Welcome.Chats {
		p, id, _ := strings.Cut(strings.TrimSpace(k), ":")
		if p == ev.Platform && (id == chatID || ev.Category != "" && id == ev.Category) {
			return true
		}
	}
	return false
}

// Observe implements bot.Observer: a member joining is queued for the
// welcome worker; a member's message in a community chat within
// ActivationWindow of joining marks them active. It does no I/O.
func (c *Campaigns) Observe(ev bot.Event) {
	switch ev.Kind {
	case bot.EventMemberJoined:
		c.enqueueMember(memberJob{ev: ev})
	case bot.EventMessageReceived:
		if ev.ChatKind == bot.ChatDM || ev.User == "" {
			return
		}
		c.amu.Lock()
		joined, ok := c.pending[ev.User]
		if ok {
			delete(c.pending, ev.User)
		}
		c.amu.Unlock()
		if ok && ev.Time.Sub(joined) <= ActivationWindow {
			c.enqueueMember(memberJob{ev: ev, active: true})
		}
	}
}

func (c *Campaigns) enqueueMember(j memberJob) {
	select {
	case c.joins <- j:
	default:
		c.log.Warn("campaigns: too many joins at once; one was not recorded", "platform", j.ev.Platform)
	}
}

// loadPending reads the members still within their activation window who
// have not written, so that a restart still notices their first message.
func (c *Campaigns) loadPending(ctx context.Context) error {
	now := c.now()
	pending := map[string]time.Time{}
	err := c.kv.Scan(ctx, BucketMembers, "", "", func(_ string, v []byte) error {
		var m member
		if json.Unmarshal(v, &m) == nil && m.Active.IsZero() && now.Sub(m.Joined) <= ActivationWindow {
			if t, ok := pending[m.User]; !ok || m.Joined.Before(t) {
				pending[m.User] = m.Joined
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.amu.Lock()
	c.pending = pending
	c.amu.Unlock()
	return nil
}

// memberLoop records joins, greets new members and records first
// messages until ctx ends.
func (c *Campaigns) memberLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-c.joins:
			var err error
			if j.active {
				err = c.activate(ctx, j.ev)
			} else {
				err = c.join(ctx, j.ev)
			}
			if err != nil && ctx.Err() == nil {
				c.log.Warn("campaigns: recording a member failed", "err", err)
			}
		}
	}
}

// join records a member joining and greets them once, within the chat's
// rate.
func (c *Campaigns) join(ctx context.Context, ev bot.Event) error {
	key := memberKey(ev.User, ev.Chat)
	if _, err := c.kv.Get(ctx, BucketMembers, key); err == nil {
		return nil // joined before: greeted at most once
	} else if !errors.Is(err, bot.ErrNotFound) {
		return err
	}
	m := member{User: ev.User, Chat: ev.Chat, Joined: ev.Time.UTC()}
	if m.Joined.IsZero() {
		m.Joined = c.now().UTC()
	}
	if c.welcomeChat(ev) && c.allowGreeting(ev.Chat) {
		if err := c.greet(ctx, ev); err != nil {
			c.log.Warn("campaigns: greeting a member failed", "platform", ev.Platform, "err", err)
		} else {
			m.Welcomed = true
		}
	}
	js, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := c.kv.Put(ctx, BucketMembers, key, js); err != nil {
		return err
	}
	c.amu.Lock()
	if _, ok := c.pending[ev.User]; !ok {
		c.pending[ev.User] = m.Joined
	}
	c.amu.Unlock()
	return nil
}

// allowGreeting takes one greeting from the chat's bucket: PerMinute a
// minute, so that a join raid does not flood the chat.
func (c *Campaigns) allowGreeting(chat string) bool {
	per := c.cfg.Welcome.PerMinute
	if per <= 0 {
		per = 5
	}
	now := c.now()
	c.amu.Lock()
	defer c.amu.Unlock()
	b, ok := c.buckets[chat]
	if !ok {
		b = &bucket{tokens: float64(per), at: now}
		c.buckets[chat] = b
	}
	b.tokens = min(float64(per), b.tokens+now.Sub(b.at).Minutes()*float64(per))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// bucket is a chat's greetings left and when it was last filled.
type bucket struct {
	tokens float64
	at     time.Time
}

// greet sends the greeting in the member's language (where the platform
// tells it), in the persona's name, with the rules and the tracked link.
func (c *Campaigns) greet(ctx context.Context, ev bot.Event) error {
	h := c.getHost()
	if h == nil {
		return errors.New("not started")
	}
	platform, chatID, _ := strings.Cut(ev.Chat, "/")
	if chatID == "" {
		return errors.New("no channel to greet in (a Discord server without a system channel)")
	}
	pl, ok := h.PlatformFor(platform)
	if !ok {
		return errors.New("platform " + platform + " is not connected")
	}
	cat := h.Catalog()
	lang := bot.DetectLang("", ev.Lang, cat)
	mk := pl.Limits().Markup
	p := h.Persona()
	link := ""
	if c.cfg.Welcome.Link != "" {
		link = c.rewrite(ctx, c.cfg.Welcome.Link, Campaign{ID: string(KindWelcome), Kind: KindWelcome, Platform: platform, Chat: chatID})
	}
	args := []any{"name", bot.Escape(mk, ev.Text), "brand", bot.Escape(mk, p.Brand), "bot", bot.Escape(mk, p.BotName),
		"rules", bot.Escape(mk, c.cfg.Welcome.Rules), "link", link}
	var text string
	if t := c.cfg.Welcome.Template; t != "" {
		text = fillTemplate(t, args)
	} else {
		lines := []string{cat.T(lang, "campaigns.welcome", args...)}
		if c.cfg.Welcome.Rules != "" {
			lines = append(lines, cat.T(lang, "campaigns.welcome_rules", args...))
		}
		if link != "" {
			lines = append(lines, cat.T(lang, "campaigns.welcome_link", args...))
		}
		text = strings.Join(lines, "\n")
	}
	_, err := bot.SendSplit(ctx, pl, bot.Out{Chat: bot.Chat{ID: chatID, Kind: bot.ChatGroup}, Text: text, Final: true})
	return err
}

// fillTemplate replaces {name} placeholders of t from pairs of args.
func fillTemplate(t string, args []any) string {
	var pairs []string
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+args[i].(string)+"}", args[i+1].(string))
	}
	return strings.NewReplacer(pairs...).Replace(t)
}

// activate records a member's first message within the window.
func (c *Campaigns) activate(ctx context.Context, ev bot.Event) error {
	var keys []string
	var ms []member
	err := c.kv.Scan(ctx, BucketMembers, ev.User+"|", ev.User+"}", func(k string, v []byte) error {
		var m member
		if json.Unmarshal(v, &m) == nil && m.Active.IsZero() && ev.Time.Sub(m.Joined) <= ActivationWindow && !ev.Time.Before(m.Joined) {
			keys, ms = append(keys, k), append(ms, m)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, m := range ms {
		m.Active = ev.Time.UTC()
		js, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if err := c.kv.Put(ctx, BucketMembers, keys[i], js); err != nil {
			return err
		}
	}
	return nil
}

var _ analytics.Members = (*Campaigns)(nil)

// Activation implements analytics.Members: the members who joined chats v
// covers in [from, to), and how many wrote within ActivationWindow of
// joining.
func (c *Campaigns) Activation(ctx context.Context, from, to time.Time, v bot.View) (analytics.Activation, error) {
	now := c.now()
	var a analytics.Activation
	err := c.kv.Scan(ctx, BucketMembers, "", "", func(_ string, val []byte) error {
		var m member
		if json.Unmarshal(val, &m) != nil || m.Joined.Before(from) || !m.Joined.Before(to) || !v.Covers(m.Chat) {
			return nil
		}
		a.Joined++
		switch {
		case !m.Active.IsZero():
			a.Active++
		case now.Sub(m.Joined) < ActivationWindow:
			a.Waiting++
		}
		return nil
	})
	return a, err
}
