package client

import (
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/resolver"
)

type fakeBuilder struct{ resolves, closes *atomic.Int64 }

func (b fakeBuilder) Build(resolver.Target, resolver.ClientConn, resolver.BuildOptions) (resolver.Resolver, error) {
	return fakeResolver(b), nil
}
func (fakeBuilder) Scheme() string { return "dns" }

type fakeResolver fakeBuilder

func (r fakeResolver) ResolveNow(resolver.ResolveNowOptions) { r.resolves.Add(1) }
func (r fakeResolver) Close()                                { r.closes.Add(1) }

func TestDNSRefresh(t *testing.T) {
	var resolves, closes atomic.Int64
	b := refreshBuilder{Builder: fakeBuilder{&resolves, &closes}, every: 5 * time.Millisecond}
	if b.Scheme() != "dns" {
		t.Fatalf("scheme %q", b.Scheme())
	}
	r, err := b.Build(resolver.Target{}, nil, resolver.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for resolves.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d re-resolutions in 5 s", resolves.Load())
		}
		time.Sleep(time.Millisecond)
	}
	r.Close()
	r.Close()
	n := resolves.Load()
	time.Sleep(30 * time.Millisecond)
	if resolves.Load() > n+1 || closes.Load() != 2 {
		t.Fatalf("after Close: %d re-resolutions (was %d), %d closes", resolves.Load(), n, closes.Load())
	}
}
