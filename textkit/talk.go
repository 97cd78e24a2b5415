package textkit

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsQuestion reports whether text reads as a question: it ends with a
// question mark (either width) or the particles 吗 or 呢, holds a Chinese
// question word, or starts with an English question word followed by
// more words (chat drops question marks).
func IsQuestion(text string) bool {
	s := strings.TrimRightFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || r == '!' || r == '！' || r == '.' || r == '。' || r == '~' || r == '～'
	})
	if strings.HasSuffix(s, "?") || strings.HasSuffix(s, "？") || strings.HasSuffix(s, "吗") || strings.HasSuffix(s, "呢") {
		return true
	}
	for _, w := range zhQuestionWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	first, rest, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), " ")
	return enQuestionWords[first] && strings.TrimSpace(rest) != ""
}

var zhQuestionWords = []string{"什么", "怎么", "如何", "为什么", "哪里", "哪儿", "哪个", "哪些", "几点", "几天", "多少", "多久", "能不能", "可不可以", "有没有", "是不是", "可以吗", "是否", "请问"}

var enQuestionWords = setOf(`how what when where why who whom whose which can could do does did is are was were will
would should shall may might have has any anyone anybody`)

// Talk is what a message says when it is small talk rather than a
// question for the knowledge base.
type Talk int

// Kinds of small talk. TalkNone is a message to search for.
const (
	TalkNone Talk = iota
	// TalkGreeting: "hi", "你好".
	TalkGreeting
	// TalkThanks: "thanks!", "谢谢".
	TalkThanks
	// TalkPraise: "I love this coffee", "太好喝了".
	TalkPraise
	// TalkComplaint: "my order arrived broken, really disappointed".
	TalkComplaint
	// TalkInsult: "you're useless", "垃圾机器人".
	TalkInsult
	// TalkIdentity: "who are you?", "你是谁".
	TalkIdentity
	// TalkBye: "bye", "再见".
	TalkBye
)

// String names the kind, for logs and tests.
func (t Talk) String() string {
	switch t {
	case TalkGreeting:
		return "greeting"
	case TalkThanks:
		return "thanks"
	case TalkPraise:
		return "praise"
	case TalkComplaint:
		return "complaint"
	case TalkInsult:
		return "insult"
	case TalkIdentity:
		return "identity"
	case TalkBye:
		return "bye"
	}
	return "none"
}

// maxTalkRunes bounds small talk: a longer message is about something.
const maxTalkRunes = 160

// SmallTalk says whether text is small talk, and which. A question about
// anything but the bot itself is never small talk ("thanks, and when do
// you ship?" is a question), except that a complaint phrased as one ("why
// is it always late?!") is a complaint only when it names nothing to look
// up.
func SmallTalk(text string) Talk {
	t := strings.ToLower(strings.TrimSpace(text))
	if t == "" || utf8.RuneCountInString(t) > maxTalkRunes {
		return TalkNone
	}
	ws := Words(t)
	words := make([]string, 0, len(ws))
	for _, w := range ws {
		words = append(words, w.Text)
	}
	plain := " " + strings.Join(words, " ") + " "
	hasAny := func(list []string) bool {
		for _, p := range list {
			if strings.Contains(plain, " "+p+" ") {
				return true
			}
		}
		return false
	}
	hanAny := func(list []string) bool {
		for _, p := range list {
			if strings.Contains(t, p) {
				return true
			}
		}
		return false
	}
	if hasAny(identityEN) || hanAny(identityZH) {
		return TalkIdentity
	}
	if hasAny(howAreYouEN) || hanAny(howAreYouZH) {
		return TalkGreeting
	}
	question := IsQuestion(t)
	content := contentWords(ws)
	switch {
	case hasAny(insultEN) || hanAny(insultZH):
		if !question || content <= 2 {
			return TalkInsult
		}
	case hasAny(complaintEN) || hanAny(complaintZH):
		if !question {
			return TalkComplaint
		}
	}
	if question {
		return TalkNone
	}
	if phraseStart(words, t, thanksEN, thanksZH, 4) {
		return TalkThanks
	}
	if phraseStart(words, t, greetingsEN, greetingsZH, 3) {
		return TalkGreeting
	}
	if phraseStart(words, t, byeEN, byeZH, 3) {
		return TalkBye
	}
	if (hasAny(praiseEN) || hanAny(praiseZH)) && content <= 6 {
		return TalkPraise
	}
	return TalkNone
}

// contentWords counts the words that are neither function words nor
// small-talk words.
func contentWords(ws []Word) int {
	n := 0
	for _, w := range ws {
		if !w.Stop && !talkWords[w.Text] {
			n++
		}
	}
	return n
}

// phraseStart reports whether the text starts with one of the phrases,
// followed by at most extra more words (Chinese: four more characters).
func phraseStart(words []string, t string, en, zh []string, extra int) bool {
	t = strings.TrimRightFunc(t, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) })
	for _, p := range zh {
		if rest, ok := strings.CutPrefix(t, p); ok && utf8.RuneCountInString(strings.TrimSpace(rest)) <= 4 {
			return true
		}
	}
	for _, p := range en {
		pw := strings.Fields(p)
		if len(words) >= len(pw) && len(words) <= len(pw)+extra && slices.Equal(words[:len(pw)], pw) {
			return true
		}
	}
	return false
}

var (
	greetingsEN = []string{"hi", "hello", "hey", "hiya", "howdy", "yo", "greetings", "good morning", "good afternoon", "good evening", "morning", "hallo", "hola"}
	greetingsZH = []string{"你好", "您好", "嗨", "哈喽", "哈啰", "早上好", "上午好", "下午好", "晚上好", "大家好", "早安", "在吗", "在不在"}
	thanksEN    = []string{"thanks", "thank you", "thank u", "thx", "ty", "cheers", "many thanks", "much appreciated", "appreciate it", "great thanks", "ok thanks", "ok thank you", "perfect thanks", "awesome thanks"}
	thanksZH    = []string{"谢谢", "多谢", "感谢", "谢了", "谢啦", "非常感谢", "太感谢了", "好的谢谢", "好的，谢谢", "明白了，谢谢", "辛苦了"}
	byeEN       = []string{"bye", "goodbye", "good bye", "see you", "see ya", "good night", "night", "cya", "later"}
	byeZH       = []string{"再见", "拜拜", "晚安", "回头见", "下次见"}

	howAreYouEN = []string{"how are you", "how r u", "how are u", "hows it going", "how is it going", "how are things", "whats up", "sup"}
	howAreYouZH = []string{"你好吗", "最近怎么样", "最近好吗", "在干嘛"}

	identityEN = []string{"who are you", "what are you", "whats your name", "what is your name", "are you a bot", "are you a robot", "are you human", "are you a human", "are you real", "are you an ai", "are you ai", "are you a person", "your name", "introduce yourself"}
	identityZH = []string{"你是谁", "您是谁", "你叫什么", "你的名字", "你是机器人", "你是真人", "你是人吗", "你是ai", "你是AI", "介绍一下你自己", "自我介绍"}

	praiseEN = []string{"love", "loved", "loving", "great", "awesome", "amazing", "excellent", "fantastic", "wonderful", "brilliant", "delicious", "best", "perfect", "beautiful", "lovely", "superb", "yummy", "tasty", "good job", "well done", "nice", "recommend", "enjoy", "enjoyed", "enjoying", "favourite", "favorite"}
	praiseZH = []string{"喜欢", "爱", "好喝", "好用", "好吃", "太棒", "很棒", "真棒", "超棒", "不错", "很好", "太好了", "赞", "推荐", "满意", "完美", "绝了"}

	complaintEN = []string{"terrible", "awful", "horrible", "disappointed", "disappointing", "disappointment", "worst", "unacceptable", "not happy", "unhappy", "annoyed", "annoying", "frustrated", "frustrating", "angry", "upset", "ridiculous", "never arrived", "still waiting", "not working", "doesnt work", "broken", "stale", "complaint", "complain", "rip off", "ripoff", "scam", "refund now", "bad", "sucks", "rubbish"}
	complaintZH = []string{"失望", "太差", "很差", "真差", "难喝", "难用", "生气", "愤怒", "投诉", "差评", "坑", "骗", "一直没到", "还没到", "还没收到", "不满意", "烦死", "受不了", "太慢", "好慢", "坏了", "破了", "过期", "垃圾"}

	insultEN = []string{"stupid", "idiot", "idiotic", "dumb", "useless", "moron", "shut up", "you suck", "sucks", "pathetic", "worthless", "garbage bot", "trash bot", "stfu", "fuck", "fucking", "shit", "crap bot"}
	insultZH = []string{"垃圾机器人", "傻", "笨蛋", "蠢", "白痴", "废物", "滚", "闭嘴", "智障", "没用的"}
)

// talkWords are the words of the small-talk lists, which don't count as
// content.
var talkWords = func() map[string]bool {
	m := map[string]bool{}
	for _, list := range [][]string{greetingsEN, thanksEN, byeEN, praiseEN, complaintEN, insultEN} {
		for _, p := range list {
			for _, w := range strings.Fields(p) {
				m[w] = true
			}
		}
	}
	for _, w := range []string{"so", "really", "very", "much", "this", "that", "it", "you", "your", "guys", "team", "again", "always", "thing", "all", "lot", "love"} {
		m[w] = true
	}
	return m
}()
