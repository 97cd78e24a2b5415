package analytics

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"slices"
	"testing"
	"time"
)

// colored reports whether the pixel is close to the negative or the
// positive colour (neutral's grey is also the axes').
func colored(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	r, g, b = r>>8, g>>8, b>>8
	for _, c := range []int{int(Negative), int(Positive)} {
		c := chartColors[c]
		if absDiff(r, uint32(c.R)) < 40 && absDiff(g, uint32(c.G)) < 40 && absDiff(b, uint32(c.B)) < 40 {
			return true
		}
	}
	return false
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// Hours with no message are gaps in the sentiment chart: nothing is drawn
// there (it used to draw 0% for every label across them).
func TestSentimentChartLeavesGaps(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var pts []Point
	for h := range 24 {
		p := Point{Time: t0.Add(time.Duration(h) * time.Hour)}
		if h < 3 || h > 20 {
			p.Counts = [3]int{1, 2, 1}
		}
		pts = append(pts, p)
	}
	b, err := SentimentChart(pts, time.Hour, "Sentiment, last 24h")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// The middle third of the width is hours 7 to 16: no message, so no
	// line or dot there, from under the title to above the legend.
	var drawn []int
	for x := ChartWidth / 3; x < 2*ChartWidth/3; x++ {
		for y := 40; y < ChartHeight-30; y++ {
			if colored(img, x, y) {
				drawn = append(drawn, x)
				break
			}
		}
	}
	if len(drawn) > 0 {
		t.Errorf("lines drawn over hours without messages, at x %v", drawn[:min(len(drawn), 10)])
	}
	// And the hours with messages are drawn.
	found := false
	for x := 0; x < ChartWidth/6 && !found; x++ {
		for y := 40; y < ChartHeight-30; y++ {
			if colored(img, x, y) {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("nothing drawn over the first hours, which have messages")
	}
}

func TestIntegerTicks(t *testing.T) {
	for top, want := range map[int][]float64{
		1:   {0, 1},
		3:   {0, 1, 2, 3},
		5:   {0, 1, 2, 3, 4, 5},
		7:   {0, 2, 4, 6, 8},
		23:  {0, 5, 10, 15, 20, 25},
		192: {0, 50, 100, 150, 200},
	} {
		var got []float64
		for _, tk := range integerTicks(top) {
			got = append(got, tk.Value)
			if tk.Label != fmt.Sprint(int(tk.Value)) {
				t.Errorf("top %d: label %q for %v", top, tk.Label, tk.Value)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("integerTicks(%d) = %v, want %v", top, got, want)
		}
	}
}

func TestFmtScoreNoNegativeZero(t *testing.T) {
	for v, want := range map[float64]string{-0.001: "0.00", 0: "0.00", 0.004: "0.00", -0.25: "-0.25", 0.5: "+0.50"} {
		if got := FormatScore(v); got != want {
			t.Errorf("FormatScore(%v) = %q, want %q", v, got, want)
		}
	}
}
