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

// Chart text is English whatever the reader's language: the chart font
// (go-chart's Roboto) has no Chinese glyphs. The command's text around it
// is translated.

// chartColors are the sentiment labels' colours, by Label.
var chartColors = [3]drawing.Color{{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}}

// SentimentChart renders the share of each label per step as a PNG,
// titled title. A step with no message is a gap in the lines, not 0%: a
// share of nothing is not a share of zero.
func SentimentChart(pts []Point, step time.Duration, title string) ([]byte, error) {
	pts = padded(pts, step)
	var ss []chart.Series
	var keys []legendKey
	for l := range 3 {
		style := chart.Style{StrokeColor: chartColors[l], StrokeWidth: 2, DotColor: chartColors[l], DotWidth: 3}
		keys = append(keys, legendKey{Label(l).String(), style})
		// One series per run of steps with messages.
		var xs []time.Time
		var ys []float64
		flush := func() {
			if len(xs) > 0 {
				ss = append(ss, chart.TimeSeries{XValues: xs, YValues: ys, Style: style})
			}
			xs, ys = nil, nil
		}
		for _, p := range pts {
			n := p.Counts[0] + p.Counts[1] + p.Counts[2]
			if n == 0 {
				flush()
				continue
			}
			xs = append(xs, p.Time)
			ys = append(ys, 100*float64(p.Counts[l])/float64(n))
		}
		flush()
	}
	if len(ss) == 0 { // nothing at all: an empty frame
		ss = append(ss, chart.TimeSeries{XValues: []time.Time{pts[0].Time, pts[len(pts)-1].Time}, YValues: []float64{0, 0},
			Style: chart.Style{Hidden: true}})
	}
	var ticks []chart.Tick
	for v := 0; v <= 100; v += 25 {
		ticks = append(ticks, chart.Tick{Value: float64(v), Label: fmt.Sprintf("%d%%", v)})
	}
	return render(ss, keys, pts, step, title, "share of the messages", ticks)
}

// UsersChart renders active users per step as a PNG, titled title, on an
// axis of whole numbers. A step with nobody active is a real 0.
func UsersChart(pts []Point, step time.Duration, title string) ([]byte, error) {
	return areaChart("active users", title, pts, step, drawing.Color{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff})
}

// areaChart renders the Users of pts as one filled series named name,
// titled title, on an axis of whole numbers.
func areaChart(name, title string, pts []Point, step time.Duration, color drawing.Color) ([]byte, error) {
	pts = padded(pts, step)
	xs := make([]time.Time, len(pts))
	ys := make([]float64, len(pts))
	top := 1
	for i, p := range pts {
		xs[i], ys[i] = p.Time, float64(p.Users)
		top = max(top, p.Users)
	}
	fill := color
	fill.A = 0x40
	style := chart.Style{StrokeColor: color, StrokeWidth: 2, FillColor: fill}
	ss := []chart.Series{chart.TimeSeries{XValues: xs, YValues: ys, Style: style}}
	return render(ss, []legendKey{{name, style}}, pts, step, title, name, integerTicks(top))
}

// integerTicks are ticks at whole numbers from 0 to at least top, at a
// step of 1, 2 or 5 times a power of ten, about five of them.
func integerTicks(top int) []chart.Tick {
	step := 1
	for mult := 1; ; mult *= 10 {
		found := false
		for _, m := range []int{1, 2, 5} {
			if top <= 5*m*mult {
				step, found = m*mult, true
				break
			}
		}
		if found {
			break
		}
	}
	var ticks []chart.Tick
	for v := 0; ; v += step {
		ticks = append(ticks, chart.Tick{Value: float64(v), Label: fmt.Sprint(v)})
		if v >= top {
			return ticks
		}
	}
}

// legendKey is one entry of the legend: a name and its line.
type legendKey struct {
	name  string
	style chart.Style
}

// legendBelow draws keys in one row under the plot, below the axis
// labels, so that it never covers a line.
func legendBelow(keys []legendKey) chart.Renderable {
	return func(r chart.Renderer, cb chart.Box, defaults chart.Style) {
		r.SetFont(defaults.GetFont())
		r.SetFontColor(chart.DefaultTextColor)
		r.SetFontSize(9)
		const gap, line, between = 5, 25, 24
		width := 0
		for i, k := range keys {
			if i > 0 {
				width += between
			}
			width += r.MeasureText(k.name).Width() + gap + line
		}
		x := (ChartWidth - width) / 2
		y := ChartHeight - 12
		for _, k := range keys {
			tb := r.MeasureText(k.name)
			r.Text(k.name, x, y)
			x += tb.Width() + gap
			ly := y - tb.Height()/2
			r.SetStrokeColor(k.style.StrokeColor)
			r.SetStrokeWidth(k.style.StrokeWidth)
			r.MoveTo(x, ly)
			r.LineTo(x+line, ly)
			r.Stroke()
			x += line + between
		}
	}
}

func render(ss []chart.Series, keys []legendKey, pts []Point, step time.Duration, title, yName string, ticks []chart.Tick) ([]byte, error) {
	g := chart.Chart{
		Title:      title,
		TitleStyle: chart.Style{FontSize: 12},
		Width:      ChartWidth,
		Height:     ChartHeight,
		Background: chart.Style{Padding: chart.Box{Top: 40, Left: 20, Right: 20, Bottom: 40}},
		XAxis: chart.XAxis{ValueFormatter: timeFormatter(step),
			// Half a step either side, so that a point at an end is not
			// drawn on the axis.
			Range: &chart.ContinuousRange{Min: chart.TimeToFloat64(pts[0].Time.Add(-step / 2)),
				Max: chart.TimeToFloat64(pts[len(pts)-1].Time.Add(step / 2))}},
		YAxis: chart.YAxis{Name: yName, Ticks: ticks,
			Range: &chart.ContinuousRange{Min: ticks[0].Value, Max: ticks[len(ticks)-1].Value}},
		Series: ss,
	}
	g.Elements = []chart.Renderable{legendBelow(keys)}
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
	return areaChart(name, name, pts, step, drawing.Color{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff})
}
