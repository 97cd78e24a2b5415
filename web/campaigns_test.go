package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chorusbot/chorus/bot/bottest"
)

type fakeCampaigns struct{ asked []time.Duration }

func (f *fakeCampaigns) CampaignReport(_ context.Context, period time.Duration) (CampaignReport, error) {
	f.asked = append(f.asked, period)
	day := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	return CampaignReport{
		Rows: []CampaignRow{
			{ID: "pmx1", Kind: "post", Platform: "telegram", Chat: "-1009001", Sent: day.Add(9 * time.Hour), Reach: 1500, Clicks: 3, Unique: 2,
				CTR: 2.0 / 1500, Conversions: 1, Rate: 0.5, Value: "12.50 EUR"},
			{ID: "answer", Kind: "answer", Reach: -1, Clicks: 1, Unique: 1, CTR: -1, Rate: 0, Value: "0"},
		},
		Total: CampaignRow{Reach: 1500, Clicks: 4, Unique: 3, CTR: 0.002, Conversions: 1, Rate: 1.0 / 3, Value: "12.50 EUR"},
		Days:  []time.Time{day, day.Add(24 * time.Hour)}, Clicks: []int{3, 1},
	}, nil
}

func TestCampaignsPage(t *testing.T) {
	fc := &fakeCampaigns{}
	cr := newConsoleRig(t, Config{}, func(_ *bottest.Rig, d *Deps) { d.Campaigns = fc })
	b, _ := cr.signIn(t, "2")
	_, body := get(t, b, cr.srv.URL+"/console/campaigns")
	for _, want := range []string{"pmx1", "telegram -1009001 · 2026-12-20 09:00 UTC", "<td>1500</td><td>3</td><td>2</td>", "0.1%", "50.0%",
		"12.50 EUR", "links in answers", "<td>–</td>", "All campaigns", "33.3%", `<svg class="chart"`, `aria-current="page">Campaigns`} {
		if !strings.Contains(body, want) {
			t.Errorf("campaigns page lacks %q:\n%s", want, body)
		}
	}
	get(t, b, cr.srv.URL+"/console/campaigns?period=7d")
	if len(fc.asked) != 2 || fc.asked[0] != 30*24*time.Hour || fc.asked[1] != 7*24*time.Hour {
		t.Errorf("periods asked %v, want 30d then 7d", fc.asked)
	}
}
