package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
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
		Document: &pb.Document{Id: "z", Text: sentence},
	}, grpc.UseCompressor("gzip"))
	if err != nil {
		t.Fatalf("TagDocument with gzip: %v", err)
	}
	if len(res.GetResult().GetTags()) != 2 {
		t.Fatalf("result %v", res)
	}
	// The message limit holds for the message as decompressed: 3 MiB of
	// random letters, which gzip makes about 1.9 MB, are over 2 MiB.
	_, err = ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: &pb.Document{Id: "big", Text: string(randomLetters(3 << 20))}}, grpc.UseCompressor("gzip"))
	wantCode(t, err, codes.ResourceExhausted, "")
	// A bomb is refused as it inflates: 6 MiB that gzip makes a few KiB
	// stop at about 1 MiB (grpc-go reports the compressor's error as
	// INTERNAL).
	bomb := bytes.Repeat([]byte("tên lửa "), 6<<20/len("tên lửa "))
	_, err = ts.client.TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: &pb.Document{Id: "bomb", Text: string(bomb)}}, grpc.UseCompressor("gzip"))
	if st := wantCode(t, err, codes.Internal, ""); !strings.Contains(st.Message(), "decompression bomb") {
		t.Fatalf("bomb: %v", st.Message())
	}
}

// randomLetters is n bytes of random lower-case letters: text gzip cannot
// make much smaller.
func randomLetters(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	return b
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

	// 3 MiB of random letters, about 1.9 MB as gzip: over the 2 MiB body
	// limit as decoded.
	big := gzipped(t, `{"document": {"id": "big", "text": "`+string(randomLetters(3<<20))+`"}}`)
	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", big, gz)
	if raw, _ := json.Marshal(m); code != 413 || !strings.Contains(string(raw), "REQUEST_TOO_LARGE") {
		t.Fatalf("decoded body over the limit: HTTP %d %s (%d bytes sent)", code, raw, len(big))
	}
	// 3 MiB that gzip makes a few KiB: refused as it inflates.
	bomb := gzipped(t, `{"document": {"id": "bomb", "text": "`+strings.Repeat("a", 3<<20)+`"}}`)
	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", bomb, gz)
	if raw, _ := json.Marshal(m); code != 413 || !strings.Contains(string(raw), "decompression bomb") || !strings.Contains(string(raw), "DECOMPRESSION_BOMB") {
		t.Fatalf("gzip bomb: HTTP %d %s (%d bytes sent)", code, raw, len(bomb))
	}

	// Not gzip after all; an encoding the server does not decode.
	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", `{"document": {"id": "p", "text": "a"}}`, gz)
	if raw, _ := json.Marshal(m); code != 400 || !strings.Contains(string(raw), "not gzip") || !strings.Contains(string(raw), "MALFORMED_BODY") {
		t.Fatalf("plain body said to be gzip: HTTP %d %s", code, raw)
	}
	code, m, h := ts.doJSON(t, "POST", "/v1/documents:tag", `{}`, map[string]string{"Content-Encoding": "br"})
	if raw, _ := json.Marshal(m); code != 415 || !strings.Contains(string(raw), "UNSUPPORTED_CONTENT_ENCODING") || h.Get("Accept-Encoding") != "gzip" {
		t.Fatalf("br: HTTP %d %s", code, raw)
	}
	// The same bomb as an NDJSON stream: the same answer, not a malformed line.
	code, out = ts.ndjson(t, strings.NewReader(bomb), gz)
	if raw, _ := json.Marshal(out); code != 413 || len(out) != 1 || !strings.Contains(string(raw), "DECOMPRESSION_BOMB") {
		t.Fatalf("NDJSON gzip bomb: HTTP %d %s", code, raw)
	}
	code, out = ts.ndjson(t, strings.NewReader(`{}`), map[string]string{"Content-Encoding": "zstd"})
	if code != 415 || len(out) != 1 || out[0]["error"] == nil {
		t.Fatalf("NDJSON zstd: HTTP %d %v", code, out)
	}
}

// Answers are gzip-compressed for a client that accepts it: a batch, and
// the NDJSON stream line by line.
func TestRESTGzipAnswers(t *testing.T) {
	ts := start(t, nil)
	post := func(path, body string) (*http.Response, []byte) {
		t.Helper()
		// Set by hand, Go's client then leaves the answer compressed. As
		// curl and browsers do, zstd is offered too: the answer is gzip,
		// as documented.
		resp := ts.do(t, "POST", path, strings.NewReader(body), map[string]string{"Accept-Encoding": "zstd, br, gzip"})
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: HTTP %d, Content-Encoding %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		raw, _ := io.ReadAll(resp.Body)
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes, %d compressed", path, len(plain), len(raw))
		return resp, plain
	}

	docs := make([]string, 20)
	for i := range docs {
		docs[i] = fmt.Sprintf(`{"id": "d%d", "text": "%s"}`, i, sentence)
	}
	_, plain := post("/v1/documents:batchTag", `{"documents": [`+strings.Join(docs, ",")+`]}`)
	var batch struct{ Results []json.RawMessage }
	if err := json.Unmarshal(plain, &batch); err != nil || len(batch.Results) != 20 {
		t.Fatalf("batch: %v, %d results", err, len(batch.Results))
	}

	var lines strings.Builder
	for i := range 50 {
		fmt.Fprintf(&lines, `{"document": {"id": "n%d", "text": "%s"}}`+"\n", i, sentence)
	}
	_, plain = post("/v1/documents:streamTag", lines.String())
	defer func() {
		// A GET has no body: its Content-Encoding is ignored, not refused.
		if code, m, _ := ts.doJSON(t, "GET", "/v1/themes", "", map[string]string{"Content-Encoding": "br"}); code != 200 {
			t.Errorf("GET with Content-Encoding: HTTP %d %v", code, m)
		}
	}()
	sc := bufio.NewScanner(bytes.NewReader(plain))
	n := 0
	for sc.Scan() {
		var l struct{ Result *struct{ DocumentID string } }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Result == nil {
			t.Fatalf("NDJSON line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n != 50 {
		t.Fatalf("NDJSON: %d lines", n)
	}
}
