package server

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestQuotaFileReload: Reload applies a changed quota file; a bad one is
// an error naming it, and the quotas in force stay.
func TestQuotaFileReload(t *testing.T) {
	ts, quotas := startWithQuotas(t, "slow: slow-token\n", "callers:\n  slow: {documents_per_second: 1000, burst: 1000}\n")
	ctx := func() context.Context {
		return metadata.AppendToOutgoingContext(ctxT(t), "authorization", "Bearer slow-token")
	}
	req := &pb.TagDocumentRequest{Document: doc("a", sentence)}
	// calls is how many of n calls pass before one is refused over the quota.
	calls := func(n int) int {
		t.Helper()
		for i := range n {
			if _, err := ts.client.TagDocument(ctx(), req); err != nil {
				if status.Code(err) != codes.ResourceExhausted {
					t.Fatalf("call %d: %v", i+1, err)
				}
				return i
			}
		}
		return n
	}
	if got := calls(5); got != 5 {
		t.Fatalf("under a quota of 1000 a second: %d calls of 5 passed", got)
	}

	// A bad file: the error names it, the quotas stay.
	writeFile(t, quotas, "callers:\n  slow: {documents_per_second: -1}\n")
	if err := ts.srv.Reload(); err == nil || !strings.Contains(err.Error(), quotas) || !strings.Contains(err.Error(), "negative limit") {
		t.Fatalf("reload of a bad quota file: %v", err)
	}
	if got := calls(5); got != 5 {
		t.Fatalf("after a failed reload: %d calls of 5 passed, want the previous quota", got)
	}

	// A good one applies.
	writeFile(t, quotas, "callers:\n  slow: {documents_per_second: 0.001, burst: 2}\n")
	if err := ts.srv.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := calls(5); got != 2 {
		t.Fatalf("after the reload to a burst of 2: %d calls of 5 passed", got)
	}
}
