package analytics

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// readChatter reads testdata/zh_chatter.txt: 250 lines of everyday Chinese
// group chat (greetings, questions, arrangements) written for this test,
// not taken from any corpus. The rules of the chatter shape were written
// looking at the even lines only; the odd ones are the held-out half.
func readChatter(t testing.TB) []string {
	f, err := os.Open("testdata/zh_chatter.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if len(out) < 200 {
		t.Fatalf("%d chatter lines, want at least 200", len(out))
	}
	return out
}

// TestChineseChatterIsNeutral: the live classifier calls at least 85% of
// harmless group chat neutral (it called half of it negative when the
// Chinese model was a bare two-class review model), while complaints and
// praise in chat keep their side.
func TestChineseChatterIsNeutral(t *testing.T) {
	c, err := NewOfflineClassifier(Config{}.withDefaults().NeutralBand)
	if err != nil {
		t.Fatal(err)
	}
	var n [2][numLabels]int
	for i, s := range readChatter(t) {
		n[i%2][c.Classify(s).Label]++
	}
	for half, name := range []string{"rule-writing half", "held-out half"} {
		total := n[half][0] + n[half][1] + n[half][2]
		share := float64(n[half][Neutral]) / float64(total)
		t.Logf("%s: %d negative, %d neutral, %d positive (%.1f%% neutral)", name, n[half][0], n[half][1], n[half][2], 100*share)
		if share < 0.85 {
			t.Errorf("%s: %.1f%% of chatter neutral, want >= 85%%", name, 100*share)
		}
	}
	for _, tc := range []struct {
		text string
		want Label
	}{
		{"快递太慢了，等了一个星期，太失望了", Negative},
		{"服务态度太差了，再也不买了", Negative},
		{"客服电话一直打不通，什么破服务", Negative},
		{"很好吃，下次还来", Positive},
		{"包装很精致，送货也很快，非常满意", Positive},
		{"明天下午三点集合", Neutral},
		{"请问几点开门？", Neutral},
	} {
		if got := c.Classify(tc.text); got.Label != tc.want {
			t.Errorf("Classify(%q) = %v (%.2f), want %v", tc.text, got.Label, got.Score, tc.want)
		}
	}
}

func TestZHCuesRoundTrip(t *testing.T) {
	c := zhCues{"难吃": -2, "不错": 1, "太慢": -1, "很好": 2}
	var b strings.Builder
	if err := c.write(&b, "two lines\nof header"); err != nil {
		t.Fatal(err)
	}
	got, err := readZHCues(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(c) {
		t.Fatalf("read %v from %q", got, b.String())
	}
	for g, v := range c {
		if got[g] != v {
			t.Errorf("%s: %d, want %d", g, got[g], v)
		}
	}
	if !c.has("这家店太慢", false) || c.has("这家店太慢", true) || !c.has("真难吃", true) || c.has("几点开门", false) {
		t.Error("has")
	}
	for _, bad := range []string{"", "# only a comment\n", "*难吃\n", "+++好\n", "+\n"} {
		if _, err := readZHCues(strings.NewReader(bad)); err == nil {
			t.Errorf("readZHCues(%q) accepted", bad)
		}
	}
}
