package analytics

import (
	"strings"
	"unicode/utf8"

	"github.com/chorusbot/chorus/textkit"
)

// maxTermsPerMessage bounds the terms one message contributes, so a long
// paste or a spam wall can't dominate the counts.
const maxTermsPerMessage = 40

// terms extracts the topic terms of a message, as people wrote them:
// the words textkit.Topic accepts (no function words, filler, numbers or
// ids; Chinese segmented into words, never character pairs) and phrases
// of two neighbouring such words, a phrase as its two words with a space
// ("battery drain", "燕麦奶 拿铁": termLabel shows it). URLs, @mentions,
// commands and the words of skip (user names) are left out and break
// phrases, as punctuation does; each term counts once per message.
func terms(text string, skip map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if len(out) < maxTermsPerMessage && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	var prev *textkit.Word // the previous word, when it could start a phrase
	for _, w := range textkit.Words(withoutLinks(text)) {
		if w.Break {
			prev = nil
		}
		if !textkit.Topic(w) || skip[w.Text] {
			prev = nil
			continue
		}
		add(w.Text)
		if prev != nil && prev.Text != w.Text {
			add(prev.Text + " " + w.Text)
		}
		prev = &w
	}
	return out
}

// termLabel is how a term is shown: a Chinese phrase without the space
// between its words ("燕麦奶拿铁").
func termLabel(term string) string { return textkit.Display(term) }

// withoutLinks replaces URLs, @mentions and /commands with a line break,
// which words don't cross.
func withoutLinks(text string) string {
	fs := strings.Fields(text)
	for i, f := range fs {
		lf := strings.ToLower(f)
		if strings.HasPrefix(lf, "http://") || strings.HasPrefix(lf, "https://") || strings.HasPrefix(lf, "www.") ||
			strings.HasPrefix(lf, "@") || strings.HasPrefix(lf, "<@") || strings.HasPrefix(lf, "/") {
			fs[i] = "\n"
		}
	}
	return strings.Join(fs, " ")
}

// nameWords returns the words of a display name as terms records them,
// for leaving user names out of the trends.
func nameWords(name string) []string {
	var out []string
	for _, w := range textkit.Words(name) {
		if utf8.RuneCountInString(w.Text) >= 2 {
			out = append(out, w.Text)
		}
	}
	return out
}
