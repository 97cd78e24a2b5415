package configs

import (
	"os"
	"testing"
)

func TestResolvePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if got := ResolvePath(""); got != "" {
		t.Errorf("ResolvePath(\"\") without chorus.yaml = %q", got)
	}
	if got := ResolvePath("x.yaml"); got != "x.yaml" {
		t.Errorf("ResolvePath(x.yaml) = %q", got)
	}
	if err := os.WriteFile(DefaultPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ResolvePath(""); got != DefaultPath {
		t.Errorf("ResolvePath(\"\") with chorus.yaml = %q", got)
	}
}
