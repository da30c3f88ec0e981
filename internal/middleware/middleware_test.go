package middleware

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestRecoveryOption: a handler's panic becomes INTERNAL and is logged
// with the method.
func TestRecoveryOption(t *testing.T) {
	var logs bytes.Buffer
	icpt := recovery.UnaryServerInterceptor(RecoveryOption(slog.New(slog.NewTextHandler(&logs, nil))))
	_, err := icpt(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/x/Y"}, func(context.Context, any) (any, error) {
		panic("boom")
	})
	if status.Code(err) != codes.Internal || !strings.Contains(logs.String(), "panic in gRPC handler") {
		t.Fatalf("handler panic: %v; logs %s", err, logs.String())
	}
}

// TestAuth: without tokens everything passes; with tokens, a call needs
// "Bearer <token>" and is refused with UNAUTHENTICATED and a reason.
func TestAuth(t *testing.T) {
	a := NewAuth(true)
	if err := a.Check(""); err != nil {
		t.Fatalf("no tokens configured: %v", err)
	}
	a.SetTokens([]Token{{Name: "team-a", Token: "s3cret"}})
	for header, want := range map[string]pb.ErrorReason{
		"":                  pb.ErrorReason_MISSING_TOKEN,
		"Basic czNjcmV0":    pb.ErrorReason_INVALID_TOKEN,
		"Bearer nope":       pb.ErrorReason_INVALID_TOKEN,
		"Bearer s3cret":     pb.ErrorReason_ERROR_REASON_UNSPECIFIED,
		"bearer  s3cret ":   pb.ErrorReason_ERROR_REASON_UNSPECIFIED,
		"Bearer s3cret-not": pb.ErrorReason_INVALID_TOKEN,
	} {
		err := a.Check(header)
		if got := pb.ReasonOf(err); got != want || (want != pb.ErrorReason_ERROR_REASON_UNSPECIFIED) != (status.Code(err) == codes.Unauthenticated) {
			t.Errorf("%q: %v (reason %v), want %v", header, err, got, want)
		}
	}
	// Health is open with openHealth; the service is not.
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs())
	if _, err := a.checkContext(ctx, "/grpc.health.v1.Health/Check"); err != nil {
		t.Errorf("health: %v", err)
	}
	if _, err := a.checkContext(ctx, "/tagger.v1.TaggerService/TagDocument"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("TagDocument without a token: %v", err)
	}
}

// TestChainUnary: interceptors run first outermost, as grpc-go chains them.
func TestChainUnary(t *testing.T) {
	var order []string
	mk := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			order = append(order, name+" in")
			out, err := h(ctx, req)
			order = append(order, name+" out")
			return out, err
		}
	}
	chain := ChainUnary(mk("a"), mk("b"))
	out, err := chain(context.Background(), 1, &grpc.UnaryServerInfo{}, func(ctx context.Context, req any) (any, error) {
		order = append(order, "handler")
		return req.(int) + 1, nil
	})
	if out != 2 || err != nil || strings.Join(order, ",") != "a in,b in,handler,b out,a out" {
		t.Fatalf("%v %v %v", out, err, order)
	}
}
