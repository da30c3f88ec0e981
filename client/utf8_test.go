package client_test

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/server"
)

// Documents whose id or language is not valid UTF-8: proto3 strings, which
// grpc-go refuses to marshal (as it does the text, see badText). The index,
// field and byte offset are those the error must name.
var badStringDocs = map[int]struct {
	field  string
	offset string
	mutate func(*client.Document)
}{
	3:  {"id", "byte offset 10", func(d *client.Document) { d.ID += "\xff" }},
	17: {"language_code", "byte offset 2", func(d *client.Document) { d.Language = "vi\xe1\xbb" }}, // "vi" and a cut-off "ệ"
	41: {"id", "byte offset 4", func(d *client.Document) { d.ID = "tài\xc3" + d.ID }},
}

// TestTagStreamInvalidUTF8Document: a document whose text, id or language
// is not valid UTF-8 fails alone before being sent (INVALID_ARGUMENT naming
// its index, the field and the byte offset; for the text, reason
// INVALID_UTF8 with the offset, as the server would say): no retries, no
// stream broken or reopened for it, and every other document is tagged on
// its first attempt.
func TestTagStreamInvalidUTF8Document(t *testing.T) {
	srv := clienttest.Start(t, nil)
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second))
	const n = 60
	const badText = 29
	const badTextValue = "Trí tuệ nhân tạo \xff"
	badTextOffset := strings.IndexByte(badTextValue, 0xff)
	var before int64
	input := func(yield func(client.Document) bool) {
		for i := range n {
			d, _ := doc(i)
			if b, ok := badStringDocs[i]; ok {
				b.mutate(&d)
			}
			if i == badText {
				d.Text = badTextValue
			}
			if !yield(d) {
				return
			}
		}
	}
	run := map[string]func(o client.StreamOptions) iter.Seq[client.Result]{
		"TagStream": func(o client.StreamOptions) iter.Seq[client.Result] {
			return c.TagStream(context.Background(), input, o)
		},
		"TagChannel": func(o client.StreamOptions) iter.Seq[client.Result] {
			ch := make(chan client.Document)
			go func() {
				defer close(ch)
				for d := range input {
					select {
					case ch <- d:
					case <-time.After(30 * time.Second):
						return
					}
				}
			}()
			return c.TagChannel(context.Background(), ch, o)
		},
	}
	for _, name := range []string{"TagStream", "TagChannel"} {
		t.Run(name, func(t *testing.T) {
			var stats client.StreamStats
			got := collectByIndex(t, run[name](client.StreamOptions{
				Tag: &pb.TagOptions{OmitEvidence: true}, Streams: 2, Window: 16, Stats: &stats,
			}))
			if len(got) != n {
				t.Fatalf("%d results for %d documents", len(got), n)
			}
			for i := range n {
				r := got[int64(i)]
				msg := status.Convert(r.Err).Message()
				if b, ok := badStringDocs[i]; ok {
					want := fmt.Sprintf("document %d: %s is not valid UTF-8 (%s)", i, b.field, b.offset)
					if status.Code(r.Err) != codes.InvalidArgument || !strings.Contains(msg, want) {
						t.Errorf("document %d (bad %s): want INVALID_ARGUMENT %q, got %v", i, b.field, want, r.Err)
					}
					if r.Attempts > 1 {
						t.Errorf("document %d (bad %s): sent %d times", i, b.field, r.Attempts)
					}
					continue
				}
				if i == badText {
					want := fmt.Sprintf("document %d: text is not valid UTF-8 (invalid byte sequence at byte offset %d)", i, badTextOffset)
					if status.Code(r.Err) != codes.InvalidArgument || msg != want || r.Attempts != 0 || r.ID != fmt.Sprintf("doc-%06d", i) {
						t.Errorf("document %d (bad text): want INVALID_ARGUMENT %q, not sent; got %d attempts, %q, %v", i, want, r.Attempts, r.ID, r.Err)
					}
					checkInvalidUTF8Info(t, r.Err, "document.text", r.ID, badTextOffset)
					continue
				}
				_, theme := doc(i)
				if r.Err != nil || len(r.Tags) != 1 || r.Tags[0].GetTheme() != theme || r.Attempts != 1 {
					t.Errorf("document %d: want %s on the first attempt, got %d attempts, tags %v, error %v", i, theme, r.Attempts, r.Tags, r.Err)
				}
			}
			if b := stats.Broken.Load(); b != 0 {
				t.Errorf("%d streams broke (opened %d, resent %d); want none", b, stats.Opened.Load(), stats.Resent.Load())
			}
			// Every document but the bad ones reached the server, each once.
			if d := srv.Documents() - before; d != n-int64(len(badStringDocs))-1 {
				t.Errorf("the server tagged %d documents, want %d", d, n-len(badStringDocs)-1)
			}
			before = srv.Documents()
		})
	}
}

// TestUnaryInvalidUTF8Document: Tag fails at once with INVALID_ARGUMENT
// naming the field when the text, id or language is not valid UTF-8,
// without sending anything; in TagBatch such a document fails alone, unsent,
// with its index and the field (and for the text the byte offset, reason
// INVALID_UTF8, as the server fails it), and the others are tagged.
func TestUnaryInvalidUTF8Document(t *testing.T) {
	srv := clienttest.Start(t, nil)
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second))
	ctx := context.Background()

	d, _ := doc(0)
	badID := d
	badID.ID = "tài-liệu-\xff"
	if _, err := c.Tag(ctx, badID, nil); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), fmt.Sprintf("id is not valid UTF-8 (byte offset %d)", strings.IndexByte(badID.ID, 0xff))) {
		t.Errorf("Tag with a bad id: %v", err)
	}
	badLang := d
	badLang.Language = "\xc3"
	if _, err := c.Tag(ctx, badLang, nil); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "language_code is not valid UTF-8 (byte offset 0)") {
		t.Errorf("Tag with a bad language: %v", err)
	}
	badText := d
	badText.Text = "Bệnh án \xff điện tử"
	offset := strings.IndexByte(badText.Text, 0xff)
	_, err := c.Tag(ctx, badText, nil)
	if want := fmt.Sprintf("document: text is not valid UTF-8 (invalid byte sequence at byte offset %d)", offset); status.Code(err) != codes.InvalidArgument || status.Convert(err).Message() != want {
		t.Errorf("Tag with bad text: want INVALID_ARGUMENT %q, got %v", want, err)
	}
	checkInvalidUTF8Info(t, err, "document.text", d.ID, offset)
	if n := srv.Documents(); n != 0 {
		t.Errorf("the server tagged %d documents, want 0: nothing should have been sent", n)
	}

	var batch []client.Document
	themes := map[int]string{}
	for i := range 6 {
		d, theme := doc(i)
		batch = append(batch, d)
		themes[i] = theme
	}
	batch[1].Text = "Trí tuệ \xe1\xbb nhân tạo" // a cut-off "ệ" at byte 11
	batch[3].ID = "doc\xfe"
	batch[4].Language = "en\xff"
	res, err := c.TagBatch(ctx, batch, nil)
	if err != nil || len(res) != len(batch) {
		t.Fatalf("TagBatch: %d results, %v", len(res), err)
	}
	for i, want := range map[int]string{
		1: "document 1: text is not valid UTF-8 (invalid byte sequence at byte offset 11)",
		3: "document 3: id is not valid UTF-8 (byte offset 3)",
		4: "document 4: language_code is not valid UTF-8 (byte offset 2)",
	} {
		if e := res[i].GetError(); codes.Code(e.GetCode()) != codes.InvalidArgument || e.GetMessage() != want {
			t.Errorf("TagBatch: document %d: want INVALID_ARGUMENT %q, got %v", i, want, res[i])
		}
	}
	checkInvalidUTF8Info(t, status.ErrorProto(res[1].GetError()), "documents[1].text", batch[1].ID, 11)
	if id := res[3].GetDocumentId(); id != "doc\uFFFD" {
		t.Errorf("TagBatch: the failed document's id is %q, want it made valid UTF-8 (%q)", id, "doc\uFFFD")
	}
	for _, i := range []int{0, 2, 5} {
		if r := res[i]; r.GetError() != nil || r.GetDocumentId() != batch[i].ID || len(r.GetTags()) != 1 || r.GetTags()[0].GetTheme() != themes[i] {
			t.Errorf("TagBatch: document %d: want %s, got %v", i, themes[i], r)
		}
	}
	if n := srv.Documents(); n != 3 {
		t.Errorf("the server tagged %d documents, want 3: the bad ones should not have been sent", n)
	}
}

// checkInvalidUTF8Info checks the details of a document's INVALID_UTF8
// error, the same whether the client or the server found it: a BadRequest
// naming field, and an ErrorInfo with the document id and, for the text,
// the offset.
func checkInvalidUTF8Info(t *testing.T, err error, field, id string, offset int) {
	t.Helper()
	var (
		info *errdetails.ErrorInfo
		br   *errdetails.BadRequest
	)
	for _, d := range status.Convert(err).Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		}
	}
	if info.GetReason() != pb.ErrorReason_INVALID_UTF8.String() || info.GetDomain() != "doctagger" ||
		info.GetMetadata()["documentId"] != id || info.GetMetadata()["offset"] != strconv.Itoa(offset) {
		t.Errorf("%v: want ErrorInfo INVALID_UTF8 with documentId %q and offset %d, got %v", err, id, offset, info)
	}
	if v := br.GetFieldViolations(); len(v) != 1 || v[0].GetField() != field {
		t.Errorf("%v: want a BadRequest naming %s, got %v", err, field, br)
	}
}

// badThemes has a theme name that is not valid UTF-8 ("y-t" and a cut-off
// "ế"): TagOptions.themes is a proto3 string, which grpc-go refuses to
// marshal. badThemesErr is what the error must say.
var badThemes = []string{"ai", "y-t\xe1\xba"}

const badThemesErr = "options.themes[1] is not valid UTF-8 (byte offset 3)"

// TestTagStreamInvalidUTF8Options: options that cannot be encoded fail the
// whole job at once: every document fails with INVALID_ARGUMENT naming the
// field, without being sent, and no stream is opened (the request could not
// be sent on any). The job is bounded by a context of a few seconds, far
// less than FailAfter, so that retrying broken streams shows as a failure.
func TestTagStreamInvalidUTF8Options(t *testing.T) {
	srv := clienttest.Start(t, nil)
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second))
	const n = 40
	run := map[string]func(ctx context.Context, o client.StreamOptions) iter.Seq[client.Result]{
		"TagStream": func(ctx context.Context, o client.StreamOptions) iter.Seq[client.Result] {
			return c.TagStream(ctx, docs(n), o)
		},
		"TagChannel": func(ctx context.Context, o client.StreamOptions) iter.Seq[client.Result] {
			ch := make(chan client.Document)
			go func() {
				defer close(ch)
				for d := range docs(n) {
					select {
					case ch <- d:
					case <-time.After(10 * time.Second):
						return
					}
				}
			}()
			return c.TagChannel(ctx, ch, o)
		},
	}
	for _, name := range []string{"TagStream", "TagChannel"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			defer cancel()
			var stats client.StreamStats
			got := collectByIndex(t, run[name](ctx, client.StreamOptions{
				Tag: &pb.TagOptions{Themes: badThemes}, Streams: 2, Window: 8, Stats: &stats,
			}))
			if len(got) != n {
				t.Errorf("%d results for %d documents", len(got), n)
			}
			bad := 0
			for i, r := range got {
				if status.Code(r.Err) != codes.InvalidArgument || !strings.Contains(status.Convert(r.Err).Message(), badThemesErr) || r.Attempts != 0 {
					if bad++; bad <= 3 {
						t.Errorf("document %d: want INVALID_ARGUMENT %q, not sent; got %d attempts, %v", i, badThemesErr, r.Attempts, r.Err)
					}
				}
			}
			if bad > 3 {
				t.Errorf("... and %d more documents like that", bad-3)
			}
			if o, b := stats.Opened.Load(), stats.Broken.Load(); o != 0 || b != 0 {
				t.Errorf("%d streams opened, %d broken; want none", o, b)
			}
			if d := srv.Documents(); d != 0 {
				t.Errorf("the server tagged %d documents, want 0", d)
			}
		})
	}
}

// TestUnaryInvalidUTF8Options: Tag and TagBatch fail at once with
// INVALID_ARGUMENT naming the field when a theme name in the options is not
// valid UTF-8, without sending anything. A theme that is valid UTF-8 but
// unknown still goes to the server, which says so.
func TestUnaryInvalidUTF8Options(t *testing.T) {
	srv := clienttest.Start(t, nil)
	c := newClient(t, srv.Addr(), client.WithTimeout(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	d, _ := doc(0)
	opts := &pb.TagOptions{Themes: badThemes}
	if res, err := c.Tag(ctx, d, opts); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), badThemesErr) || res != nil {
		t.Errorf("Tag with a bad theme: want INVALID_ARGUMENT %q, got %v, %v", badThemesErr, res, err)
	}
	var batch []client.Document
	for i := range 5 {
		d, _ := doc(i)
		batch = append(batch, d)
	}
	if res, err := c.TagBatch(ctx, batch, opts); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), badThemesErr) || res != nil {
		t.Errorf("TagBatch with a bad theme: want INVALID_ARGUMENT %q, got %v, %v", badThemesErr, res, err)
	}
	if n := srv.Documents(); n != 0 {
		t.Errorf("the server tagged %d documents, want 0: nothing should have been sent", n)
	}

	unknown := &pb.TagOptions{Themes: []string{"ai", "trí-tuệ"}}
	if _, err := c.Tag(ctx, d, unknown); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), `unknown theme "trí-tuệ" in options.themes[1]`) {
		t.Errorf("Tag with an unknown theme: want the server's INVALID_ARGUMENT, got %v", err)
	}
}

// TestNewRejectsUnsendableHeaders: grpc-go refuses, on every call, a bearer
// token holding a byte outside printable ASCII (INTERNAL "header key
// "authorization" contains value with non-printable ASCII characters"), and
// the server resets every stream whose user agent holds a control character:
// TagStream took either for a broken stream and retried it until FailAfter.
// New rejects both, naming the byte and its offset (never the token).
// Printable ASCII tokens and non-ASCII user agents still work.
func TestNewRejectsUnsendableHeaders(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) { c.AuthTokens = []string{"s3cret"} })
	for _, tc := range []struct {
		name string
		opt  client.Option
		want string
	}{
		{"token with a trailing newline", client.WithBearerToken("s3cret\n"), `bearer token holds "\n" at byte offset 6`},
		{"token with CR LF", client.WithBearerToken("s3\r\nx-other: 1"), `bearer token holds "\r" at byte offset 2`},
		{"token not ASCII", client.WithBearerToken("sécret"), `bearer token holds "\xc3" at byte offset 1`},
		{"token not UTF-8", client.WithBearerToken("s3cret\xff"), `bearer token holds "\xff" at byte offset 6`},
		{"user agent with a newline", client.WithUserAgent("tagger-job/1.2\n"), `user agent holds "\n" at byte offset 14`},
	} {
		c, err := client.New(srv.Addr(), client.WithTokenOverPlaintext(), client.WithBearerToken("s3cret"), tc.opt)
		if err == nil {
			c.Close()
			t.Errorf("%s: New accepted it", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3") {
			t.Errorf("%s: want an error with %q and without the token, got %v", tc.name, tc.want, err)
		}
	}

	c := newClient(t, srv.Addr(), client.WithBearerToken("s3cret"), client.WithTokenOverPlaintext(),
		client.WithUserAgent("công-cụ/1.0 (tài liệu)"), client.WithTimeout(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, _ := doc(0)
	if _, err := c.Tag(ctx, d, nil); err != nil {
		t.Errorf("a printable ASCII token and a UTF-8 user agent: %v", err)
	}
}

// collectByIndex gathers a job's results by input index, failing on a
// document answered twice.
func collectByIndex(t *testing.T, seq iter.Seq[client.Result]) map[int64]client.Result {
	t.Helper()
	got := map[int64]client.Result{}
	for r := range seq {
		if _, dup := got[r.Index]; dup {
			t.Fatalf("document %d answered twice", r.Index)
		}
		got[r.Index] = r
	}
	return got
}
