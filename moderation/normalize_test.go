package moderation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Free", "free"},
		{"fr3e", "free"},
		{"ｆｒｅｅ", "free"},
		{"fr\u0435e", "free"},        // Cyrillic е
		{"f\u200bree", "free"},       // zero-width space
		{"f\u202eree\u202c", "free"}, // bidi override
		{"FREEEEEE", "free"},
		{"frée", "free"},
		{"𝐟𝐫𝐞𝐞", "free"}, // mathematical bold
		{"h3ll0 w0rld", "hello world"},
		{"$h1t", "shit"},
		{"wow!!!", "wow!!"},
		{"costs $5 in 2024", "costs $5 in 2024"},
		{"  many   spaces\n\there ", "many spaces here"},
		{"Straße", "strasse"},
		{"退款太慢了！！！", "退款太慢了!!"},
		{"hello", "hello"},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"fr3e", "ｆｒｅｅ", "fr\u0435e", "h\u200be\u202ello", "Scunthorpe", "退款", "\xff\xfe", "a!!!!!!", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if n2 := Normalize(n); n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, n2)
		}
		if strings.Contains(n, "\u200b") || strings.Contains(n, "  ") {
			t.Fatalf("Normalize(%q) = %q keeps invisible or double spaces", s, n)
		}
	})
}
