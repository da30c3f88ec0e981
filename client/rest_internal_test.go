package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestAppendRequest: the REST client writes each document as a line of the
// REST stream in the API's JSON (languageCode, the text a plain string),
// which protojson reads back as it was; bytes that are not valid UTF-8 go
// as they are, for the server to fail that document with their offset.
func TestAppendRequest(t *testing.T) {
	d := Document{ID: "a\"1", Text: "Trí tuệ \"nhân\" tạo\n\t<&> \u2028", Language: "en"}
	line := appendRequest(nil, d, []byte(`{"themes":["ai"],"omitEvidence":true}`))
	if line[len(line)-1] != '\n' {
		t.Fatalf("%q does not end its line", line)
	}
	var req pb.StreamTagDocumentsRequest
	if err := protojson.Unmarshal(line, &req); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	want := &pb.StreamTagDocumentsRequest{
		Document: &pb.Document{Id: d.ID, Text: d.Text, LanguageCode: "en"},
		Options:  &pb.TagOptions{Themes: []string{"ai"}, OmitEvidence: true},
	}
	if !proto.Equal(&req, want) || !strings.Contains(string(line), `"languageCode":"en"`) {
		t.Errorf("%s read back as %v, want %v", line, &req, want)
	}
	if got := string(appendRequest(nil, Document{ID: "b", Text: "x\xffy"}, nil)); got != "{\"document\":{\"id\":\"b\",\"text\":\"x\xffy\"}}\n" {
		t.Errorf("invalid UTF-8: got %q", got)
	}
}

// TestJSONText: valid text is quoted exactly as encoding/json does (without
// HTML escaping); bytes that are not valid UTF-8 are kept as they are.
func TestJSONText(t *testing.T) {
	for _, s := range []string{"", "trí tuệ nhân tạo", norm.NFD.String("Hà Nội"), "\"q\" \\ \t\n\r\x00\x1f <&> \u2028\u2029 \U0001F600", "\uFFFD"} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		want := strings.TrimSuffix(b.String(), "\n")
		if got := jsonText(s); string(got) != want {
			t.Errorf("jsonText(%q) = %s, want %s", s, got, want)
		}
	}
	for s, want := range map[string]string{
		"\xff":                     "\"\xff\"",
		"a\"\xffb\n":               "\"a\\\"\xffb\\n\"",
		"tuệ\xe1\x80 \xed\xa0\x80": "\"tuệ\xe1\x80 \xed\xa0\x80\"", // truncated sequence, surrogate
		"\xc3\x28\t":               "\"\xc3(\\t\"",
	} {
		if got := jsonText(s); string(got) != want {
			t.Errorf("jsonText(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestRESTAnswerRead: the lines of an NDJSON answer give each document its
// result; an error line naming a line (MALFORMED_LINE) fails that document
// alone and leaves the others to resend; another error line, a line that
// is not JSON or a sequence out of range ends the answer with its error.
func TestRESTAnswerRead(t *testing.T) {
	chunk := func() []*restEntry {
		return []*restEntry{{index: 10, doc: Document{ID: "a"}}, {index: 11, doc: Document{ID: "b"}}, {index: 12, doc: Document{ID: "c"}}}
	}
	read := func(body string) ([]Result, []*restEntry, bool, error) {
		var got []Result
		a := &restAnswer{peer: "p", chunk: chunk(), answered: make([]bool, 3), emit: func(r Result) bool { got = append(got, r); return true }}
		rest, progressed, err := a.read(t.Context(), strings.NewReader(body))
		return got, rest, progressed, err
	}
	result := `{"result":{"sequence":2,"documentId":"b","tags":[{"theme":"ai","score":0.9}],"rulesetVersion":"v1","words":3}}`

	got, rest, progressed, err := read(result + "\n\n" + `{"result":{"sequence":1,"error":{"code":3,"message":"bad"}}}` + "\n" + `{"result":{"sequence":3}}`)
	if err != nil || !progressed || len(rest) != 0 || len(got) != 3 {
		t.Fatalf("all answered: %v %v %v %v", got, rest, progressed, err)
	}
	if got[0].Index != 11 || got[0].ID != "b" || got[0].Tags[0].GetTheme() != "ai" || got[0].RulesetVersion != "v1" || got[0].Words != 3 || got[0].Peer != "p" || got[0].Err != nil {
		t.Errorf("result line: %+v", got[0])
	}
	if status.Code(got[1].Err) != codes.InvalidArgument || got[1].ID != "a" {
		t.Errorf("failed document: %+v", got[1])
	}

	malformed := pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_MALFORMED_LINE, "", "line 3 is too long", map[string]string{pb.MetaLine: "3"})
	errLine, _ := protojson.Marshal(malformed.Proto())
	got, rest, progressed, err = read(result + "\n" + `{"error":` + string(errLine) + "}\n")
	if err != nil || !progressed || len(rest) != 1 || rest[0].doc.ID != "a" || len(got) != 2 || got[1].ID != "c" || pb.ReasonOf(got[1].Err) != pb.ErrorReason_MALFORMED_LINE {
		t.Errorf("MALFORMED_LINE: %v %v %v %v", got, rest, progressed, err)
	}

	for body, want := range map[string]codes.Code{
		result + "\n" + `{"error":{"code":8,"message":"shed"}}`: codes.ResourceExhausted,
		result + "\nnot json":       codes.Internal,
		`{"result":{"sequence":4}}`: codes.Internal,
		result + "\n" + result:      codes.Internal,
		result:                      codes.Unavailable, // ended with a and c unanswered
	} {
		_, rest, _, err := read(body)
		if status.Code(err) != want || len(rest) == 0 {
			t.Errorf("%q: got %v with %d left, want %v", body, err, len(rest), want)
		}
	}
}

// TestRESTTagStreamWindow: o.Window bounds the documents in flight over
// REST too, when it is under o.Streams (4 requests of one document each
// used to run at once for a window of 2).
func TestRESTTagStreamWindow(t *testing.T) {
	var inFlight, most atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		n := int64(bytes.Count(body, []byte("\n")))
		now := inFlight.Add(n)
		for old := most.Load(); now > old && !most.CompareAndSwap(old, now); old = most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-n)
		for seq := int64(1); seq <= n; seq++ {
			fmt.Fprintf(w, `{"result":{"sequence":%d}}`+"\n", seq)
		}
	}))
	defer srv.Close()
	c, err := NewREST(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	docs := func(yield func(Document) bool) {
		for i := range 12 {
			if !yield(Document{ID: fmt.Sprint(i), Text: "x"}) {
				return
			}
		}
	}
	n := 0
	for r := range c.TagStream(t.Context(), docs, StreamOptions{Streams: 4, Window: 2}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		n++
	}
	if n != 12 || most.Load() > 2 {
		t.Errorf("%d results; at most %d documents in flight, want 2", n, most.Load())
	}
}
