package client

import (
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMessageLimit(t *testing.T) {
	for _, c := range []struct {
		err   error
		limit int64
		ok    bool
	}{
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (102420 vs. 65536)"), 65536, true},
		{status.Error(codes.ResourceExhausted, "grpc: trying to send message larger than max (9000 vs. 8192)"), 8192, true},
		{status.Error(codes.ResourceExhausted, "grpc: received message after decompression larger than max 65536"), 65536, true},
		{status.Error(codes.ResourceExhausted, "grpc: message after decompression larger than max (102420 vs. 65536)"), 65536, true},
		{status.Error(codes.ResourceExhausted, "grpc: received message after decompression larger than max 0"), 0, false},
		{status.Error(codes.Unavailable, "grpc: received message after decompression larger than max 65536"), 0, false},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max"), 0, false},
		{status.Error(codes.ResourceExhausted, "too many streams"), 0, false},
		{status.Error(codes.ResourceExhausted, "larger than max (1 vs. 0)"), 0, false},
		{status.Error(codes.ResourceExhausted, "larger than max (1 vs. 99999999999999999999999)"), 0, false},
		{status.Error(codes.Unavailable, "grpc: received message larger than max (102420 vs. 65536)"), 0, false},
		{errors.New("(1 vs. 2)"), 0, false},
		{nil, 0, false},
	} {
		limit, ok := messageLimit(c.err)
		if limit != c.limit || ok != c.ok {
			t.Errorf("messageLimit(%v) = %d, %v; want %d, %v", c.err, limit, ok, c.limit, c.ok)
		}
	}
}
