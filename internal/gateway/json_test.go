package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire"
)

func TestDecodeJSONString(t *testing.T) {
	for in, want := range map[string]struct {
		s  string
		at int
	}{
		`"plain"`:              {"plain", -1},
		`"tên lửa"`:            {"tên lửa", -1},
		`"a\"b\\c\/d\n\t"`:     {"a\"b\\c/d\n\t", -1},
		`"\u00ea\ud83d\ude80"`: {"ê🚀", -1},
		"\"raw \xff byte\"":    {"raw \uFFFD byte", 4},
		"\"esc \\n \xff\"":     {"esc \n \uFFFD", 6},
		`"lone \ud800 x"`:      {"lone \uFFFD x", 5},
		`"low \udc00"`:         {"low \uFFFD", 4},
		`"đ \ud800\ud800"`:     {"đ \uFFFD\uFFFD", 3},
	} {
		s, at := decodeJSONString([]byte(in))
		if s != want.s || at != want.at {
			t.Errorf("decodeJSONString(%q) = %q, %d; want %q, %d", in, s, at, want.s, want.at)
		}
	}
}

func TestHasLoneSurrogate(t *testing.T) {
	for tok, want := range map[string]bool{
		`"plain"`:                  false,
		`"pair \ud83d\ude80"`:      false,
		`"high \ud800"`:            true,
		`"high then x \ud800x"`:    true,
		`"low \udc00"`:             true,
		`"high high \ud800\ud800"`: true,
		`"escaped \\ud800"`:        false, // a backslash, then the letters
		`"bmp \u00ea"`:             false,
	} {
		if got := hasLoneSurrogate([]byte(tok)); got != want {
			t.Errorf("hasLoneSurrogate(%s) = %v, want %v", tok, got, want)
		}
	}
}

// TestRESTJSONRules: one set of rules for every body, whatever keys it has.
func TestRESTJSONRules(t *testing.T) {
	m := newRESTJSON()
	var req pb.BatchTagDocumentsRequest
	if err := m.Unmarshal([]byte(`{"documents": [{"id": "a", "text": "một"}, {"id": "b", "text": "hai \u0062", "languageCode": "en"}], "options": {"omitEvidence": true}}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.Documents[0].Text != "một" || req.Documents[1].Text != "hai b" || req.Documents[1].LanguageCode != "en" || !req.Options.OmitEvidence {
		t.Fatalf("decoded %v", &req)
	}
	// Malformed, each with or without a "text" key: 400 MALFORMED_BODY
	// naming the problem.
	for body, want := range map[string]string{
		`{"document": {"id": "a", "text": "x"}} {"document": {}}`:  "unexpected token",
		`{"document": {"id": "a"}} trailing`:                       "invalid value",
		`{"document": {"id": "a", "text": "x", "text": "y"}}`:      "duplicate field",
		`{"document": {"id": "a", "id": "b"}}`:                     "duplicate field",
		`{"document": {"id": "a", "text": "x", "colour": "blue"}}`: "unknown field",
		`{"document": {"id": "a"}, "colour": "blue"}`:              "unknown field",
		`{"document": {"id": 7, "text": "x"}}`:                     "invalid value",
		`{"document": {"id": "a", "text": "x"}`:                    "unexpected EOF",
		`{"document": {"id": "a", "text": "x` + "\xff" + `"}`:      "invalid UTF-8", // protojson's first complaint
	} {
		var r pb.TagDocumentRequest
		err := m.Unmarshal([]byte(body), &r)
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), want) || reasonOf(st) != pb.ErrorReason_MALFORMED_BODY.String() {
			t.Errorf("%s: %v (reason %q); want INVALID_ARGUMENT %q with reason %s", body, err, reasonOf(st), want, pb.ErrorReason_MALFORMED_BODY)
		}
	}
	// An escaped key is the key it spells.
	var r pb.TagDocumentRequest
	if err := m.Unmarshal([]byte(`{"document": {"t\u0065xt": "x"}}`), &r); err != nil || r.Document.GetText() != "x" {
		t.Errorf("escaped key: %v %v", &r, err)
	}
	// Invalid UTF-8 or a lone surrogate in a string fails the document
	// holding it (marked for the service), not the request, wherever the
	// document is.
	for body, want := range map[string][]wire.InvalidField{
		`{"document": {"id": "a", "text": "x` + "\xff" + `"}}`:                        {{Name: "text", Offset: 1}},
		`{"document": {"id": "a", "text": "x \ud800"}}`:                               {{Name: "text", Offset: 2}},
		`{"document": {"id": "a` + "\xc3" + `", "text": "ok"}}`:                       {{Name: "id", Offset: 1}},
		`{"document": {"text": "ok", "languageCode": "\udc00"}}`:                      {{Name: "language_code", Offset: 0}},
		`{"options": {"themes": ["ai"]}, "document": {"text": "` + "\xe1\xba" + `"}}`: {{Name: "text", Offset: 0}},
	} {
		var r pb.TagDocumentRequest
		if err := m.Unmarshal([]byte(body), &r); err != nil {
			t.Errorf("%q: %v", body, err)
			continue
		}
		got := wire.InvalidUTF8Fields(r.Document)
		if len(got) != len(want) || got[0] != want[0] {
			t.Errorf("%q: marked %v, want %v", body, got, want)
		}
	}
	var b pb.BatchTagDocumentsRequest
	body := `{"documents": [{"id": "a", "text": "ok"}, {"id": "b", "text": "bad ` + "\xff" + `"}, {"id": "c", "text": "ok"}], "options": {"themes": ["x", "y` + "\xff" + `"]}}`
	if err := m.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	if got := wire.InvalidUTF8Fields(b.Documents[1]); len(got) != 1 || got[0] != (wire.InvalidField{Name: "text", Offset: 4}) {
		t.Errorf("batch: documents[1] marked %v", got)
	}
	if len(wire.InvalidUTF8Fields(b.Documents[0])) != 0 || len(wire.InvalidUTF8Fields(b.Documents[2])) != 0 || b.Documents[2].Text != "ok" {
		t.Errorf("batch: the good documents were marked or lost: %v", &b)
	}
	if got := wire.InvalidUTF8Fields(b.Options); len(got) != 1 || got[0].Name != "themes[1]" {
		t.Errorf("batch: options marked %v", got)
	}
	// Responses keep empty lists and lowerCamelCase names.
	out, err := m.Marshal(&pb.TagDocumentResponse{Result: &pb.DocumentResult{DocumentId: "z"}})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]map[string]any
	if err := json.Unmarshal(out, &back); err != nil || back["result"]["documentId"] != "z" || back["result"]["tags"] == nil {
		t.Fatalf("marshal: %s %v", out, err)
	}
}

func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}
