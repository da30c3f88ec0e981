package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf16"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire/wiretest"
)

// TestTitleRESTAndGRPCAlike: a document's title is tagged over gRPC and
// REST alike: its match comes back with inTitle, offsets into the title
// (bytes, runes, UTF-16) and the ruleset's title weight; the text's matches
// with offsets into the text and their own weight.
func TestTitleRESTAndGRPCAlike(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.RulesPath = rulesFile(t, strings.Replace(rulesV1, "name: test\n", "name: test\nscoring: {title_weight: 2}\n", 1))
	})
	d := &pb.Document{Id: "t1", Title: "🚀 Tên lửa mới", Text: "Bài viết về vệ tinh và đại dương."}
	req := &pb.TagDocumentRequest{Document: d}
	var resp pb.TagDocumentResponse
	if err := ts.conn.Invoke(ctxT(t), "/tagger.v1.TaggerService/TagDocument", req, &resp); err != nil {
		t.Fatal(err)
	}
	var space *pb.Tag
	for _, tag := range resp.GetResult().GetTags() {
		if tag.GetTheme() == "space" {
			space = tag
		}
	}
	if space == nil || len(space.Evidence) != 2 {
		t.Fatalf("result %v: want space with the title's tên lửa and the text's vệ tinh", resp.GetResult())
	}
	title, text := space.Evidence[0], space.Evidence[1]
	if !title.InTitle || d.Title[title.Start:title.End] != title.Text || title.Text != "Tên lửa" || title.Weight != 2 ||
		string([]rune(d.Title)[title.RuneStart:title.RuneEnd]) != title.Text ||
		string(utf16.Decode(utf16.Encode([]rune(d.Title))[title.Utf16Start:title.Utf16End])) != title.Text {
		t.Errorf("title evidence %v: want Tên lửa in the title, weight 2, offsets into the title", title)
	}
	if text.InTitle || d.Text[text.Start:text.End] != text.Text || text.Text != "vệ tinh" || text.Weight != 0.9 {
		t.Errorf("text evidence %v: want vệ tinh in the text, weight 0.9", text)
	}
	if w := resp.GetResult().GetWords(); w != 8 {
		t.Errorf("words %d, want the text's 8", w)
	}

	body, err := jsonCodec{}.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`"title":`)) {
		t.Fatalf("the REST body %s has no \"title\"", body)
	}
	hr := ts.do(t, "POST", "/v1/documents:tag", bytes.NewReader(body), map[string]string{"Content-Type": "application/json"})
	var rest bytes.Buffer
	rest.ReadFrom(hr.Body)
	hr.Body.Close()
	want, _ := jsonCodec{}.Marshal(&resp)
	if got := compactJSON(t, rest.Bytes()); hr.StatusCode != 200 || got != compactJSON(t, want) {
		t.Fatalf("REST answered %d\n%s\ngRPC answered\n%s", hr.StatusCode, got, want)
	}
	if !bytes.Contains(rest.Bytes(), []byte(`"inTitle":true`)) || !bytes.Contains(rest.Bytes(), []byte(`"inTitle":false`)) {
		t.Errorf("REST answer without inTitle: %s", rest.Bytes())
	}
}

// TestInvalidTitleFailsItsDocumentAlone: invalid UTF-8 in a title fails its
// document alone with INVALID_ARGUMENT naming documents[i].title (or
// document.title), over gRPC and REST; the other documents are tagged.
func TestInvalidTitleFailsItsDocumentAlone(t *testing.T) {
	ts := start(t, nil)
	ctx := ctxT(t)
	titled := func(id, title string) *pb.Document { return &pb.Document{Id: id, Title: title, Text: sentence} }

	batch := wiretest.Corrupt(t, &pb.BatchTagDocumentsRequest{Documents: []*pb.Document{
		titled("ok1", "Tên lửa"), titled("bad", "ab TBAD"), titled("ok2", ""),
	}}, "TBAD")
	var resp pb.BatchTagDocumentsResponse
	if err := ts.conn.Invoke(ctx, "/tagger.v1.TaggerService/BatchTagDocuments", batch, &resp, grpc.ForceCodecV2(rawCodec{})); err != nil {
		t.Fatalf("gRPC batch with one bad title: %v", err)
	}
	if len(resp.Results) != 3 || resp.Results[0].Error != nil || resp.Results[2].Error != nil || len(resp.Results[0].Tags) == 0 || len(resp.Results[2].Tags) == 0 {
		t.Fatalf("gRPC: the good documents must be tagged: %v", resp.Results)
	}
	st := status.FromProto(resp.Results[1].Error)
	if st.Code() != codes.InvalidArgument || pb.ReasonOf(st.Err()) != pb.ErrorReason_INVALID_UTF8 {
		t.Fatalf("gRPC bad title: %v", st)
	}
	checkViolation(t, st, "documents[1].title", "title is not valid UTF-8", "byte offset 4")

	one := wiretest.Corrupt(t, &pb.TagDocumentRequest{Document: titled("x", "TBAD")}, "TBAD")
	var single pb.TagDocumentResponse
	err := ts.conn.Invoke(ctx, "/tagger.v1.TaggerService/TagDocument", one, &single, grpc.ForceCodecV2(rawCodec{}))
	wantCode(t, err, codes.InvalidArgument, "document.title", "not valid UTF-8")

	// REST: a lone surrogate is the JSON form of a string that is not UTF-8.
	code, body, _ := ts.doJSON(t, "POST", "/v1/documents:batchTag", `{"documents": [
		{"id": "ok1", "title": "Tên lửa", "text": "`+sentence+`"},
		{"id": "bad", "title": "ab \ud800", "text": "`+sentence+`"},
		{"id": "ok2", "text": "`+sentence+`"}]}`, nil)
	results, _ := body["results"].([]any)
	if code != 200 || len(results) != 3 {
		t.Fatalf("REST batch with one bad title: %d %v", code, body)
	}
	for i, r := range results {
		r := r.(map[string]any)
		if (r["error"] != nil) != (i == 1) {
			t.Errorf("REST result %d: %v", i, r)
		}
	}
	raw, _ := json.Marshal(results[1])
	if !strings.Contains(string(raw), `"field":"documents[1].title"`) || !strings.Contains(string(raw), "INVALID_UTF8") {
		t.Errorf("REST bad title: %s, want INVALID_UTF8 on documents[1].title", raw)
	}
	code, body, _ = ts.doJSON(t, "POST", "/v1/documents:tag", `{"document": {"id": "x", "title": "\ud800", "text": "a"}}`, nil)
	if raw, _ := json.Marshal(body); code != 400 || !strings.Contains(string(raw), `"field":"document.title"`) {
		t.Errorf("REST single bad title: %d %s", code, raw)
	}
}

// TestTitleCountsTowardsDocumentSize: --max-document-bytes bounds the text
// and the title together.
func TestTitleCountsTowardsDocumentSize(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxDocumentBytes = 100 })
	req := &pb.TagDocumentRequest{Document: &pb.Document{Id: "big", Title: strings.Repeat("a", 60), Text: strings.Repeat("b", 50)}}
	var resp pb.TagDocumentResponse
	err := ts.conn.Invoke(ctxT(t), "/tagger.v1.TaggerService/TagDocument", req, &resp)
	wantCode(t, err, codes.InvalidArgument, "document.title", "110 bytes, over the limit of 100")
	req.Document.Title = strings.Repeat("a", 50)
	if err := ts.conn.Invoke(ctxT(t), "/tagger.v1.TaggerService/TagDocument", req, &resp); err != nil {
		t.Errorf("100 bytes of title and text: %v", err)
	}
}
