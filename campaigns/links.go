package campaigns

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// KV buckets of the tracked links.
const (
	// BucketLinks holds tracked links (Link as JSON) by code.
	BucketLinks = "campaign_links"
	// BucketLinkIndex finds the code of a target published in a campaign
	// and chat: a hash of the four, to the code.
	BucketLinkIndex = "campaign_link_index"
)

// maxCachedLinks bounds the links kept in memory; past it the cache
// starts again (the KV has them all).
const maxCachedLinks = 100_000

// Campaign is what a tracked link was published in: a post, an
// announcement, the bot's answers, the welcome; and where.
type Campaign struct {
	// ID is the campaign id: a post's or an announcement's id, or the
	// kind for answers and welcomes ("answer", "welcome").
	ID       string
	Kind     Kind
	Platform string
	// Chat is the platform's chat id.
	Chat string
}

// Link is a tracked short link: its code and the one URL it leads to.
type Link struct {
	Code     string    `json:"code"`
	Target   string    `json:"target"`
	Campaign string    `json:"campaign"`
	Kind     Kind      `json:"kind"`
	Platform string    `json:"platform"`
	Chat     string    `json:"chat"`
	Created  time.Time `json:"created"`
}

// urlRE finds http(s) links in text; trailing punctuation is trimmed
// after.
var urlRE = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}]+`)

// codeRE is what a code looks like; anything else is not looked up.
var codeRE = regexp.MustCompile(`^[a-z0-9]{4,16}$`)

// tracked reports whether rawURL points to one of the brand's domains (or
// a subdomain of one), and is not already a short link.
func (c *Campaigns) tracked(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" || u.User != nil {
		return false
	}
	host := normDomain(u.Hostname())
	if c.base != nil && strings.EqualFold(u.Host, c.base.Host) && strings.HasPrefix(u.Path, c.base.Path+"/l/") {
		return false
	}
	for _, d := range c.domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// rewrite replaces links to the brand's domains in text with tracked
// short links of campaign cp. Without domains or a base URL it returns
// text as it is; a link it can't store is left as written.
func (c *Campaigns) rewrite(ctx context.Context, text string, cp Campaign) string {
	if len(c.domains) == 0 || c.base == nil || !strings.Contains(text, "http") {
		return text
	}
	return urlRE.ReplaceAllStringFunc(text, func(raw string) string {
		trimmed := strings.TrimRight(raw, ".,;:!?*_~`")
		tail := raw[len(trimmed):]
		u, err := url.Parse(trimmed)
		if err != nil || !c.tracked(u) {
			return raw
		}
		l, err := c.linkFor(ctx, trimmed, cp)
		if err != nil {
			c.log.Warn("campaigns: storing a tracked link failed; the link is left as written", "err", err)
			return raw
		}
		return c.shortURL(l.Code) + tail
	})
}

// shortURL is the public address of a code.
func (c *Campaigns) shortURL(code string) string {
	return strings.TrimRight(c.base.String(), "/") + "/l/" + code
}

// linkFor returns the link of target in cp, storing a new one the first
// time: the same link published again in the same campaign and chat
// keeps its code.
func (c *Campaigns) linkFor(ctx context.Context, target string, cp Campaign) (Link, error) {
	sum := sha256.Sum256([]byte(target + "\x00" + cp.ID + "\x00" + cp.Platform + "\x00" + cp.Chat))
	key := hex.EncodeToString(sum[:16])
	c.lmu.Lock()
	defer c.lmu.Unlock()
	if code, ok := c.index[key]; ok {
		return c.cache[code], nil
	}
	if v, err := c.kv.Get(ctx, BucketLinkIndex, key); err == nil {
		if l, ok, err := c.loadLink(ctx, string(v)); err == nil && ok {
			c.remember(key, l)
			return l, nil
		}
	} else if !errors.Is(err, bot.ErrNotFound) {
		return Link{}, err
	}
	l := Link{Target: target, Campaign: cp.ID, Kind: cp.Kind, Platform: cp.Platform, Chat: cp.Chat, Created: c.now().UTC()}
	for {
		code, err := newCode()
		if err != nil {
			return Link{}, err
		}
		if _, err := c.kv.Get(ctx, BucketLinks, code); errors.Is(err, bot.ErrNotFound) {
			l.Code = code
			break
		} else if err != nil {
			return Link{}, err
		}
	}
	js, err := json.Marshal(l)
	if err != nil {
		return Link{}, err
	}
	if err := c.kv.Put(ctx, BucketLinks, l.Code, js); err != nil {
		return Link{}, err
	}
	if err := c.kv.Put(ctx, BucketLinkIndex, key, []byte(l.Code)); err != nil {
		return Link{}, err
	}
	c.remember(key, l)
	return l, nil
}

// remember caches l (under its index key, when given); c.lmu is held.
func (c *Campaigns) remember(key string, l Link) {
	if len(c.cache) >= maxCachedLinks {
		c.cache, c.index = map[string]Link{}, map[string]string{}
	}
	c.cache[l.Code] = l
	if key != "" {
		c.index[key] = l.Code
	}
}

// link returns the link of code from the cache or the KV.
func (c *Campaigns) link(ctx context.Context, code string) (Link, bool, error) {
	c.lmu.Lock()
	l, ok := c.cache[code]
	c.lmu.Unlock()
	if ok {
		return l, true, nil
	}
	l, ok, err := c.loadLink(ctx, code)
	if err == nil && ok {
		c.lmu.Lock()
		c.remember("", l)
		c.lmu.Unlock()
	}
	return l, ok, err
}

func (c *Campaigns) loadLink(ctx context.Context, code string) (Link, bool, error) {
	return getJSON[Link](ctx, c.kv, BucketLinks, code)
}

// codeAlphabet is what codes are made of: lower case and digits, so that
// a code survives being typed or case-folded.
const codeAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newCode is 7 random characters (36^7, about 7.8e10 codes).
func newCode() (string, error) {
	var b [7]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b[:]), nil
}

// DMChat is the chat every private chat counts as: a private chat's id
// names the person (on Telegram it is their user id), and clicks must not.
const DMChat = "dm"

// RewriteSentence implements bot.OutputRewriter: links to the brand's
// domains in an answer become tracked links of the "answer" campaign in
// the message's chat (DMChat for private chats).
func (c *Campaigns) RewriteSentence(ctx context.Context, s string, m *bot.Message) string {
	chat := m.Chat.ID
	if m.Chat.Kind == bot.ChatDM {
		chat = DMChat
	}
	return c.rewrite(ctx, s, Campaign{ID: string(KindAnswer), Kind: KindAnswer, Platform: m.Platform, Chat: chat})
}

// Rewrite rewrites the links of an announcement (manage's /announce) to
// tracked links of campaign id in a channel.
func (c *Campaigns) Rewrite(ctx context.Context, text string, cp Campaign) string {
	return c.rewrite(ctx, text, cp)
}
