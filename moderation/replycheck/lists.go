package replycheck

import (
	"regexp"
	"strings"
)

// The lists and patterns below are the documented pattern set of the
// checks. They are about the bot's own voice, which should never come near
// them: a brand's assistant has no reason to swear, to describe people as
// animals, or to say what a group of people is like. Matching runs on
// moderation.Normalize's form of a sentence (case folded, look-alikes and
// leetspeak folded), so entries need no variants.

// abuseWords are insults and swearing, English and Chinese. Latin entries
// match whole words; Chinese ones anywhere.
var abuseWords = []string{
	// English
	"idiot", "idiots", "idiotic", "stupid", "moron", "morons", "moronic", "dumb", "dumbass", "imbecile", "imbeciles",
	"retard", "retarded", "retards", "cretin", "loser", "losers", "pathetic", "worthless", "shut up", "go to hell",
	"fuck", "fucking", "fucked", "fucker", "motherfucker", "shit", "shitty", "bullshit", "bitch", "bitches", "bastard",
	"bastards", "asshole", "assholes", "arsehole", "crap", "crappy", "damn", "dickhead", "prick", "piss off",
	"screw you", "scumbag", "scumbags", "twat", "wanker", "cunt", "slut", "whore", "clown", "clowns", "hate you",
	"kill yourself", "kys", "nigger", "niggers", "faggot", "faggots", "fag", "tranny", "chink", "chinks", "spic",
	"kike", "wetback", "gook", "raghead", "towelhead",
	// Chinese
	"傻逼", "傻b", "煞笔", "沙比", "傻叉", "傻冒", "白痴", "蠢货", "蠢猪", "蠢蛋", "笨蛋", "脑残", "弱智", "智障",
	"混蛋", "王八蛋", "王八", "滚蛋", "滚开", "给我滚", "去死", "贱人", "贱货", "婊子", "狗屎", "他妈的", "妈的",
	"操你", "草泥马", "尼玛", "你妈", "废物", "人渣", "屌丝", "狗东西", "狗日的", "垃圾东西", "闭嘴", "黑鬼",
	"支那", "基佬",
}

// dehumanising are words that describe people as vermin or disease, and
// (dehumanisingFrame) words that do when said of someone ("they are
// animals"). Both count as abuse.
var (
	dehumanisingWords = []string{
		"vermin", "parasite", "parasites", "subhuman", "subhumans", "sub-human", "sub-humans", "cockroaches",
		"savages", "infestation", "untermensch", "mongrel", "mongrels",
		"畜生", "畜牲", "寄生虫", "害虫", "蟑螂", "劣等", "低等人", "下等人", "杂种", "禽兽", "猪狗不如",
	}
	dehumanisingFrameNouns = []string{"animals", "rats", "plague", "disease", "pests", "filth", "trash", "garbage", "scum",
		"dogs", "pigs", "monkeys", "apes", "beasts", "insects", "rodents"}
	dehumanisingFrame = regexp.MustCompile(`\b(?:are|is|were|be|like|as|just)\s+(?:a\s+|an\s+|nothing but\s+|no better than\s+)?` +
		`(?:` + alt(dehumanisingFrameNouns) + `)\b`)
)

// Protected groups, as the generalisation patterns name them. groupNouns
// stand alone ("women", "immigrants"); groupAdjectives name a group only
// with a noun after them ("chinese people", "old folks") or "the" before
// them ("the french"): alone they are languages and colours.
var (
	groupNouns = []string{
		"women", "men", "girls", "boys", "females", "males", "ladies", "immigrants", "migrants", "refugees",
		"foreigners", "muslims", "christians", "jews", "hindus", "buddhists", "atheists", "catholics", "blacks",
		"whites", "asians", "latinos", "latinas", "hispanics", "arabs", "africans", "mexicans", "indians",
		"europeans", "americans", "gays", "lesbians", "homosexuals", "transgenders", "queers", "feminists",
		"the elderly", "elderly", "boomers", "millennials", "zoomers", "teenagers", "the poor", "the disabled",
		"gypsies", "blondes", "wives", "husbands", "mothers", "fathers", "feminists", "liberals", "conservatives",
	}
	groupAdjectives = []string{
		"chinese", "japanese", "korean", "russian", "african", "asian", "arab", "jewish", "muslim", "christian",
		"black", "white", "gay", "trans", "transgender", "disabled", "mexican", "indian", "french", "german",
		"british", "english", "irish", "italian", "spanish", "polish", "ukrainian", "vietnamese", "filipino",
		"thai", "turkish", "iranian", "israeli", "palestinian", "pakistani", "nigerian", "brazilian",
		"canadian", "american", "immigrant", "foreign", "old", "poor", "fat", "autistic", "female", "male",
		"lgbt", "lgbtq", "latino", "hispanic", "middle eastern", "southern", "rural",
	}
	groupPeople = `people|folks|men|women|guys|girls|boys|kids|immigrants|workers|drivers|persons|families|parents|customers`
	// generalisingVerbs follow a group to make a statement about all of
	// it: "women are", "immigrants never", "muslims should".
	generalisingVerbs = `are|is|were|aren't|isn't|can't|cannot|can never|could never|never|always|should|shouldn't|` +
		`must|mustn't|don't|do not|won't|tend to|belong|deserve|lack|have no|ruin|steal|smell|only care|only want|` +
		`just want|are all|all are|naturally|genetically|inherently|love to|hate|can't stand|ought to`
	// benignRE are what may follow "are" without generalising: "women
	// are welcome at the cupping". They are taken out before matching.
	benignRE = regexp.MustCompile(`\b(?:are|is)\s+(?:also\s+|all\s+|most\s+|warmly\s+|very\s+)?(?:welcome|invited|eligible|free to|entitled|encouraged)\b`)

	groupZH = []string{
		"女人", "女性", "女生", "女的", "男人", "男性", "男的", "外国人", "老外", "移民", "难民", "黑人", "白人",
		"穆斯林", "回民", "犹太人", "基督徒", "同性恋", "残疾人", "老年人", "老人", "农村人", "乡下人", "外地人",
		"河南人", "东北人", "上海人", "北京人", "广东人", "新疆人", "西藏人", "日本人", "韩国人", "美国人", "印度人",
		"非洲人", "中国人", "胖子", "女司机", "南方人", "北方人", "穷人", "大妈", "女权",
	}
	generalisingZHBefore = `所有|凡是|大部分|大多数|这帮|那帮|这种|那种`
	generalisingZHAfter  = `都|就是|就|全是|全都|总是|天生|永远|根本|从来|只会|就会|不配|不会|不能|不该|应该|太|真是|是|素质|智商|没有|一般都|普遍`
)

// generalisationRE is the pattern set for generalisations, built from the
// lists above. A match is a statement about a protected group as a whole.
var generalisationRE = regexp.MustCompile(
	`(?:^|[^\p{L}])(?:typical\s+)?(?:the\s+)?(?:` + alt(groupNouns) + `|(?:` + alt(groupAdjectives) + `)\s+(?:` + groupPeople + `))` +
		`\s+(?:` + generalisingVerbs + `)\b` +
		`|(?:^|[^\p{L}])the\s+(?:` + alt(groupAdjectives) + `)\s+(?:` + generalisingVerbs + `)\b` +
		`|(?:^|[^\p{L}])typical\s+(?:` + alt(groupNouns) + `|(?:` + alt(groupAdjectives) + `)\s+(?:` + groupPeople + `))\b` +
		`|(?:` + generalisingZHBefore + `)的?(?:` + alt(groupZH) + `)` +
		`|(?:` + alt(groupZH) + `)(?:` + generalisingZHAfter + `)`)

// groupMentionRE finds a protected group named at all; with the hate
// classifier it catches generalisations the patterns miss.
var groupMentionRE = regexp.MustCompile(`(?:^|[^\p{L}])(?:` + alt(groupNouns) + `|(?:` + alt(groupAdjectives) + `)\s+(?:` + groupPeople + `))(?:[^\p{L}]|$)` +
	`|(?:` + alt(groupZH) + `)`)

// negativeAbout are words that judge a brand: near a competitor's name
// they make a sentence about it negative whatever the sentiment model
// says. Comparisons count too ("better than", "不如"): a brand's
// assistant doesn't rank other brands.
var negativeAbout = regexp.MustCompile(`(?i)\b(?:scam|scams|scammers|rip-?off|terrible|awful|worst|worse|garbage|trash|` +
	`overpriced|stale|burnt|disgusting|horrible|crap|crappy|avoid|inferior|knock-?off|fraud|frauds|liars?|lying|clowns?|` +
	`incompetent|useless|joke|rubbish|sucks?|bad|poor quality|cheap|cheaper|better than|fresher than|nicer than|not as good|` +
	`can't compare|cannot compare|dishonest|shady|sketchy)\b|骗子|垃圾|难喝|差劲|很差|太差|烂|坑人|黑心|比不上|不如|不靠谱|假货|劣质`)

// competitorTopics are what a persona's "don't" rules say when they
// forbid discussing competitors.
var competitorTopics = []string{"competitor", "rival", "other brand", "竞争", "竞品", "对手", "同行", "其他品牌"}

func alt(words []string) string {
	qs := make([]string, len(words))
	for i, w := range words {
		qs[i] = strings.ReplaceAll(regexp.QuoteMeta(w), " ", `\s+`)
	}
	return strings.Join(qs, "|")
}
