package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/doctagger/doctagger/client/clienttest"
)

// TestTagInvalidUTF8RESTLikeGRPC: the same inputs tagged over gRPC and over
// REST give the same record per document. A plain-text file holding an
// invalid byte fails alone with INVALID_ARGUMENT and its byte offset in both
// modes (REST used to send it through encoding/json, which turned the byte
// into U+FFFD, so the document was tagged as if it were valid); the valid
// documents, NFD and escapes included, get identical tags and evidence.
func TestTagInvalidUTF8RESTLikeGRPC(t *testing.T) {
	srv := clienttest.Start(t, nil)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const badText = "Chính phủ đầu tư vào trí tuệ \xff nhân tạo."
	badOffset := strings.IndexByte(badText, 0xff)
	files := map[string]string{
		write("a.txt", "Chính phủ đầu tư vào trí tuệ nhân tạo và chip bán dẫn."):       "ai semiconductors",
		write("b.txt", norm.NFD.String("Máy bay không người lái giao hàng ở Hà Nội.")): "drones",
		// Characters that JSON must escape, and U+2028, around a term.
		write("c.txt", "\"Bệnh án điện tử\"\t\\ dòng\u2028mới\x01 \u00e9 <&>"): "ehealth",
		write("bad.txt", badText): "",
	}
	// NDJSON: text decoded by tagctl itself (a raw 0xff inside a JSON string
	// is read as U+FFFD by encoding/json, in both modes alike).
	write("docs.ndjson", `{"id":"n1","text":"Tỉnh phát hành trái phiếu xanh."}`+"\n"+
		`{"id":"n2","text":"Nhà máy chip mới sản xuất chất bán dẫn \u00ff."}`+"\n"+
		"{\"id\":\"n3\",\"text\":\"trí tuệ \xff nhân tạo\"}\n")

	type record struct {
		raw   string
		ok    okRecord
		error *outError
	}
	tag := func(mode ...string) map[string]record {
		t.Helper()
		args := append([]string{"tag", "--evidence", "-q"}, mode...)
		code, out, stderr := runTagctl(t, append(args, dir)...)
		if code != 1 || !strings.Contains(stderr, "failed "+filepath.Join(dir, "bad.txt")+": INVALID_ARGUMENT") {
			t.Errorf("tag %v: exit %d (want 1, bad.txt failing alone); stderr:\n%s", mode, code, stderr)
		}
		got := map[string]record{}
		for line := range strings.Lines(out) {
			var r struct {
				okRecord
				Error *outError `json:"error"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("tag %v: output line %q: %v", mode, line, err)
			}
			got[r.ID] = record{raw: strings.TrimSpace(line), ok: r.okRecord, error: r.Error}
		}
		return got
	}
	grpc := tag("--addr", srv.Addr())
	rest := tag("--rest", srv.HTTPURL())

	for path, themes := range files {
		g, r := grpc[path], rest[path]
		if themes == "" { // bad.txt
			for mode, rec := range map[string]record{"gRPC": g, "REST": r} {
				if rec.error == nil || rec.error.Code != "INVALID_ARGUMENT" || !strings.Contains(rec.error.Message, "byte offset "+strconv.Itoa(badOffset)) {
					t.Errorf("%s: %s: want INVALID_ARGUMENT at byte offset %d, got %s", mode, path, badOffset, rec.raw)
				}
			}
			// The messages start with the document's place in its stream or
			// request ("sequence 2: "), which depends on the transport.
			seq := regexp.MustCompile(`^sequence \d+: `)
			if g.error != nil && r.error != nil && seq.ReplaceAllString(g.error.Message, "") != seq.ReplaceAllString(r.error.Message, "") {
				t.Errorf("%s: messages differ:\n gRPC: %s\n REST: %s", path, g.error.Message, r.error.Message)
			}
			continue
		}
		var got []string
		for _, tg := range g.ok.Tags {
			got = append(got, tg.Theme)
		}
		if g.error != nil || strings.Join(slices.Sorted(slices.Values(got)), " ") != themes {
			t.Errorf("gRPC: %s: want %s, got %s", path, themes, g.raw)
		}
		if r.raw != g.raw {
			t.Errorf("%s: REST and gRPC differ:\n gRPC: %s\n REST: %s", path, g.raw, r.raw)
		}
		// The evidence points into the original text, in bytes and in runes.
		data, _ := os.ReadFile(path)
		text := string(data)
		for _, tg := range r.ok.Tags {
			for _, e := range tg.Evidence {
				if text[e.Start:e.End] != e.Text || string([]rune(text)[e.RuneStart:e.RuneEnd]) != e.Text || !utf8.ValidString(e.Text) {
					t.Errorf("REST: %s: evidence %+v does not match the text", path, e)
				}
			}
		}
	}
	for _, id := range []string{"n1", "n2", "n3"} {
		if g, r := grpc[id], rest[id]; g.raw == "" || g.raw != r.raw {
			t.Errorf("%s: REST and gRPC differ:\n gRPC: %s\n REST: %s", id, g.raw, r.raw)
		}
	}
	if len(grpc) != 7 || len(rest) != 7 {
		t.Errorf("%d gRPC and %d REST records, want 7 each", len(grpc), len(rest))
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
