package analytics

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTermsPerMessage bounds the terms one message contributes, so a long
// paste or a spam wall can't dominate the counts.
const maxTermsPerMessage = 40

// terms extracts the topic terms of a message: English unigrams and
// bigrams of neighbouring non-stop words, Chinese character bigrams without
// function characters. URLs, @mentions, numbers, emoji and the words of
// skip (user names) are left out, and each term counts once per message.
func terms(text string, skip map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if len(out) < maxTermsPerMessage && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	prev := "" // previous kept English word, "" after a break
	for _, field := range strings.Fields(text) {
		lf := strings.ToLower(field)
		if strings.HasPrefix(lf, "http://") || strings.HasPrefix(lf, "https://") || strings.HasPrefix(lf, "www.") ||
			strings.HasPrefix(lf, "@") || strings.HasPrefix(lf, "<@") || strings.HasPrefix(lf, "/") {
			prev = ""
			continue
		}
		// Split the field into runs of Latin letters/digits and runs of Han.
		var word []rune
		var han []rune
		flushWord := func() {
			if len(word) == 0 {
				return
			}
			w := strings.Trim(string(word), "'")
			word = word[:0]
			if !goodWord(w) || skip[w] {
				prev = ""
				return
			}
			add(w)
			if prev != "" {
				add(prev + " " + w)
			}
			prev = w
		}
		flushHan := func() {
			for i := 0; i+1 < len(han); i++ {
				a, b := han[i], han[i+1]
				if zhStopChar[a] || zhStopChar[b] {
					continue
				}
				bg := string([]rune{a, b})
				if zhStopWords[bg] || skip[bg] {
					continue
				}
				add(bg)
			}
			han = han[:0]
		}
		for _, r := range lf {
			switch {
			case unicode.Is(unicode.Han, r):
				flushWord()
				han = append(han, r)
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
				flushHan()
				word = append(word, r)
			case r == '#':
				flushHan()
				flushWord()
			default:
				flushHan()
				flushWord()
				if !unicode.IsLetter(r) && r != '-' {
					prev = "" // punctuation breaks phrases; a hyphen doesn't
				}
			}
		}
		flushWord()
		flushHan()
	}
	return out
}

func goodWord(w string) bool {
	n := utf8.RuneCountInString(w)
	if n < 3 || n > 30 || enStop[w] {
		return false
	}
	digits := 0
	for _, r := range w {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	return digits*2 < n // numbers and ids are not topics
}

// nameWords returns the lower-case words of a display name, for leaving
// user names out of the trends.
func nameWords(name string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if utf8.RuneCountInString(f) >= 2 {
			out = append(out, f)
		}
	}
	return out
}

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

var enStop = setOf(`a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further get got had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him
himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's like me more most mustn't my
myself no nor not now of off on once only or other ought our ours ourselves out over own same shan't she she'd she'll
she's should shouldn't so some such than that that's the their theirs them themselves then there there's these they
they'd they'll they're they've this those through to too under until up very was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's will with won't would wouldn't you
you'd you'll you're you've your yours yourself yourselves im ive dont cant wont didnt doesnt isnt thats youre its lol
lmao omg haha hahaha yes yeah yep nope okay one two really still even much many well back way make made know think
want need going gonna wanna today yesterday tomorrow day time thing things something anything everything nothing
thanks thank please hey hello hi amp via rt`)

var zhStopWords = setOf(`我们 你们 他们 她们 它们 什么 一个 没有 就是 可以 这个 那个 因为 所以 但是 还是 已经 自己 不是 知道
现在 时候 这样 那样 怎么 为什么 如果 然后 而且 或者 这些 那些 大家 真的 觉得 一下 一些 还有 非常 比较 应该 可能 不过 虽然`)

var zhStopChar = func() map[rune]bool {
	m := map[rune]bool{}
	for _, r := range "的了是在我你他她它们吗呢吧啊呀哦嗯和就都也很又还这那有个么之与及或被把给让对从到说要会能着过得地" {
		m[r] = true
	}
	return m
}()
