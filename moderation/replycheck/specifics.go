package replycheck

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Kind is a kind of specific: a fact precise enough that a model which
// made it up misleads (a price, a refund window, a link).
type Kind string

// Kinds of specifics.
const (
	KindPrice    Kind = "price"
	KindPercent  Kind = "percentage"
	KindCode     Kind = "promo code"
	KindDuration Kind = "duration"
	KindDate     Kind = "date"
	KindTime     Kind = "time"
	KindPhone    Kind = "phone number"
	KindEmail    Kind = "e-mail address"
	KindURL      Kind = "link"
	KindHandle   Kind = "handle"
)

// Specific is one specific found in a text.
type Specific struct {
	Kind Kind
	// Key is the canonical form compared with the grounding's:
	// "price:usd:5.95", "duration:day:30", "date:3-5", "url:lumen.coffee".
	Key string
	// Text is how it reads after NormalizeNumbers ("60 days").
	Text string
}

// The patterns run over NormalizeNumbers' output, so numbers are digits.
const num = `(\d+(?:\.\d+)?)`

var (
	moneyBeforeRE = regexp.MustCompile(`(?i)(US\$|USD ?|\$|€|EUR ?|£|GBP ?|¥|CNY ?|RMB ?)\s?` + num)
	moneyAfterRE  = regexp.MustCompile(`(?i)` + num + `\s?(dollars?\b|bucks\b|usd\b|美元|美金|euros?\b|eur\b|欧元|gbp\b|英镑|yuan\b|cny\b|rmb\b|人民币|元|块钱)`)
	percentRE     = regexp.MustCompile(`(?i)` + num + `\s?(%|percent\b|per cent\b)|百分之` + num)
	zheRE         = regexp.MustCompile(`(\d{1,2}(?:\.\d)?|[一二三四五六七八九][一二三四五六七八九]?)\s?折`)
	durationRE    = regexp.MustCompile(`(?i)` + num + `(?:\s?(?:to|-|–|~|到|至|或|和|or|and)\s?(?:after\s|within\s)?` + num + `)?\s?-?\s?(?:(?:business|working|calendar|full)\s)?` +
		`(minutes?|mins?\b|hours?|hrs?\b|days?\b|weeks?|months?|years?|yrs?\b|分钟|个小时|小时|个工作日|工作日|天|个星期|星期|礼拜|周|个月|年)`)
	isoDateRE   = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	zhDateRE    = regexp.MustCompile(`(?:(\d{4})\s?年\s?)?(\d{1,2})\s?月\s?(\d{1,2})\s?[日号]`)
	monthDayRE  = regexp.MustCompile(`(?i)\b(` + monthNames + `)\.?\s(\d{1,2})(?:st|nd|rd|th)?\b`)
	dayMonthRE  = regexp.MustCompile(`(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s(?:of\s)?(` + monthNamesNoMay + `)\b|\b(\d{1,2})(?:st|nd|rd|th|\sof)\s(may)\b`)
	yearRE      = regexp.MustCompile(`(?:^|[^\d.:/$])((?:19|20)\d{2})(?:\s?年|[^\d.:%]|\.\D|\.$|$)`)
	clockRE     = regexp.MustCompile(`(?i)\b(\d{1,2}):(\d{2})\s?(am|pm|a\.m\.|p\.m\.)?`)
	ampmRE      = regexp.MustCompile(`(?i)(?:^|[^\d:])(\d{1,2})\s?(am|pm|a\.m\.|p\.m\.)(?:\W|$)`)
	zhClockRE   = regexp.MustCompile(`(上午|早上|早晨|中午|下午|晚上|傍晚)?\s?(\d{1,2})\s?[点點](?:\s?(\d{1,2})\s?分|(半))?`)
	yearSpanRE  = regexp.MustCompile(`^\s*(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d\s*$`)
	phoneRE     = regexp.MustCompile(`\+?\(?\d[\d\s().-]{5,}\d`)
	emailRE     = regexp.MustCompile(`(?i)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+`)
	schemeURLRE = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"'()\[\]]+|\bwww\.[^\s<>"'()\[\]]+`)
	domainRE    = regexp.MustCompile(`(?i)(?:^|[^\w@./-])((?:[a-z0-9][a-z0-9-]*\.)+([a-z]{2,24}))\b(/[^\s<>"'()\[\]]*)?`)
	handleRE    = regexp.MustCompile(`(?:^|[\s(（,，:：])@([A-Za-z0-9_]{2,32})\b`)
	codeRE      = regexp.MustCompile(`\b([A-Z0-9]*[A-Z][A-Z0-9]*\d[A-Z0-9]*|[A-Z0-9]*\d[A-Z0-9]*[A-Z][A-Z0-9]*)\b`)
	codeWordRE  = regexp.MustCompile(`(?i:code|coupon|voucher)s?\s?[:：]?\s?["'“‘«]?([A-Z][A-Z0-9_-]{2,19})\b|(?:优惠码|折扣码|兑换码|优惠券码|券码|口令)[:：\s"“]*([A-Za-z0-9_-]{3,20})`)
)

const (
	monthNamesNoMay = `january|february|march|april|june|july|august|september|october|november|december|` +
		`jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec`
	// "May" after a number is a date only as "5th May" or "5 of May":
	// "these 2 may be" is not.
	monthNames = monthNamesNoMay + `|may`
)

// notDomains are file extensions and abbreviations that look like a
// domain's last label.
var notDomains = map[string]bool{
	"md": true, "txt": true, "pdf": true, "png": true, "jpg": true, "jpeg": true, "gif": true, "csv": true,
	"json": true, "yaml": true, "yml": true, "go": true, "js": true, "py": true, "html": true, "htm": true,
	"doc": true, "docx": true, "xls": true, "xlsx": true, "zip": true, "tmpl": true, "toml": true, "ts": true,
	"mp3": true, "mp4": true, "webp": true, "svg": true, "log": true,
}

var currencies = map[string]string{
	"us$": "usd", "usd": "usd", "$": "usd", "dollar": "usd", "dollars": "usd", "bucks": "usd", "美元": "usd", "美金": "usd", "刀": "usd",
	"€": "eur", "eur": "eur", "euro": "eur", "euros": "eur", "欧元": "eur",
	"£": "gbp", "gbp": "gbp", "pound": "gbp", "pounds": "gbp", "英镑": "gbp",
	"¥": "cny", "cny": "cny", "rmb": "cny", "yuan": "cny", "人民币": "cny", "元": "cny", "块钱": "cny", "块": "cny",
}

// canon writes a number without trailing zeros: 5, 5.0 and 5.00 are "5".
func canon(n string) string {
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// durationUnit maps a unit as written to the unit compared; weeks count
// as seven days, and business days as days.
func durationUnit(u string) (unit string, factor float64) {
	u = strings.ToLower(u)
	switch {
	case strings.HasPrefix(u, "min") || u == "分钟":
		return "minute", 1
	case strings.HasPrefix(u, "h") || strings.HasSuffix(u, "小时"):
		return "hour", 1
	case strings.HasPrefix(u, "day") || u == "天" || strings.HasSuffix(u, "工作日"):
		return "day", 1
	case strings.HasPrefix(u, "week") || u == "周" || strings.HasSuffix(u, "星期") || u == "礼拜":
		return "day", 7
	case strings.HasPrefix(u, "month") || u == "个月":
		return "month", 1
	case strings.HasPrefix(u, "y") || u == "年":
		return "year", 1
	}
	return u, 1
}

func scaled(n string, factor float64) string {
	if factor == 1 {
		return canon(n)
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	return strconv.FormatFloat(f*factor, 'f', -1, 64)
}

// month returns the number of a month's name or abbreviation.
func month(name string) string {
	name = strings.ToLower(name)
	for i, m := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.HasPrefix(name, m) {
			return strconv.Itoa(i + 1)
		}
	}
	return "0"
}

// Specifics finds the specifics of text: prices, percentages (and Chinese
// 折 discounts), promo codes, durations, dates, times of day, phone
// numbers, e-mail addresses, links and @handles. Numbers are compared
// after NormalizeNumbers: "30 days", "thirty days", "30-day" and "30天"
// all have the key "duration:day:30", "$5" and "5 dollars" "price:usd:5".
// Two weeks is fourteen days. "One" and a lone "一" are not read as
// numbers (see NormalizeNumbers), so "one day" and "一点" are no specifics.
func Specifics(text string) []Specific {
	if text == "" {
		return nil
	}
	var out []Specific
	seen := map[string]bool{}
	add := func(k Kind, key, txt string) {
		key = string(k) + ":" + key
		if !seen[key] {
			seen[key] = true
			out = append(out, Specific{Kind: k, Key: key, Text: strings.TrimSpace(txt)})
		}
	}
	// Addresses first, on the text as written, and then blanked, so
	// that the digits of a link are not read as a phone number. Each
	// pattern runs only when the text has what it needs (an '@', a
	// digit, a '.'): most sentences have none of it.
	t := text
	blank := func(re *regexp.Regexp, s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat(" ", len(m)) })
	}
	hasAt := strings.Contains(t, "@")
	if hasAt {
		for _, m := range emailRE.FindAllString(t, -1) {
			add(KindEmail, strings.ToLower(m), m)
		}
		t = blank(emailRE, t)
	}
	lower := strings.ToLower(t)
	if strings.Contains(t, "://") || strings.Contains(lower, "www.") {
		for _, m := range schemeURLRE.FindAllString(t, -1) {
			m = strings.TrimRight(m, ".,;:!?")
			if h := hostOf(m); h != "" {
				add(KindURL, h, m)
			}
		}
		t = blank(schemeURLRE, t)
	}
	if strings.Contains(t, ".") {
		for _, m := range domainRE.FindAllStringSubmatch(t, -1) {
			if notDomains[strings.ToLower(m[2])] || len(m[1]) < 4 {
				continue
			}
			add(KindURL, strings.TrimPrefix(strings.ToLower(strings.TrimSuffix(m[1], ".")), "www."), m[1]+m[3])
		}
		t = blankDomains(t)
	}
	if hasAt {
		for _, m := range handleRE.FindAllStringSubmatch(t, -1) {
			add(KindHandle, strings.ToLower(m[1]), "@"+m[1])
		}
	}
	digits := strings.ContainsFunc(t, func(r rune) bool { return r >= '0' && r <= '9' })
	if digits && strings.ContainsFunc(t, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
		for _, m := range codeRE.FindAllString(t, -1) {
			if len(m) >= 4 && len(m) <= 20 && !allDigits(m) {
				add(KindCode, m, m)
			}
		}
	}
	if codeWord(lower) {
		for _, m := range codeWordRE.FindAllStringSubmatch(t, -1) {
			c := m[1] + m[2]
			if c != "" {
				add(KindCode, strings.ToUpper(c), c)
			}
		}
	}
	// Chinese discounts before the numerals are read: 八五折 is 15% off.
	if strings.Contains(t, "折") {
		for _, m := range zheRE.FindAllStringSubmatch(t, -1) {
			if off, ok := zheOff(m[1]); ok {
				add(KindPercent, off, m[0])
			}
		}
	}
	t = NormalizeNumbers(t)
	if !strings.ContainsFunc(t, func(r rune) bool { return r >= '0' && r <= '9' }) {
		return out // everything below is a number
	}
	lower = strings.ToLower(t)
	if strings.ContainsAny(t, "$€£¥") || strings.Contains(lower, "usd") || strings.Contains(lower, "eur") ||
		strings.Contains(lower, "gbp") || strings.Contains(lower, "cny") || strings.Contains(lower, "rmb") {
		for _, m := range moneyBeforeRE.FindAllStringSubmatch(t, -1) {
			add(KindPrice, currencies[strings.ToLower(strings.TrimSpace(m[1]))]+":"+canon(m[2]), m[0])
		}
	}
	for _, m := range moneyAfterRE.FindAllStringSubmatch(t, -1) {
		add(KindPrice, currencies[strings.ToLower(m[2])]+":"+canon(m[1]), m[0])
	}
	if strings.Contains(t, "%") || strings.Contains(lower, "per") || strings.Contains(t, "百分之") {
		for _, m := range percentRE.FindAllStringSubmatch(t, -1) {
			add(KindPercent, canon(m[1]+m[3]), m[0])
		}
	}
	for _, idx := range durationRE.FindAllStringSubmatchIndex(t, -1) {
		m := func(i int) string {
			if idx[2*i] < 0 {
				return ""
			}
			return t[idx[2*i]:idx[2*i+1]]
		}
		full, a, b, u := m(0), m(1), m(2), m(3)
		if u == "年" && len(a) == 4 {
			continue // a year, read below
		}
		unit, f := durationUnit(u)
		add(KindDuration, unit+":"+scaled(a, f), full)
		if b != "" {
			add(KindDuration, unit+":"+scaled(b, f), full)
		}
	}
	if strings.Contains(t, "-") {
		for _, m := range isoDateRE.FindAllStringSubmatch(t, -1) {
			add(KindDate, dm(m[2], m[3]), m[0])
			add(KindDate, m[1], m[0])
		}
	}
	if strings.Contains(t, "月") {
		for _, m := range zhDateRE.FindAllStringSubmatch(t, -1) {
			add(KindDate, dm(m[2], m[3]), m[0])
		}
	}
	if monthName(lower) {
		for _, m := range monthDayRE.FindAllStringSubmatch(t, -1) {
			add(KindDate, dm(month(m[1]), m[2]), m[0])
		}
		for _, m := range dayMonthRE.FindAllStringSubmatch(t, -1) {
			if m[1] == "" {
				m[1], m[2] = m[3], m[4]
			}
			add(KindDate, dm(month(m[2]), m[1]), m[0])
		}
	}
	for _, m := range yearRE.FindAllStringSubmatch(t, -1) {
		add(KindDate, m[1], m[1])
	}
	if strings.Contains(t, ":") {
		for _, idx := range clockRE.FindAllStringSubmatchIndex(t, -1) {
			if ratio(t, idx[0], idx[1]) {
				continue // "1:16" is a brewing ratio
			}
			m := t[idx[0]:idx[1]]
			half := ""
			if idx[6] >= 0 {
				half = t[idx[6]:idx[7]]
			}
			add(KindTime, clock(t[idx[2]:idx[3]], t[idx[4]:idx[5]], half), m)
		}
	}
	if strings.Contains(lower, "am") || strings.Contains(lower, "pm") || strings.Contains(lower, "a.m") || strings.Contains(lower, "p.m") {
		for _, m := range ampmRE.FindAllStringSubmatch(t, -1) {
			add(KindTime, clock(m[1], "00", m[2]), strings.TrimSpace(m[1]+" "+m[2]))
		}
	}
	if strings.ContainsAny(t, "点點") {
		for _, m := range zhClockRE.FindAllStringSubmatch(t, -1) {
			mins := "00"
			if m[3] != "" {
				mins = m[3]
			} else if m[4] != "" {
				mins = "30"
			}
			half := ""
			switch m[1] {
			case "下午", "晚上", "傍晚":
				half = "pm"
			case "中午":
				if m[2] != "12" {
					half = "pm"
				}
			}
			add(KindTime, clock(m[2], mins, half), m[0])
		}
	}
	if len(digitsOf(t)) >= 7 {
		for _, m := range phoneRE.FindAllString(t, -1) {
			d := digitsOf(m)
			if len(d) < 7 || len(d) > 15 || isoDateRE.MatchString(m) || yearSpanRE.MatchString(m) {
				continue
			}
			if len(d) > 10 {
				d = d[len(d)-10:]
			}
			add(KindPhone, d, m)
		}
	}
	return out
}

// codeWord reports whether lower (lower-cased) has a word that
// introduces a promo code.
func codeWord(lower string) bool {
	for _, w := range []string{"code", "coupon", "voucher", "优惠码", "折扣码", "兑换码", "券码", "口令"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// monthName reports whether lower (lower-cased) may hold a month's name.
func monthName(lower string) bool {
	for _, m := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.Contains(lower, m) {
			return true
		}
	}
	return false
}

// ratio reports whether the match at t[i:j] is a ratio ("a 1:16
// ratio", "比例 1:15") rather than a time.
func ratio(t string, i, j int) bool {
	before := strings.ToLower(t[max(0, i-16):i])
	after := strings.ToLower(t[j:min(len(t), j+8)])
	return strings.Contains(before, "ratio") || strings.Contains(before, "比") || strings.Contains(after, "ratio")
}

func blankDomains(t string) string {
	return domainRE.ReplaceAllStringFunc(t, func(m string) string {
		sm := domainRE.FindStringSubmatch(m)
		if sm == nil || notDomains[strings.ToLower(sm[2])] || len(sm[1]) < 4 {
			return m
		}
		i := strings.Index(m, sm[1])
		return m[:i] + strings.Repeat(" ", len(m)-i)
	})
}

func zheOff(s string) (string, bool) {
	var v float64
	if d, ok := chineseDigits[[]rune(s)[0]]; ok {
		rs := []rune(s)
		v = float64(d)
		if len(rs) == 2 {
			v = float64(d*10 + chineseDigits[rs[1]])
		}
	} else {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", false
		}
		v = f
	}
	if v <= 0 || v >= 100 {
		return "", false
	}
	if v < 10 {
		v *= 10
	}
	return strconv.FormatFloat(100-v, 'f', -1, 64), true
}

func dm(month, day string) string {
	m, _ := strconv.Atoi(month)
	d, _ := strconv.Atoi(day)
	return strconv.Itoa(m) + "-" + strconv.Itoa(d)
}

// clock is a time of day as H:MM on 24 hours.
func clock(h, m, half string) string {
	hh, _ := strconv.Atoi(h)
	half = strings.ToLower(strings.ReplaceAll(half, ".", ""))
	switch {
	case half == "pm" && hh < 12:
		hh += 12
	case half == "am" && hh == 12:
		hh = 0
	}
	return strconv.Itoa(hh) + ":" + m
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// hostOf returns a URL's host without "www.", lower case.
func hostOf(raw string) string {
	s := raw
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// Domain returns the host a specific of KindURL or KindEmail points to.
func (s Specific) Domain() string {
	switch s.Kind {
	case KindURL:
		return strings.TrimPrefix(s.Key, string(KindURL)+":")
	case KindEmail:
		_, d, _ := strings.Cut(s.Key, "@")
		return d
	}
	return ""
}
