package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	in := Read()
	if in.GoVersion != runtime.Version() || in.Version == "" || in.Commit == "" {
		t.Errorf("%+v", in)
	}
	defer func() { version, commit = "", "" }()
	version, commit = "v9.9.9", "abc1234"
	s := Read().String("tagctl")
	for _, want := range []string{"tagctl v9.9.9", "commit abc1234", runtime.Version()} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
}
