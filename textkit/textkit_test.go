package textkit

import (
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
)

func surfaces(ws []Word) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Text)
	}
	return out
}

func TestWordsEnglish(t *testing.T) {
	ws := Words("My parcel arrived late, the café's Wi-Fi isn't working!")
	got := surfaces(ws)
	want := []string{"my", "parcel", "arrived", "late", "the", "cafés", "wi", "fi", "isnt", "working"}
	if !slices.Equal(got, want) {
		t.Fatalf("Words = %q, want %q", got, want)
	}
	byText := map[string]Word{}
	for _, w := range ws {
		byText[w.Text] = w
	}
	if w := byText["arrived"]; w.Term != "arriv" || w.Stop {
		t.Errorf("arrived = %+v, want term arriv", w)
	}
	if w := byText["cafés"]; w.Term != "cafe" {
		t.Errorf("café = %+v, want term cafe (accents folded)", w)
	}
	if !byText["my"].Stop || !byText["the"].Stop || !byText["isnt"].Stop {
		t.Errorf("function words not marked Stop: %+v", ws)
	}
	if !byText["my"].Break || byText["parcel"].Break || !byText["the"].Break {
		t.Errorf("breaks wrong: %+v", ws)
	}
}

func TestStemsMeet(t *testing.T) {
	for _, pair := range [][2]string{{"shipping", "ships"}, {"deliveries", "delivery"}, {"returns", "returned"}, {"arrival", "arrived"}, {"subscriptions", "subscription"}} {
		a, b := Terms(pair[0]), Terms(pair[1])
		if len(a) != 1 || len(b) != 1 || a[0] != b[0] {
			t.Errorf("Terms(%q) = %q, Terms(%q) = %q: want one shared stem", pair[0], a, pair[1], b)
		}
	}
}

func TestWordsChinese(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // words that must be found whole
		not  []string // pieces that must not appear
	}{
		{"燕麦奶拿铁太好喝了", []string{"燕麦奶", "拿铁", "好喝"}, []string{"麦奶", "燕麦"}},
		{"我们的咖啡怎么退货？", []string{"咖啡", "退货"}, []string{"的咖", "们的"}},
		{"配送到香港要多久", []string{"配送", "香港"}, []string{"送到"}},
		{"退款多久到账", []string{"退款", "到账"}, nil},
	} {
		got := surfaces(Words(tc.in))
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("Words(%q) = %q: no %q", tc.in, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("Words(%q) = %q: has %q", tc.in, got, w)
			}
		}
	}
	terms := Terms("我们的咖啡怎么退货？")
	if slices.Contains(terms, "我们") || slices.Contains(terms, "怎么") || slices.Contains(terms, "的") {
		t.Errorf("Terms kept Chinese function words: %q", terms)
	}
}

func TestMixedAndBreaks(t *testing.T) {
	ws := Words("DHL 国际快递，3 到 6 个工作日")
	got := surfaces(ws)
	if !slices.Contains(got, "dhl") || !slices.Contains(got, "3") || !slices.Contains(got, "工作日") {
		t.Fatalf("Words = %q", got)
	}
	for _, w := range ws {
		if w.Text == "3" && (!w.Number || !w.Break) {
			t.Errorf("3 = %+v, want a number after a break", w)
		}
	}
}

func TestLabelsShowSurfaceWords(t *testing.T) {
	var l Labels
	for _, s := range []string{"it arrived late", "mine arrived broken", "arrival times?"} {
		for _, w := range Words(s) {
			l.Add(w)
		}
	}
	if got := l.Label("arriv"); got != "arrived" {
		t.Errorf("Label(arriv) = %q, want arrived", got)
	}
	if got := l.Label("unseen term"); got != "unseen term" {
		t.Errorf("Label of an unseen term = %q", got)
	}
	p := Phrase(Word{Text: "燕麦", Term: "燕麦", Han: true}, Word{Text: "奶", Term: "奶", Han: true})
	if p.Text != "燕麦奶" || p.Term != "燕麦 奶" || Display(p.Term) != "燕麦奶" {
		t.Errorf("Phrase = %+v, Display = %q", p, Display(p.Term))
	}
	if got := Display("oat milk"); got != "oat milk" {
		t.Errorf("Display(oat milk) = %q", got)
	}
}

func TestTopic(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{{"shipping", true}, {"the", false}, {"time", false}, {"42", false}, {"ab", false}, {"a1b2c3", false}, {"燕麦奶", true}, {"的", false}, {"问题", false}} {
		ws := Words(tc.in)
		if len(ws) != 1 {
			t.Fatalf("Words(%q) = %+v", tc.in, ws)
		}
		if got := Topic(ws[0]); got != tc.want {
			t.Errorf("Topic(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSentences(t *testing.T) {
	md := `## Shipping times

Every bag is **roasted** to order
and packed within 48 hours. Orders placed on a weekend ship on Monday!

| Destination | Service | Cost |
|---|---|---|
| Canada | Canada Post | $12.95, free over $80 |
| UK and EU | DHL eCommerce | $14.95 |

- **Skip** a delivery, e.g. when away.
- See [the app](https://lumen.example/app) for more.

所有咖啡都是按订单现烘。周末下的订单会在周一烘焙！`
	got := Sentences(md)
	want := []string{
		"Every bag is roasted to order and packed within 48 hours.",
		"Orders placed on a weekend ship on Monday!",
		"Canada: service Canada Post; cost $12.95, free over $80.",
		"UK and EU: service DHL eCommerce; cost $14.95.",
		"Skip a delivery, e.g. when away.",
		"See the app (https://lumen.example/app) for more.",
		"所有咖啡都是按订单现烘。",
		"周末下的订单会在周一烘焙！",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Sentences =\n%q\nwant\n%q", got, want)
	}
	for _, s := range got {
		if strings.ContainsAny(s, "|#*`") {
			t.Errorf("Markdown left in %q", s)
		}
	}
}

func TestIsQuestion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"how long does shipping take", true},
		{"when do you open?", true},
		{"订阅可以暂停吗", true},
		{"配送到香港要多久", true},
		{"I love this coffee!", false},
		{"how", false},
		{"thanks.", false},
	} {
		if got := IsQuestion(tc.in); got != tc.want {
			t.Errorf("IsQuestion(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSmallTalk(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Talk
	}{
		{"thanks!", TalkThanks},
		{"thank you so much", TalkThanks},
		{"谢谢", TalkThanks},
		{"hi there", TalkGreeting},
		{"你好", TalkGreeting},
		{"how are you?", TalkGreeting},
		{"I love this coffee", TalkPraise},
		{"your coffee is amazing", TalkPraise},
		{"燕麦奶拿铁太好喝了", TalkPraise},
		{"my order arrived broken, really disappointed", TalkComplaint},
		{"太失望了，包裹破了", TalkComplaint},
		{"you are useless", TalkInsult},
		{"笨蛋机器人", TalkInsult},
		{"who are you?", TalkIdentity},
		{"你是谁？", TalkIdentity},
		{"are you a bot?", TalkIdentity},
		{"bye", TalkBye},
		{"how long does shipping take?", TalkNone},
		{"thanks, and do you ship to Canada?", TalkNone},
		{"is the espresso blend good for milk drinks?", TalkNone},
		{"退货要多久？", TalkNone},
		{"what's the best grind for french press?", TalkNone},
	} {
		if got := SmallTalk(tc.in); got != tc.want {
			t.Errorf("SmallTalk(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]string{"how long?": "en", "配送要多久": "zh", "DHL 要多久": "zh", "": "en"} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

// Segmentation is read-only after loading: many goroutines at once, the
// first of them loading the dictionary (run with -race).
func TestConcurrentSegmentation(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if len(Words("寄往香港的包裹使用国际快递，燕麦奶拿铁")) == 0 {
					t.Error("no words")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzWords(f *testing.F) {
	for _, s := range []string{"", "hello world", "燕麦奶拿铁", "a\u0301b", "'''", "|a|b|\n|-|-|", "12.5 $ ¥"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Words(s) {
			if w.Text == "" || w.Term == "" {
				t.Fatalf("empty word in %q: %+v", s, w)
			}
		}
		Sentences(s)
		SmallTalk(s)
	})
}

// BenchmarkLoadChinese measures what loading the dictionary costs (run it
// with -benchtime=1x -count=5: the dictionary loads once per process, so
// each run reports one load).
func BenchmarkLoadChinese(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	LoadChinese()
	b.StopTimer()
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-heap")
}

func BenchmarkWordsChinese(b *testing.B) {
	LoadChinese()
	s := "寄往香港、台湾、日本和新加坡的包裹使用 DHL 国际快递，发货后通常 3 到 6 个工作日送达，运费 19.95 美元。"
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Words(s)
	}
}

func BenchmarkWordsEnglish(b *testing.B) {
	s := "Every bag is roasted, rested for a day and packed within 48 hours of your order, Monday to Friday."
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Words(s)
	}
}

func TestKindsYearsAndCounts(t *testing.T) {
	for s, want := range map[string]Kind{
		"Founded in 2016 by two baristas.":             KindTime,
		"Every plan comes in one, two or three bags.":  KindQuantity,
		"Subscribers get 10% off everything else.":     KindPrice,
		"Under the local duty-free limit.":             0,
		"成立于 2016 年。":                                  KindTime,
		"We roast 400 kilos on a 1120 SE Division St.": 0,
	} {
		if got := Kinds(s); got&want != want || want == 0 && got&(KindTime|KindPrice) != 0 {
			t.Errorf("Kinds(%q) = %b, want %b", s, got, want)
		}
	}
}
