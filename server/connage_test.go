package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestMaxConnectionAge: with --max-connection-age the server sends GOAWAY
// (the client's channel leaves READY and reconnects for new calls), and a
// stream that outlives the age is not cut: every document is answered.
func TestMaxConnectionAge(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxConnectionAge = 300 * time.Millisecond })
	conn, err := grpc.NewClient(ts.srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewTaggerServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	stream, err := client.StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if conn.GetState() != connectivity.Ready {
		conn.WaitForStateChange(ctx, conn.GetState()) // connecting → ready
	}
	// Keep the stream busy for well over the age, and watch the channel
	// leave READY (the GOAWAY) meanwhile.
	left := make(chan struct{})
	go func() {
		for s := conn.GetState(); ctx.Err() == nil; s = conn.GetState() {
			if s != connectivity.Ready && s != connectivity.Connecting {
				close(left)
				return
			}
			conn.WaitForStateChange(ctx, s)
		}
	}()
	const n = 30
	go func() {
		for i := range n {
			if err := stream.Send(&pb.StreamTagDocumentsRequest{Document: doc(fmt.Sprint(i), sentence)}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		stream.CloseSend()
	}()
	got, err := recvAll(t, stream)
	if err != nil || len(got) != n {
		t.Fatalf("stream across the connection age: %d of %d results, %v", len(got), n, err)
	}
	select {
	case <-left:
	case <-ctx.Done():
		t.Fatal("the channel never left READY: no GOAWAY after the connection age")
	}
	// New calls go over a new connection.
	if _, err := client.TagDocument(ctx, &pb.TagDocumentRequest{Document: doc("after", sentence)}); err != nil {
		t.Fatalf("a call after the GOAWAY: %v", err)
	}
}
