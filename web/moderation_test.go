package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

type fakeMod struct {
	mu      sync.Mutex
	words   []string
	dry     bool
	appeals map[string]Appeal
	strikes map[string]float64
}

func (f *fakeMod) Words(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.words...), nil
}
func (f *fakeMod) SetWords(_ context.Context, ws []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.words = ws
	return nil
}
func (f *fakeMod) DryRun(context.Context) (bool, error) { return f.dry, nil }
func (f *fakeMod) SetDryRun(_ context.Context, on bool) error {
	f.dry = on
	return nil
}
func (f *fakeMod) Appeals(context.Context) ([]Appeal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Appeal
	for _, a := range f.appeals {
		out = append(out, a)
	}
	return out, nil
}
func (f *fakeMod) Pardon(_ context.Context, u string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.appeals, u)
	delete(f.strikes, u)
	return nil
}
func (f *fakeMod) Uphold(_ context.Context, u string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.appeals[u]; !ok {
		return bot.ErrNotFound
	}
	delete(f.appeals, u)
	return nil
}
func (f *fakeMod) Strikes(context.Context) ([]Strikes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Strikes
	for u, n := range f.strikes {
		out = append(out, Strikes{User: u, Strikes: n})
	}
	return out, nil
}

func TestModerationPage(t *testing.T) {
	fm := &fakeMod{words: []string{"spoiler"}, appeals: map[string]Appeal{
		"tg:70": {User: "tg:70", Text: "I was <b>quoting</b> the rules!", Time: time.Now(), Action: "timeout", Category: "abuse", Excerpt: "you ****"},
		"tg:71": {User: "tg:71", Text: "sorry", Time: time.Now(), Action: "delete"},
	}, strikes: map[string]float64{"tg:70": 2, "tg:71": 1}}
	cr := newConsoleRig(t, Config{}, func(r *bottest.Rig, d *Deps) { d.Moderation, d.AuditLog = fm, r.Audit })
	cr.Audit.Audit(context.Background(), bot.AuditEntry{Time: cr.Clock.Now(), Platform: "tg", Chat: "tg/g1", User: "tg:70", Name: "Spammer",
		Actor: "rules", Kind: bot.AuditModeration, Rule: "words", Action: "delete", Excerpt: "mail me at bob@example.com"})
	cr.Audit.Audit(context.Background(), bot.AuditEntry{Time: cr.Clock.Now(), Platform: "tg", Chat: "tg/g2", User: "tg:72", Actor: "rules",
		Kind: bot.AuditModeration, Rule: "links", Action: "timeout"})
	b, csrf := cr.signIn(t, "2")
	_, body := get(t, b, cr.srv.URL+"/console/moderation")
	for _, want := range []string{"I was &lt;b&gt;quoting&lt;/b&gt; the rules!", "Pardon", "Uphold", "spoiler", "Spammer", "tg/g2"} {
		if !strings.Contains(body, want) {
			t.Errorf("moderation page lacks %q", want)
		}
	}
	if strings.Contains(body, "bob@example.com") {
		t.Error("an excerpt shows unmasked")
	}
	// Filters: by chat and by action.
	_, body = get(t, b, cr.srv.URL+"/console/moderation?chat=tg/g2&action=timeout")
	if strings.Contains(body, "Spammer") || !strings.Contains(body, "tg:72") {
		t.Errorf("the filter let through the wrong entries")
	}
	// Pardon one appeal, uphold the other; both audited.
	for _, tc := range []struct{ verb, user string }{{"pardon", "tg:70"}, {"uphold", "tg:71"}} {
		resp, _ := post(t, b, cr.srv.URL+"/console/moderation/appeal/"+tc.verb, url.Values{"csrf": {csrf}, "user": {tc.user}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s = %d", tc.verb, resp.StatusCode)
		}
	}
	if len(fm.appeals) != 0 || fm.strikes["tg:70"] != 0 || fm.strikes["tg:71"] != 1 {
		t.Errorf("appeals %v strikes %v", fm.appeals, fm.strikes)
	}
	resp, _ := post(t, b, cr.srv.URL+"/console/moderation/words", url.Values{"csrf": {csrf}, "words": {"spoiler\n  leak \n\nspoiler\n"}})
	if resp.StatusCode != http.StatusSeeOther || strings.Join(fm.words, ",") != "spoiler,leak" {
		t.Errorf("words = %d %q", resp.StatusCode, fm.words)
	}
	if resp, _ := post(t, b, cr.srv.URL+"/console/moderation/dryrun", url.Values{"csrf": {csrf}, "dryrun": {"on"}}); resp.StatusCode != http.StatusSeeOther || !fm.dry {
		t.Errorf("dry-run not turned on")
	}
	rules := map[string]bool{}
	for _, e := range cr.Audit.Entries(bot.AuditCommand) {
		if e.Actor == "tg:2" {
			rules[e.Rule] = true
		}
	}
	for _, r := range []string{"/mod pardon", "/mod uphold", "/mod words", "/mod dryrun"} {
		if !rules[r] {
			t.Errorf("%s not audited under the manager: %v", r, rules)
		}
	}
}
