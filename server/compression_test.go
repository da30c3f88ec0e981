package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// Batch taggers far from the service compress their calls: the server
// accepts gzip and answers in it. (The test names the compressor rather
// than importing it, so that only the server's own import registers it.)
func TestGRPCGzip(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxMessageBytes = 2 << 20 })
	res, err := ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{
		Document: &pb.Document{Id: "z", Text: []byte(sentence)},
	}, grpc.UseCompressor("gzip"))
	if err != nil {
		t.Fatalf("TagDocument with gzip: %v", err)
	}
	if len(res.GetResult().GetTags()) != 2 {
		t.Fatalf("result %v", res)
	}
	// The message limit holds for the message as decompressed: 6 MiB that
	// gzip makes a few KiB are refused (over 2 MiB), not inflated and tagged.
	big := bytes.Repeat([]byte("tên lửa "), 6<<20/len("tên lửa "))
	_, err = ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: &pb.Document{Id: "bomb", Text: big}}, grpc.UseCompressor("gzip"))
	wantCode(t, err, codes.ResourceExhausted, "")
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// REST bodies may come gzip-compressed (Content-Encoding: gzip), the NDJSON
// stream's too; the body limit holds for the body as decoded.
func TestRESTGzipBody(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxMessageBytes, c.MaxDocumentBytes = 1<<20, 512<<10 })
	gz := map[string]string{"Content-Encoding": "gzip"}

	code, m, _ := ts.doJSON(t, "POST", "/v1/documents:tag", gzipped(t, `{"document": {"id": "g", "text": "`+sentence+`"}}`), gz)
	if code != 200 || len(m["result"].(map[string]any)["tags"].([]any)) != 2 {
		t.Fatalf("unary: HTTP %d %v", code, m)
	}
	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:batchTag",
		gzipped(t, `{"documents": [{"id": "a", "text": "tên lửa"}, {"id": "b", "text": "đại dương"}]}`), gz)
	if code != 200 || len(m["results"].([]any)) != 2 {
		t.Fatalf("batch: HTTP %d %v", code, m)
	}

	var lines strings.Builder
	const n = 200
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&lines, `{"document": {"id": "n%d", "text": "%s"}}`+"\n", i, sentence)
	}
	code, out := ts.ndjson(t, strings.NewReader(gzipped(t, lines.String())), gz)
	if code != 200 || len(out) != n {
		t.Fatalf("NDJSON: HTTP %d, %d lines", code, len(out))
	}
	for _, l := range out {
		if r, _ := l["result"].(map[string]any); r == nil || r["error"] != nil {
			t.Fatalf("NDJSON line %v", l)
		}
	}

	// 3 MiB of JSON that gzip makes a few KiB: over the 2 MiB body limit.
	bomb := gzipped(t, `{"document": {"id": "bomb", "text": "`+strings.Repeat("a", 3<<20)+`"}}`)
	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", bomb, gz)
	if raw, _ := json.Marshal(m); code != 413 || !strings.Contains(string(raw), "REQUEST_TOO_LARGE") {
		t.Fatalf("decoded body over the limit: HTTP %d %s (%d bytes sent)", code, raw, len(bomb))
	}

	// Not gzip after all; an encoding the server does not decode.
	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", `{"document": {"id": "p", "text": "a"}}`, gz)
	if raw, _ := json.Marshal(m); code != 400 || !strings.Contains(string(raw), "not gzip") {
		t.Fatalf("plain body said to be gzip: HTTP %d %s", code, raw)
	}
	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", `{}`, map[string]string{"Content-Encoding": "br"})
	if raw, _ := json.Marshal(m); code != 415 || !strings.Contains(string(raw), "UNSUPPORTED_CONTENT_ENCODING") {
		t.Fatalf("br: HTTP %d %s", code, raw)
	}
	code, out = ts.ndjson(t, strings.NewReader(`{}`), map[string]string{"Content-Encoding": "zstd"})
	if code != 415 || len(out) != 1 || out[0]["error"] == nil {
		t.Fatalf("NDJSON zstd: HTTP %d %v", code, out)
	}
}
