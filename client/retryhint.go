package client

import (
	"context"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// maxRetryHint caps the wait a server's retry hint may ask for.
const maxRetryHint = 30 * time.Second

// RetryDelay is the wait the server asks for before trying err's call
// again: the google.rpc.RetryInfo of a caller over its quota
// (RESOURCE_EXHAUSTED QUOTA_EXCEEDED) or of an overloaded server
// (UNAVAILABLE OVERLOADED), at most 30 seconds. ok is false for any other
// error.
func RetryDelay(err error) (time.Duration, bool) {
	st, isStatus := status.FromError(err)
	if !isStatus || err == nil {
		return 0, false
	}
	switch reason := pb.ReasonOf(err); {
	case st.Code() == codes.ResourceExhausted && reason == pb.ErrorReason_QUOTA_EXCEEDED:
	case st.Code() == codes.Unavailable && reason == pb.ErrorReason_OVERLOADED:
	default:
		return 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return min(max(ri.GetRetryDelay().AsDuration(), 0), maxRetryHint), true
		}
	}
	return 0, false
}

// retryHint retries a unary call refused with a retry hint (RetryDelay)
// after the delay it names, up to attempts tries in all, while the call's
// context leaves time for it. (grpc-go's own retries, of UNAVAILABLE, run
// inside each try.)
func retryHint(attempts int) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		for try := 1; ; try++ {
			err := invoker(ctx, method, req, reply, cc, opts...)
			d, ok := RetryDelay(err)
			if !ok || try >= attempts {
				return err
			}
			if dl, has := ctx.Deadline(); has && time.Until(dl) < d {
				return err
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return err
			}
		}
	}
}
