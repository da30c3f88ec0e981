package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/server"
)

// restStreamFile is written for the REST NDJSON stream: the README's
// docs.ndjson, then requests whose options change on the way (each line's
// options hold for the next lines that carry none), and bare documents
// (which the stream reads too) in the API's spellings.
const restStreamFile = `{"document": {"id": "1", "text": "Trí tuệ nhân tạo"}}
{"document": {"id": "2", "text": "Chip bán dẫn"}}
{"document": {"id": "3", "text": "Doanh nghiệp đầu tư vào trí tuệ nhân tạo và máy bay không người lái."}, "options": {"themes": ["drones"], "omitEvidence": true}}
{"document": {"id": "4", "text": "Máy bay không người lái và trí tuệ nhân tạo", "languageCode": "en"}}
{"id": "5", "text": "Trí tuệ nhân tạo và máy bay không người lái", "languageCode": "en"}
{"document": {"id": "6", "text": "Máy bay không người lái, trí tuệ nhân tạo, bệnh án điện tử"}, "options": {"include_untagged": true, "min_score": 0.8}}

{"document": {"id": "7", "text": "Bệnh án điện tử", "language_code": "en"}}
{"document": {"id": "8", "text": "Xe điện và điện mặt trời"}, "options": {}}
`

// postStream sends a file to the REST NDJSON stream as curl --data-binary
// would and returns its result lines by sequence.
func postStream(t *testing.T, url, body string) map[int64]*pb.DocumentResult {
	t.Helper()
	resp, err := http.Post(url+"/v1/documents:streamTag", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		t.Fatalf("the REST stream answered %s: %s", resp.Status, data)
	}
	got := map[int64]*pb.DocumentResult{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		res := parseResult(t, sc.Text())
		got[res.GetSequence()] = res
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestTagReadsRESTStreamFile: a file written for the REST stream is read by
// tagctl tag, over gRPC and --rest alike, with the options of its lines
// (not the flags') where it gives them; tagctl's output lines are the REST
// stream's own lines for that file, field for field ({"result": ...} with
// documentId, rulesetVersion, sequence...), so one script reads both.
func TestTagReadsRESTStreamFile(t *testing.T) {
	srv := clienttest.Start(t, nil)
	path := filepath.Join(t.TempDir(), "docs.ndjson")
	if err := os.WriteFile(path, []byte(restStreamFile), 0o644); err != nil {
		t.Fatal(err)
	}
	want := postStream(t, srv.HTTPURL(), restStreamFile)
	if len(want) != 8 {
		t.Fatalf("the REST stream gave %d results for 8 documents", len(want))
	}
	// What the options of the lines do, to be sure the test tests them.
	for seq, themes := range map[int64]string{1: "ai", 2: "semiconductors", 3: "drones", 4: "drones", 5: "drones", 6: "", 7: "", 8: "green_transition"} {
		if got := themesOf(want[seq].GetTags()); got != themes {
			t.Errorf("REST stream: sequence %d: tags %q, want %q", seq, got, themes)
		}
	}
	if len(want[6].GetUntagged()) != 3 || len(want[7].GetUntagged()) != 1 || len(want[8].GetUntagged()) != 0 ||
		len(want[3].GetTags()[0].GetEvidence()) != 0 || len(want[8].GetTags()[0].GetEvidence()) == 0 || want[4].GetTags()[0].GetLabel() != "Drones" {
		t.Errorf("REST stream: the options or language were not applied: %v\n%v\n%v\n%v\n%v", want[3], want[4], want[6], want[7], want[8])
	}

	for _, mode := range [][]string{{"--addr", srv.Addr()}, {"--rest", srv.HTTPURL()}} {
		// The flags' options hold until the first line with options.
		args := append([]string{"tag", "-q", "--evidence", "--concurrency", "2"}, mode...)
		code, out, stderr := runTagctl(t, append(args, path)...)
		if code != 0 {
			t.Fatalf("%v: exit %d; stderr:\n%s", mode, code, stderr)
		}
		n := 0
		for line := range strings.Lines(out) {
			n++
			got := parseResult(t, line)
			w := want[got.GetSequence()]
			if !proto.Equal(got, w) {
				t.Errorf("%v: sequence %d differs from the REST stream's result:\n tagctl: %v\n REST:   %v", mode, got.GetSequence(), got, w)
			}
		}
		if n != len(want) {
			t.Errorf("%v: %d result lines, want %d", mode, n, len(want))
		}
		// Other flags (the flags' themes) change only the lines before the
		// first options.
		code, out, _ = runTagctl(t, append(append([]string{"tag", "-q", "--themes", "semiconductors"}, mode...), path)...)
		got := parseOutput(t, out)
		if code != 0 || len(got["1"].Tags) != 0 || len(got["2"].Tags) != 1 || themesOf(got["4"].res.GetTags()) != "drones" {
			t.Errorf("%v --themes semiconductors: exit %d\n%s", mode, code, out)
		}
	}
}

func themesOf(tags []*pb.Tag) string {
	var th []string
	for _, t := range tags {
		th = append(th, t.GetTheme())
	}
	return strings.Join(th, " ")
}

// TestReadNDJSONShapes: the shapes of an NDJSON line, what each gives, and
// the lines that fail alone (with the reason the REST stream would give).
func TestReadNDJSONShapes(t *testing.T) {
	drones := &pb.TagOptions{Themes: []string{"drones"}}
	type want struct {
		doc    *client.Document // nil: the line fails
		reason pb.ErrorReason   // of a failed line
		msg    string           // in the failed line's message
	}
	lines := []struct {
		line string
		want want
	}{
		{`{"id": "a", "text": "x", "languageCode": "en"}`, want{doc: &client.Document{ID: "a", Text: "x", Language: "en"}}},
		{`{"id": "b", "text": "x", "language_code": "en", "url": "https://…", "labels": ["ai"]}`, want{doc: &client.Document{ID: "b", Text: "x", Language: "en"}}},
		{`{"id": 12345678901234567890, "text": "x", "language": "en"}`, want{doc: &client.Document{ID: "12345678901234567890", Text: "x", Language: "en"}}},
		{`{"text": "không id"}`, want{doc: &client.Document{ID: "f.ndjson:4", Text: "không id", Language: "vi"}}},
		{`{"id": null, "text": "x", "languageCode": null}`, want{doc: &client.Document{ID: "f.ndjson:5", Text: "x", Language: "vi"}}},
		{`{"id": "c", "text": "x", "language": "en", "languageCode": "vi"}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `has both "languageCode" and "language"`}},
		{`{"id": true, "text": "x"}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `"id" is true; want a string or a number`}},
		{`{"id": "d"}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `line 8 of f.ndjson has no "text"`}},
		{`{"id": "e", "text": 5}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `"text": 5 is not a string`}},
		{`{"id": "f", "text": "x", "id": "g"}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `duplicate key "id"`}},
		{`{"id": "h", "text": "x"} {}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `data after the object`}},
		{`["x"]`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `not a JSON object`}},
		{`{"id": "i", "text": "trí \ud800 tuệ"}`, want{reason: pb.ErrorReason_INVALID_UTF8, msg: `line 13 of f.ndjson is not valid UTF-8: it escapes a lone UTF-16 surrogate (\ud800 at byte offset 26 of the line)`}},
		{`{"id": "j", "text": "😀 \ud83d\ude00 \\ud800"}`, want{doc: &client.Document{ID: "j", Text: `😀 😀 \ud800`, Language: "vi"}}},
		{"{\"id\": \"k\", \"text\": \"\xff\"}", want{reason: pb.ErrorReason_INVALID_UTF8, msg: `line 15 of f.ndjson is not valid UTF-8 (invalid byte sequence at byte offset 21 of the line)`}},
		// REST stream requests.
		{`{"document": {"id": "r1", "text": "x"}}`, want{doc: &client.Document{ID: "r1", Text: "x", Language: "vi"}}},
		{`{"document": {"text": "x", "language_code": "en"}, "options": {"themes": ["drones"]}}`, want{doc: &client.Document{ID: "f.ndjson:17", Text: "x", Language: "en", Options: drones}}},
		{`{"id": "r3", "text": "x"}`, want{doc: &client.Document{ID: "r3", Text: "x", Language: "vi", Options: drones}}},
		{`{"document": {"id": "r4", "text": "x", "language": "en"}}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `unknown field "language"`}},
		{`{"document": {"id": 5, "text": "x"}}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `malformed request on line 20 of f.ndjson`}},
		{`{"id": "r6", "text": "x", "options": {}}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `unknown field "id"`}},
		{`{"options": {"minScore": 0.5}}`, want{reason: pb.ErrorReason_MISSING_DOCUMENT, msg: `line 22 of f.ndjson has options but no "document"`}},
		{`{"document": {"id": "r8", "text": "x"}}`, want{doc: &client.Document{ID: "r8", Text: "x", Language: "vi", Options: &pb.TagOptions{MinScore: 0.5}}}},
		{`{"document": {"id": "r9", "text": "x"}, "options": {}}`, want{doc: &client.Document{ID: "r9", Text: "x", Language: "vi", Options: &pb.TagOptions{}}}},
		// Titles, in both shapes.
		{`{"id": "t1", "title": "Tít", "text": "x"}`, want{doc: &client.Document{ID: "t1", Title: "Tít", Text: "x", Language: "vi", Options: &pb.TagOptions{}}}},
		{`{"document": {"id": "t2", "title": "Tít", "text": "x"}}`, want{doc: &client.Document{ID: "t2", Title: "Tít", Text: "x", Language: "vi", Options: &pb.TagOptions{}}}},
		{`{"id": "t3", "title": 5, "text": "x"}`, want{reason: pb.ErrorReason_MALFORMED_LINE, msg: `"title": 5 is not a string`}},
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(l.line + "\n")
	}
	type failure struct {
		id string
		st *status.Status
	}
	var (
		docs []client.Document
		bad  []failure
	)
	readNDJSON(strings.NewReader(in.String()), "f.ndjson", "vi", func(d client.Document) bool {
		docs = append(docs, d)
		return true
	}, func(id string, st *status.Status) { bad = append(bad, failure{id, st}) })
	for i, l := range lines {
		lineNo := i + 1
		if l.want.doc != nil {
			if len(docs) == 0 {
				t.Fatalf("line %d: no document read", lineNo)
			}
			d := docs[0]
			docs = docs[1:]
			w := *l.want.doc
			if d.ID != w.ID || d.Text != w.Text || d.Title != w.Title || d.Language != w.Language || !proto.Equal(d.Options, w.Options) || (d.Options == nil) != (w.Options == nil) {
				t.Errorf("line %d: got %+v, want %+v", lineNo, d, w)
			}
			continue
		}
		if len(bad) == 0 {
			t.Fatalf("line %d: no failure reported", lineNo)
		}
		f := bad[0]
		bad = bad[1:]
		info := errorInfo(f.st.Proto())
		if f.id != fmt.Sprintf("f.ndjson:%d", lineNo) || f.st.Code() != codes.InvalidArgument || !strings.Contains(f.st.Message(), l.want.msg) ||
			info.GetReason() != l.want.reason.String() || info.GetMetadata()["line"] != fmt.Sprint(lineNo) {
			t.Errorf("line %d: want %s INVALID_ARGUMENT %s %q, got %s: %v %v", lineNo, fmt.Sprintf("f.ndjson:%d", lineNo), l.want.reason, l.want.msg, f.id, f.st.Message(), info)
		}
	}
	if len(docs) != 0 || len(bad) != 0 {
		t.Errorf("left over: %d documents, %d failures", len(docs), len(bad))
	}

	// The options of a file end with it.
	docs = nil
	readNDJSON(strings.NewReader(`{"id": "s", "text": "x"}`), "g.ndjson", "", func(d client.Document) bool { docs = append(docs, d); return true },
		func(string, *status.Status) { t.Error("a line failed") })
	if len(docs) != 1 || docs[0].Options != nil {
		t.Errorf("the options of one file hold in the next: %+v", docs)
	}
}

// TestTagRESTLineOverLimit: over --rest, a document whose request line the
// server cannot take (longer than its line limit: MALFORMED_LINE, which
// ends the request) fails alone, first in its request or after others, and
// the others are sent again and tagged; it used to fail the whole job as
// an INVALID_ARGUMENT that retrying cannot fix.
func TestTagRESTLineOverLimit(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) { c.MaxDocumentBytes = 1000 }) // lines up to 70 KiB
	huge := strings.Repeat("trí tuệ nhân tạo ", 6000)                                // 120 KB
	input := writeNDJSON(t, t.TempDir(), 500, func(i int) string {
		if i == 0 || i == 7 || i == 250 {
			return huge
		}
		return "máy bay không người lái"
	})
	for _, mode := range [][]string{{"--rest", srv.HTTPURL()}, {"--addr", srv.Addr()}} {
		code, out, stderr := runTagctl(t, append(append([]string{"tag"}, mode...), input)...)
		got := parseOutput(t, out)
		if code != 1 || len(got) != 500 || !strings.Contains(stderr, "500 documents, 3 failed") {
			t.Fatalf("%v: exit %d, %d results; stderr:\n%s", mode, code, len(got), stderr[max(0, len(stderr)-800):])
		}
		for i := range 500 {
			l := got[fmt.Sprintf("doc-%06d", i)]
			if i == 0 || i == 7 || i == 250 {
				if l.Error == nil || l.Error.Code != "INVALID_ARGUMENT" {
					t.Errorf("%v: document %d (too large): want INVALID_ARGUMENT, got %+v", mode, i, l)
				}
				continue
			}
			if l.Error != nil || len(l.Tags) != 1 || l.Tags[0].Theme != "drones" {
				t.Errorf("%v: document %d: %+v", mode, i, l)
			}
		}
	}
}
