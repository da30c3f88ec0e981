package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestPanicCountedInMetrics: a handler that panics answers INTERNAL, and
// the call is counted in grpc_server_handled_total (code Internal) like any
// other failed call, not lost to the metrics.
func TestPanicCountedInMetrics(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", ""
	cfg.RulesPath = rulesFile(t, rulesV1)
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A service whose one method panics, registered before Run.
	srv.grpc.RegisterService(&grpc.ServiceDesc{
		ServiceName: "test.Panicker",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Boom",
			Handler: func(s any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
				in := new(emptypb.Empty)
				if err := dec(in); err != nil {
					return nil, err
				}
				boom := func(context.Context, any) (any, error) { panic("boom") }
				return icpt(ctx, in, &grpc.UnaryServerInfo{Server: s, FullMethod: "/test.Panicker/Boom"}, boom)
			},
		}},
	}, struct{}{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	}()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Invoke(ctxT(t), "/test.Panicker/Boom", &emptypb.Empty{}, &emptypb.Empty{})
	if status.Code(err) != codes.Internal {
		t.Fatalf("a panicking handler: %v, want INTERNAL", err)
	}
	if got := metricValue(t, srv, "grpc_server_handled_total", "Boom"); got != 1 {
		t.Fatalf("grpc_server_handled_total for the panicking call = %v, want 1", got)
	}
}

// TestStreamErrorsCounted: per-document errors of a stream (an unknown
// theme in the options, a request without a document) count in
// doctagger_documents_total like any other failed document.
func TestStreamErrorsCounted(t *testing.T) {
	ts := start(t, nil)
	before := metricValue(t, ts.srv, "doctagger_documents_total", "InvalidArgument")
	stream, err := ts.client.StreamTagDocuments(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	reqs := []*pb.StreamTagDocumentsRequest{
		{Document: doc("u1", sentence), Options: &pb.TagOptions{Themes: []string{"moon"}}},
		{Document: doc("u2", sentence)},
		{Document: nil, Options: &pb.TagOptions{}},
	}
	for _, r := range reqs {
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	got, err := recvAll(t, stream)
	if err != nil || len(got) != 3 {
		t.Fatalf("%d results, %v", len(got), err)
	}
	for seq, r := range got {
		if r.Error == nil {
			t.Fatalf("sequence %d: want an error, got %v", seq, r)
		}
	}
	if d := metricValue(t, ts.srv, "doctagger_documents_total", "InvalidArgument") - before; d != 3 {
		t.Fatalf("doctagger_documents_total{outcome=InvalidArgument} grew by %v for 3 failed documents", d)
	}
}
