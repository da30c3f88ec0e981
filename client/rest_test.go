package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/server"
)

// TestRESTTagStreamBreak: stopping early in the REST stream's results ends
// it (it used to wait forever for workers blocked handing over results).
func TestRESTTagStreamBreak(t *testing.T) {
	srv := clienttest.Start(t, nil)
	rc, err := client.NewREST(srv.HTTPURL(), client.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	docs := func(yield func(client.Document) bool) {
		for range 2000 {
			if !yield(client.Document{ID: "d", Text: "trí tuệ nhân tạo"}) {
				return
			}
		}
	}
	done := make(chan int, 1)
	go func() {
		n := 0
		for range rc.TagStream(context.Background(), docs, client.StreamOptions{Streams: 3, Window: 30, FailAfter: 5 * time.Second}) {
			if n++; n == 5 {
				break
			}
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n != 5 {
			t.Fatalf("%d results", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the REST stream did not end after the caller stopped reading")
	}
}

// TestRESTLikeGRPC: the REST client and the gRPC client give the same
// results for the same documents (every id once, same tags), the unary
// routes the same answers, and a refused token fails every document with
// UNAUTHENTICATED without retrying.
func TestRESTLikeGRPC(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) { c.AuthTokens = []string{"tok"} })
	rc, err := client.NewREST(srv.HTTPURL(), client.WithBearerToken("tok"), client.WithTokenOverPlaintext(), client.WithGzip())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	gc, err := client.New(srv.Addr(), client.WithBearerToken("tok"), client.WithTokenOverPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	const n = 1500
	docs := func(yield func(client.Document) bool) {
		for i := range n {
			text, _ := clienttest.Sentence(i)
			if !yield(client.Document{ID: fmt.Sprint(i), Text: text}) {
				return
			}
		}
	}
	themes := func(results func(func(client.Result) bool)) map[string]string {
		got := map[string]string{}
		for r := range results {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.ID, r.Err)
			}
			if _, dup := got[r.ID]; dup {
				t.Fatalf("%s twice", r.ID)
			}
			s := ""
			for _, tg := range r.Tags {
				s += tg.GetTheme() + " "
			}
			got[r.ID] = s
		}
		return got
	}
	var stats client.StreamStats
	rest := themes(rc.TagStream(context.Background(), docs, client.StreamOptions{Streams: 3, Stats: &stats}))
	grpc := themes(gc.TagStream(context.Background(), docs, client.StreamOptions{}))
	if len(rest) != n || len(grpc) != n {
		t.Fatalf("%d REST and %d gRPC results, want %d", len(rest), len(grpc), n)
	}
	for id, th := range grpc {
		if rest[id] != th {
			t.Errorf("%s: REST %q, gRPC %q", id, rest[id], th)
		}
	}
	if stats.Opened.Load() != (n+199)/200 {
		t.Errorf("%d requests, want %d", stats.Opened.Load(), (n+199)/200)
	}
	rth, err1 := rc.ListThemes(context.Background())
	gth, err2 := gc.ListThemes(context.Background())
	if err1 != nil || err2 != nil || len(rth.GetThemes()) != len(gth.GetThemes()) || rth.GetRulesetVersion() != gth.GetRulesetVersion() {
		t.Errorf("ListThemes: REST %v %v, gRPC %v %v", rth, err1, gth, err2)
	}
	if rs, err := rc.GetRuleset(context.Background()); err != nil || rs.GetVersion() != gth.GetRulesetVersion() {
		t.Errorf("GetRuleset: %v %v", rs, err)
	}

	bad, _ := client.NewREST(srv.HTTPURL(), client.WithBearerToken("wrong"), client.WithTokenOverPlaintext())
	failed := 0
	for r := range bad.TagStream(context.Background(), docs, client.StreamOptions{}) {
		if status.Code(r.Err) != codes.Unauthenticated {
			t.Fatalf("%s: %v, want UNAUTHENTICATED", r.ID, r.Err)
		}
		failed++
	}
	if failed != n {
		t.Errorf("%d failed, want %d", failed, n)
	}
	if _, err := client.NewREST(srv.HTTPURL(), client.WithBearerToken("tok")); !errors.Is(err, client.ErrTokenNeedsTLS) {
		t.Errorf("token over http://: %v", err)
	}
	if _, err := client.NewREST("localhost:8080"); err == nil {
		t.Error("a URL without a scheme was taken")
	}
	if _, err := client.NewREST("https://x", client.WithTLS(client.TLS{CertFile: "c.pem"})); !errors.Is(err, client.ErrCertWithoutKey) {
		t.Errorf("a certificate without its key: %v", err)
	}
}

// TestRESTTagStreamBadDocumentOptions: over REST as over gRPC, a document
// whose own Options hold a theme name that is not valid UTF-8 fails alone,
// unsent, with INVALID_ARGUMENT; the others are tagged (it used to fail the
// request it was in as permanent, and so the whole job).
func TestRESTTagStreamBadDocumentOptions(t *testing.T) {
	srv := clienttest.Start(t, nil)
	rc, err := client.NewREST(srv.HTTPURL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	const n = 20
	docs := func(yield func(client.Document) bool) {
		for i := range n {
			d := client.Document{ID: fmt.Sprintf("doc-%06d", i), Text: "trí tuệ nhân tạo"}
			if i == 7 {
				d.Options = &pb.TagOptions{Themes: []string{"\xff"}}
			}
			if !yield(d) {
				return
			}
		}
	}
	got := collect(t, rc.TagStream(context.Background(), docs, client.StreamOptions{Streams: 2, Window: 10, FailAfter: 5 * time.Second}), n)
	for i := range n {
		r := got[fmt.Sprintf("doc-%06d", i)]
		if i == 7 {
			if status.Code(r.Err) != codes.InvalidArgument || !strings.Contains(r.Err.Error(), "document 7: options.themes[0] is not valid UTF-8") || r.Attempts != 0 || r.Index != 7 {
				t.Errorf("document 7 (options not valid UTF-8): want INVALID_ARGUMENT, not sent; got %+v", r)
			}
			continue
		}
		if r.Err != nil || len(r.Tags) == 0 {
			t.Errorf("document %d: %v %v", i, r.Tags, r.Err)
		}
	}
}
