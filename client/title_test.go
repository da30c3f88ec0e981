package client_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
)

// TestTitle: Document.Title reaches the server from Tag, TagBatch,
// TagStream and the REST TagStream: the title's match comes back with
// InTitle and offsets into the title; a title that is not valid UTF-8
// fails its document alone before it is sent, naming .title.
func TestTitle(t *testing.T) {
	srv := clienttest.Start(t, nil)
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second))
	rc, err := client.NewREST(srv.HTTPURL(), client.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ctx := context.Background()
	d := client.Document{ID: "t", Title: "Trí tuệ nhân tạo", Text: "Một bài báo về thời tiết."}
	check := func(how string, tags []*pb.Tag) {
		t.Helper()
		for _, tag := range tags {
			if tag.GetTheme() != "ai" {
				continue
			}
			if e := tag.GetEvidence(); len(e) == 1 && e[0].GetInTitle() && e[0].GetStart() == 0 && int(e[0].GetEnd()) == len(d.Title) {
				return
			}
		}
		t.Errorf("%s: tags %v, want ai from the title", how, tags)
	}
	res, err := c.Tag(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("Tag", res.GetTags())
	batch, err := c.TagBatch(ctx, []client.Document{d, {ID: "bad", Title: "ab\xff", Text: "x"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("TagBatch", batch[0].GetTags())
	st := status.FromProto(batch[1].GetError())
	if st.Code() != codes.InvalidArgument || pb.ReasonOf(st.Err()) != pb.ErrorReason_INVALID_UTF8 {
		t.Errorf("TagBatch, bad title: %v", st)
	}
	docs := slices.Values([]client.Document{d})
	for r := range c.TagStream(ctx, docs, client.StreamOptions{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		check("TagStream", r.Tags)
	}
	for r := range rc.TagStream(ctx, docs, client.StreamOptions{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		check("REST TagStream", r.Tags)
	}
}
