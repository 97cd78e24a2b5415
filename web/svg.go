package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Charts are drawn here as SVG, server-side: readable without script,
// scalable, a few kilobytes. Every text in them is escaped; numbers are
// formatted by the code.

// chart geometry, in SVG user units.
const (
	chartW, chartH         = 720, 220
	padL, padR, padT, padB = 44, 12, 10, 28
)

// sentiment colours: negative, neutral, positive.
var sentimentColours = [3]string{"#c8553d", "#b8bdc7", "#3a8f5c"}

// axisLabels picks up to n evenly spaced x-axis labels.
func axisLabels(times []time.Time, step time.Duration, n int) []int {
	if len(times) == 0 {
		return nil
	}
	every := max(1, int(math.Ceil(float64(len(times))/float64(n))))
	var out []int
	for i := 0; i < len(times); i += every {
		out = append(out, i)
	}
	return out
}

func timeLabel(t time.Time, step time.Duration) string {
	if step < 24*time.Hour {
		return t.UTC().Format("15:04")
	}
	return t.UTC().Format("01-02")
}

// shareChart draws the sentiment share of each step as stacked bars of
// 100%, with a title for each bar that a screen reader and a hover read.
func shareChart(title string, pts []Point, step time.Duration, names [3]string) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, template.HTMLEscapeString(title))
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	for _, y := range []int{0, 25, 50, 75, 100} {
		py := float64(padT) + plotH*(1-float64(y)/100)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6ec"/>`, padL, chartW-padR, py, py)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#5b6475">%d%%</text>`, padL-6, py+4, y)
	}
	n := len(pts)
	if n > 0 {
		bw := plotW / float64(n)
		gap := math.Min(2, bw*0.15)
		times := make([]time.Time, n)
		for i, p := range pts {
			times[i] = p.Time
			total := p.Counts[0] + p.Counts[1] + p.Counts[2]
			x := float64(padL) + float64(i)*bw
			if total == 0 {
				continue
			}
			y := float64(padT)
			// positive on top, negative at the bottom, where a rise shows.
			for _, k := range []int{2, 1, 0} {
				h := plotH * float64(p.Counts[k]) / float64(total)
				if h <= 0 {
					continue
				}
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d (%.0f%%)</title></rect>`,
					x+gap/2, y, bw-gap, h, sentimentColours[k], timeLabel(p.Time, step), template.HTMLEscapeString(names[k]),
					p.Counts[k], 100*float64(p.Counts[k])/float64(total))
				y += h
			}
		}
		for _, i := range axisLabels(times, step, 8) {
			x := float64(padL) + (float64(i)+0.5)*bw
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#5b6475">%s</text>`, x, chartH-8, timeLabel(times[i], step))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// lineChart draws one or two series (messages and active users per step)
// as lines over a shared y axis.
func lineChart(title string, pts []Point, step time.Duration, series []lineSeries) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, template.HTMLEscapeString(title))
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	top := 1
	for _, s := range series {
		for _, p := range pts {
			top = max(top, s.value(p))
		}
	}
	top = niceCeil(top)
	for i := 0; i <= 4; i++ {
		v := top * i / 4
		py := float64(padT) + plotH*(1-float64(v)/float64(top))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e6ec"/>`, padL, chartW-padR, py, py)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#5b6475">%s</text>`, padL-6, py+4, compact(v))
	}
	n := len(pts)
	if n > 0 {
		dx := plotW / float64(max(1, n-1))
		if n == 1 {
			dx = 0
		}
		for _, s := range series {
			var path strings.Builder
			for i, p := range pts {
				x := float64(padL) + float64(i)*dx
				y := float64(padT) + plotH*(1-float64(s.value(p))/float64(top))
				cmd := "L"
				if i == 0 {
					cmd = "M"
				}
				fmt.Fprintf(&path, "%s%.1f %.1f", cmd, x, y)
			}
			dash := ""
			if s.dash {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"%s><title>%s</title></path>`,
				path.String(), s.colour, dash, template.HTMLEscapeString(s.name))
		}
		times := make([]time.Time, n)
		for i, p := range pts {
			times[i] = p.Time
		}
		for _, i := range axisLabels(times, step, 8) {
			x := float64(padL) + float64(i)*dx
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#5b6475">%s</text>`, x, chartH-8, timeLabel(times[i], step))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type lineSeries struct {
	name, colour string
	// dash draws the line dashed, so that it shows where it runs on top
	// of another.
	dash  bool
	value func(Point) int
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, divisible by 4
// where it can be, for round axis labels.
func niceCeil(n int) int {
	if n <= 4 {
		return 4
	}
	p := 1
	for p*10 < n {
		p *= 10
	}
	for _, m := range []int{1, 2, 4, 5, 8, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

// compact writes a count short: 950, 1.2k, 34k, 1.5M.
func compact(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 10000:
		return fmt.Sprintf("%.1fk", float64(n)/1000)
	case n < 1000000:
		return fmt.Sprintf("%dk", n/1000)
	default:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
}
