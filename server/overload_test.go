package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestOverloadShedsWithRetryHint: streams that never read their results
// hold the server's document budget (--max-inflight-bytes); a new call then
// is shed within about a second with UNAVAILABLE OVERLOADED and a
// RetryInfo, over gRPC and REST (503 with Retry-After), instead of the
// server queueing until memory runs out; a stream that meets the full
// budget ends like a drained one, every document it took answered; once
// the greedy streams are gone, calls succeed again.
func TestOverloadShedsWithRetryHint(t *testing.T) {
	text := strings.Repeat("tên lửa và vệ tinh ", 50) // about 1 KB
	ts := start(t, func(c *Config) {
		c.MaxInflightBytes = 16 << 10 // about 16 documents
		c.StreamMaxInFlight = 8
	})
	// Four streams send documents and never read: once the transport's
	// windows are full, they hold the budget (each result waits to be
	// sent).
	greedy, stopGreedy := context.WithCancel(context.Background())
	defer stopGreedy()
	// Fixed windows: grpc-go would otherwise grow them (BDP estimation)
	// and let the server send on.
	conn, err := grpc.NewClient(ts.srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecureCreds()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for range 4 {
		stream, err := pb.NewTaggerServiceClient(conn).StreamTagDocuments(greedy)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for i := 0; i < 200; i++ {
				if stream.Send(&pb.StreamTagDocumentsRequest{Document: doc("g", text)}) != nil {
					return
				}
			}
		}()
	}
	// Stalled, not merely slow: on a loaded machine the budget also looks
	// full while the streams still tag and send, and a result sent then
	// makes room for the call below. So the budget must stay full while no
	// document is tagged for half a second (once the windows are full,
	// nothing moves).
	full := func() bool { return ts.srv.svc.BudgetHeld() > 16<<10-int64(len(text)) }
	tagged := func() float64 { return metricValue(t, ts.srv, "doctagger_documents_total", "ok") }
	waitFor(t, "the greedy streams to stall with the budget full", func() bool {
		before := tagged()
		if !full() {
			return false
		}
		time.Sleep(500 * time.Millisecond)
		return full() && tagged() == before
	})

	start := time.Now()
	_, err = ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: doc("late", text)})
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || pb.ReasonOf(err) != pb.ErrorReason_OVERLOADED || retryDelay(st) <= 0 {
		t.Fatalf("unary under overload: %v %v", st.Code(), st.Proto())
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("shed after %v", took)
	}
	resp := ts.do(t, "POST", "/v1/documents:tag", strings.NewReader(`{"document": {"id": "r", "text": "`+text+`"}}`), nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "OVERLOADED") {
		t.Fatalf("REST under overload: %d %v %s", resp.StatusCode, resp.Header, body)
	}

	// A stream that reads: it is answered for what it took, then told to
	// come back.
	stream, err := ts.client.StreamTagDocuments(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := 0; i < 20; i++ {
			if stream.Send(&pb.StreamTagDocumentsRequest{Document: doc("s", text)}) != nil {
				return
			}
		}
		stream.CloseSend()
	}()
	answered := 0
	for {
		r, err := stream.Recv()
		if err != nil {
			if st := status.Convert(err); st.Code() != codes.Unavailable || pb.ReasonOf(err) != pb.ErrorReason_OVERLOADED ||
				!strings.Contains(st.Message(), "documents 1..") {
				t.Fatalf("stream under overload ended with %v after %d results", err, answered)
			}
			break
		}
		if r.Result.Error != nil {
			t.Fatalf("result %v", r.Result)
		}
		answered++
	}

	// The greedy streams go: the service recovers.
	stopGreedy()
	waitFor(t, "the budget to empty", func() bool { return ts.srv.svc.BudgetHeld() == 0 })
	if _, err := ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: doc("after", text)}); err != nil {
		t.Fatalf("after the overload: %v", err)
	}
}

// TestInflightCallsLimit: past --max-inflight-calls a new call is refused
// from its headers, before its message is read, with UNAVAILABLE
// OVERLOADED and a retry hint (REST: 503 and Retry-After); health checks
// still answer.
func TestInflightCallsLimit(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxInflightCalls = 2 })
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	for range 2 {
		s, err := ts.client.StreamTagDocuments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A first message makes the call reach the server's handler.
		if err := s.Send(&pb.StreamTagDocumentsRequest{Document: doc("x", "x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: doc("a", sentence)})
	if st := status.Convert(err); st.Code() != codes.Unavailable || pb.ReasonOf(err) != pb.ErrorReason_OVERLOADED || retryDelay(st) <= 0 {
		t.Fatalf("third call: %v", st.Proto())
	}
	resp := ts.do(t, "POST", "/v1/documents:tag", strings.NewReader(`{"document": {"id": "r", "text": "x"}}`), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("REST third call: %d %v", resp.StatusCode, resp.Header)
	}
	if code, _, _ := ts.doJSON(t, "GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	cancel()
	waitFor(t, "calls to be taken again", func() bool {
		_, err := ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: doc("a", sentence)})
		return err == nil
	})
}

func retryDelay(st *status.Status) time.Duration {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}
