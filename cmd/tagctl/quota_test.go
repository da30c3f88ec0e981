package main

import (
	"strings"
	"testing"
	"time"

	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/server"
)

// TestQuotaHint: tagctl with its 4 streams, for a caller allowed 1 stream
// and 200 documents a second, gets every document through: the streams
// refused with QUOTA_EXCEEDED wait the server's retry hint and reopen, and
// the open one is held to the rate.
func TestQuotaHint(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) {
		c.AuthTokens = []string{"batch: s3cret"}
		c.Quota = middleware.Quota{DocumentsPerSecond: 200, Streams: 1}
	})
	const n = 600
	input := writeNDJSON(t, t.TempDir(), n, func(i int) string { return "trí tuệ nhân tạo" })
	begin := time.Now()
	code, out, stderr := runTagctl(t, "tag", input, "--addr", srv.Addr(), "--token", "s3cret", "--token-plaintext", "-q")
	took := time.Since(begin)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if lines := strings.Count(out, "\n"); lines != n || strings.Contains(out, `"error"`) {
		t.Fatalf("%d result lines, want %d without errors", lines, n)
	}
	if took < 2*time.Second {
		t.Errorf("%d documents at 200 a second took %s", n, took)
	}
}
