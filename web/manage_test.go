package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

type fakeManage struct {
	mu     sync.Mutex
	drafts map[string]Draft
	p      bot.Persona
}

func (f *fakeManage) Drafts(context.Context) ([]Draft, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Draft
	for _, d := range f.drafts {
		out = append(out, d)
	}
	return out, nil
}

func (f *fakeManage) LastPost(user string) (LastPost, bool) {
	if user != "tg:2" {
		return LastPost{}, false
	}
	return LastPost{Platform: "telegram", Brief: "new beans", Variants: []string{"Fresh beans are in!", "Try our new beans."},
		Flags: [][]string{nil, {"ungrounded: a price the knowledge base does not hold"}}}, true
}

func (f *fakeManage) EditDraft(_ context.Context, id, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.drafts[id]
	if !ok {
		return bot.ErrNotFound
	}
	if text == "" {
		return errors.New("empty")
	}
	d.Text = text
	f.drafts[id] = d
	return nil
}

func (f *fakeManage) DeleteDraft(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.drafts[id]; !ok {
		return bot.ErrNotFound
	}
	delete(f.drafts, id)
	return nil
}

func (f *fakeManage) Persona() bot.Persona {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.p
}

func (f *fakeManage) SetPersona(_ context.Context, fields map[string]string) (bot.Persona, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fields["brand"] == "" {
		return f.p, errors.New("manage: persona brand is required")
	}
	f.p.Brand, f.p.BotName, f.p.Voice = fields["brand"], fields["bot_name"], fields["voice"]
	f.p.Do = strings.Split(fields["do"], "; ")
	return f.p, nil
}

func TestDraftsAndPersona(t *testing.T) {
	fm := &fakeManage{drafts: map[string]Draft{"d1": {ID: "d1", Platform: "telegram", Brief: "launch", Text: "New beans <b>today</b>!", Created: time.Now()}},
		p: bot.Persona{Brand: "Lumen Coffee", BotName: "Lumi", Voice: "warm", Do: []string{"greet"}}}
	cr := newConsoleRig(t, Config{}, func(_ *bottest.Rig, d *Deps) { d.Drafts, d.Persona = fm, fm })
	b, csrf := cr.signIn(t, "2")
	_, body := get(t, b, cr.srv.URL+"/console/drafts")
	if !strings.Contains(body, "New beans &lt;b&gt;today&lt;/b&gt;!") || !strings.Contains(body, "/console/static/console.js") {
		t.Errorf("drafts page:\n%s", body)
	}
	for _, want := range []string{"Your last /post", "Fresh beans are in!", "Try our new beans.", "ungrounded: a price"} {
		if !strings.Contains(body, want) {
			t.Errorf("drafts page lacks %q", want)
		}
	}
	if resp, _ := post(t, b, cr.srv.URL+"/console/drafts/d1/save", url.Values{"csrf": {csrf}, "text": {"New beans today."}}); resp.StatusCode != http.StatusSeeOther || fm.drafts["d1"].Text != "New beans today." {
		t.Errorf("save = %d, %q", resp.StatusCode, fm.drafts["d1"].Text)
	}
	if resp, _ := post(t, b, cr.srv.URL+"/console/drafts/nope/delete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delete of a missing draft = %d", resp.StatusCode)
	}
	if resp, _ := post(t, b, cr.srv.URL+"/console/drafts/d1/delete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther || len(fm.drafts) != 0 {
		t.Errorf("delete = %d", resp.StatusCode)
	}
	// A manager reads the persona and may not change it.
	_, body = get(t, b, cr.srv.URL+"/console/persona")
	if !strings.Contains(body, "Lumen Coffee") || strings.Contains(body, `action="/console/persona"`) || !strings.Contains(body, "Only an owner") {
		t.Errorf("persona page for a manager:\n%s", body)
	}
	resp, body := post(t, b, cr.srv.URL+"/console/persona", url.Values{"csrf": {csrf}, "brand": {"Evil"}, "bot_name": {"X"}})
	if resp.StatusCode != http.StatusForbidden || fm.p.Brand != "Lumen Coffee" {
		t.Errorf("a manager changed the persona: %d %q", resp.StatusCode, fm.p.Brand)
	}
	// An owner does; a refused value changes nothing and says why.
	ob, ocsrf := cr.signIn(t, "1")
	if _, body := get(t, ob, cr.srv.URL+"/console/persona"); !strings.Contains(body, `action="/console/persona"`) {
		t.Error("the owner gets no form")
	}
	resp, body = post(t, ob, cr.srv.URL+"/console/persona", url.Values{"csrf": {ocsrf}, "brand": {""}, "bot_name": {"Lumi"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "brand is required") || fm.p.Brand != "Lumen Coffee" {
		t.Errorf("refused persona = %d\n%s", resp.StatusCode, body)
	}
	resp, _ = post(t, ob, cr.srv.URL+"/console/persona", url.Values{"csrf": {ocsrf}, "brand": {"Lumen"}, "bot_name": {"Lumi"},
		"voice": {"calm"}, "do": {"greet people\nsuggest a bean"}})
	if resp.StatusCode != http.StatusSeeOther || fm.p.Brand != "Lumen" || strings.Join(fm.p.Do, "|") != "greet people|suggest a bean" {
		t.Errorf("owner's persona = %d %+v", resp.StatusCode, fm.p)
	}
	var audited bool
	for _, e := range cr.Audit.Entries(bot.AuditPersona) {
		audited = audited || e.Actor == "tg:1"
	}
	if !audited {
		t.Error("the persona change was not audited under the owner")
	}
}
