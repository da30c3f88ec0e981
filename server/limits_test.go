package server

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// A client that sends documents and then never reads its results blocks the
// server in Send (flow control). --stream-idle-timeout must still end the
// stream: it has read no document and sent no result for that long, and it
// holds its documents, workers and goroutines while it waits.
func TestStreamIdleTimeoutClientNotReading(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.StreamMaxInFlight = 4
		c.StreamIdleTimeout = 300 * time.Millisecond
	})
	// Fixed small windows (no BDP growth) so the server's sends block soon.
	conn, err := grpc.NewClient(ts.srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecureCreds()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := pb.NewTaggerServiceClient(conn).StreamTagDocuments(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("Tên lửa mang vệ tinh bay qua đại dương. ", 40) // ~1.7 KB, ~120 pieces of evidence
	go func() {
		for range 2000 {
			if stream.Send(&pb.StreamTagDocumentsRequest{Document: doc("x", text)}) != nil {
				return
			}
		}
	}()
	active := func() float64 { return metricValue(t, ts.srv, "doctagger_streams_active", "") }
	for deadline := time.Now().Add(3 * time.Second); active() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// The client does not read. The server must give up on it (bounded wait).
	for deadline := time.Now().Add(15 * time.Second); active() != 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := active(); n != 0 {
		t.Fatalf("doctagger_streams_active = %v: the stream is still held long after --stream-idle-timeout with the client not reading", n)
	}
	// Reading now gives the results that were sent, then the idle error.
	got, err := recvAll(t, stream)
	if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), "stream-idle-timeout") {
		t.Fatalf("after %d results: %v, want DEADLINE_EXCEEDED naming --stream-idle-timeout", len(got), err)
	}
	t.Logf("%d results, then %v", len(got), err)
}

// denseText is under 4000 bytes, and its result, with a piece of evidence
// for every few words, is several times larger.
var denseText = strings.Repeat("tên lửa, vệ tinh, đại dương; ", 100)

// TestStreamResultOverMessageLimit: a document whose result is over
// --max-message-bytes fails alone, with an error that says what to do; the
// stream and the other documents' results go on.
func TestStreamResultOverMessageLimit(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 4000
		c.MaxMessageBytes = 5120
	})
	if len(denseText) > 4000 {
		t.Fatalf("dense text is %d bytes", len(denseText))
	}
	stream, err := ts.client.StreamTagDocuments(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*pb.Document{doc("a", sentence), doc("dense", denseText), doc("b", sentence)} {
		if err := stream.Send(&pb.StreamTagDocumentsRequest{Document: d}); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	got, err := recvAll(t, stream)
	if err != nil || len(got) != 3 {
		t.Fatalf("%d results, then %v; want 3 results and the stream ending well", len(got), err)
	}
	if got[1].Error != nil || got[3].Error != nil {
		t.Fatalf("the small documents failed: %v / %v", got[1].Error, got[3].Error)
	}
	if e := got[2].Error; e == nil || codes.Code(e.Code) != codes.ResourceExhausted ||
		!strings.Contains(e.Message, "--max-message-bytes") || !strings.Contains(e.Message, "omit_evidence") {
		t.Fatalf("dense document: %v, want RESOURCE_EXHAUSTED naming --max-message-bytes and omit_evidence", e)
	}
}

// The same document in a batch fails alone too; alone, it fails with the
// same actionable error.
func TestBatchResultOverMessageLimit(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 4000
		c.MaxMessageBytes = 5120
	})
	resp, err := ts.client.BatchTagDocuments(ctxT(t), &pb.BatchTagDocumentsRequest{
		Documents: []*pb.Document{doc("a", sentence), doc("dense", denseText)},
	})
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if r := resp.Results; r[0].Error != nil || r[1].Error == nil || codes.Code(r[1].Error.Code) != codes.ResourceExhausted {
		t.Fatalf("batch results: %v", r)
	}
	_, err = ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: doc("dense", denseText)})
	wantCode(t, err, codes.ResourceExhausted, "document", "--max-message-bytes", "omit_evidence")
}

// TestBatchResponseOverMessageLimit: a batch whose results fit one by one
// but not together fails with an error that says so and what to do, not
// grpc-go's bare "trying to send message larger than max".
func TestBatchResponseOverMessageLimit(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 4000
		c.MaxMessageBytes = 5120
	})
	text := denseText[:len(denseText)/6]
	var docs []*pb.Document
	for range 3 {
		docs = append(docs, doc("d", strings.ToValidUTF8(text, "")))
	}
	_, err := ts.client.BatchTagDocuments(ctxT(t), &pb.BatchTagDocumentsRequest{Documents: docs})
	wantCode(t, err, codes.ResourceExhausted, "documents", "--max-message-bytes", "fewer documents", "omit_evidence")
}

// TestStreamBadMessageFailsAlone: a stream message that cannot be decoded,
// or is over --max-message-bytes, fails alone under its sequence number,
// and every other document of the stream gets its result; before, grpc-go
// ended the stream at once and the results it owed were lost.
func TestStreamBadMessageFailsAlone(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 1000
		c.MaxMessageBytes = 8 << 10
	})
	ctx := ctxT(t)
	stream, err := ts.conn.NewStream(ctx, &pb.TaggerService_ServiceDesc.Streams[0], "/tagger.v1.TaggerService/StreamTagDocuments", grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	good := func(id string) []byte {
		b, err := proto.Marshal(&pb.StreamTagDocumentsRequest{Document: doc(id, sentence)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	msgs := [][]byte{good("a"), good("b"), good("c"),
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, // a length past the end: not a message
		good("d"),
		append(good("e"), bytes.Repeat([]byte{0x98, 0x01, 0x00}, 4<<10)...), // field 19 repeated: 12 KiB, over 8 KiB
		good("f")}
	for _, m := range msgs {
		if err := stream.SendMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	got := map[int64]*pb.DocumentResult{}
	for {
		var r pb.StreamTagDocumentsResponse
		if err := stream.RecvMsg(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the stream ended with %v after %d results", err, len(got))
		}
		got[r.Result.Sequence] = r.Result
	}
	if len(got) != len(msgs) {
		t.Fatalf("%d results for %d messages: %v", len(got), len(msgs), got)
	}
	for seq, want := range map[int64]string{1: "a", 2: "b", 3: "c", 5: "d", 7: "f"} {
		if r := got[seq]; r.DocumentId != want || r.Error != nil || len(r.Tags) == 0 {
			t.Errorf("sequence %d: %v", seq, r)
		}
	}
	if e := got[4].GetError(); codes.Code(e.GetCode()) != codes.InvalidArgument || !strings.Contains(e.GetMessage(), "request 4") {
		t.Errorf("sequence 4 (garbage): %v", got[4])
	}
	if e := got[6].GetError(); codes.Code(e.GetCode()) != codes.ResourceExhausted || !strings.Contains(e.GetMessage(), "over the limit of 8192") {
		t.Errorf("sequence 6 (over the limit): %v", got[6])
	}
}

// TestUnaryBadMessage: a unary request that cannot be decoded is the
// caller's fault, INVALID_ARGUMENT (MALFORMED_MESSAGE), not INTERNAL, and
// is logged and counted like any other call; one over the limit is
// RESOURCE_EXHAUSTED (REQUEST_TOO_LARGE), logged and counted too.
func TestUnaryBadMessage(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 1000
		c.MaxMessageBytes = 8 << 10
	})
	handled := func(code string) float64 {
		return metricWith(t, ts.srv, "grpc_server_handled_total", map[string]string{"grpc_method": "TagDocument", "grpc_code": code})
	}
	before := handled("InvalidArgument")
	var resp pb.TagDocumentResponse
	err := ts.conn.Invoke(ctxT(t), "/tagger.v1.TaggerService/TagDocument", []byte{0x0a, 0xff, 0xff, 0x0f}, &resp, grpc.ForceCodecV2(rawCodec{}))
	if st := wantCode(t, err, codes.InvalidArgument, ""); pb.ReasonOf(err) != pb.ErrorReason_MALFORMED_MESSAGE {
		t.Fatalf("garbage: %v", st.Proto())
	}
	if got := handled("InvalidArgument") - before; got != 1 {
		t.Errorf("counted %v times", got)
	}
	waitFor(t, "the call in the log", func() bool {
		return callLines(ts.logs.String(), "TagDocument", "InvalidArgument") > 0
	})
	before = handled("ResourceExhausted")
	_, err = ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: doc("big", strings.Repeat("a", 10<<10))})
	if wantCode(t, err, codes.ResourceExhausted, ""); pb.ReasonOf(err) != pb.ErrorReason_REQUEST_TOO_LARGE {
		t.Fatalf("over the limit: %v", err)
	}
	if got := handled("ResourceExhausted") - before; got != 1 {
		t.Errorf("over the limit counted %v times", got)
	}
}
