package server

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
