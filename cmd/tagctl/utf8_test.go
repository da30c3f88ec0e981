package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client/clienttest"
)

// TestTagInvalidUTF8RESTLikeGRPC: the same inputs tagged over gRPC and over
// REST give the same result line per document. A plain-text file holding an
// invalid byte fails alone with INVALID_ARGUMENT, reason INVALID_UTF8 and
// its byte offset in both modes: over gRPC the client finds it (protobuf
// cannot send it in a string), over REST it reaches the server as it is,
// which fails that document (encoding/json used to turn the byte into
// U+FFFD, so the document was tagged as if it were valid); the valid
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
	// NDJSON: decoded by tagctl itself. A raw 0xff inside a JSON string
	// fails its line in tagctl, in both modes alike (encoding/json would read
	// it as U+FFFD; see TestTagNDJSONInvalidUTF8).
	write("docs.ndjson", `{"id":"n1","text":"Tỉnh phát hành trái phiếu xanh."}`+"\n"+
		`{"id":"n2","text":"Nhà máy chip mới sản xuất chất bán dẫn \u00ff."}`+"\n"+
		"{\"id\":\"n3\",\"text\":\"trí tuệ \xff nhân tạo\"}\n")

	type record struct {
		raw string
		res *pb.DocumentResult
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
			res := parseResult(t, line)
			got[res.GetDocumentId()] = record{raw: strings.TrimSpace(line), res: res}
		}
		return got
	}
	grpc := tag("--addr", srv.Addr())
	rest := tag("--rest", srv.HTTPURL())

	for path, themes := range files {
		g, r := grpc[path], rest[path]
		if themes == "" { // bad.txt
			want := fmt.Sprintf("text is not valid UTF-8 (invalid byte sequence at byte offset %d)", badOffset)
			for mode, rec := range map[string]record{"gRPC": g, "REST": r} {
				e := rec.res.GetError()
				if codes.Code(e.GetCode()) != codes.InvalidArgument || !strings.Contains(e.GetMessage(), want) {
					t.Errorf("%s: %s: want INVALID_ARGUMENT %q, got %s", mode, path, want, rec.raw)
				}
				if info := errorInfo(e); info.GetReason() != pb.ErrorReason_INVALID_UTF8.String() || info.GetMetadata()["offset"] != strconv.Itoa(badOffset) ||
					info.GetMetadata()["documentId"] != path {
					t.Errorf("%s: %s: want reason INVALID_UTF8 with the offset %d and the id, got %v", mode, path, badOffset, info)
				}
				if len(rec.res.GetTags()) != 0 || rec.res.GetRulesetVersion() != "" {
					t.Errorf("%s: %s: a failed document with tags: %s", mode, path, rec.raw)
				}
			}
			continue
		}
		var got []string
		for _, tg := range g.res.GetTags() {
			got = append(got, tg.GetTheme())
		}
		if g.res.GetError() != nil || strings.Join(slices.Sorted(slices.Values(got)), " ") != themes {
			t.Errorf("gRPC: %s: want %s, got %s", path, themes, g.raw)
		}
		if r.raw != g.raw {
			t.Errorf("%s: REST and gRPC differ:\n gRPC: %s\n REST: %s", path, g.raw, r.raw)
		}
		// The evidence points into the original text, in bytes, runes and
		// UTF-16 code units.
		data, _ := os.ReadFile(path)
		text := string(data)
		for _, tg := range r.res.GetTags() {
			if len(tg.GetEvidence()) == 0 {
				t.Errorf("REST: %s: no evidence with --evidence", path)
			}
			for _, e := range tg.GetEvidence() {
				if text[e.GetStart():e.GetEnd()] != e.GetText() || string([]rune(text)[e.GetRuneStart():e.GetRuneEnd()]) != e.GetText() ||
					string(utf16.Decode(utf16.Encode([]rune(text))[e.GetUtf16Start():e.GetUtf16End()])) != e.GetText() || !utf8.ValidString(e.GetText()) {
					t.Errorf("REST: %s: evidence %v does not match the text", path, e)
				}
			}
		}
	}
	if g := grpc[filepath.Join(dir, "docs.ndjson")+":3"]; codes.Code(g.res.GetError().GetCode()) != codes.InvalidArgument {
		t.Errorf("docs.ndjson line 3 (raw 0xff): want INVALID_ARGUMENT, got %s", g.raw)
	}
	for _, id := range []string{"n1", "n2", filepath.Join(dir, "docs.ndjson") + ":3"} {
		if g, r := grpc[id], rest[id]; g.raw == "" || g.raw != r.raw {
			t.Errorf("%s: REST and gRPC differ:\n gRPC: %s\n REST: %s", id, g.raw, r.raw)
		}
	}
	if len(grpc) != 7 || len(rest) != 7 {
		t.Errorf("%d gRPC and %d REST records, want 7 each", len(grpc), len(rest))
	}
}

// errorInfo is the google.rpc.ErrorInfo of a result's error, or nil.
func errorInfo(e *statusProto) *errdetails.ErrorInfo {
	for _, d := range status.FromProto(e).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// TestTagNDJSONInvalidUTF8: an NDJSON line holding bytes that are not valid
// UTF-8 (in the text, the id or the language) fails alone with
// INVALID_ARGUMENT naming the file, the line and the byte offset in the
// line, over gRPC and REST alike; the other lines are tagged. encoding/json
// used to turn such bytes into U+FFFD, so the document was tagged as if its
// text were different.
func TestTagNDJSONInvalidUTF8(t *testing.T) {
	srv := clienttest.Start(t, nil)
	lines := []string{
		`{"id":"v1","text":"Doanh nghiệp đầu tư vào trí tuệ nhân tạo."}`,
		"{\"id\":\"x1\",\"text\":\"Trí tuệ nhân tạo \xff và máy bay không người lái.\"}",
		`{"id":"v2","text":"Bệnh viện triển khai bệnh án điện tử."}`,
		"{\"id\":\"x2-\xe1\xbb\",\"text\":\"Nhà máy chip sản xuất chất bán dẫn.\"}", // a cut-off "ệ"
		``,
		"{\"id\":\"x3\",\"text\":\"Tỉnh phát hành trái phiếu xanh.\",\"language\":\"v\xe9\"}\r", // Latin-1
		`{"id":"v3","text":"Máy bay không người lái giao hàng.","language":"en"}` + "\r",
	}
	content := strings.Join(lines, "\n") + "\n"
	bad := map[int]int{} // line number: byte offset of the first bad byte
	for i, l := range lines {
		if !utf8.ValidString(l) {
			for off := 0; ; {
				r, size := utf8.DecodeRuneInString(l[off:])
				if r == utf8.RuneError && size == 1 {
					bad[i+1] = off
					break
				}
				off += size
			}
		}
	}
	good := map[string]string{"v1": "ai", "v2": "ehealth", "v3": "drones"}
	path := filepath.Join(t.TempDir(), "docs.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(r io.Reader) { stdin = r }(stdin)
	for _, tc := range []struct {
		mode  string
		name  string // the input's name in ids and messages
		args  []string
		stdin bool
	}{
		{"gRPC", path, []string{"--addr", srv.Addr(), path}, false},
		{"REST", path, []string{"--rest", srv.HTTPURL(), path}, false},
		{"gRPC stdin", "-", []string{"--addr", srv.Addr()}, true},
		{"REST stdin", "-", []string{"--rest", srv.HTTPURL(), "-"}, true},
	} {
		if tc.stdin {
			stdin = strings.NewReader(content)
		}
		code, out, stderr := runTagctl(t, append([]string{"tag"}, tc.args...)...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1; stderr:\n%s", tc.mode, code, stderr)
		}
		got := parseOutput(t, out)
		if len(got) != len(good)+len(bad) {
			t.Errorf("%s: %d records, want %d:\n%s", tc.mode, len(got), len(good)+len(bad), out)
		}
		for id, theme := range good {
			if l := got[id]; l.Error != nil || len(l.Tags) != 1 || l.Tags[0].Theme != theme {
				t.Errorf("%s: %s: want %s, got %+v", tc.mode, id, theme, l)
			}
		}
		for id, l := range got {
			if strings.HasPrefix(id, "x") {
				t.Errorf("%s: a line that is not valid UTF-8 was tagged as %q: %+v", tc.mode, id, l)
			}
		}
		for lineNo, off := range bad {
			id := tc.name + ":" + strconv.Itoa(lineNo)
			l, ok := got[id]
			if !ok || l.Error == nil || l.Error.Code != "INVALID_ARGUMENT" {
				t.Errorf("%s: line %d: want an INVALID_ARGUMENT record %q, got %+v", tc.mode, lineNo, id, l)
				continue
			}
			for _, want := range []string{tc.name, "line " + strconv.Itoa(lineNo), "not valid UTF-8", "byte offset " + strconv.Itoa(off)} {
				if !strings.Contains(l.Error.Message, want) {
					t.Errorf("%s: line %d: the error %q does not name %q", tc.mode, lineNo, l.Error.Message, want)
				}
			}
			if !strings.Contains(stderr, "failed "+id+": INVALID_ARGUMENT") {
				t.Errorf("%s: stderr does not report %s:\n%s", tc.mode, id, stderr)
			}
		}
		if !strings.Contains(stderr, "6 documents, 3 failed") {
			t.Errorf("%s: summary:\n%s", tc.mode, stderr)
		}
	}
}
