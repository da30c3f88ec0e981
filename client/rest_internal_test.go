package client

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
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
