package manage

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chorusbot/chorus/bot"
	"github.com/chorusbot/chorus/textkit"
)

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func isHan(r rune) bool { return textkit.IsHan(r) }

// termSet is the set of textkit terms of text: what similarity compares.
func termSet(text string) map[string]bool { return textkit.TermSet(text) }

// topicSet is the set of terms of text's topic words (textkit.Topic),
// each recorded in labels with the surface form it was written as.
func topicSet(text string, labels *textkit.Labels) map[string]bool {
	m := map[string]bool{}
	for _, w := range textkit.Words(text) {
		if textkit.Topic(w) {
			m[w.Term] = true
			labels.Add(w)
		}
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
