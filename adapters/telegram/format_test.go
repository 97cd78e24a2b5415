package telegram

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chorusbot/chorus/adapters/telegram/telegramtest"
	"github.com/chorusbot/chorus/bot"
)

func TestFormatHTML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello world", "hello world"},
		{"escape", "a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"bold", "this is **bold** text", "this is <b>bold</b> text"},
		{"bold underscores", "__strong__", "<b>strong</b>"},
		{"italic star", "an *italic* word", "an <i>italic</i> word"},
		{"italic underscore", "an _italic_ word", "an <i>italic</i> word"},
		{"snake case stays", "use snake_case_names here", "use snake_case_names here"},
		{"bold with italic", "**bold _and italic_**", "<b>bold <i>and italic</i></b>"},
		{"code", "run `a<b>` now", "run <code>a&lt;b&gt;</code> now"},
		{"code keeps stars", "`**x**`", "<code>**x**</code>"},
		{"fence", "```go\nif a < b {\n}\n```\nafter", "<pre>if a &lt; b {\n}</pre>\nafter"},
		{"unclosed fence", "see:\n```\nx := 1", "see:\n<pre>x := 1</pre>"},
		{"link", "[docs](https://example.com/a?b=1&c=2)", `<a href="https://example.com/a?b=1&amp;c=2">docs</a>`},
		{"js link refused", "[x](javascript:alert(1))", "[x](javascript:alert(1))"},
		{"heading", "## Price & plans", "<b>Price &amp; plans</b>"},
		{"hashtag not heading", "#launch day", "#launch day"},
		{"bullets", "- one\n* two\n+ **three**", "• one\n• two\n• <b>three</b>"},
		{"unbalanced bold", "half **open", "half **open"},
		{"unbalanced italic", "2 * 3 = 6", "2 * 3 = 6"},
		{"stars run", "***", "***"},
		{"html injection", "<script>alert('x')</script>", "&lt;script&gt;alert('x')&lt;/script&gt;"},
		{"chinese", "**重要**：请看_文档_", "<b>重要</b>：请看<i>文档</i>"},
		{"backslash escapes", `\*not italic\* \_x\_ 1\<2`, "*not italic* _x_ 1&lt;2"},
		{"escaped name is no link", `\[Claim refund\]\(https://evil.example\)`, "[Claim refund](https://evil.example)"},
		{"backslash before a letter stays", `C:\Users`, `C:\Users`},
		{"tg link refused", "[boss](tg://user?id=42)", "[boss](tg://user?id=42)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatHTML(tt.in)
			if got != tt.want {
				t.Errorf("FormatHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if err := telegramtest.CheckHTML(got); err != nil {
				t.Errorf("FormatHTML(%q) = %q is not valid Telegram HTML: %v", tt.in, got, err)
			}
		})
	}
}

// TestFormatHTMLKeepsText checks that text without Markdown markers shows
// exactly as written.
func TestFormatHTMLKeepsText(t *testing.T) {
	for _, in := range []string{"Tom & Jerry <3", "a > b\n\nc", "价格是 ¥99 & 包邮", "x = 1; y = 2."} {
		if got := plainText(FormatHTML(in)); got != in {
			t.Errorf("visible text of %q = %q", in, got)
		}
	}
}

func FuzzFormatHTML(f *testing.F) {
	for _, s := range []string{"", "**bold** and *it*", "`code` ```\nblock\n```", "[a](https://x.y) <b>&amp;",
		"# head\n- item\n1. one", "__a_b__c_", "***x***", "[x](https://a\"b)", "_a *b_ c*", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, md string) {
		out := FormatHTML(md)
		if err := telegramtest.CheckHTML(out); err != nil {
			t.Fatalf("FormatHTML(%q) = %q: %v", md, out, err)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("FormatHTML(%q) = %q is not valid UTF-8", md, out)
		}
		// Nothing the user wrote disappears but markers, backslash
		// escapes and fence lines.
		if !strings.ContainsAny(md, "*_`[]()#-+\n\\") && utf8.ValidString(md) {
			if got := plainText(out); got != md {
				t.Fatalf("visible text of %q = %q", md, got)
			}
		}
	})
}

// TestFormatHTMLAdversarial runs inputs that would be quadratic for a
// naive scanner; it checks the output, and the package timeout bounds it.
func TestFormatHTMLAdversarial(t *testing.T) {
	for _, unit := range []string{"*a ", "_a ", "**a ", "`a ", "[a ", "[[a](", "*_`[", "** __ "} {
		in := strings.Repeat(unit, 16<<10/len(unit))
		out := FormatHTML(in)
		if err := telegramtest.CheckHTML(out); err != nil {
			t.Fatalf("%q×n: %v", unit, err)
		}
	}
}

// TestEscapedNamesShowAsWritten: a display name escaped by the engine
// (bot.EscapeMarkdown) comes out of the formatter as the same text, with
// no link, tag or mention made of it.
func TestEscapedNamesShowAsWritten(t *testing.T) {
	for _, name := range []string{
		"[Claim refund](https://evil.example)", "**boss**", "_x_", "`rm -rf`", "<b>hi</b>", "a\\b", "# title",
		"- item", "1. first", "[boss](tg://user?id=42)", "~~gone~~", "||spoiler||", "@admin",
	} {
		html := FormatHTML(bot.EscapeMarkdown(name))
		if strings.Contains(html, "<a ") || strings.Contains(html, "<b>") || strings.Contains(html, "<i>") || strings.Contains(html, "<code>") {
			t.Errorf("name %q became markup: %q", name, html)
		}
		if got := strings.ReplaceAll(plainText(html), "\u2060", ""); got != name {
			t.Errorf("name %q shows as %q", name, got)
		}
	}
}
