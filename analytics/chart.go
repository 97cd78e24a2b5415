package analytics

import (
	"bytes"
	"fmt"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// Chart size in pixels.
const (
	ChartWidth  = 800
	ChartHeight = 400
)

// MIMEPNG is the MIME type of chart attachments.
const MIMEPNG = "image/png"

func timeFormatter(step time.Duration) chart.ValueFormatter {
	if step < 24*time.Hour {
		return chart.TimeValueFormatterWithFormat("01-02 15h")
	}
	return chart.TimeValueFormatterWithFormat("2006-01-02")
}

// padded returns the times and values of pts with at least two points, as
// go-chart needs.
func padded(pts []Point, step time.Duration) []Point {
	if len(pts) >= 2 {
		return pts
	}
	if len(pts) == 0 {
		now := time.Now().UTC().Truncate(step)
		return []Point{{Time: now.Add(-step)}, {Time: now}}
	}
	return []Point{{Time: pts[0].Time.Add(-step)}, pts[0]}
}

// SentimentChart renders the share of each label per step as a PNG.
func SentimentChart(pts []Point, step time.Duration) ([]byte, error) {
	pts = padded(pts, step)
	xs := make([]time.Time, len(pts))
	ys := [3][]float64{}
	for i, p := range pts {
		xs[i] = p.Time
		n := p.Counts[0] + p.Counts[1] + p.Counts[2]
		for l := range 3 {
			v := 0.0
			if n > 0 {
				v = 100 * float64(p.Counts[l]) / float64(n)
			}
			ys[l] = append(ys[l], v)
		}
	}
	colors := [3]drawing.Color{{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}}
	var ss []chart.Series
	for l := range 3 {
		ss = append(ss, chart.TimeSeries{Name: Label(l).String() + " %", XValues: xs, YValues: ys[l],
			Style: chart.Style{StrokeColor: colors[l], StrokeWidth: 2}})
	}
	return render(ss, step, 100, "share of messages (%)")
}

// UsersChart renders active users per step as a PNG.
func UsersChart(pts []Point, step time.Duration) ([]byte, error) {
	return areaChart("active users", pts, step, drawing.Color{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff})
}

// areaChart renders the Users of pts as one filled series.
func areaChart(name string, pts []Point, step time.Duration, color drawing.Color) ([]byte, error) {
	pts = padded(pts, step)
	xs := make([]time.Time, len(pts))
	ys := make([]float64, len(pts))
	top := 1.0
	for i, p := range pts {
		xs[i], ys[i] = p.Time, float64(p.Users)
		top = max(top, ys[i])
	}
	fill := color
	fill.A = 0x40
	ss := []chart.Series{chart.TimeSeries{Name: name, XValues: xs, YValues: ys,
		Style: chart.Style{StrokeColor: color, StrokeWidth: 2, FillColor: fill}}}
	return render(ss, step, top*1.1, name)
}

func render(ss []chart.Series, step time.Duration, top float64, yName string) ([]byte, error) {
	g := chart.Chart{
		Width:      ChartWidth,
		Height:     ChartHeight,
		Background: chart.Style{Padding: chart.Box{Top: 20, Left: 20, Right: 20, Bottom: 20}},
		XAxis:      chart.XAxis{ValueFormatter: timeFormatter(step)},
		YAxis:      chart.YAxis{Name: yName, Range: &chart.ContinuousRange{Min: 0, Max: top}},
		Series:     ss,
	}
	g.Elements = []chart.Renderable{chart.LegendLeft(&g)}
	var buf bytes.Buffer
	if err := g.Render(chart.PNG, &buf); err != nil {
		return nil, fmt.Errorf("analytics: render chart: %w", err)
	}
	return buf.Bytes(), nil
}

// CountChart renders one count per step (clicks per day) as a PNG; name
// labels the series and the axis.
func CountChart(name string, times []time.Time, counts []int, step time.Duration) ([]byte, error) {
	pts := make([]Point, len(times))
	for i, t := range times {
		pts[i] = Point{Time: t, Users: counts[i]}
	}
	return areaChart(name, pts, step, drawing.Color{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff})
}
