package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name     string
		patterns map[string]string
		in       string
		want     string
	}{
		{name: "email", in: "write to jane.doe+shop@mail.example.co.uk please", want: "write to [EMAIL_1] please"},
		{name: "same value same placeholder", in: "a@b.io, c@d.io, a@b.io", want: "[EMAIL_1], [EMAIL_2], [EMAIL_1]"},
		{name: "visa with spaces", in: "card 4111 1111 1111 1111 exp 12/27", want: "card [CARD_1] exp 12/27"},
		{name: "amex with dashes", in: "3782-822463-10005", want: "[CARD_1]"},
		{name: "card failing Luhn is left", in: "order 4111 1111 1111 1112 shipped", want: "order 4111 1111 1111 1112 shipped"},
		{name: "iban grouped", in: "IBAN DE89 3704 0044 0532 0130 00 OK thanks", want: "IBAN [IBAN_1] OK thanks"},
		{name: "iban compact", in: "pay GB82WEST12345698765432.", want: "pay [IBAN_1]."},
		{name: "iban failing mod 97 is left", in: "GB82WEST12345698765433", want: "GB82WEST12345698765433"},
		{name: "phone intl", in: "call +44 20 7946 0958 today", want: "call [PHONE_1] today"},
		{name: "phone intl dashes", in: "+1-555-123-4567", want: "[PHONE_1]"},
		{name: "phone 00 prefix", in: "ring 0049 30 901820", want: "ring [PHONE_1]"},
		{name: "phone north american", in: "(555) 123-4567 or 555.123.4567", want: "[PHONE_1] or [PHONE_2]"},
		{name: "phone uk national", in: "020 7946 0958", want: "[PHONE_1]"},
		{name: "phone chinese mobile", in: "我的电话是13800138000，谢谢", want: "我的电话是[PHONE_1]，谢谢"},
		{name: "chinese around email", in: "邮箱li.lei@example.cn谢谢", want: "邮箱[EMAIL_1]谢谢"},
		{name: "dates prices and order numbers stay", in: "on 2024-05-01 I paid $49.99 for order #12345", want: "on 2024-05-01 I paid $49.99 for order #12345"},
		{name: "custom pattern", patterns: map[string]string{"order id": `ORD-[0-9]{6}`}, in: "ORD-123456 and ORD-123456", want: "[ORDER_ID_1] and [ORDER_ID_1]"},
		{name: "literal placeholder in text is not reused", in: "[EMAIL_1] is not a@b.io", want: "[EMAIL_1] is not [EMAIL_2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMasker(tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			got := m.Mask(tt.in)
			if got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if back := m.Unmask(got); back != tt.in {
				t.Errorf("Unmask = %q, want %q", back, tt.in)
			}
		})
	}
}

func TestMaskAcrossMessages(t *testing.T) {
	m, _ := NewMasker(nil)
	a := m.Mask("my mail is x@y.org")
	b := m.Mask("did you get x@y.org? also z@y.org")
	if a != "my mail is [EMAIL_1]" || b != "did you get [EMAIL_1]? also [EMAIL_2]" {
		t.Errorf("got %q / %q", a, b)
	}
	if got := m.Unmask("[EMAIL_2] and [EMAIL_9] and [email_1]"); got != "z@y.org and [EMAIL_9] and [email_1]" {
		t.Errorf("Unmask = %q", got)
	}
}

// FuzzMask checks that masking never panics, keeps text valid, always
// round-trips, and leaves no email address behind.
func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"", "hi", "jane@example.com", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
		"+44 20 7946 0958", "电话13800138000", "[EMAIL_1] a@b.io [EMAIL_", "[[[PHONE_1]]]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := NewMasker(map[string]string{"ticket": `T#[0-9]+`})
		if err != nil {
			t.Fatal(err)
		}
		masked := m.Mask(s)
		if utf8.ValidString(s) && !utf8.ValidString(masked) {
			t.Fatalf("Mask(%q) = %q is not valid UTF-8", s, masked)
		}
		if back := m.Unmask(masked); back != s {
			t.Fatalf("Unmask(Mask(%q)) = %q", s, back)
		}
		if e := reEmail.FindString(masked); e != "" {
			t.Fatalf("Mask(%q) = %q still holds %q", s, masked, e)
		}
	})
}

func BenchmarkMask(b *testing.B) {
	m, _ := NewMasker(nil)
	text := strings.Repeat("Hi, I'm jane@example.com, my card is 4111 1111 1111 1111 and phone +44 20 7946 0958. The parcel hasn't arrived yet. ", 8)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		m.Fork().Mask(text)
	}
}

func BenchmarkMaskPlain(b *testing.B) {
	m, _ := NewMasker(nil)
	text := strings.Repeat("Hi, the parcel hasn't arrived yet, can you check where it is? ", 16)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		m.Fork().Mask(text)
	}
}

func TestMaskPII(t *testing.T) {
	in := "mail bob@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111"
	got := MaskPII(in)
	for _, leak := range []string{"bob@example.com", "7946", "4111"} {
		if strings.Contains(got, leak) {
			t.Errorf("MaskPII(%q) = %q still holds %q", in, got, leak)
		}
	}
	if want := "mail [EMAIL_1] or call [PHONE_1], card [CARD_1]"; got != want {
		t.Errorf("MaskPII = %q, want %q", got, want)
	}
	if got := MaskPII("nothing personal here"); got != "nothing personal here" {
		t.Errorf("plain text changed: %q", got)
	}
}
