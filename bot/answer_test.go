package bot

import (
	"strings"
	"testing"
)

// The marker is never shown, however the stream cuts it, in any case.
func TestMarkerFilterStreaming(t *testing.T) {
	text := "[[No-Answer]]Sorry, I don't know [that]. Ask [[no-answer]] the team."
	for size := 1; size <= len(text); size++ {
		var f markerFilter
		var shown strings.Builder
		for i := 0; i < len(text); i += size {
			out := f.Write(text[i:min(i+size, len(text))])
			shown.WriteString(out)
			if strings.Contains(strings.ToLower(shown.String()), "no-answer") || strings.Contains(shown.String(), "[[") {
				t.Fatalf("piece size %d: marker shown mid-stream: %q", size, shown.String())
			}
		}
		shown.WriteString(f.Flush())
		if got := shown.String(); got != "Sorry, I don't know [that]. Ask the team." || !f.found {
			t.Fatalf("piece size %d: shown %q, found %v", size, got, f.found)
		}
	}
	if s, ok := StripNoAnswer("We ship in 2 days [source: a.md]"); ok || s != "We ship in 2 days [source: a.md]" {
		t.Errorf("text without the marker changed: %q %v", s, ok)
	}
	if s, ok := StripNoAnswer("[[no-answer]] Sorry,  no idea.\n\n- ask the team "); !ok || s != "Sorry,  no idea.\n\n- ask the team" {
		t.Errorf("StripNoAnswer = %q, %v; want the marker and its space gone, the rest as written", s, ok)
	}
	if s, _ := StripNoAnswer("No idea[[no-answer]], sorry."); s != "No idea, sorry." {
		t.Errorf("StripNoAnswer mid-word = %q", s)
	}
	var f markerFilter
	if got := f.Write("costs $5 [") + f.Flush(); got != "costs $5 [" {
		t.Errorf("a held-back tail that wasn't the marker was lost: %q", got)
	}
}
