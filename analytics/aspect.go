package analytics

import (
	"regexp"
	"strings"
)

// Competitor mentions are scored on what is said about the competitor, not
// on the whole message: in "Bean There's delivery is awful, yours is
// great" the mention of Bean There is negative, whatever the message as a
// whole comes to. The text is cut into sentences and at contrasts ("but",
// "while", "但是", "不过"); inside a sentence, comma-separated parts stay
// together until one turns to another party (the brand addressed as "you",
// "你们", or another competitor). The parts that name the competitor, and
// a following sentence that refers back to it ("They never answer."), are
// scored together.

// sentenceRE cuts sentences and contrasts.
var sentenceRE = regexp.MustCompile(`(?i)[.!?;。！？；\n]+|\s(?:but|while|whereas|although|though|however|unlike|compared to)\s|但是|可是|不过|然而|相比之下|反而`)

// commaRE cuts the parts of a sentence.
var commaRE = regexp.MustCompile(`[,，、]`)

// otherPartyRE finds a part that turns to the brand the community belongs
// to.
var otherPartyRE = regexp.MustCompile(`(?i)\b(?:you|your|yours|you guys|y'all)\b|你们|你家|贵店|贵司|咱们`)

// referBackRE finds a sentence that starts by referring to what the one
// before named.
var referBackRE = regexp.MustCompile(`(?i)^\s*(?:it|its|it's|they|their|them|theirs|he|she|this place|that place)\b|^\s*(?:它|他们|她们|他家|她家|那家|这家|人家)`)

// aspectText returns the part of text about the competitor named by any of
// words (lower case), or text itself when no part can be told apart.
// others are the names of the other competitors.
func aspectText(text string, words []string, others [][]string) string {
	lt := strings.ToLower(text)
	names := func(s string, ws []string) bool {
		for _, w := range ws {
			if containsWord(s, w) {
				return true
			}
		}
		return false
	}
	namesOther := func(s string) bool {
		for _, o := range others {
			if names(s, o) {
				return true
			}
		}
		return false
	}
	var keep []string
	prevNamed := false
	for _, sent := range splitKeep(lt, sentenceRE) {
		if strings.TrimSpace(sent) == "" {
			continue
		}
		if !names(sent, words) {
			if prevNamed && referBackRE.MatchString(sent) && !otherPartyRE.MatchString(sent) {
				keep = append(keep, sent)
				continue
			}
			prevNamed = false
			continue
		}
		prevNamed = true
		// Group the comma parts by the party they are about.
		var group []string
		flush := func() {
			if g := strings.Join(group, ", "); names(g, words) {
				keep = append(keep, g)
			}
			group = group[:0]
		}
		for _, part := range splitKeep(sent, commaRE) {
			if strings.TrimSpace(part) == "" {
				continue
			}
			turns := !names(part, words) && (otherPartyRE.MatchString(part) || namesOther(part))
			startsOwn := names(part, words) && len(group) > 0 && !names(strings.Join(group, " "), words)
			if turns || startsOwn {
				flush()
			}
			group = append(group, part)
		}
		flush()
	}
	if len(keep) == 0 {
		return text
	}
	return strings.Join(keep, ". ")
}

// splitKeep splits s at the matches of re, dropping them, and trims the
// parts.
func splitKeep(s string, re *regexp.Regexp) []string {
	parts := re.Split(s, -1)
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// competitorMention is one competitor named in a message and the
// sentiment of what is said about it.
type competitorMention struct {
	name string
	s    Sentiment
}

// competitorMentions finds the competitors named in text and scores each
// on its own part of the text with the offline classifier.
func (a *Analytics) competitorMentions(text string) []competitorMention {
	if len(a.comps) == 0 {
		return nil
	}
	lt := strings.ToLower(text)
	var out []competitorMention
	for i, c := range a.comps {
		found := false
		for _, w := range c.words {
			if containsWord(lt, w) {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		var others [][]string
		for j, o := range a.comps {
			if j != i {
				others = append(others, o.words)
			}
		}
		out = append(out, competitorMention{name: c.name, s: a.offline.Classify(aspectText(text, c.words, others))})
	}
	return out
}
