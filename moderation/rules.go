package moderation

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"
)

// Finding is one reason to act on a message.
type Finding struct {
	Category Category `json:"category"`
	// Rule names the rule or model: the listed word, the regex, the
	// domain, "model:spam".
	Rule string `json:"rule"`
	// Severity is 0..1; the policy maps it to an action.
	Severity float64 `json:"severity"`
	// Decider is who decided: "rules", "model:NAME" or "llm".
	Decider string `json:"decider"`
	// Reason is a short explanation (from the LLM).
	Reason string `json:"reason,omitempty"`
}

// Severities of the rule categories.
var ruleSeverity = map[Category]float64{
	CatWords: 0.7, CatRegex: 0.7, CatLink: 0.9, CatInvite: 0.8, CatShortener: 0.6, CatNewLink: 0.6,
	CatMentions: 0.6, CatCaps: 0.3, CatRepeat: 0.6, CatFlood: 0.5,
}

// WordList matches listed words and phrases in one Aho-Corasick pass: on
// word boundaries for spaced scripts (a listed "hell" never flags
// "hello"), as substrings for Chinese and Japanese. Matching happens on
// normalised, repeat-squeezed text, so listed words need no variants.
type WordList struct {
	words []string // original entries, by pattern index
	ac    ahocorasick.AhoCorasick
	n     int
}

// NewWordList compiles words; empty entries are skipped.
func NewWordList(words []string) *WordList {
	wl := &WordList{}
	var pats []string
	seen := map[string]bool{}
	for _, w := range words {
		p := squeeze1(Normalize(w))
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		pats = append(pats, p)
		wl.words = append(wl.words, w)
	}
	wl.n = len(pats)
	if wl.n > 0 {
		b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{MatchKind: ahocorasick.LeftMostLongestMatch, DFA: true})
		wl.ac = b.Build(pats)
	}
	return wl
}

// Len is the number of distinct entries.
func (wl *WordList) Len() int { return wl.n }

// Match returns the first listed entry found in key (a text already passed
// through Normalize and squeeze1), and false when none is.
func (wl *WordList) Match(key string) (string, bool) {
	if wl == nil || wl.n == 0 {
		return "", false
	}
	it := wl.ac.Iter(key)
	for m := it.Next(); m != nil; m = it.Next() {
		if bounded(key, m.Start(), m.End()) {
			return wl.words[m.Pattern()], true
		}
	}
	return "", false
}

// bounded says whether key[i:j] stands as a word: each end either touches
// a non-word rune or is in a script without spaces.
func bounded(key string, i, j int) bool {
	first, _ := utf8.DecodeRuneInString(key[i:])
	last, _ := utf8.DecodeLastRuneInString(key[:j])
	if i > 0 && !isCJK(first) {
		before, _ := utf8.DecodeLastRuneInString(key[:i])
		if isWordRune(before) && !isCJK(before) {
			return false
		}
	}
	if j < len(key) && !isCJK(last) {
		after, _ := utf8.DecodeRuneInString(key[j:])
		if isWordRune(after) && !isCJK(after) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// Known invite hosts and shorteners.
var (
	shorteners = []string{"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "cutt.ly",
		"rebrand.ly", "shorturl.at", "tiny.cc", "rb.gy", "bl.ink", "s.id", "v.gd", "t.ly", "lnkd.in"}
	urlRE     = regexp.MustCompile(`(?i)\b((?:https?://|www\.)[^\s<>"']+|(?:[a-z0-9-]+\.)+(?:com|net|org|io|gg|me|ly|co|xyz|ru|cn|info|biz|link|site|top|club|app|dev|tk|ml|ga|cf|gl|to|cc|us|uk)(?:/[^\s<>"']*)?)`)
	mentionRE = regexp.MustCompile(`<@[!&]?\d+>|(?:^|[\s(])@[A-Za-z0-9_]{2,}`)
)

// link is one URL found in a message.
type link struct {
	host string
	path string
}

// findLinks returns the links in text. The domain of an e-mail address
// is not a link.
func findLinks(text string) []link {
	var out []link
	for _, ix := range urlRE.FindAllStringIndex(text, 32) {
		raw := text[ix[0]:ix[1]]
		if ix[0] > 0 && isEmailPart(text[ix[0]-1]) && !strings.Contains(raw, "://") {
			continue
		}
		s := raw
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			continue
		}
		h := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
		out = append(out, link{host: h, path: u.EscapedPath()})
	}
	return out
}

// isEmailPart reports whether c, just before a bare domain, makes it the
// domain of an e-mail address (or the tail of another name).
func isEmailPart(c byte) bool {
	return c == '@' || c == '.' || c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// inDomains reports host equal to, or a subdomain of, one of domains.
func inDomains(host string, domains []string) bool {
	for _, d := range domains {
		d = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "www.")
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return true
		}
	}
	return false
}

func isInvite(l link) bool {
	switch {
	case l.host == "discord.gg", l.host == "discord.com" && strings.HasPrefix(l.path, "/invite"),
		l.host == "discordapp.com" && strings.HasPrefix(l.path, "/invite"):
		return true
	case (l.host == "t.me" || l.host == "telegram.me") && (strings.HasPrefix(l.path, "/+") || strings.HasPrefix(l.path, "/joinchat") || strings.HasPrefix(l.path, "/%2B")):
		return true
	}
	return false
}

// Rules are the cheap, deterministic checks.
type Rules struct {
	cfg     Config
	regexes []*regexp.Regexp

	mu    sync.RWMutex
	words *WordList

	hist *history
}

func newRules(cfg Config) (*Rules, error) {
	r := &Rules{cfg: cfg, words: NewWordList(cfg.Words), hist: newHistory()}
	for i, s := range cfg.Regexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("moderation: regexes[%d]: %w", i, err)
		}
		r.regexes = append(r.regexes, re)
	}
	return r, nil
}

func (r *Rules) setWords(ws []string) {
	wl := NewWordList(ws)
	r.mu.Lock()
	r.words = wl
	r.mu.Unlock()
}

// input is what the rules look at.
type input struct {
	original string
	norm     string
	key      string
	user     string // user key
	chat     string // conversation key
	at       time.Time
	// firstSeen is when the user was first seen; zero when unknown.
	firstSeen time.Time
	// output is set for the bot's own replies: only content rules apply.
	output bool
	// group is set for a message in a group chat, the only place where
	// flooding is a thing: several questions in a row in a DM are a
	// conversation.
	group bool
}

func newInput(text string) input {
	n := Normalize(text)
	return input{original: text, norm: n, key: squeeze1(n)}
}

// check runs every rule and returns the findings, most severe first.
func (r *Rules) check(in input) []Finding {
	var out []Finding
	add := func(c Category, rule string) {
		out = append(out, Finding{Category: c, Rule: rule, Severity: ruleSeverity[c], Decider: "rules"})
	}
	r.mu.RLock()
	wl := r.words
	r.mu.RUnlock()
	if w, ok := wl.Match(in.key); ok {
		add(CatWords, w)
	}
	for _, re := range r.regexes {
		if re.MatchString(in.norm) {
			add(CatRegex, re.String())
			break
		}
	}
	for _, l := range findLinks(in.original) {
		switch {
		case inDomains(l.host, r.cfg.AllowedDomains):
			continue
		case inDomains(l.host, r.cfg.BlockedDomains):
			add(CatLink, l.host)
		case r.cfg.BlockInvites && isInvite(l):
			add(CatInvite, l.host+l.path)
		case r.cfg.BlockShorteners && inDomains(l.host, shorteners):
			add(CatShortener, l.host)
		case !in.output && r.cfg.NewMemberMinutes > 0 && !in.firstSeen.IsZero() &&
			in.at.Sub(in.firstSeen) < time.Duration(r.cfg.NewMemberMinutes)*time.Minute:
			add(CatNewLink, l.host)
		default:
			continue
		}
		break
	}
	if in.output {
		return sortFindings(out)
	}
	if r.cfg.MaxMentions > 0 {
		if n := len(mentionRE.FindAllStringIndex(in.original, 200)); n > r.cfg.MaxMentions {
			add(CatMentions, fmt.Sprintf("%d mentions", n))
		}
	}
	if r.cfg.CapsRatio > 0 {
		up, letters := 0, 0
		for _, c := range in.original {
			if unicode.IsLetter(c) && (unicode.IsUpper(c) || unicode.IsLower(c)) {
				letters++
				if unicode.IsUpper(c) {
					up++
				}
			}
		}
		if letters >= 12 && float64(up)/float64(letters) >= r.cfg.CapsRatio {
			add(CatCaps, fmt.Sprintf("%.0f%% caps", 100*float64(up)/float64(letters)))
		}
	}
	if in.user != "" {
		rep, flood := r.hist.record(in, r.cfg)
		if rep {
			add(CatRepeat, "same text in another chat")
		}
		if flood {
			add(CatFlood, fmt.Sprintf("%d messages in %s", r.cfg.FloodMessages, r.cfg.FloodWindow))
		}
	}
	return sortFindings(out)
}

func sortFindings(fs []Finding) []Finding {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Severity > fs[j-1].Severity; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
	return fs
}

// history remembers recent messages per user for the repeat and flood
// rules. It is bounded: old entries are dropped on the way, and at most
// maxUsers users are tracked.
type history struct {
	mu    sync.Mutex
	users map[string]*userHist
}

type userHist struct {
	times []time.Time         // recent message times, any chat, with chat
	chats []string            // chat of each time
	texts map[string]textSeen // recent texts by key
}

type textSeen struct {
	chat string
	at   time.Time
}

const (
	maxUsers       = 50000
	maxTextsPerUsr = 32
	maxTimesPerUsr = 64
)

func newHistory() *history { return &history{users: map[string]*userHist{}} }

// record notes the message and reports a cross-chat repeat and a flood.
func (h *history) record(in input, cfg Config) (repeat, flood bool) {
	if !in.group {
		cfg.FloodMessages = 0
	}
	if cfg.RepeatWindow <= 0 && cfg.FloodMessages <= 0 {
		return false, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[in.user]
	if u == nil {
		if len(h.users) >= maxUsers {
			for k := range h.users { // drop an arbitrary user: bounded memory
				delete(h.users, k)
				break
			}
		}
		u = &userHist{texts: map[string]textSeen{}}
		h.users[in.user] = u
	}
	if cfg.RepeatWindow > 0 && len([]rune(in.key)) >= 8 {
		if s, ok := u.texts[in.key]; ok && s.chat != in.chat && in.at.Sub(s.at) < cfg.RepeatWindow {
			repeat = true
		}
		if len(u.texts) >= maxTextsPerUsr {
			for k, s := range u.texts {
				if in.at.Sub(s.at) >= cfg.RepeatWindow || len(u.texts) >= maxTextsPerUsr {
					delete(u.texts, k)
				}
			}
		}
		u.texts[in.key] = textSeen{chat: in.chat, at: in.at}
	}
	if cfg.FloodMessages > 0 {
		keep := 0
		for i, t := range u.times {
			if in.at.Sub(t) < cfg.FloodWindow {
				u.times[keep], u.chats[keep] = t, u.chats[i]
				keep++
			}
		}
		u.times, u.chats = u.times[:keep], u.chats[:keep]
		if len(u.times) >= maxTimesPerUsr {
			u.times, u.chats = u.times[1:], u.chats[1:]
		}
		u.times = append(u.times, in.at)
		u.chats = append(u.chats, in.chat)
		n := 0
		for _, c := range u.chats {
			if c == in.chat {
				n++
			}
		}
		flood = n > cfg.FloodMessages
	}
	return repeat, flood
}
