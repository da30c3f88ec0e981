package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
)

const (
	traceID    = "4bf92f3577b34da6a3ce929d0e0e4736"
	parentSpan = "00f067aa0ba902b7"
	traceparnt = "00-" + traceID + "-" + parentSpan + "-01"
)

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		m[a.Key] = a.Value
	}
	return m
}

// TestTracingREST: a REST call with a traceparent makes one trace: the
// HTTP span (otelhttp) under the caller's span, the in-process call's span
// under it with the request id, documents, bytes, tags and ruleset
// version, and the engine's work (tagger.Tag) under that; the request id is in the response and in the call's log line.
// A gRPC call's span (otelgrpc) continues its traceparent the same way and
// its request id comes back in the header metadata.
func TestTracingREST(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ts := start(t, func(c *Config) { c.TracerProvider = tp })

	resp := ts.do(t, "POST", "/v1/documents:tag", strings.NewReader(`{"document": {"id": "a", "text": "`+sentence+`"}}`),
		map[string]string{"traceparent": traceparnt, "X-Request-Id": "rest-42"})
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "rest-42" {
		t.Fatalf("HTTP %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	if resp.Header.Get("Grpc-Metadata-X-Request-Id") != "" {
		t.Errorf("the request id is echoed twice: %v", resp.Header)
	}

	var md metadata.MD
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "traceparent", traceparnt)
	if _, err := ts.client.TagDocument(ctx, &pb.TagDocumentRequest{Document: doc("g", sentence)}, grpc.Header(&md)); err != nil {
		t.Fatal(err)
	}
	grpcID := md.Get("x-request-id")
	if len(grpcID) != 1 || len(grpcID[0]) != 16 {
		t.Fatalf("gRPC header x-request-id %v, want a new id", grpcID)
	}

	var httpSpan, callSpan, grpcSpan sdktrace.ReadOnlySpan
	var engineSpans []sdktrace.ReadOnlySpan
	waitFor(t, "the spans", func() bool {
		engineSpans = engineSpans[:0]
		for _, s := range rec.Ended() {
			switch s.Name() {
			case "tagger.Tag":
				engineSpans = append(engineSpans, s)
			case "POST /v1/documents:tag":
				httpSpan = s
			case "tagger.v1.TaggerService/TagDocument":
				if s.SpanKind().String() == "internal" {
					callSpan = s
				} else {
					grpcSpan = s
				}
			}
		}
		return httpSpan != nil && callSpan != nil && grpcSpan != nil && len(engineSpans) == 2
	})
	// The engine's work is under the call's span, over REST and gRPC alike.
	for _, e := range engineSpans {
		parent := e.Parent().SpanID()
		if parent != callSpan.SpanContext().SpanID() && parent != grpcSpan.SpanContext().SpanID() {
			t.Errorf("the engine's span is under %s, not a call's", parent)
		}
		if a := attrs(e); a["doctagger.bytes"].AsInt64() != int64(len(sentence)) || a["doctagger.words"].AsInt64() < 5 || a["doctagger.tags"].AsInt64() < 1 {
			t.Errorf("engine span attributes %v", a)
		}
	}
	if got := httpSpan.SpanContext().TraceID().String(); got != traceID || httpSpan.Parent().SpanID().String() != parentSpan {
		t.Errorf("REST span: trace %s parent %s, want %s %s", got, httpSpan.Parent().SpanID(), traceID, parentSpan)
	}
	if callSpan.Parent().SpanID() != httpSpan.SpanContext().SpanID() || callSpan.SpanContext().TraceID() != httpSpan.SpanContext().TraceID() {
		t.Errorf("the in-process call's span is not under the REST span")
	}
	a := attrs(callSpan)
	if a["request.id"].AsString() != "rest-42" || a["doctagger.documents"].AsInt64() != 1 ||
		a["doctagger.bytes"].AsInt64() != int64(len(sentence)) || a["doctagger.tags"].AsInt64() < 1 ||
		!strings.HasPrefix(a["doctagger.ruleset_version"].AsString(), "sha256:") || a["doctagger.transport"].AsString() != "rest" ||
		a["doctagger.caller"].AsString() != "anonymous" {
		t.Errorf("call span attributes %v", a)
	}
	if attrs(httpSpan)["request.id"].AsString() != "rest-42" {
		t.Errorf("REST span attributes %v", attrs(httpSpan))
	}
	if got := grpcSpan.SpanContext().TraceID().String(); got != traceID || grpcSpan.Parent().SpanID().String() != parentSpan {
		t.Errorf("gRPC span: trace %s parent %s", got, grpcSpan.Parent().SpanID())
	}
	if g := attrs(grpcSpan); g["request.id"].AsString() != grpcID[0] || g["doctagger.transport"].AsString() != "grpc" || g["doctagger.documents"].AsInt64() != 1 {
		t.Errorf("gRPC span attributes %v", g)
	}
	waitFor(t, "the access log lines", func() bool {
		l := ts.logs.String()
		return strings.Contains(l, "request_id=rest-42 transport=rest caller=anonymous documents=1") &&
			strings.Contains(l, "request_id="+grpcID[0]+" transport=grpc caller=anonymous documents=1")
	})
}

// TestQuotas: two named callers, one over its quota: the other's calls all
// pass; the first gets RESOURCE_EXHAUSTED QUOTA_EXCEEDED with a RetryInfo
// over gRPC and 429 with Retry-After over REST, a stream past its open
// streams too; the Go client waits the hint and gets through.
func TestQuotas(t *testing.T) {
	ts, _ := startWithQuotas(t, "# callers\nslow: slow-token\nfast: fast-token\nplain-token\n",
		"default: {documents_per_second: 1000}\ncallers:\n  slow: {documents_per_second: 2, burst: 2, streams: 1}\n")
	as := func(token string) context.Context {
		return metadata.AppendToOutgoingContext(ctxT(t), "authorization", "Bearer "+token)
	}
	req := &pb.TagDocumentRequest{Document: doc("a", sentence)}

	// slow: a burst of 2, then refused.
	var refused error
	for i := range 4 {
		if _, err := ts.client.TagDocument(as("slow-token"), req); err != nil {
			if i < 2 {
				t.Fatalf("call %d within the burst: %v", i+1, err)
			}
			refused = err
			break
		}
	}
	if status.Code(refused) != codes.ResourceExhausted || pb.ReasonOf(refused) != pb.ErrorReason_QUOTA_EXCEEDED {
		t.Fatalf("over the quota: %v", refused)
	}
	var hint *errdetails.RetryInfo
	for _, d := range status.Convert(refused).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			hint = ri
		}
	}
	if hint == nil || hint.GetRetryDelay().AsDuration() <= 0 || hint.GetRetryDelay().AsDuration() > time.Second {
		t.Fatalf("retry hint %v", hint)
	}
	if info := pb.ErrorInfoOf(refused); info.GetMetadata()["caller"] != "slow" {
		t.Errorf("ErrorInfo %v", info)
	}
	// fast, at the same moment: 50 calls, all answered.
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := ts.client.TagDocument(as("fast-token"), req)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("fast caller: %v", err)
		}
	}
	// REST: 429 with Retry-After.
	resp := ts.do(t, "POST", "/v1/documents:tag", strings.NewReader(`{"document": {"id": "a", "text": "x"}}`),
		map[string]string{"Authorization": "Bearer slow-token"})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "QUOTA_EXCEEDED") {
		t.Fatalf("REST over the quota: HTTP %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Streams: one open at once for slow.
	held, err := ts.client.StreamTagDocuments(as("slow-token"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first stream open", func() bool {
		return metricWith(t, ts.srv, "grpc_server_started_total", map[string]string{"grpc_method": "StreamTagDocuments"}) >= 1
	})
	second, err := ts.client.StreamTagDocuments(as("slow-token"))
	if err == nil {
		_, err = second.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted || pb.ReasonOf(err) != pb.ErrorReason_QUOTA_EXCEEDED {
		t.Fatalf("second stream: %v", err)
	}
	// The NDJSON stream counts among the caller's streams too.
	resp = ts.do(t, "POST", "/v1/documents:streamTag", strings.NewReader(`{"id": "a", "text": "x"}`+"\n"),
		map[string]string{"Authorization": "Bearer slow-token", "Content-Type": "application/x-ndjson"})
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), "QUOTA_EXCEEDED") {
		t.Errorf("NDJSON stream over the quota: HTTP %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	held.CloseSend()
	for {
		if _, err := held.Recv(); err != nil {
			break
		}
	}
	if got := metricWith(t, ts.srv, "doctagger_quota_exceeded_total", map[string]string{"caller": "slow", "limit": "streams"}); got != 2 {
		t.Errorf("doctagger_quota_exceeded_total{slow,streams} = %v", got)
	}
	if got := metricWith(t, ts.srv, "doctagger_calls_total", map[string]string{"caller": "fast", "code": "OK"}); got != 50 {
		t.Errorf("doctagger_calls_total{fast,OK} = %v", got)
	}
	if !strings.Contains(ts.logs.String(), "caller=slow") {
		t.Error("no log line names the caller slow")
	}

	// The Go client waits out the hint: 6 documents at 2/s pass.
	c, err := client.New(ts.srv.GRPCAddr().String(), client.WithBearerToken("slow-token"), client.WithTokenOverPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	begin := time.Now()
	for i := range 6 {
		if _, err := c.Tag(ctxT(t), client.Document{ID: fmt.Sprint(i), Text: sentence}, nil); err != nil {
			t.Fatalf("client call %d: %v", i, err)
		}
	}
	if d := time.Since(begin); d < time.Second {
		t.Errorf("6 documents at 2 a second took %s", d)
	}
	// A plain token is the caller token-3, with the default quota.
	if _, err := ts.client.TagDocument(as("plain-token"), req); err != nil {
		t.Fatal(err)
	}
	if got := metricWith(t, ts.srv, "doctagger_calls_total", map[string]string{"caller": "token-3"}); got != 1 {
		t.Errorf("doctagger_calls_total{token-3} = %v", got)
	}
}

// TestQuotaStreams: TagStream with 4 streams for a caller allowed 2 at
// once and 300 documents a second gets every document through: the
// streams refused wait the hint and reopen, the others are slowed down.
func TestQuotaStreams(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	writeFile(t, tokens, "batch: batch-token\n")
	quotas := filepath.Join(dir, "quotas.yaml")
	writeFile(t, quotas, "callers:\n  batch: {documents_per_second: 300, streams: 2}\n")
	ts := start(t, func(c *Config) {
		c.AuthTokenFile = tokens
		c.QuotaFile = quotas
	})
	c, err := client.New(ts.srv.GRPCAddr().String(), client.WithBearerToken("batch-token"), client.WithTokenOverPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 1500
	docs := func(yield func(client.Document) bool) {
		for i := range n {
			if !yield(client.Document{ID: fmt.Sprint(i), Text: sentence}) {
				return
			}
		}
	}
	begin := time.Now()
	ok := 0
	for r := range c.TagStream(ctxT(t), docs, client.StreamOptions{Streams: 4}) {
		if r.Err != nil {
			t.Fatalf("document %s: %v", r.ID, r.Err)
		}
		ok++
	}
	if ok != n {
		t.Fatalf("%d results, want %d", ok, n)
	}
	if d := time.Since(begin); d < 3*time.Second {
		t.Errorf("%d documents at 300 a second took %s", n, d)
	}
	t.Logf("%d documents in %s; streams refused %v", n, time.Since(begin).Round(time.Millisecond),
		metricWith(t, ts.srv, "doctagger_quota_exceeded_total", map[string]string{"caller": "batch", "limit": "streams"}))
}
