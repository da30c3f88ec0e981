package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
)

// bothThemes is a text the embedded rules tag with ai and drones.
const bothThemes = "Doanh nghiệp đầu tư vào trí tuệ nhân tạo và máy bay không người lái."

func themesOf(tags []*pb.Tag) string {
	var th []string
	for _, t := range tags {
		th = append(th, t.GetTheme())
	}
	slices.Sort(th)
	return strings.Join(th, " ")
}

// TestDocumentOptions: a document's own Options replace the call's, in
// Tag, TagBatch (a call per run of documents with the same options) and
// TagStream (sent whenever they change, including on the first request of
// each new stream, and back to the call's options after).
func TestDocumentOptions(t *testing.T) {
	srv := clienttest.Start(t, nil)
	var batchCalls atomic.Int64
	count := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if strings.HasSuffix(method, "/BatchTagDocuments") {
			batchCalls.Add(1)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	})
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second), client.WithDialOptions(count))
	ctx := context.Background()
	aiOnly := &pb.TagOptions{Themes: []string{"ai"}}
	dronesOnly := &pb.TagOptions{Themes: []string{"drones"}, OmitEvidence: true}
	all := &pb.TagOptions{}

	res, err := c.Tag(ctx, client.Document{ID: "t", Text: bothThemes, Options: dronesOnly}, aiOnly)
	if err != nil || themesOf(res.GetTags()) != "drones" {
		t.Errorf("Tag with the document's options: %v, %v", res, err)
	}

	// Runs: [call call] [drones drones] [call] [all] [drones]
	batchOpts := []*pb.TagOptions{nil, nil, dronesOnly, dronesOnly, nil, all, dronesOnly}
	want := map[*pb.TagOptions]string{nil: "ai", dronesOnly: "drones", all: "ai drones"}
	var batch []client.Document
	for i, o := range batchOpts {
		batch = append(batch, client.Document{ID: fmt.Sprint(i), Text: bothThemes, Options: o})
	}
	results, err := c.TagBatch(ctx, batch, aiOnly)
	if err != nil || len(results) != len(batch) {
		t.Fatalf("TagBatch: %d results, %v", len(results), err)
	}
	for i, r := range results {
		if got := themesOf(r.GetTags()); r.GetDocumentId() != fmt.Sprint(i) || got != want[batchOpts[i]] {
			t.Errorf("TagBatch: document %d: want %s, got %s (%v)", i, want[batchOpts[i]], got, r)
		}
	}
	if n := batchCalls.Load(); n != 5 {
		t.Errorf("TagBatch made %d calls, want 5 (one per run of documents with the same options)", n)
	}
	batch[2].Options = &pb.TagOptions{Themes: []string{"ai", "y-t\xe1\xba"}}
	if _, err := c.TagBatch(ctx, batch, aiOnly); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "document 2: options.themes[1] is not valid UTF-8 (byte offset 3)") {
		t.Errorf("TagBatch with a document's options not valid UTF-8: %v", err)
	}

	// TagStream: the options change from one document to the next, on
	// streams recycled every few documents.
	const n = 300
	pick := func(i int) *pb.TagOptions {
		switch i % 4 {
		case 1:
			return dronesOnly
		case 2:
			return &pb.TagOptions{} // a fresh pointer, equal to all
		case 3:
			if i == 151 {
				return &pb.TagOptions{Themes: []string{"\xff"}}
			}
		}
		return nil
	}
	input := func(yield func(client.Document) bool) {
		for i := range n {
			if !yield(client.Document{ID: fmt.Sprintf("doc-%06d", i), Text: bothThemes, Options: pick(i)}) {
				return
			}
		}
	}
	var stats client.StreamStats
	got := collect(t, c.TagStream(ctx, input, client.StreamOptions{Tag: aiOnly, Streams: 3, Window: 12, RecycleAfter: 7, Stats: &stats}), n)
	for i := range n {
		r := got[fmt.Sprintf("doc-%06d", i)]
		if i == 151 {
			if status.Code(r.Err) != codes.InvalidArgument || !strings.Contains(r.Err.Error(), "document 151: options.themes[0] is not valid UTF-8") || r.Attempts != 0 {
				t.Errorf("document %d (options not valid UTF-8): want INVALID_ARGUMENT, not sent; got %d attempts, %v", i, r.Attempts, r.Err)
			}
			continue
		}
		w := map[int]string{0: "ai", 1: "drones", 2: "ai drones", 3: "ai"}[i%4]
		if r.Err != nil || themesOf(r.Tags) != w {
			t.Errorf("document %d: want %s, got %s, %v", i, w, themesOf(r.Tags), r.Err)
		}
		if ev := len(r.Tags) > 0 && len(r.Tags[0].GetEvidence()) > 0; ev != (i%4 != 1) {
			t.Errorf("document %d: evidence %v, want %v", i, ev, i%4 != 1)
		}
	}
	if stats.Opened.Load() < 10 {
		t.Errorf("%d streams opened; want many (RecycleAfter 7)", stats.Opened.Load())
	}
}

// TestIsPermanent: the codes that no retry fixes, ALREADY_EXISTS among
// them, and the ones that may pass later or elsewhere.
func TestIsPermanent(t *testing.T) {
	for c, want := range map[codes.Code]bool{
		codes.Unauthenticated: true, codes.PermissionDenied: true, codes.InvalidArgument: true,
		codes.Unimplemented: true, codes.FailedPrecondition: true, codes.NotFound: true,
		codes.AlreadyExists: true, codes.OutOfRange: true,
		codes.Unavailable: false, codes.DeadlineExceeded: false, codes.Internal: false,
		codes.ResourceExhausted: false, codes.Unknown: false, codes.Aborted: false, codes.Canceled: false,
	} {
		if got := client.IsPermanent(status.Error(c, "x")); got != want {
			t.Errorf("IsPermanent(%v) = %v, want %v", c, got, want)
		}
	}
	if client.IsPermanent(nil) || client.IsPermanent(errors.New("not a status")) {
		t.Error("IsPermanent: nil or a plain error is not permanent")
	}
}
