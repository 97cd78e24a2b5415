package replycheck

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeNumbers rewrites the numbers of s as digits, so that the
// specifics of a sentence and of its grounding compare whatever way they
// were written: English number words ("thirty", "twenty-one", "one
// hundred and fifty") and Chinese numerals ("三十", "十四", "二〇一六",
// "两") become digits ("30", "21", "150", "30", "14", "2016", "2");
// full-width digits become ASCII; thousands separators go ("1,000" is
// "1000"). Everything else is kept as it is, in its case.
//
// Chinese decimals ("十九点九五") become decimals ("19.95"). Chinese
// numerals are read only in their standard forms: a run of bare
// digit characters ("一两", "八五") is ambiguous and stays as written,
// except a run of three or more (a year, "二〇二五"). The word "one" and a
// lone "一" stay words: "one day", "一点" (a little) and "一起" (together)
// are how people talk, not figures.
func NormalizeNumbers(s string) string {
	if s == "" {
		return s
	}
	s = widthDigits(s)
	s = englishNumbers(s)
	s = chineseNumbers(s)
	return dropThousands(s)
}

func widthDigits(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= '０' && r <= '９' || r == '％' || r == '．' }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '％':
			return '%'
		case r == '．':
			return '.'
		}
		return r
	}, s)
}

// dropThousands removes the commas of "1,000" and "12,500,000".
func dropThousands(s string) string {
	if !strings.Contains(s, ",") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' && i > 0 && i+3 < len(s) && isDigit(s[i-1]) &&
			isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) && (i+4 == len(s) || !isDigit(s[i+4])) {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var (
	smallNumbers = map[string]int{
		"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
		"nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
		"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
	}
	tensNumbers = map[string]int{
		"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
		"eighty": 80, "ninety": 90,
	}
	scaleNumbers = map[string]int{"hundred": 100, "thousand": 1000, "million": 1000000}
)

// wordSpan is one word of s, at s[start:end].
type wordSpan struct {
	start, end int
	lower      string
}

// englishNumbers replaces runs of English number words by their value.
func englishNumbers(s string) string {
	if !hasNumberWord(s) {
		return s
	}
	var words []wordSpan
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsLetter(r2) {
				break
			}
			j += n2
		}
		words = append(words, wordSpan{start: i, end: j, lower: strings.ToLower(s[i:j])})
		i = j
	}
	var b strings.Builder
	last := 0
	for k := 0; k < len(words); {
		v, used := parseEnglish(s, words[k:])
		if used == 0 || (used == 1 && words[k].lower == "one") {
			k++
			continue
		}
		b.WriteString(s[last:words[k].start])
		b.WriteString(strconv.Itoa(v))
		last = words[k+used-1].end
		k += used
	}
	b.WriteString(s[last:])
	return b.String()
}

func hasNumberWord(s string) bool {
	l := strings.ToLower(s)
	for _, w := range []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
		"eleven", "twelve", "teen", "twenty", "thirty", "forty", "fourty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// parseEnglish reads a number from the words at ws[0:], joined by spaces,
// hyphens or "and" inside the number; used is 0 when ws[0] starts none.
func parseEnglish(s string, ws []wordSpan) (value, used int) {
	const (
		none = iota
		unit
		teen
		tens
		hundred
		scale
	)
	total, cur, last, used := 0, 0, none, 0
	for i := 0; i < len(ws); i++ {
		w := ws[i].lower
		if i > 0 {
			if gap := s[ws[i-1].end:ws[i].start]; gap != " " && gap != "-" {
				break
			}
		}
		n, isSmall := smallNumbers[w]
		switch {
		case w == "and" && (last == hundred || last == scale) && i+1 < len(ws):
			continue
		case isSmall && n >= 1 && n <= 9 && (last == none || last == tens || last == hundred || last == scale):
			cur += n
			last = unit
		case isSmall && (n == 0 || n >= 10) && (last == none || last == hundred || last == scale):
			cur += n
			last = teen
			if n == 0 {
				last = scale + 1 // nothing may follow a zero
			}
		case tensNumbers[w] > 0 && (last == none || last == hundred || last == scale):
			cur += tensNumbers[w]
			last = tens
		case w == "hundred" && (last == unit || last == teen) && cur < 100:
			cur *= 100
			last = hundred
		case scaleNumbers[w] > 100 && last != none && last != scale:
			total += cur * scaleNumbers[w]
			cur = 0
			last = scale
		default:
			if last == none {
				return 0, 0
			}
			return total + cur, used
		}
		used = i + 1
	}
	if last == none {
		return 0, 0
	}
	return total + cur, used
}

var chineseDigits = map[rune]int{'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '兩': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

func chineseNumeral(r rune) bool {
	_, ok := chineseDigits[r]
	return ok || r == '十' || r == '百' || r == '千' || r == '万' || r == '萬'
}

// chineseNumbers replaces standard Chinese numerals by their value.
func chineseNumbers(s string) string {
	if !strings.ContainsFunc(s, chineseNumeral) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if !chineseNumeral(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) && chineseNumeral(rs[j]) {
			j++
		}
		v, ok := parseChinese(rs[i:j])
		if !ok {
			b.WriteString(string(rs[i:j]))
			i = j
			continue
		}
		b.WriteString(strconv.Itoa(v))
		i = j
		// A decimal: 十九点九五 is 19.95 (九点 alone is nine o'clock).
		if i+1 < len(rs) && rs[i] == '点' {
			k := i + 1
			for k < len(rs) {
				if _, d := chineseDigits[rs[k]]; !d || rs[k] == '两' {
					break
				}
				k++
			}
			if k > i+1 {
				b.WriteByte('.')
				for _, r := range rs[i+1 : k] {
					b.WriteByte(byte('0' + chineseDigits[r]))
				}
				i = k
			}
		}
	}
	return b.String()
}

// parseChinese reads a standard Chinese numeral: 十四, 三十, 一百二十,
// 两千零五, 三万, or a run of three or more digits read one by one
// (二〇一六). ok is false for anything else (一两, 八五).
func parseChinese(rs []rune) (int, bool) {
	allDigits := true
	for _, r := range rs {
		if _, ok := chineseDigits[r]; !ok {
			allDigits = false
		}
	}
	if allDigits {
		if len(rs) == 1 {
			return chineseDigits[rs[0]], rs[0] != '一'
		}
		if len(rs) < 3 {
			return 0, false
		}
		v := 0
		for _, r := range rs {
			v = v*10 + chineseDigits[r]
		}
		return v, true
	}
	total, section, digit := 0, 0, -1
	for _, r := range rs {
		if d, ok := chineseDigits[r]; ok {
			if r == '零' || r == '〇' {
				if digit > 0 {
					return 0, false
				}
				digit = -1
				continue
			}
			if digit >= 0 {
				return 0, false // two digits in a row
			}
			digit = d
			continue
		}
		unit := map[rune]int{'十': 10, '百': 100, '千': 1000}[r]
		if unit > 0 {
			if digit < 0 {
				if unit != 10 {
					return 0, false
				}
				digit = 1 // 十四 is 14
			}
			section += digit * unit
			digit = -1
			continue
		}
		// 万
		if digit >= 0 {
			section += digit
		}
		if section == 0 {
			return 0, false
		}
		total += section * 10000
		section, digit = 0, -1
	}
	if digit >= 0 {
		section += digit
	}
	return total + section, true
}
