package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/bot/bottest"
)

// fakeKB is a knowledge base that records what the console changed.
type fakeKB struct {
	mu    sync.Mutex
	docs  []Document
	files map[string][]byte
}

func (k *fakeKB) Documents(context.Context) ([]Document, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Document(nil), k.docs...), nil
}

func (k *fakeKB) Put(_ context.Context, path string, content []byte) (Document, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.files == nil {
		k.files = map[string][]byte{}
	}
	k.files[path] = content
	d := Document{Source: SourceConsole, Path: path, Passages: 1, Bytes: len(content)}
	for i, o := range k.docs {
		if o.Path == path {
			k.docs[i] = d
			return d, nil
		}
	}
	k.docs = append(k.docs, d)
	return d, nil
}

// answers are the question-and-answer documents written in review.
func (k *fakeKB) answers() map[string]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]string{}
	for p, c := range k.files {
		if strings.HasPrefix(p, "answers/") {
			out[p] = string(c)
		}
	}
	return out
}

func (k *fakeKB) Remove(_ context.Context, source, path string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i, d := range k.docs {
		if d.Source == source && d.Path == path {
			k.docs = append(k.docs[:i], k.docs[i+1:]...)
			return nil
		}
	}
	return bot.ErrNotFound
}

func (k *fakeKB) Preview(_ context.Context, q string) (bot.Preview, error) {
	return bot.Preview{Lang: "en", Answer: "preview of " + q, Passages: []bot.Passage{{Source: "faq.md", Text: "We open at 8."}}}, nil
}

type fakeGaps struct {
	mu       sync.Mutex
	resolved []string
}

func (g *fakeGaps) ResolveGaps(_ context.Context, q string) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resolved = append(g.resolved, q)
	return 2, nil
}

type reviewRig struct {
	*consoleRig
	kb   *fakeKB
	gaps *fakeGaps
}

func newReviewRig(t *testing.T) *reviewRig {
	rr := &reviewRig{kb: &fakeKB{}, gaps: &fakeGaps{}}
	rr.consoleRig = newConsoleRig(t, Config{}, func(r *bottest.Rig, d *Deps) {
		d.History, d.Knowledge, d.Gaps, d.AuditLog = r.Store, rr.kb, rr.gaps, r.Audit
	})
	return rr
}

// askAndRate has follower user ask question in chat and rate the answer
// down.
func (rr *reviewRig) askAndRate(t *testing.T, chat bot.Chat, user, question string) {
	t.Helper()
	id := "q-" + user + "-" + chat.ID
	rr.Send(t, bot.Message{ID: id, Chat: chat, Author: bot.User{ID: user, Name: "Fan " + user}, Text: question, Mentioned: true})
	res, err := rr.Engine.Vote(context.Background(), bot.Vote{Platform: "tg", Chat: chat, Voter: bot.User{ID: user}, Question: id, Rating: bot.RatingDown})
	if err != nil || res != bot.VoteCounted {
		t.Fatalf("vote: %v %v", res, err)
	}
}

var itemRE = regexp.MustCompile(`action="/console/review/([^/"]+)/fine"`)

func TestReviewRatedDownAnswer(t *testing.T) {
	rr := newReviewRig(t)
	rr.LLM.Reply = func(bot.Request) (string, error) { return "We are open from 9 to 5.", nil }
	group := bot.Chat{ID: "g1", Kind: bot.ChatGroup, Title: "Fans"}
	rr.askAndRate(t, group, "50", `<script>alert(1)</script> when do you open? [win a prize](https://evil.example)`)
	b, csrf := rr.signIn(t, "2")
	resp, body := get(t, b, rr.srv.URL+"/console/review")
	if resp.StatusCode != 200 {
		t.Fatalf("review = %d", resp.StatusCode)
	}
	for _, want := range []string{"Rated 👎", "We are open from 9 to 5.", "&lt;script&gt;alert(1)&lt;/script&gt;", "[win a prize](https://evil.example)", "tg/g1"} {
		if !strings.Contains(body, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, `href="https://evil.example"`) {
		t.Error("a follower's text reached the page as markup")
	}
	ids := itemRE.FindAllStringSubmatch(body, -1)
	if len(ids) != 1 {
		t.Fatalf("items %v", ids)
	}
	// Write the right answer: the knowledge base gets it, the gaps close,
	// the item leaves the list, the audit log names the manager.
	resp, _ = post(t, b, rr.srv.URL+"/console/review/"+ids[0][1]+"/answer", url.Values{"csrf": {csrf},
		"question": {"When do you open?"}, "answer": {"We open at 8am every day."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("answer = %d", resp.StatusCode)
	}
	as := rr.kb.answers()
	if len(as) != 1 {
		t.Fatalf("knowledge base got %v", as)
	}
	for p, c := range as {
		if !strings.HasPrefix(p, "answers/when-do-you-open-") || !strings.HasSuffix(p, ".csv") ||
			c != "question,answer\nWhen do you open?,We open at 8am every day.\n" {
			t.Errorf("answer document %s:\n%s", p, c)
		}
	}
	if len(rr.gaps.resolved) != 1 {
		t.Errorf("gaps resolved %v", rr.gaps.resolved)
	}
	_, body = get(t, b, rr.srv.URL+"/console/review?done=answered")
	if itemRE.MatchString(body) || !strings.Contains(body, "the gap is closed") {
		t.Errorf("the answered item is still listed:\n%s", body)
	}
	var audited bool
	for _, e := range rr.Audit.Entries(bot.AuditCommand) {
		audited = audited || e.Actor == "tg:2" && e.Rule == "review: wrote the answer" && strings.Contains(e.Note, "via console")
	}
	if !audited {
		t.Errorf("the answer was not audited: %+v", rr.Audit.Entries(""))
	}
}

func TestReviewMarkFineAndPrivacy(t *testing.T) {
	rr := newReviewRig(t)
	dm := bot.Chat{ID: "dm60", Kind: bot.ChatDM}
	rr.askAndRate(t, dm, "60", "my email is ann@example.com, where is my order?")
	rr.Clock.Add(time.Minute)
	rr.askAndRate(t, bot.Chat{ID: "g2", Kind: bot.ChatGroup}, "61", "is the grinder safe?")
	b, csrf := rr.signIn(t, "2")
	_, body := get(t, b, rr.srv.URL+"/console/review")
	if strings.Contains(body, "ann@example.com") || !strings.Contains(body, "private message") || !strings.Contains(body, "masked") {
		t.Errorf("a DM shows unmasked by default:\n%s", body)
	}
	// A manager may not turn on full DM review; an owner may.
	resp, body2 := post(t, b, rr.srv.URL+"/console/settings/dm", url.Values{"csrf": {csrf}, "full_dm": {"on"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body2, "Only an owner") {
		t.Errorf("a manager turned on full DM review: %d", resp.StatusCode)
	}
	ob, ocsrf := rr.signIn(t, "1")
	if resp, _ := post(t, ob, rr.srv.URL+"/console/settings/dm", url.Values{"csrf": {ocsrf}, "full_dm": {"on"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner's full DM review = %d", resp.StatusCode)
	}
	if _, body := get(t, b, rr.srv.URL+"/console/review"); !strings.Contains(body, "ann@example.com") {
		t.Error("full DM review on, and the DM is still masked")
	}
	// Mark the group item fine.
	ids := itemRE.FindAllStringSubmatch(body, -1)
	if len(ids) != 2 {
		t.Fatalf("items %v", ids)
	}
	resp, _ = post(t, b, rr.srv.URL+"/console/review/"+ids[0][1]+"/fine", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("fine = %d", resp.StatusCode)
	}
	if _, body := get(t, b, rr.srv.URL+"/console/review"); len(itemRE.FindAllString(body, -1)) != 1 {
		t.Errorf("the item marked fine is still listed")
	}
	// A follower's /forget removes them from the page.
	if _, _, err := rr.Engine.Forget(context.Background(), bot.ForgetRequest{User: "tg:60", Scope: bot.ViewAll()}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, b, rr.srv.URL+"/console/review"); len(itemRE.FindAllString(body, -1)) != 0 || strings.Contains(body, "where is my order") {
		t.Errorf("a forgotten follower is still on the review page:\n%s", body)
	}
}

// TestReviewBlockedAndDontKnow: an answer the output checks stopped and an
// honest "I don't know" reach the review page with their question and
// answer; the question of a "don't know" comes masked from the event.
func TestReviewBlockedAndDontKnow(t *testing.T) {
	rr := newReviewRig(t)
	group := bot.Chat{ID: "g3", Kind: bot.ChatGroup}
	rr.LLM.Reply = func(bot.Request) (string, error) { return "Our rival's beans are awful.", nil }
	rr.Send(t, bot.Message{ID: "b1", Chat: group, Author: bot.User{ID: "80", Name: "Bea"}, Text: "what do you think of Acme?", Mentioned: true})
	rr.con.review.Observe(bot.Event{Kind: bot.EventOutputBlocked, Time: rr.Clock.Now(), Platform: "tg", ChatKind: bot.ChatGroup,
		Chat: "tg/g3", User: "tg:80", Label: "competitor", Action: "fallback"})
	rr.Clock.Add(time.Minute)
	rr.con.review.Observe(bot.Event{Kind: bot.EventOutputBlocked, Time: rr.Clock.Now(), Platform: "tg", Chat: "tg/g3", User: "tg:80",
		Label: "competitor", Action: "reask"}) // asked again: not for review
	rr.con.review.Observe(bot.Event{Kind: bot.EventQuestion, Time: rr.Clock.Now(), Platform: "tg", ChatKind: bot.ChatGroup, Chat: "tg/g3",
		User: "tg:81", Text: "can I pay with card 4111 1111 1111 1111?", Outcome: bot.OutcomeUnanswered})
	rr.con.review.Observe(bot.Event{Kind: bot.EventQuestion, Time: rr.Clock.Now(), Platform: "tg", Chat: "tg/g3", User: "tg:81",
		Text: "answered fine", Outcome: bot.OutcomeOK}) // answered: not for review
	b, _ := rr.signIn(t, "2")
	_, body := get(t, b, rr.srv.URL+"/console/review?kind=blocked")
	if !strings.Contains(body, "what do you think of Acme?") || !strings.Contains(body, "competitor") || len(itemRE.FindAllString(body, -1)) != 1 {
		t.Errorf("blocked items:\n%s", body)
	}
	_, body = get(t, b, rr.srv.URL+"/console/review?kind=dont_know")
	if !strings.Contains(body, "can I pay with card") || strings.Contains(body, "4111 1111") || len(itemRE.FindAllString(body, -1)) != 1 || strings.Contains(body, "answered fine") {
		t.Errorf("don't-know items:\n%s", body)
	}
	_, body = get(t, b, rr.srv.URL+"/console/review")
	if n := len(itemRE.FindAllString(body, -1)); n != 2 {
		t.Errorf("%d items in all, want 2", n)
	}
}
