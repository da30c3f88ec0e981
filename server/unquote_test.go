package server

import (
	"bytes"
	"encoding/json"
	"testing"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

func TestUnquoteRaw(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`:              "plain",
		`"tên lửa"`:            "tên lửa",
		`"a\"b\\c\/d\n\t"`:     "a\"b\\c/d\n\t",
		`"\u00ea\ud83d\ude80"`: "ê🚀",
		"\"raw \xff byte\"":    "raw \xff byte",
		"\"esc \\n \xff\"":     "esc \n \xff",
	} {
		got, ok := unquoteRaw([]byte(in))
		if !ok || string(got) != want {
			t.Errorf("unquoteRaw(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{`"\x"`, `"\u12"`, `nope`, `"`} {
		if _, ok := unquoteRaw([]byte(in)); ok {
			t.Errorf("unquoteRaw(%q) accepted", in)
		}
	}
}

func TestRESTJSONText(t *testing.T) {
	m := newRESTJSON()
	var req pb.BatchTagDocumentsRequest
	if err := m.Unmarshal([]byte(`{"documents": [{"id": "a", "text": "một"}, {"id": "b", "text": "hai \u0062"}], "options": {"omitEvidence": true}}`), &req); err != nil {
		t.Fatal(err)
	}
	if string(req.Documents[0].Text) != "một" || string(req.Documents[1].Text) != "hai b" || !req.Options.OmitEvidence {
		t.Fatalf("decoded %v", &req)
	}
	var one pb.TagDocumentRequest
	dec := m.NewDecoder(bytes.NewReader([]byte(`{"document": {"text": "x"}} {"document": {"text": "y"}}`)))
	for _, want := range []string{"x", "y"} {
		if err := dec.Decode(&one); err != nil || string(one.Document.Text) != want {
			t.Fatalf("decode: %v %v", &one, err)
		}
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
