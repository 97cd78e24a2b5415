package textkit

import (
	"regexp"
	"strings"
)

// Kind is a kind of fact: what a question asks for ("how long?" asks for
// a duration) and what a sentence states ("2 to 5 business days" is one).
// Kinds combine as bits.
type Kind uint8

// Kinds of fact.
const (
	// KindDuration: "2 to 5 business days", "48 hours", "a week",
	// "3 到 6 个工作日", "一天".
	KindDuration Kind = 1 << iota
	// KindTime: a clock time, a weekday or part of a day, a year:
	// "9:00", "Monday", "Saturdays at 10:00", "in 2016", "周一",
	// "上午 9 点".
	KindTime
	// KindPrice: an amount of money, a discount, or that there is none
	// to pay: "$14.95", "19.95 美元", "10% off", "free over $40", "no
	// fee", "免运费".
	KindPrice
	// KindQuantity: a number with a unit of amount: "18 g", "1 litre",
	// "10%", "94 °C", "三个月"; or a count ("150 beans").
	KindQuantity
	// KindPlace: an address or where something is found: "1120 SE
	// Division Street", "in Portland", "under Account, then Wallet",
	// "在应用里".
	KindPlace
	// KindFrequency: how often: "every two weeks", "once per customer",
	// "每周".
	KindFrequency
	// KindTemperature: "94 °C", "200 °F", "90 度".
	KindTemperature
)

// number is a number in figures or words.
const number = `(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|a|an|a few|several|a couple of)`

var (
	durationEN  = regexp.MustCompile(`(?i)\b` + number + `(?:\s*(?:to|-|–|or)\s*` + number + `)?\s*(?:business |working |calendar )?(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b|\b(?:overnight|fortnight)\b`)
	durationZH  = regexp.MustCompile(`(?:\d+|[一二两三四五六七八九十几半]+)\s*(?:(?:到|至|-|~)\s*(?:\d+|[一二两三四五六七八九十]+)\s*)?(?:个)?\s*(?:工作日|天|小时|分钟|周|星期|个月|年)|一两天`)
	timeEN      = regexp.MustCompile(`(?i)\b\d{1,2}:\d{2}\b|\b(?:in|since|from|until|by) (?:1[89]|20)\d\d\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekdays?|weekends?|morning|afternoon|evening|noon|midnight|tonight|tomorrow|january|february|march|april|june|july|august|september|october|november|december)s?\b`)
	timeZH      = regexp.MustCompile(`(?:周|星期|礼拜)[一二三四五六日天末]|(?:1[89]|20)\d\d\s*年|上午|下午|早上|晚上|中午|凌晨|\d+\s*(?:点|时)|\d+\s*月\s*\d+\s*日`)
	priceEN     = regexp.MustCompile(`(?i)[$€£¥]\s?\d|\b\d+\s*%\s*off\b|\b\d+(?:[.,]\d+)?\s*(?:usd|dollars?|eur|euros?|gbp|pounds?|cents?)\b|(?:^|[^-\w])free\b|\bno (?:fee|cost|charge)\b|\bat no cost\b`)
	priceZH     = regexp.MustCompile(`\d+\s*折|\d+(?:\.\d+)?\s*(?:美元|美金|元|块|欧元|英镑|日元)|免费|免运费|包邮|不收费|没有[^，。；]{0,4}费`)
	quantityEN  = regexp.MustCompile(`(?i)\b(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty)\s*(?:g|kg|grams?|kilos?|ml|l|litres?|liters?|oz|ounces?|%|percent|cups?|bags?|beans?|times|per cent)(?:\b|$)|\b\d+(?:[.,]\d+)?\s*%|\b\d+\s*to\s*\d+\b`)
	quantityZH  = regexp.MustCompile(`(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)\s*(?:个|袋|杯|克|千克|公斤|毫升|升|度|%|倍|次|期)`)
	placeEN     = regexp.MustCompile(`(?i)\b\d+\s+(?:[a-z0-9.]+\s+){0,3}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|way|drive)\b|\b(?:tab|screen|page|menu|settings)\b`)
	frequencyEN = regexp.MustCompile(`(?i)\b(?:every|each|per)\s+(?:other\s+|\d+\s+|two\s+|three\s+|four\s+|few\s+)?(?:hour|day|week|month|year|morning|evening|night|weekday|weekend|harvest|season)s?\b|\b(?:hourly|daily|weekly|fortnightly|monthly|yearly|annually)\b|\b(?:once|twice|\d+ times)\s+(?:a|an|per)\b`)
	frequencyZH = regexp.MustCompile(`每(?:[一两三四五六七八九十]|\d+)?(?:个)?(?:天|日|周|星期|月|年|小时|季)|每隔`)
	temperature = regexp.MustCompile(`(?i)\d+\s*°\s?[cf]?|\b\d+\s*degrees\b|\d+\s*(?:摄氏度|度)`)
	placeZH     = regexp.MustCompile(`地址|位于|页面|里查看|里选择|应用里|→`)
	// placeCase must not ignore case: "in Portland" is a place, "in
	// time" is not.
	placeCase = regexp.MustCompile(`\b(?:under|in|from|at)\s+(?:the\s+)?[A-Z][\w'’-]+`)
)

// Kinds returns the kinds of fact a sentence states.
func Kinds(s string) Kind {
	var k Kind
	han := HasHan(s)
	if durationEN.MatchString(s) || han && durationZH.MatchString(s) {
		k |= KindDuration
	}
	if timeEN.MatchString(s) || han && timeZH.MatchString(s) {
		k |= KindTime
	}
	if priceEN.MatchString(s) || han && priceZH.MatchString(s) {
		k |= KindPrice
	}
	if quantityEN.MatchString(s) || han && quantityZH.MatchString(s) {
		k |= KindQuantity
	}
	if temperature.MatchString(s) {
		k |= KindTemperature
	}
	if frequencyEN.MatchString(s) || han && frequencyZH.MatchString(s) {
		k |= KindFrequency
	}
	if placeCase.MatchString(s) || placeEN.MatchString(s) || han && placeZH.MatchString(s) {
		k |= KindPlace
	}
	return k
}

// topicKinds are words that name a kind of fact: a heading "Shipping
// times and costs" says its section holds durations and prices, and a
// question's "cost" is answered by a sentence stating a price, whatever
// words it uses ("From $17 per bag").
var topicKinds = map[string]Kind{
	"time": KindDuration | KindTime, "times": KindDuration | KindTime, "hours": KindDuration | KindTime,
	"schedule": KindTime, "deadline": KindTime, "cutoff": KindTime, "date": KindTime, "dates": KindTime,
	"duration": KindDuration, "delay": KindDuration, "window": KindDuration, "period": KindDuration,
	"cost": KindPrice, "costs": KindPrice, "price": KindPrice, "prices": KindPrice, "pricing": KindPrice,
	"fee": KindPrice, "fees": KindPrice, "spend": KindPrice, "value": KindPrice, "discount": KindPrice, "discounts": KindPrice, "postage": KindPrice, "billing": KindPrice, "charge": KindPrice, "charges": KindPrice,
	"address": KindPlace, "location": KindPlace,
	"temperature": KindTemperature, "temperatures": KindTemperature, "ratio": KindQuantity, "dose": KindQuantity, "amount": KindQuantity, "weight": KindQuantity,
	"frequency": KindFrequency, "often": KindFrequency,
	"时间": KindDuration | KindTime, "多久": KindDuration, "几天": KindDuration, "运费": KindPrice, "费用": KindPrice,
	"价格": KindPrice, "多少钱": KindPrice, "折扣": KindPrice, "优惠": KindPrice, "手续费": KindPrice, "地址": KindPlace, "温度": KindTemperature, "水温": KindTemperature, "比例": KindQuantity,
}

// TopicKinds returns the kinds of fact a heading says its section holds
// ("Shipping times and costs": durations, times and prices).
func TopicKinds(heading string) Kind {
	var k Kind
	for _, w := range Words(heading) {
		k |= topicKinds[w.Text]
	}
	return k
}

// WordKind is the kind of fact a word names ("cost": a price), or 0.
func WordKind(w string) Kind { return topicKinds[strings.ToLower(w)] }

// asks maps question phrases to the kinds of fact that answer them, most
// specific first: the first phrase found decides.
var asks = []struct {
	phrases []string
	kind    Kind
}{
	{[]string{"how often", "how frequently", "多久一次", "多长时间一次", "频率"}, KindFrequency},
	{[]string{"how long", "how many days", "how many hours", "how many weeks", "how many minutes", "how soon", "how fast", "how quickly",
		"for how long", "多久", "多长时间", "几天", "多少天", "几个工作日", "几个小时", "几分钟", "几周"}, KindDuration},
	{[]string{"how much does", "how much do", "how much is", "how much are", "how much will", "how much would", "how expensive",
		"what does", "price", "cost", "costs", "fee", "fees", "charge", "多少钱", "价格", "费用", "运费", "收费", "手续费", "几块", "多贵"}, KindPrice},
	{[]string{"how much", "how many", "what ratio", "多少", "几袋", "几杯", "几个", "几克"}, KindQuantity},
	{[]string{"what time", "which day", "what day", "what days", "what hours", "opening hours", "until when", "by when",
		"deadline", "几点", "哪天", "星期几", "周几", "营业时间", "之前"}, KindTime},
	// "when will my refund arrive?" is answered by a day or by "within
	// 3 to 10 business days".
	{[]string{"when", "什么时候"}, KindTime | KindDuration},
	{[]string{"where", "哪里", "哪儿", "在哪", "地址"}, KindPlace},
}

// Asks returns the kinds of fact that answer a question ("how long does
// shipping take?" asks for a KindDuration), or 0 when its phrasing
// doesn't say. "how much" without a verb of cost asks for a price or a
// quantity.
func Asks(q string) Kind {
	l := " " + strings.ToLower(strings.Join(strings.Fields(q), " ")) + " "
	l = strings.NewReplacer("?", " ", "？", " ", ",", " ", "，", " ", "'", "", "’", "").Replace(l)
	for _, a := range asks {
		for _, p := range a.phrases {
			if HasHan(p) && strings.Contains(l, p) || strings.Contains(l, " "+p+" ") {
				if a.kind == KindPrice && p == "what does" && !strings.Contains(l, " cost") {
					continue
				}
				if a.kind == KindQuantity && strings.HasPrefix(p, "how much") {
					return KindQuantity | KindPrice
				}
				return a.kind
			}
		}
	}
	return 0
}
