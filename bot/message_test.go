package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		in, bot   string
		name, arg string
		ok        bool
	}{
		{"/help", "", "help", "", true},
		{"  /Ask what is  this ", "", "ask", "what is  this", true},
		{"/help@chorusbot", "chorusbot", "help", "", true},
		{"/help@ChorusBot x", "@chorusbot", "help", "x", true},
		{"/help@otherbot", "chorusbot", "", "", false},
		{"hello /help", "", "", "", false},
		{"/", "", "", "", false},
		{"/死", "", "", "", false},
		{"/" + strings.Repeat("a", 40), "", "", "", false},
		{"/mod words add spam", "", "mod", "words add spam", true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			cmd, ok := ParseCommand(c.in, c.bot)
			if ok != c.ok {
				t.Fatalf("ok=%v want %v", ok, c.ok)
			}
			if ok && (cmd.Name != c.name || cmd.Args != c.arg) {
				t.Errorf("got %q %q, want %q %q", cmd.Name, cmd.Args, c.name, c.arg)
			}
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/help", "/ask@bot hi", "/mod words add x", "/@", "/a@b@c d", "\x00/x"} {
		f.Add(s, "bot")
	}
	f.Fuzz(func(t *testing.T, text, botName string) {
		cmd, ok := ParseCommand(text, botName)
		if !ok {
			return
		}
		if cmd.Name == "" || len(cmd.Name) > MaxCommandName || strings.ToLower(cmd.Name) != cmd.Name {
			t.Fatalf("bad name %q", cmd.Name)
		}
		if strings.TrimSpace(cmd.Args) != cmd.Args {
			t.Fatalf("args not trimmed: %q", cmd.Args)
		}
	})
}

func TestSplitText(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		want int
	}{
		{"short", "hello", 10, 1},
		{"paragraphs", strings.Repeat("para one two three.\n\n", 10), 50, 5},
		{"no spaces", strings.Repeat("x", 25), 10, 3},
		{"chinese", strings.Repeat("你好世界。", 10), 12, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := SplitText(c.in, c.max)
			if len(got) != c.want {
				t.Errorf("%d pieces, want %d: %q", len(got), c.want, got)
			}
			for _, p := range got {
				if utf8.RuneCountInString(p) > c.max {
					t.Errorf("piece over limit: %q", p)
				}
			}
		})
	}
}

// Telegram's limit counts UTF-16 code units: an emoji outside the BMP
// counts twice, and a piece is never cut inside a character.
func TestLimitsSplitUTF16(t *testing.T) {
	lim := Limits{MaxLen: 10, UTF16: true}
	if got := lim.Len("a🎉é"); got != 4 {
		t.Errorf("Len(a🎉é) = %d, want 4", got)
	}
	if got := (Limits{MaxLen: 10}).Len("a🎉é"); got != 3 {
		t.Errorf("rune Len(a🎉é) = %d, want 3", got)
	}
	in := strings.Repeat("🎉", 25) // 25 runes, 50 units
	pieces := lim.Split(in)
	if len(pieces) != 5 || strings.Join(pieces, "") != in {
		t.Fatalf("%d pieces %q, want 5 of 5 emoji", len(pieces), pieces)
	}
	for _, p := range pieces {
		if !utf8.ValidString(p) || lim.Len(p) > 10 {
			t.Errorf("piece %q: %d units", p, lim.Len(p))
		}
	}
	if got := SplitText(in, 10); len(got) != 3 {
		t.Errorf("by runes: %d pieces, want 3", len(got))
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("Hello world. This is a test.\n\nNext paragraph!", 10)
	f.Add("你好世界。再见。", 3)
	f.Add("Party 🎉🎉 time! 🙂 ok.\n\nMore 🎉.", 4)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max <= 0 || max > 1000 || !utf8.ValidString(s) {
			return
		}
		for _, lim := range []Limits{{MaxLen: max}, {MaxLen: max, UTF16: true}} {
			if lim.UTF16 && max < 2 {
				continue // an emoji can't fit: it is sent whole
			}
			pieces := lim.Split(s)
			var total int
			for _, p := range pieces {
				if lim.Len(p) > max {
					t.Fatalf("utf16 %v: piece over limit %d: %q", lim.UTF16, max, p)
				}
				total += len(strings.Join(strings.Fields(p), ""))
			}
			if total != len(strings.Join(strings.Fields(s), "")) {
				t.Fatalf("utf16 %v: text lost: %q -> %q", lim.UTF16, s, pieces)
			}
		}
	})
}

func TestSanitizeText(t *testing.T) {
	got, cut := SanitizeText("a\x00b\xffc\td\n")
	if got != "ab\uFFFDc\td\n" || cut {
		t.Errorf("got %q cut=%v", got, cut)
	}
	big := strings.Repeat("é", MaxTextBytes)
	got, cut = SanitizeText(big)
	if !cut || len(got) > MaxTextBytes || !utf8.ValidString(got) {
		t.Errorf("huge text not cut safely: len %d cut=%v", len(got), cut)
	}
}

func TestDetectLang(t *testing.T) {
	c := NewCatalog()
	cases := []struct{ text, hint, want string }{
		{"Where is my order?", "", "en"},
		{"我的订单在哪里？", "", "zh"},
		{"ok", "zh-hans", "zh"},
		{"iPhone 的订单在哪里", "en", "zh"},
		{"hola amigos como estan", "es", "en"}, // no Spanish catalogue
	}
	for _, tc := range cases {
		if got := DetectLang(tc.text, tc.hint, c); got != tc.want {
			t.Errorf("DetectLang(%q, %q) = %q, want %q", tc.text, tc.hint, got, tc.want)
		}
	}
}

func TestCatalogPlurals(t *testing.T) {
	c := NewCatalog()
	c.Add("en", map[string]string{"test.users": "{n} active {n|user|users}, {n|it|they} wrote"})
	for _, tc := range []struct {
		n    any
		want string
	}{
		{1, "1 active user, it wrote"},
		{0, "0 active users, they wrote"},
		{12, "12 active users, they wrote"},
		{"1.5", "1.5 active users, they wrote"},
	} {
		if got := c.T("en", "test.users", "n", tc.n); got != tc.want {
			t.Errorf("n=%v: %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestCatalogsHaveSameKeys(t *testing.T) {
	c := NewCatalog()
	for _, lang := range c.Langs() {
		for k := range c.msgs[DefaultLang] {
			if _, ok := c.msgs[lang][k]; !ok {
				t.Errorf("catalogue %s lacks %q", lang, k)
			}
		}
	}
	if got := c.T("zh", "forgot", "count", 3); !strings.Contains(got, "3") {
		t.Errorf("placeholder not filled: %q", got)
	}
}
