package llm

import (
	"strings"
	"testing"
)

func TestUnmaskStreamSplitPlaceholders(t *testing.T) {
	m, _ := NewMasker(nil)
	m.Mask("a@b.io and 4111111111111111")
	reply := "Sent to [EMAIL_1], charged [CARD_1]. [brackets] stay [EMAIL_"
	want := "Sent to a@b.io, charged 4111111111111111. [brackets] stay [EMAIL_"
	for size := 1; size <= len(reply); size++ {
		u := &unmasker{m: m}
		var b strings.Builder
		for i := 0; i < len(reply); i += size {
			b.WriteString(u.push(reply[i:min(i+size, len(reply))]))
		}
		b.WriteString(u.flush())
		if b.String() != want {
			t.Fatalf("chunk size %d: %q, want %q", size, b.String(), want)
		}
	}
}

// FuzzUnmaskStream checks that a masked text streamed back in small pieces
// unmasks to the original, whatever the text.
func FuzzUnmaskStream(f *testing.F) {
	for _, s := range []string{"", "jane@example.com", "[EMAIL_1] a@b.io [EMAIL_", "[[[PHONE_1]]]", "电话13800138000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := NewMasker(map[string]string{"ticket": `T#[0-9]+`})
		if err != nil {
			t.Fatal(err)
		}
		masked := m.Mask(s)
		u := &unmasker{m: m}
		var b strings.Builder
		for i := 0; i < len(masked); i += 3 {
			b.WriteString(u.push(masked[i:min(i+3, len(masked))]))
		}
		b.WriteString(u.flush())
		if b.String() != s {
			t.Fatalf("streamed unmask of %q = %q", masked, b.String())
		}
	})
}
