package client_test

import (
	"context"
	"strconv"
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

// serverMsgLimit is the server's --max-message-bytes in the tests below,
// far under the client's (default 64 MiB) send limit.
const serverMsgLimit = 64 << 10

func startSmallServer(t *testing.T) *clienttest.Server {
	return clienttest.Start(t, func(c *server.Config) {
		c.MaxDocumentBytes = 32 << 10
		c.MaxMessageBytes = serverMsgLimit
	})
}

// checkOversize checks the result of a document over the server's message
// limit: it failed alone, with an error naming its size and the limit.
func checkOversize(t *testing.T, r client.Result) {
	t.Helper()
	if code := status.Code(r.Err); code != codes.InvalidArgument && code != codes.ResourceExhausted {
		t.Fatalf("%s (over the server's message limit): %+v", r.ID, r)
	}
	msg := status.Convert(r.Err).Message()
	if !strings.Contains(msg, strconv.Itoa(serverMsgLimit)) || !strings.Contains(msg, r.ID) || !strings.Contains(msg, "bytes") {
		t.Errorf("%s: the error does not name the document, its size and the server's limit: %q", r.ID, msg)
	}
}

// TestTagStreamOverServerMessageLimit: a document whose request is larger
// than the server's message limit (but not the client's) makes the server
// end the stream with RESOURCE_EXHAUSTED. That document must fail alone:
// the documents sent after it on the same stream are resent without being
// charged an attempt, and a later oversize document fails before being
// sent, without breaking another stream.
func TestTagStreamOverServerMessageLimit(t *testing.T) {
	srv := startSmallServer(t)
	c := newClient(t, srv.Addr())
	big := strings.Repeat("x", 100<<10)
	const n = 220
	const first, second = 100, 200 // the oversize documents
	gotFirst := make(chan struct{})
	input := func(yield func(client.Document) bool) {
		for i := range n {
			if i == second {
				// The first oversize document has its result: the job
				// knows the server's limit by now.
				select {
				case <-gotFirst:
				case <-time.After(30 * time.Second):
				}
			}
			d, _ := doc(i)
			if i == first || i == second {
				d.Text = big
			}
			if !yield(d) {
				return
			}
		}
	}
	var stats client.StreamStats
	var brokenAtFirst int64 = -1
	got := map[string]client.Result{}
	for r := range c.TagStream(context.Background(), input, client.StreamOptions{
		Tag: &pb.TagOptions{OmitEvidence: true}, Streams: 2, Window: 64, Stats: &stats,
	}) {
		if _, dup := got[r.ID]; dup {
			t.Fatalf("document %s answered twice", r.ID)
		}
		got[r.ID] = r
		if r.Index == first {
			brokenAtFirst = stats.Broken.Load()
			close(gotFirst)
		}
	}
	if len(got) != n {
		t.Fatalf("%d results for %d documents", len(got), n)
	}
	var failed []string
	for i := range n {
		d, theme := doc(i)
		r := got[d.ID]
		if i == first || i == second {
			checkOversize(t, r)
			continue
		}
		if r.Err != nil || len(r.Tags) != 1 || r.Tags[0].GetTheme() != theme {
			failed = append(failed, d.ID+": "+status.Convert(r.Err).Message())
			continue
		}
		if r.Attempts != 1 {
			t.Errorf("%s: charged %d attempts for another document's fault", d.ID, r.Attempts)
		}
	}
	if len(failed) > 0 {
		t.Fatalf("%d good documents failed, first: %s", len(failed), failed[0])
	}
	if r := got[docID(first)]; r.Attempts != 1 {
		t.Errorf("%s: sent %d times, want once", r.ID, r.Attempts)
	}
	if r := got[docID(second)]; r.Attempts != 0 {
		t.Errorf("%s: sent %d times after the server's limit was known, want 0", r.ID, r.Attempts)
	}
	if b := stats.Broken.Load(); b != brokenAtFirst {
		t.Errorf("streams broken: %d when the first oversize document failed, %d at the end", brokenAtFirst, b)
	}
	t.Logf("streams opened %d, broken %d, resent %d", stats.Opened.Load(), stats.Broken.Load(), stats.Resent.Load())
}

func docID(i int) string {
	d, _ := doc(i)
	return d.ID
}

// TestUnaryOverServerMessageLimit: the unary calls are not retried on a
// request over the server's message limit: Tag fails at once with
// RESOURCE_EXHAUSTED naming the limit. TagBatch splits a batch over the
// limit into requests that fit, and a document over the limit on its own
// fails alone with INVALID_ARGUMENT.
func TestUnaryOverServerMessageLimit(t *testing.T) {
	srv := startSmallServer(t)
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second))
	ctx := context.Background()
	big := client.Document{ID: "big", Text: strings.Repeat("x", 100<<10)}
	_, err := c.Tag(ctx, big, nil)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), strconv.Itoa(serverMsgLimit)) {
		t.Fatalf("Tag: %v", err)
	}
	// One oversize document among five: it fails alone.
	batch := []client.Document{big}
	for i := range 5 {
		d, _ := doc(i)
		batch = append(batch, d)
	}
	res, err := c.TagBatch(ctx, batch, nil)
	if err != nil || len(res) != 6 {
		t.Fatalf("TagBatch: %d results, %v", len(res), err)
	}
	if st := res[0].GetError(); res[0].GetDocumentId() != "big" || st == nil || codes.Code(st.GetCode()) != codes.InvalidArgument ||
		!strings.Contains(st.GetMessage(), strconv.Itoa(serverMsgLimit)) || !strings.Contains(st.GetMessage(), `"big"`) {
		t.Errorf("the oversize document: %v", res[0])
	}
	for i, r := range res[1:] {
		if want, _ := doc(i); r.GetDocumentId() != want.ID || r.GetError() != nil || len(r.GetTags()) == 0 {
			t.Errorf("result %d: %v", i+1, r)
		}
	}
	// Twelve documents of 20 KB: no single one is too large, together
	// they are; TagBatch splits them into requests under the limit.
	var mid []client.Document
	for i := range 12 {
		d, _ := doc(i)
		d.Text = d.Text + " " + strings.Repeat("đoạn văn dài ", 20<<10/len("đoạn văn dài "))
		mid = append(mid, d)
	}
	res, err = c.TagBatch(ctx, mid, nil)
	if err != nil || len(res) != len(mid) {
		t.Fatalf("TagBatch of %d documents of 20 KB: %d results, %v", len(mid), len(res), err)
	}
	for i, r := range res {
		// No tag expected: the filler dilutes the one mention.
		if r.GetDocumentId() != mid[i].ID || r.GetError() != nil || r.GetWords() < 3000 {
			t.Errorf("result %d: %v", i, r)
		}
	}
	if got := srv.Documents(); got != 5+12 {
		t.Errorf("the server tagged %d documents, want %d", got, 5+12)
	}
}

// TestTagBatchOverBatchLimit: a batch over the server's batch limit is
// split as its BATCH_TOO_LARGE error says, the results in input order.
func TestTagBatchOverBatchLimit(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) { c.MaxBatchDocuments = 10 })
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second))
	var batch []client.Document
	var themes []string
	for i := range 35 {
		d, theme := doc(i)
		batch, themes = append(batch, d), append(themes, theme)
	}
	res, err := c.TagBatch(context.Background(), batch, nil)
	if err != nil || len(res) != len(batch) {
		t.Fatalf("TagBatch of 35 documents, limit 10: %d results, %v", len(res), err)
	}
	for i, r := range res {
		if r.GetDocumentId() != batch[i].ID || r.GetError() != nil || len(r.GetTags()) == 0 || r.GetTags()[0].GetTheme() != themes[i] {
			t.Errorf("result %d: %v, want %s tagged %s", i, r, batch[i].ID, themes[i])
		}
	}
	if got := srv.Documents(); got != 35 {
		t.Errorf("the server tagged %d documents, want 35", got)
	}
}
