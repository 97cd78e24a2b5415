package llm

import (
	"fmt"
	"strings"

	"github.com/chorusbot/chorus/bot"
)

// Masker replaces personal data with placeholders and puts it back. The
// detectors live in bot (bot.Masker), so that the reports and the audit log
// mask quotes exactly as the model's requests are masked.
type Masker = bot.Masker

// NewMasker returns a masker with the built-in detectors and the extra
// patterns; see bot.NewMasker.
func NewMasker(patterns map[string]string) (*Masker, error) {
	m, err := bot.NewMasker(patterns)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return m, nil
}

// unmasker unmasks a stream of deltas, holding back a trailing piece that
// could be the start of a placeholder split across chunks.
type unmasker struct {
	m    *Masker
	hold string
}

func (u *unmasker) push(delta string) string {
	if u.m.Issued() == 0 {
		return delta
	}
	s := u.hold + delta
	u.hold = ""
	if i := strings.LastIndexByte(s, '['); i >= 0 && len(s)-i < u.m.Longest() && placeholderPrefix(s[i+1:]) {
		u.hold = s[i:]
		s = s[:i]
	}
	return u.m.Unmask(s)
}

func (u *unmasker) flush() string {
	s := u.hold
	u.hold = ""
	return u.m.Unmask(s)
}

// placeholderPrefix reports whether s could continue a placeholder's body.
func placeholderPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
