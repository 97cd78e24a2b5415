package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chorusbot/chorus/bot"
)

// LinkTTL is how long a sign-in link is valid.
const LinkTTL = 10 * time.Minute

// KeyFile is the name of the signing key kept in the data directory when
// web.secret is not set.
const KeyFile = "console.key"

// KV buckets of the console.
const (
	bucketSessions = "web.sessions"
	bucketUsed     = "web.links_used"
)

// Errors of sign-in links. A link that fails any check is refused with
// the same page: the reason is only logged.
var (
	// ErrLinkInvalid is returned for a link that is malformed or not signed
	// with this deployment's key.
	ErrLinkInvalid = errors.New("web: sign-in link is not valid")
	// ErrLinkExpired is returned for a link older than LinkTTL.
	ErrLinkExpired = errors.New("web: sign-in link has expired")
	// ErrLinkUsed is returned for a link that already started a session.
	ErrLinkUsed = errors.New("web: sign-in link was already used")
)

// Identity is who a sign-in link or a session is for: a platform user,
// and the platform role ids they had when they asked (Discord), which
// the engine's authority matches against config.
type Identity struct {
	Platform string   `json:"p"`
	ID       string   `json:"i"`
	Name     string   `json:"n,omitempty"`
	Roles    []string `json:"r,omitempty"`
}

// Key is the identity's user key ("telegram:42"), as the audit log and
// roles name users.
func (id Identity) Key() string { return id.Platform + ":" + id.ID }

// ParseUser parses PLATFORM:ID.
func ParseUser(s string) (Identity, error) {
	p, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || p == "" || id == "" || strings.ContainsAny(s, " /") {
		return Identity{}, fmt.Errorf("web: user must be PLATFORM:ID such as telegram:42, got %q", s)
	}
	return Identity{Platform: p, ID: id}, nil
}

// Authority decides what an identity may do now: cmd/chorus gives the
// engine's decision (bot.Engine.AuthorityOf for a private message from
// it), so that the console's roles are the commands' roles.
type Authority func(id Identity) bot.Authority

// Signer makes and checks sign-in links with one key.
type Signer struct {
	key  []byte
	base string
	now  func() time.Time
}

// NewSigner returns a signer with key for links under base (Config.Base).
func NewSigner(key []byte, base string) *Signer {
	return &Signer{key: key, base: strings.TrimRight(base, "/"), now: time.Now}
}

// LoadKey returns the signing key: derived from cfg.Secret when set, else
// read from dataDir/console.key, which is created (mode 0600) the first
// time.
func LoadKey(cfg Config, dataDir string) ([]byte, error) {
	if cfg.Secret != "" {
		k := sha256.Sum256([]byte("chorus console\x00" + cfg.Secret))
		return k[:], nil
	}
	p := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(p)
	if err == nil {
		k, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(k) < 32 {
			return nil, fmt.Errorf("web: %s is not a key made by chorus; delete it to make a new one", p)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("web: read key: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("web: create data dir: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it first: use theirs.
		return LoadKey(cfg, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("web: create key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("web: write key: %w", werr)
	}
	return k, nil
}

// linkClaims is what a sign-in link carries, signed.
type linkClaims struct {
	Identity
	Nonce   string `json:"o"`
	Expires int64  `json:"e"`
}

// Link returns a single-use sign-in link for id, valid for LinkTTL.
func (s *Signer) Link(id Identity) (string, error) {
	c := linkClaims{Identity: id, Nonce: randomToken(16), Expires: s.now().Add(LinkTTL).Unix()}
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	tok := b64(body) + "." + b64(s.mac(body))
	return s.base + PathSignIn + "?t=" + url.QueryEscape(tok), nil
}

func (s *Signer) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("link\x00"))
	m.Write(b)
	return m.Sum(nil)
}

// verify checks a link token's signature and age; whether it was used is
// the console's to check.
func (s *Signer) verify(tok string) (linkClaims, error) {
	body64, sig64, ok := strings.Cut(tok, ".")
	if !ok {
		return linkClaims{}, ErrLinkInvalid
	}
	body, err1 := base64.RawURLEncoding.DecodeString(body64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, s.mac(body)) {
		return linkClaims{}, ErrLinkInvalid
	}
	var c linkClaims
	if err := json.Unmarshal(body, &c); err != nil || c.Nonce == "" || c.Platform == "" || c.ID == "" {
		return linkClaims{}, ErrLinkInvalid
	}
	if s.now().Unix() > c.Expires {
		return c, ErrLinkExpired
	}
	return c, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// randomToken is n random bytes, base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return b64(b)
}

// session is a signed-in manager, kept in the KV under the hash of its
// cookie value (a stolen store holds no usable cookie).
type session struct {
	Identity Identity  `json:"id"`
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
}

func sessionKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

// sessions keeps sessions and used links in the KV, so that they survive
// a restart and are shared by replicas over one PostgreSQL store.
type sessions struct {
	kv  bot.KV
	ttl time.Duration
	now func() time.Time
}

// start consumes a verified link and opens a session; the link's nonce is
// recorded until it would have expired anyway.
func (ss *sessions) start(ctx context.Context, c linkClaims) (cookie string, s session, err error) {
	if _, err := ss.kv.Get(ctx, bucketUsed, c.Nonce); err == nil {
		return "", session{}, ErrLinkUsed
	} else if !errors.Is(err, bot.ErrNotFound) {
		return "", session{}, err
	}
	exp, _ := json.Marshal(c.Expires)
	if err := ss.kv.Put(ctx, bucketUsed, c.Nonce, exp); err != nil {
		return "", session{}, err
	}
	now := ss.now()
	s = session{Identity: c.Identity, CSRF: randomToken(24), Created: now, Expires: now.Add(ss.ttl)}
	b, err := json.Marshal(s)
	if err != nil {
		return "", session{}, err
	}
	cookie = randomToken(32)
	if err := ss.kv.Put(ctx, bucketSessions, sessionKey(cookie), b); err != nil {
		return "", session{}, err
	}
	return cookie, s, nil
}

// get returns the live session of a cookie value.
func (ss *sessions) get(ctx context.Context, cookie string) (session, bool) {
	if cookie == "" {
		return session{}, false
	}
	b, err := ss.kv.Get(ctx, bucketSessions, sessionKey(cookie))
	if err != nil {
		return session{}, false
	}
	var s session
	if json.Unmarshal(b, &s) != nil || !ss.now().Before(s.Expires) {
		_ = ss.kv.Delete(ctx, bucketSessions, sessionKey(cookie))
		return session{}, false
	}
	return s, true
}

func (ss *sessions) end(ctx context.Context, cookie string) error {
	return ss.kv.Delete(ctx, bucketSessions, sessionKey(cookie))
}

// sweep deletes expired sessions and the records of links that expired.
func (ss *sessions) sweep(ctx context.Context) error {
	now := ss.now()
	var dead, used []string
	err := ss.kv.Scan(ctx, bucketSessions, "", "", func(k string, v []byte) error {
		var s session
		if json.Unmarshal(v, &s) != nil || !now.Before(s.Expires) {
			dead = append(dead, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = ss.kv.Scan(ctx, bucketUsed, "", "", func(k string, v []byte) error {
		var exp int64
		if json.Unmarshal(v, &exp) != nil || now.Unix() > exp {
			used = append(used, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := ss.kv.Delete(ctx, bucketSessions, k); err != nil {
			return err
		}
	}
	for _, k := range used {
		if err := ss.kv.Delete(ctx, bucketUsed, k); err != nil {
			return err
		}
	}
	return nil
}

// validCSRF compares a form's token with the session's in constant time.
func validCSRF(s session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(s.CSRF), []byte(got)) == 1
}
