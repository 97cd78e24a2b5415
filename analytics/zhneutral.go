package analytics

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/chorusbot/chorus/textclass"
)

// The Chinese sentiment model learnt from two-class reviews: it has no
// neutral, and on everyday group chat ("我穿蓝色衣服", "几点结束") it is as
// sure as on a review, because a short message's few n-grams carry all of
// its weight. About half of a harmless group's messages came out negative.
// The three-way decision therefore asks two more questions before it
// trusts the polarity: does the message say anything evaluative at all
// (a cue: a character 2-3 gram that is polar in both review domains), and
// is it the shape of chatter (a question, a greeting, an acknowledgement,
// an arrangement)?

// ZHCueFile is the file of Chinese sentiment cues beside the models.
const ZHCueFile = "sentiment_zh_cues.txt"

// Cue derivation: an n-gram is a cue when it appears in at least
// cueMinDocs reviews of each domain (ChnSentiCorp: hotels, books,
// electronics; waimai: food delivery) and, class-balanced, at least
// cueRatio of them are on one side in both domains. Topic words polar in
// one domain only (a hotel's "前台") are not cues.
// A chatter-shaped message needs a strong cue (cueStrongRatio): "请问"
// and "客服" lean negative in reviews (people ask and call when something
// went wrong) but say nothing evaluative in a question.
const (
	cueMinDocs     = 10
	cueRatio       = 0.75
	cueStrongRatio = 0.85
)

// zhCues are the n-grams that make a Chinese message evaluative; the value
// is the side (+1 or -1), doubled (+2, -2) for a strong cue.
type zhCues map[string]int8

// hanGrams calls f on every Han character 2- and 3-gram of s.
func hanGrams(s string, f func(string) bool) {
	rs := []rune(s)
	for n := 2; n <= 3; n++ {
	next:
		for i := 0; i+n <= len(rs); i++ {
			for _, r := range rs[i : i+n] {
				if !unicode.Is(unicode.Han, r) {
					continue next
				}
			}
			if !f(string(rs[i : i+n])) {
				return
			}
		}
	}
}

// has reports whether s holds a cue, or with strong a strong cue.
func (c zhCues) has(s string, strong bool) bool {
	found := false
	hanGrams(s, func(g string) bool {
		if v := c[g]; v != 0 && (!strong || v*v == 4) {
			found = true
			return false
		}
		return true
	})
	return found
}

// deriveZHCues finds the n-grams polar in both domains a and b.
func deriveZHCues(a, b []textclass.Example) zhCues {
	type count struct{ pos, neg float64 }
	counts := func(ex []textclass.Example) (map[string]*count, float64, float64) {
		m := map[string]*count{}
		var np, nn float64
		for _, e := range ex {
			if e.Label == 1 {
				np++
			} else {
				nn++
			}
			seen := map[string]bool{}
			hanGrams(e.Text, func(g string) bool {
				if seen[g] {
					return true
				}
				seen[g] = true
				c := m[g]
				if c == nil {
					c = &count{}
					m[g] = c
				}
				if e.Label == 1 {
					c.pos++
				} else {
					c.neg++
				}
				return true
			})
		}
		return m, max(np, 1), max(nn, 1)
	}
	ca, pa, na := counts(a)
	cb, pb, nb := counts(b)
	out := zhCues{}
	for g, x := range ca {
		y := cb[g]
		if y == nil || x.pos+x.neg < cueMinDocs || y.pos+y.neg < cueMinDocs {
			continue
		}
		sa := (x.pos / pa) / (x.pos/pa + x.neg/na)
		sb := (y.pos / pb) / (y.pos/pb + y.neg/nb)
		switch {
		case sa >= cueStrongRatio && sb >= cueStrongRatio:
			out[g] = 2
		case sa <= 1-cueStrongRatio && sb <= 1-cueStrongRatio:
			out[g] = -2
		case sa >= cueRatio && sb >= cueRatio:
			out[g] = 1
		case sa <= 1-cueRatio && sb <= 1-cueRatio:
			out[g] = -1
		}
	}
	return out
}

// write stores the cues one a line, "+gram" or "-gram" ("++gram",
// "--gram" for strong ones), sorted.
func (c zhCues) write(w io.Writer, header string) error {
	keys := make([]string, 0, len(c))
	for g := range c {
		keys = append(keys, g)
	}
	slices.Sort(keys)
	bw := bufio.NewWriter(w)
	for _, l := range strings.Split(strings.TrimSpace(header), "\n") {
		fmt.Fprintf(bw, "# %s\n", l)
	}
	for _, g := range keys {
		var sign string
		if v := c[g]; v > 0 {
			sign = strings.Repeat("+", int(v))
		} else {
			sign = strings.Repeat("-", int(-v))
		}
		fmt.Fprintf(bw, "%s%s\n", sign, g)
	}
	return bw.Flush()
}

// readZHCues reads what write wrote.
func readZHCues(r io.Reader) (zhCues, error) {
	c := zhCues{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		g := strings.TrimLeft(l, "+-")
		var v int8
		switch l[:len(l)-len(g)] {
		case "+":
			v = 1
		case "++":
			v = 2
		case "-":
			v = -1
		case "--":
			v = -2
		}
		if v == 0 || g == "" {
			return nil, fmt.Errorf("analytics: cues line %d: want +gram, ++gram, -gram or --gram, got %q", n, l)
		}
		c[g] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("analytics: cues: %w", err)
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("analytics: cues: empty")
	}
	return c, nil
}

// chatterRE matches the shapes of everyday group chat: questions
// (particles, question words, a question mark), greetings and sign-offs,
// acknowledgements, and arrangements (times, meeting, arriving, joining).
// It is written from how people talk, not fitted to a data set.
var chatterRE = regexp.MustCompile(`[?？]|[吗呢]\s*$|什么|怎么|怎样|几[^乎]|多少|多久|哪|谁|是否|能不能|可不可以|可以.*吗|有没有|要不要|是不是|` +
	`你好|您好|大家好|早上好|早安|午安|晚上好|晚安|哈喽|嗨|在吗|新人|报到|打个招呼|明天见|周末愉快|再见|拜拜|先走了|慢慢聊|回头|` +
	`^请|^麻烦|一下|` +
	`^(好的|好滴|好嘞|收到|明白|知道了|嗯+|行|可以|没问题|稍等|马上|来了|在的|ok|OK|\+1|1)\s*[，,。.!！~]*\s*|` +
	`集合|见面|不见不散|出发|到了|在路上|路上|订了|订好|报名|签到|扣1|算我|带上|发群里|群里|群公告|置顶|私聊|拉你|` +
	`点半|[一二三四五六七八九十两\d]+点|周[一二三四五六日末]|星期|明天|今天|下午|上午|晚上|中午|下周|下次|改天`)

// zhChatterMaxHan is the longest message (in Han characters) that can
// count as chatter by its shape: reviews mention times and ask rhetorical
// questions too, but at length.
const zhChatterMaxHan = 20

// zhShortHan: a message this short with no cue is neutral ("我去", "开始了").
const zhShortHan = 4

// zhUnsureBand is the neutral band for a message whose polarity the model
// gives without a cue, or for chatter with a strong cue: it takes a sure
// model (p outside [0.15, 0.85]) to call it.
const zhUnsureBand = 0.35

// zhCoreCues are words that are evaluative wherever they appear, written
// by hand. Chatter-shaped messages count as evaluative only through them:
// the cues learnt from reviews include the context of complaints ("几点",
// "客服", "请问" lean negative in reviews, where people ask and call when
// something went wrong), which says nothing in a question.
var zhCoreCues = []string{"不好", "太差", "很差", "真差", "差评", "好评", "垃圾", "好吃", "难吃", "失望", "满意",
	"喜欢", "讨厌", "生气", "无语", "恶心", "太慢", "太贵", "骗子", "骗人", "什么破", "打不通", "投诉", "很棒",
	"超棒", "真棒", "太棒", "点赞", "坑人", "太坑", "糟糕", "差劲", "不爽", "郁闷", "离谱", "靠谱", "给力",
	"完美", "烂透", "好用", "难用", "不错", "干净", "下次还来", "还会再来", "一般般", "气死", "受不了", "谢谢", "感谢", "开心", "高兴", "可惜", "遗憾"}

// zhPolite are phrases holding a core cue that are only politeness.
var zhPolite = strings.NewReplacer("不好意思", "", "谢谢大家", "", "谢谢你", "")

// hasCoreCue reports whether text holds one of zhCoreCues.
func hasCoreCue(text string) bool {
	text = zhPolite.Replace(text)
	for _, w := range zhCoreCues {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// isChatter reports whether text has the shape of everyday chat.
func isChatter(text string) bool {
	return hanCount(text) <= zhChatterMaxHan && chatterRE.MatchString(text)
}

// decideZH is the three-way Chinese decision from p = P(positive) of the
// two-class model; see the comment at the top of this file.
func decideZH(p float64, text string, cues zhCues, band float64) Sentiment {
	s := Sentiment{Label: Neutral, Lang: "zh"}
	chat := isChatter(text)
	cue := hasCoreCue(text)
	if !chat && !cue {
		cue = cues.has(zhPolite.Replace(text), false)
	}
	if !cue && (chat || hanCount(text) <= zhShortHan) {
		return s // chatter: neutral, and it does not move the mean score
	}
	s.Score = clamp1(2*p - 1)
	if !cue || chat {
		band = max(band, zhUnsureBand)
	}
	switch {
	case p >= 0.5+band:
		s.Label = Positive
	case p <= 0.5-band:
		s.Label = Negative
	}
	return s
}

// hanCount counts Han characters.
func hanCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			n++
		}
	}
	return n
}
