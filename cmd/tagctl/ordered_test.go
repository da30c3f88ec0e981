package main

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/client/clienttest"
)

// TestTagOrdered: with --ordered the output follows the input order, over
// several streams, over gRPC and over REST.
func TestTagOrdered(t *testing.T) {
	srv := clienttest.Start(t, nil)
	var in strings.Builder
	const n = 500
	for i := range n {
		// Uneven lengths, so that results come back out of order.
		fmt.Fprintf(&in, `{"id":"d%d","text":"%s"}`+"\n", i, strings.Repeat("trí tuệ nhân tạo và xe điện. ", 1+(i*37)%50))
	}
	for _, mode := range [][]string{{"--addr", srv.Addr()}, {"--rest", srv.HTTPURL()}} {
		defer func(r io.Reader) { stdin = r }(stdin)
		stdin = strings.NewReader(in.String())
		args := append([]string{"tag", "-q", "--ordered", "--concurrency", "4"}, mode...)
		code, out, stderr := runTagctl(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", mode, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != n {
			t.Fatalf("%v: %d lines, want %d", mode, len(lines), n)
		}
		for i, line := range lines {
			if r := parseResult(t, line); r.GetDocumentId() != fmt.Sprintf("d%d", i) || r.GetSequence() != int64(i+1) {
				t.Fatalf("%v: line %d is %s, want id d%d, sequence %d", mode, i, line, i, i+1)
			}
		}
	}
}
