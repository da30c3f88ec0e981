package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestStreamErrorsCounted: per-document errors of a stream (an unknown
// theme in the options, a request without a document) count in
// doctagger_documents_total like any other failed document.
func TestStreamErrorsCounted(t *testing.T) {
	ts := start(t, nil)
	before := metricValue(t, ts.srv, "doctagger_documents_total", "InvalidArgument")
	stream, err := ts.client.StreamTagDocuments(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	reqs := []*pb.StreamTagDocumentsRequest{
		{Document: doc("u1", sentence), Options: &pb.TagOptions{Themes: []string{"moon"}}},
		{Document: doc("u2", sentence)},
		{Document: nil, Options: &pb.TagOptions{}},
	}
	for _, r := range reqs {
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	got, err := recvAll(t, stream)
	if err != nil || len(got) != 3 {
		t.Fatalf("%d results, %v", len(got), err)
	}
	for seq, r := range got {
		if r.Error == nil {
			t.Fatalf("sequence %d: want an error, got %v", seq, r)
		}
	}
	if d := metricValue(t, ts.srv, "doctagger_documents_total", "InvalidArgument") - before; d != 3 {
		t.Fatalf("doctagger_documents_total{outcome=InvalidArgument} grew by %v for 3 failed documents", d)
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
