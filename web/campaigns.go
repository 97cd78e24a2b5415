package web

import (
	"context"
	"net/http"
	"time"
)

// Campaigns are the campaigns' figures (package campaigns), for the
// Campaigns page: what /campaigns reports in the chat.
type Campaigns interface {
	CampaignReport(ctx context.Context, period time.Duration) (CampaignReport, error)
}

// CampaignRow is one campaign's figures over a period.
type CampaignRow struct {
	// ID is the post's or announcement's id, or "answer" / "welcome".
	ID string
	// Kind is post, announcement, answer or welcome.
	Kind           string
	Platform, Chat string
	// Sent is when a post went out (zero for answers and welcomes).
	Sent time.Time
	Late bool
	// Reach is the member count when it went out; -1 unknown or none.
	Reach                       int
	Clicks, Unique, Conversions int
	// CTR (unique clicks / reach) and Rate (conversions / unique
	// clicks), -1 when they can't be computed.
	CTR, Rate float64
	// Value is the conversions' value by currency ("12.50 EUR").
	Value string
}

// CampaignReport is the Campaigns page: the rows, their totals, and
// clicks per day.
type CampaignReport struct {
	Rows   []CampaignRow
	Total  CampaignRow
	Days   []time.Time
	Clicks []int
}

func (c *Console) campaignsPage(w http.ResponseWriter, r *request) {
	if c.d.Campaigns == nil {
		c.fail(w, r, http.StatusServiceUnavailable, r.T("campaigns.unavailable"))
		return
	}
	key, d := parsePeriod(r.URL.Query().Get("period"))
	if r.URL.Query().Get("period") == "" {
		key, d = parsePeriod("30d")
	}
	rep, err := c.d.Campaigns.CampaignReport(r.Context(), d)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, r.T("err.store"))
		return
	}
	pts := make([]Point, len(rep.Days))
	for i, t := range rep.Days {
		pts[i] = Point{Time: t, Users: rep.Clicks[i]}
	}
	keys := make([]string, len(periods))
	for i, p := range periods {
		keys[i] = p.Key
	}
	chart := lineChart(r.T("campaigns.chart"), pts, 24*time.Hour,
		[]lineSeries{{name: r.T("campaigns.clicks"), colour: "#ff7f0e", value: func(p Point) int { return p.Users }}})
	c.renderPage(w, r, http.StatusOK, "campaigns", map[string]any{"R": rep, "Period": key, "Periods": keys, "Chart": chart})
}
