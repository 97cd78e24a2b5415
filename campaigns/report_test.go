package campaigns_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/campaigns"
)

// TestCampaignReports: a scripted campaign (a post reaching 1,500
// members, three clicks by two people, a preview, a purchase; an answer's
// link clicked once) gives these figures in /campaigns and /campaign.
func TestCampaignReports(t *testing.T) {
	o := linkOpts()
	o.links.TrustForwardedFor = true
	w, r, code, pid, srv := live(t, o)
	get(t, srv.URL+"/l/"+code, "TelegramBot (like TwitterBot)", "198.51.100.9")
	loc, _ := url.Parse(get(t, srv.URL+"/l/"+code, browser, "198.51.100.1").Header.Get("Location"))
	get(t, srv.URL+"/l/"+code, browser, "198.51.100.1")
	get(t, srv.URL+"/l/"+code, browser, "198.51.100.2")
	body := []byte(`{"event_id":"o1","click_id":"` + loc.Query().Get("chorus_click") + `","event":"purchase","value":12.5,"currency":"EUR"}`)
	if code, _ := postConversion(t, srv.URL, body, campaigns.Sign(secret, body)); code != 200 {
		t.Fatalf("conversion: %d", code)
	}
	w.llm.Reply = func(bot.Request) (string, error) { return "Order at https://shop.lumen.example/winter today.", nil }
	answer := shortRE.FindStringSubmatch(r.say(followerID, "where do I order?"))
	get(t, srv.URL+"/l/"+answer[1], browser, "198.51.100.3")

	rep := r.say(managerID, "/campaigns 7d")
	contains(t, rep, pid+" · post · telegram -1009001 · 2026-12-20 09:00",
		"reach 1500 · clicks 3 (unique 2) · click-through 0.1% · conversions 1 (rate 50.0%) · value 12.50 EUR",
		"answer · links in answers", "reach n/a · clicks 1 (unique 1) · click-through n/a · conversions 0 (rate 0.0%) · value 0",
		"All campaigns:", "reach 1500 · clicks 4 (unique 3) · click-through 0.2% · conversions 1 (rate 33.3%) · value 12.50 EUR")
	photos := w.fake.Calls(telegramtest.MethodSendPhoto)
	if len(photos) != 1 || len(photos[0].Files["photo"]) < 1000 {
		t.Fatalf("want one chart, got %d calls", len(photos))
	}

	det := r.say(managerID, "/campaign "+pid)
	contains(t, det, "Winter blend is back", "reach 1500 · clicks 3 (unique 2)", "telegram: clicks 3 (unique 2), conversions 1",
		"Conversions by event: purchase 1", "https://go.lumen.example/l/"+code+" → https://shop.lumen.example/winter?size=250: 3 clicks")
	contains(t, r.say(managerID, "/campaign p404"), "There is no post p404")
	contains(t, r.say(managerID, "/campaigns 3y"), "can't read the period")
	// A follower can't see them.
	contains(t, r.say(followerID, "/campaigns"), "manager")
	if strings.Contains(r.say(followerID, "/campaign "+pid), "reach") {
		t.Fatal("a follower saw a campaign")
	}
}
