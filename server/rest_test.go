package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRESTTag(t *testing.T) {
	ts := start(t, nil)
	code, m, _ := ts.doJSON(t, "POST", "/v1/documents:tag",
		`{"document": {"id": "r1", "text": "`+sentence+`"}, "options": {"themes": ["space"]}}`, nil)
	if code != 200 {
		t.Fatalf("%d %v", code, m)
	}
	res := m["result"].(map[string]any)
	if res["documentId"] != "r1" || !strings.HasPrefix(res["rulesetVersion"].(string), "sha256:") {
		t.Fatalf("result %v", res)
	}
	tags := res["tags"].([]any)
	tag := tags[0].(map[string]any)
	if len(tags) != 1 || tag["theme"] != "space" || tag["label"] != "Vũ trụ" || tag["score"].(float64) < 0.5 {
		t.Fatalf("tags %v", tags)
	}
	ev := tag["evidence"].([]any)[0].(map[string]any)
	start, end := int(ev["start"].(float64)), int(ev["end"].(float64))
	if sentence[start:end] != ev["text"] {
		t.Fatalf("evidence %v", ev)
	}
	// No tags: the list is still there.
	_, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", `{"document": {"id": "none", "text": "không có gì"}}`, nil)
	if tags, ok := m["result"].(map[string]any)["tags"].([]any); !ok || len(tags) != 0 {
		t.Fatalf("want tags: [], got %v", m)
	}
	// JSON escapes in the text are decoded (\u00ea is ê; a surrogate pair).
	_, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", `{"document": {"id": "esc", "text": "t\u00ean l\u1eeda \ud83d\ude80\n"}}`, nil)
	if tags := m["result"].(map[string]any)["tags"].([]any); len(tags) != 1 {
		t.Fatalf("escaped text: %v", m)
	}
}

func TestRESTErrors(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 100
		c.MaxBatchDocuments = 2
	})
	check := func(path, body string, wantHTTP int, field string, want ...string) {
		t.Helper()
		code, m, _ := ts.doJSON(t, "POST", path, body, nil)
		if code != wantHTTP {
			t.Fatalf("%s %s: HTTP %d %v", path, body, code, m)
		}
		if m["code"] == nil || m["message"] == nil {
			t.Fatalf("not a google.rpc.Status: %v", m)
		}
		if field == "" {
			return
		}
		raw, _ := json.Marshal(m["details"])
		for _, w := range append(want, `"field":"`+field+`"`) {
			if !strings.Contains(string(raw), w) {
				t.Errorf("%s: details %s lack %s", path, raw, w)
			}
		}
	}
	check("/v1/documents:tag", "{\"document\": {\"id\": \"u\", \"text\": \"bad \xff byte\"}}", 400, "document.text", "UTF-8", `\"u\"`)
	check("/v1/documents:tag", `{"document": {"id": "big", "text": "`+strings.Repeat("a", 101)+`"}}`, 400, "document.text", "limit of 100")
	check("/v1/documents:tag", `{"document": {"id": "x", "text": "x"}, "options": {"themes": ["moon"]}}`, 400, "options.themes[0]", "moon")
	check("/v1/documents:tag", `{"document": `, 400, "")
	check("/v1/documents:tag", `{"documnet": {}}`, 400, "")
	check("/v1/documents:batchTag", `{"documents": []}`, 400, "documents", "empty")
	check("/v1/documents:batchTag", `{"documents": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}`, 400, "documents", "limit of 2")

	code, m, _ := ts.doJSON(t, "POST", "/v1/documents:batchTag",
		"{\"documents\": [{\"id\": \"a\", \"text\": \"tên lửa\"}, {\"id\": \"b\", \"text\": \"\xc3\"}]}", nil)
	if code != 200 {
		t.Fatalf("batch: %d %v", code, m)
	}
	results := m["results"].([]any)
	if results[0].(map[string]any)["error"] != nil || results[1].(map[string]any)["error"].(map[string]any)["code"].(float64) != 3 {
		t.Fatalf("batch results: %v", results)
	}
	code, _, _ = ts.doJSON(t, "GET", "/nowhere", "", nil)
	if code != 404 {
		t.Fatalf("unknown route: %d", code)
	}
}

// A document id or language that is not valid UTF-8 fails its document
// alone over REST too, as over gRPC: protojson alone would reject the
// whole request.
func TestRESTInvalidUTF8FieldFailsItsDocumentAlone(t *testing.T) {
	ts := start(t, nil)
	code, m, _ := ts.doJSON(t, "POST", "/v1/documents:batchTag",
		"{\"documents\": [{\"id\": \"a\", \"text\": \"tên lửa\"}, {\"id\": \"b\xff\", \"text\": \"tên lửa\"},"+
			" {\"id\": \"c\", \"languageCode\": \"v\xfei\", \"text\": \"tên lửa\"}, {\"id\": \"d\", \"text\": \"tên lửa\"},"+
			` {"id": "e\ud800", "text": "tên lửa"}]}`, nil)
	if code != 200 {
		t.Fatalf("batch: HTTP %d %v", code, m)
	}
	results := m["results"].([]any)
	for i, want := range []string{"", "documents[1].id", "documents[2].language_code", "", "documents[4].id"} {
		r := results[i].(map[string]any)
		e, _ := r["error"].(map[string]any)
		if want == "" {
			if e != nil || len(r["tags"].([]any)) != 1 {
				t.Errorf("document %d: %v", i, r)
			}
			continue
		}
		raw, _ := json.Marshal(e)
		if e == nil || e["code"].(float64) != 3 || !strings.Contains(string(raw), `"field":"`+want+`"`) || !strings.Contains(string(raw), "INVALID_UTF8") {
			t.Errorf("document %d: want INVALID_ARGUMENT on %s, got %v", i, want, r)
		}
	}

	code, m, _ = ts.doJSON(t, "POST", "/v1/documents:tag", "{\"document\": {\"id\": \"x\xff\", \"text\": \"tên lửa\"}}", nil)
	if raw, _ := json.Marshal(m); code != 400 || !strings.Contains(string(raw), `"field":"document.id"`) {
		t.Fatalf("unary: HTTP %d %v", code, m)
	}

	body := "{\"document\": {\"id\": \"n1\", \"text\": \"tên lửa\"}}\n" +
		"{\"document\": {\"id\": \"n2\xc3\", \"text\": \"tên lửa\"}}\n" +
		"{\"document\": {\"id\": \"n3\", \"text\": \"tên lửa\"}}\n"
	code, lines := ts.ndjson(t, strings.NewReader(body), nil)
	if code != 200 || len(lines) != 3 {
		t.Fatalf("stream: HTTP %d %v", code, lines)
	}
	failed := 0
	for _, l := range lines {
		r := l["result"].(map[string]any)
		if r["error"] != nil {
			failed++
			if !strings.HasPrefix(r["documentId"].(string), "n2") {
				t.Errorf("stream: %v failed", r)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("stream: %d failed, want 1: %v", failed, lines)
	}
}

func TestRESTReadEndpoints(t *testing.T) {
	ts := start(t, nil)
	code, m, _ := ts.doJSON(t, "GET", "/v1/themes", "", nil)
	if code != 200 || len(m["themes"].([]any)) != 2 || m["themes"].([]any)[0].(map[string]any)["labelVi"] != "Vũ trụ" {
		t.Fatalf("themes: %d %v", code, m)
	}
	code, m, _ = ts.doJSON(t, "GET", "/v1/ruleset", "", nil)
	if code != 200 || m["ruleset"].(map[string]any)["themeCount"].(float64) != 2 || m["ruleset"].(map[string]any)["loadTime"] == nil {
		t.Fatalf("ruleset: %d %v", code, m)
	}
	code, m, _ = ts.doJSON(t, "GET", "/swagger.json", "", nil)
	paths, _ := m["paths"].(map[string]any)
	if code != 200 || m["swagger"] != "2.0" || paths["/v1/documents:tag"] == nil || paths["/v1/documents:streamTag"] == nil {
		t.Fatalf("swagger: %d %v", code, m)
	}
	// The OpenAPI 3 document describes the routes the server has: each of
	// its operations is routed (an empty body is a 400 or 200, never a 404
	// or 405), and bearer authentication is declared.
	code, m, _ = ts.doJSON(t, "GET", "/openapi.json", "", nil)
	paths, _ = m["paths"].(map[string]any)
	schemes, _ := m["components"].(map[string]any)["securitySchemes"].(map[string]any)
	if code != 200 || !strings.HasPrefix(fmt.Sprint(m["openapi"]), "3.") || len(paths) != 5 || schemes["bearerAuth"] == nil {
		t.Fatalf("openapi: %d %v", code, m)
	}
	for path, ops := range paths {
		for method := range ops.(map[string]any) {
			if c, body, _ := ts.doJSON(t, strings.ToUpper(method), path, "", nil); c == 404 || c == 405 || c >= 500 {
				t.Errorf("%s %s from the OpenAPI document: HTTP %d %v", method, path, c, body)
			}
		}
	}
	if _, _, h := ts.doJSON(t, "GET", "/v1/themes", "", nil); len(h.Get("X-Request-Id")) != 16 {
		t.Fatalf("no request id: %v", h)
	}
	if _, _, h := ts.doJSON(t, "GET", "/v1/themes", "", map[string]string{"X-Request-Id": "abc"}); h.Get("X-Request-Id") != "abc" {
		t.Fatalf("request id not echoed: %v", h)
	}
	// The server logs the call after answering it: wait for the line.
	waitFor(t, "the request id in the gRPC logs", func() bool { return strings.Contains(ts.logs.String(), "request_id=abc") })
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, m, _ := ts.doJSON(t, "GET", p, "", nil); code != 200 {
			t.Fatalf("%s: %d %v", p, code, m)
		}
	}
	ts.doJSON(t, "POST", "/v1/documents:tag", `{"document": {"text": "`+sentence+`"}}`, nil)
	resp, err := ts.http.Get(ts.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="TagDocument"`,
		`grpc_server_handling_seconds_bucket`,
		`doctagger_documents_total{outcome="ok"} 1`,
		`doctagger_document_bytes_total`,
		`doctagger_tags_total{theme="space"} 1`,
		`doctagger_document_duration_seconds_count 1`,
		`doctagger_ruleset_reloads_total{result="failure"} 0`,
		`doctagger_ruleset_info{source=`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// ndjson posts body to the stream route and returns the status and lines.
func (ts *testServer) ndjson(t *testing.T, body io.Reader, header map[string]string) (int, []map[string]any) {
	t.Helper()
	resp := ts.do(t, "POST", "/v1/documents:streamTag", body, header)
	defer resp.Body.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return resp.StatusCode, lines
}

func TestRESTStream(t *testing.T) {
	ts := start(t, nil)
	var b strings.Builder
	const n = 300
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"document": {"id": "n%d", "text": "%s"}}`+"\n", i, sentence)
		if i == 5 {
			b.WriteString("\n") // blank lines are skipped
		}
	}
	b.WriteString("{\"document\": {\"id\": \"bad\", \"text\": \"\xff\"}}\n")
	code, lines := ts.ndjson(t, strings.NewReader(b.String()), nil)
	if code != 200 || len(lines) != n+1 {
		t.Fatalf("HTTP %d, %d lines", code, len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		r := l["result"].(map[string]any)
		seen[r["documentId"].(string)] = true
		if r["documentId"] == "bad" {
			if r["error"].(map[string]any)["code"].(float64) != 3 {
				t.Fatalf("bad doc: %v", r)
			}
		} else if len(r["tags"].([]any)) != 2 {
			t.Fatalf("result %v", r)
		}
	}
	if len(seen) != n+1 {
		t.Fatalf("%d distinct ids", len(seen))
	}
}

func TestRESTStreamMalformedLine(t *testing.T) {
	ts := start(t, nil)
	body := `{"document": {"id": "a", "text": "tên lửa"}}
{"document": {"id": "b", "text": "đại dương"}}
{"document": {"id": "c", "text": oops}}
{"document": {"id": "d", "text": "vệ tinh"}}
`
	code, lines := ts.ndjson(t, strings.NewReader(body), nil)
	if code != 200 || len(lines) != 3 {
		t.Fatalf("HTTP %d, lines %v", code, lines)
	}
	for _, l := range lines[:2] {
		if l["result"] == nil {
			t.Fatalf("want results first: %v", lines)
		}
	}
	e, _ := lines[2]["error"].(map[string]any)
	if e == nil || e["code"].(float64) != 3 || !strings.Contains(e["message"].(string), "line 3") {
		t.Fatalf("want an error line naming line 3, got %v", lines[2])
	}
	// Malformed first line: no result, a 400 and the error line.
	code, lines = ts.ndjson(t, strings.NewReader("not json\n"), nil)
	if code != 400 || len(lines) != 1 || !strings.Contains(lines[0]["error"].(map[string]any)["message"].(string), "line 1") {
		t.Fatalf("HTTP %d %v", code, lines)
	}
	// Unknown field on line 2.
	_, lines = ts.ndjson(t, strings.NewReader(`{"document": {"text": "a"}}`+"\n"+`{"doc": {}}`+"\n"), nil)
	if len(lines) != 2 || !strings.Contains(lines[1]["error"].(map[string]any)["message"].(string), "line 2") {
		t.Fatalf("unknown field: %v", lines)
	}
}

// Full duplex: each result arrives before the next line is written.
func TestRESTStreamFullDuplex(t *testing.T) {
	ts := start(t, nil)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", ts.base+"/v1/documents:streamTag", pr)
	respc := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		resp, err := ts.http.Do(req)
		if err != nil {
			errc <- err
			return
		}
		respc <- resp
	}()
	write := func(i int) {
		if _, err := fmt.Fprintf(pw, `{"document": {"id": "%d", "text": "tên lửa"}}`+"\n", i); err != nil {
			t.Fatal(err)
		}
	}
	write(1)
	var resp *http.Response
	select {
	case resp = <-respc:
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("no response headers while the body is still open: the route buffers")
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := 1; i <= 5; i++ {
		if i > 1 {
			write(i)
		}
		line, err := br.ReadString('\n')
		if err != nil || !strings.Contains(line, fmt.Sprintf(`"documentId":"%d"`, i)) {
			t.Fatalf("result %d: %q %v", i, line, err)
		}
	}
	pw.Close()
	if rest, _ := io.ReadAll(br); len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("trailing output %q", rest)
	}
}

// TestRESTMethodNotAllowed: a known route called with the wrong method is
// 405, not 501 (which says the server cannot do it at all).
func TestRESTMethodNotAllowed(t *testing.T) {
	ts := start(t, nil)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/documents:tag"},
		{"GET", "/v1/documents:batchTag"},
		{"DELETE", "/v1/themes"},
		{"GET", "/v1/documents:streamTag"},
	} {
		code, m, _ := ts.doJSON(t, c.method, c.path, "", nil)
		msg, _ := m["message"].(string)
		if code != 405 || !strings.Contains(msg, c.method) {
			t.Errorf("%s %s: HTTP %d %v, want 405 naming the method", c.method, c.path, code, m)
		}
	}
	if code, _, _ := ts.doJSON(t, "GET", "/v1/nothing", "", nil); code != 404 {
		t.Errorf("unknown route: HTTP %d, want 404", code)
	}
}

// The stream route spelled with an escaped colon must reach the NDJSON
// handler (line-numbered errors), not the gateway's own streaming handler.
func TestRESTStreamEscapedPath(t *testing.T) {
	ts := start(t, nil)
	body := `{"document": {"id": "a", "text": "` + sentence + `"}}` + "\nnot json\n"
	req, _ := http.NewRequest("POST", ts.base+"/v1/documents%3AstreamTag", strings.NewReader(body))
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(out), `"documentId":"a"`) || !strings.Contains(string(out), "line 2") {
		t.Fatalf("escaped stream path: HTTP %d\n%s", resp.StatusCode, out)
	}
}

// TestRESTStreamKeepsItsConnection: a client that streams and then calls
// again on the same keep-alive connection (Python's requests.Session,
// Node's keep-alive agent) is answered, the stream's body plain, empty or
// gzipped. The stream's handler must not wake its body reader with a read
// deadline once the body has ended: net/http's own read of the idle
// connection would time out too, which cancels the connection's context
// and so the next request on it (CANCELLED at once).
func TestRESTStreamKeepsItsConnection(t *testing.T) {
	ts := start(t, nil)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	line := `{"document": {"id": "s", "text": "` + sentence + `"}}` + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(line))
	zw.Close()
	calls := []struct {
		path, body string
		gzip       bool
	}{
		{"/v1/documents:streamTag", line, false},
		{"/v1/documents:streamTag", "", false},
		{"/v1/documents:streamTag", gz.String(), true},
		{"/v1/documents:tag", `{"document": {"text": "` + sentence + `"}}`, false},
	}
	for i := range 200 {
		for _, c := range calls {
			req, err := http.NewRequest("POST", ts.base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("round %d, %s: %v", i, c.path, err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || strings.Contains(string(out), `"code":1`) || (c.body != "" && !strings.Contains(string(out), `"tags":[{`)) {
				t.Fatalf("round %d, %s (gzip %v): HTTP %d %s", i, c.path, c.gzip, resp.StatusCode, out)
			}
		}
	}
}
