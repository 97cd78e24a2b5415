package manage

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
)

// stopwords are English function words and chat filler that say nothing
// about a topic. Chinese needs none: its bigrams of function characters
// rarely repeat across unrelated messages, and the few that do (的是) are
// listed.
var stopwords = set(strings.Fields(`a about above after again all also am an and any are aren as at be because been
before being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
during each few for from further get got had hadn't has hasn't have haven't having he her here hers herself him
himself his how i i'm if in into is isn't it it's its itself just let's like me more most my myself no nor not now
of off on once only or other our ours ourselves out over own really same she should so some such than that that's
the their theirs them themselves then there there's these they this those through to too under until up us very
was wasn't we we're were weren't what what's when where which while who whom why will with won't would wouldn't
yes yeah yet you you're your yours yourself ok okay hi hello hey thanks thank please lol any anyone anybody
someone something thing things know think want need one two also still much many way well going gonna
的是 是的 我们 你们 他们 一个 这个 那个 什么 怎么 可以 没有 就是 还是 不是 有没`))

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// terms splits text into content terms: lower-cased words of three or more
// letters, stop words dropped and crudely stemmed (shipping, ships →
// ship), and for Chinese every bigram of consecutive Han characters (a
// lone character is its own term). Duplicates are kept.
func terms(text string) []string {
	var out []string
	var word []rune
	var han []rune
	flushWord := func() {
		if len(word) == 0 {
			return
		}
		w := strings.Trim(string(word), "'-_")
		word = word[:0]
		if utf8.RuneCountInString(w) < 3 || stopwords[w] {
			return
		}
		if allDigits(w) {
			return
		}
		out = append(out, stem(w))
	}
	flushHan := func() {
		switch len(han) {
		case 0:
			return
		case 1:
			out = append(out, string(han))
		default:
			for i := 0; i+1 < len(han); i++ {
				bg := string(han[i : i+2])
				if !stopwords[bg] {
					out = append(out, bg)
				}
			}
		}
		han = han[:0]
	}
	for _, r := range text {
		switch {
		case isHan(r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || ((r == '\'' || r == '-' || r == '_') && len(word) > 0):
			flushHan()
			word = append(word, unicode.ToLower(r))
		default:
			flushWord()
			flushHan()
		}
	}
	flushWord()
	flushHan()
	return out
}

func allDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// stem strips the commonest English inflections so that "shipping" and
// "ships" meet "ship". It is deliberately crude: it only has to make
// related questions share terms.
func stem(w string) string {
	if len(w) <= 4 {
		return strings.TrimSuffix(w, "s")
	}
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			w = w[:len(w)-len(suf)]
			if suf == "ing" || suf == "ed" {
				// shipp → ship; runn → run
				n := len(w)
				if n >= 2 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouls", rune(w[n-1])) {
					w = w[:n-1]
				}
			}
			return w
		}
	}
	return w
}

// termSet is the set of terms of text.
func termSet(text string) map[string]bool {
	ts := terms(text)
	m := make(map[string]bool, len(ts))
	for _, t := range ts {
		m[t] = true
	}
	return m
}

// jaccard is |a∩b| / |a∪b|, 0 for two empty sets.
func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// isQuestion reports whether text reads as a question: it ends with a
// question mark (either width) or with the Chinese particles 吗 or 呢.
func isQuestion(text string) bool {
	s := strings.TrimRightFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || r == '!' || r == '！' || r == '.' || r == '。' || r == '~' || r == '～'
	})
	if strings.HasSuffix(s, "?") || strings.HasSuffix(s, "？") || strings.HasSuffix(s, "吗") || strings.HasSuffix(s, "呢") {
		return true
	}
	// Chat drops question marks: a question word first (English) or
	// anywhere (Chinese) will do.
	for _, w := range []string{"什么", "怎么", "如何", "为什么", "哪里", "哪个", "几", "多少", "能不能", "可以吗", "是否"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	first, rest, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), " ")
	return questionWords[first] && strings.TrimSpace(rest) != ""
}

// questionWords open English questions.
var questionWords = set(strings.Fields(`how what when where why who whom whose which can could do does did is are was
were will would should shall may might have has any anyone`))

// Mood lexicon: a handful of strong words per polarity, enough to tell a
// happy chat from an angry one. WithMood plugs in a real classifier.
var (
	positiveWords = set(strings.Fields(`love loved loving great awesome amazing excellent good nice thanks thank cool
perfect happy glad fantastic wonderful helpful fast beautiful best enjoy enjoyed recommend works fixed brilliant`))
	negativeWords = set(strings.Fields(`hate hated bad terrible awful worst broken bug bugs crash crashed crashes slow
angry annoyed annoying disappointed disappointing refund scam useless late missing problem problems issue issues
fail failed failing wrong error errors never horrible frustrating frustrated`))
	positiveHan = []string{"喜欢", "很好", "太好", "不错", "谢谢", "感谢", "满意", "好用", "推荐", "开心", "棒", "赞", "爱"}
	negativeHan = []string{"失望", "垃圾", "太差", "很差", "退款", "生气", "问题", "故障", "崩溃", "投诉", "骗", "慢", "坏", "烂"}
)

// moodCounts counts messages leaning positive and negative by the lexicon.
func moodCounts(texts []string) (pos, neg int) {
	for _, t := range texts {
		p, n := 0, 0
		var w []rune
		flush := func() {
			if len(w) == 0 {
				return
			}
			s := string(w)
			if positiveWords[s] {
				p++
			}
			if negativeWords[s] {
				n++
			}
			w = w[:0]
		}
		for _, r := range strings.ToLower(t) {
			if unicode.IsLetter(r) && !isHan(r) {
				w = append(w, r)
				continue
			}
			flush()
		}
		flush()
		for _, h := range positiveHan {
			p += strings.Count(t, h)
		}
		for _, h := range negativeHan {
			n += strings.Count(t, h)
		}
		switch {
		case p > n:
			pos++
		case n > p:
			neg++
		}
	}
	return pos, neg
}

// topTerms returns up to n terms by descending count, ties by term.
func topTerms(counts map[string]int, n, least int) []string {
	type tc struct {
		t string
		c int
	}
	var all []tc
	for t, c := range counts {
		if c >= least {
			all = append(all, tc{t, c})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].c != all[j].c {
			return all[i].c > all[j].c
		}
		return all[i].t < all[j].t
	})
	out := make([]string, 0, n)
	for _, x := range all {
		if len(out) == n {
			break
		}
		out = append(out, x.t)
	}
	return out
}

// clip cuts s to at most n runes on one line.
func clip(s string, n int) string { return bot.Excerpt(s, n) }

// sentenceEnds are where a post may be trimmed.
var sentenceEnds = []string{". ", "! ", "? ", "。", "！", "？", ".\n", "!\n", "?\n", "\n\n"}

// trimToLimit cuts text to at most limit runes. Trailing hashtags (a last
// line made of #tags) are kept when they fit; the body is cut after the
// last complete sentence that fits, or at a word with "…" when no sentence
// does. It reports whether it cut anything.
func trimToLimit(text string, limit int) (string, bool) {
	if utf8.RuneCountInString(text) <= limit {
		return text, false
	}
	body, tags := splitHashtagLine(text)
	room := limit
	if tags != "" && utf8.RuneCountInString(tags)+1 < limit/3 {
		room = limit - utf8.RuneCountInString(tags) - 2
	} else {
		tags = ""
	}
	r := []rune(body)
	if len(r) > room {
		cut := string(r[:room])
		best := -1
		for _, sep := range sentenceEnds {
			if i := strings.LastIndex(cut, sep); i >= 0 && i+len(strings.TrimRight(sep, " \n")) > best {
				best = i + len(strings.TrimRight(sep, " \n"))
			}
		}
		if strings.HasSuffix(cut, ".") || strings.HasSuffix(cut, "!") || strings.HasSuffix(cut, "?") {
			best = len(cut)
		}
		if best > len(cut)/4 {
			body = strings.TrimSpace(cut[:best])
		} else {
			body = strings.TrimSpace(bot.Excerpt(body, room-1))
		}
	}
	if tags != "" {
		return body + "\n\n" + tags, true
	}
	return body, true
}

// splitHashtagLine separates a final line made only of #hashtags.
func splitHashtagLine(text string) (body, tags string) {
	text = strings.TrimSpace(text)
	i := strings.LastIndex(text, "\n")
	last := text[i+1:]
	fs := strings.Fields(last)
	if len(fs) == 0 {
		return text, ""
	}
	for _, f := range fs {
		if !strings.HasPrefix(f, "#") {
			return text, ""
		}
	}
	if i < 0 {
		return "", last
	}
	return strings.TrimSpace(text[:i]), strings.TrimSpace(last)
}

// hashtags returns the #tags in text, in order, without duplicates.
func hashtags(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		if !strings.HasPrefix(f, "#") || len(f) < 2 {
			continue
		}
		tag := "#" + strings.TrimRightFunc(f[1:], func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') })
		if len(tag) > 1 && !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out
}
