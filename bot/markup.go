package bot

import (
	"regexp"
	"strings"
)

// Pings a reply may carry that notify people: everyone in a chat, a
// Discord user, role or everyone, a Telegram user by id.
var (
	broadcastRE = regexp.MustCompile(`(?i)@(everyone|here|channel|all)\b`)
	discordRE   = regexp.MustCompile(`<@[!&]?[A-Za-z0-9_-]+>`)
	// tgLinkRE is a Markdown link to a tg:// address; tgBareRE a bare one.
	tgLinkRE = regexp.MustCompile(`(?i)\[([^\]\n]*)\]\(\s*tg://[^)\s]*\s*\)`)
	tgBareRE = regexp.MustCompile(`(?i)<?tg://[^\s)>\]]*>?`)
)

// StripPings removes from the bot's reply the pings that the user did not
// write in message: @everyone, @here (and @channel, @all), Discord user
// and role mentions (<@123>, <@&456>) and every tg:// link (a Markdown
// link keeps its text). An @everyone written as "everyone" still reads
// well; a removed mention leaves nothing. Plain @handles are left to the
// output checks, which let only grounded ones through.
func StripPings(reply, message string) string {
	if !strings.ContainsAny(reply, "@<") && !strings.Contains(strings.ToLower(reply), "tg:") {
		return reply
	}
	lowerMsg := strings.ToLower(message)
	reply = broadcastRE.ReplaceAllStringFunc(reply, func(m string) string {
		if strings.Contains(lowerMsg, strings.ToLower(m)) {
			return m
		}
		return m[1:]
	})
	reply = discordRE.ReplaceAllStringFunc(reply, func(m string) string {
		if strings.Contains(message, m) || strings.Contains(message, strings.Replace(m, "<@!", "<@", 1)) {
			return m
		}
		return ""
	})
	reply = tgLinkRE.ReplaceAllString(reply, "$1")
	return tgBareRE.ReplaceAllString(reply, "")
}

// markdownSpecial are the characters escaped by EscapeMarkdown: those that
// open emphasis, code, strike-through, spoilers, links, quotes, headings,
// lists and Discord's <@id> mentions, and the backslash itself.
const markdownSpecial = "\\`*_~|[]()<>#"

// EscapeMarkdown makes s show as written where the platform renders
// Markdown: every Markdown character gets a backslash (Discord and the
// Telegram adapter both honour CommonMark's backslash escapes), a line
// starting with "-", "+" or a number and a full stop can't become a list,
// and an @handle can't become a mention. A display name such as
// "[Claim refund](https://evil.example)" stays text.
func EscapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart, digits := true, false
	for i, r := range s {
		switch {
		case strings.ContainsRune(markdownSpecial, r):
			b.WriteByte('\\')
		case lineStart && (r == '-' || r == '+' || r == '='):
			b.WriteByte('\\')
		case digits && (r == '.' || r == ')'):
			b.WriteByte('\\')
		case r == '@' && i+1 < len(s) && isHandleByte(s[i+1]):
			b.WriteString("@\u2060") // a word joiner: reads the same, pings no one
			lineStart, digits = false, false
			continue
		}
		b.WriteRune(r)
		switch {
		case r == '\n':
			lineStart, digits = true, false
		case r >= '0' && r <= '9' && (lineStart || digits):
			lineStart, digits = false, true
		case r != ' ' && r != '\t':
			lineStart, digits = false, false
		}
	}
	return b.String()
}

func isHandleByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Escape returns s escaped for markup m: EscapeMarkdown for the platforms
// that render the bot's Markdown (Discord, and Telegram through its HTML
// formatter), s itself for plain text.
func Escape(m Markup, s string) string {
	if m == MarkupPlain {
		return s
	}
	return EscapeMarkdown(s)
}

// OneLine folds line breaks and tabs into spaces: a display name is one
// line, whatever its owner typed.
func OneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
