package main

import (
	"io"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/client/clienttest"
)

// TestTagNumericIDs: a numeric id comes out exactly as it was written, even
// when it does not fit a float64 (ids above 2^53 used to be rounded).
func TestTagNumericIDs(t *testing.T) {
	srv := clienttest.Start(t, nil)
	defer func(r io.Reader) { stdin = r }(stdin)
	stdin = strings.NewReader(`{"id":9007199254740993,"text":"trí tuệ nhân tạo"}` + "\n" +
		`{"id":12345678901234567890,"text":"chất bán dẫn"}` + "\n" + `{"id":7,"text":"xe điện"}` + "\n")
	code, out, stderr := runTagctl(t, "tag", "--addr", srv.Addr(), "-q")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := parseOutput(t, out)
	for _, id := range []string{"9007199254740993", "12345678901234567890", "7"} {
		if _, ok := got[id]; !ok {
			t.Errorf("id %s missing from the output:\n%s", id, out)
		}
	}
}
