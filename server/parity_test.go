package server

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// TestRESTAndGRPCAlike: the same requests over gRPC and REST get the same
// answers (results byte for byte as JSON, errors with the same code and
// reason), and authentication, limits, metrics and the call log apply to
// both alike: REST calls go through the gRPC server's interceptors.
func TestRESTAndGRPCAlike(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.AuthTokens = []string{"tok"}
		c.MaxDocumentBytes = 100
		c.MaxBatchDocuments = 2
	})
	m := jsonCodec{}
	type call struct {
		name   string
		token  string
		method string // the RPC
		path   string // its REST route
		req    proto.Message
		code   codes.Code
		reason string
		http   int
	}
	tagReq := func(d *pb.Document, o *pb.TagOptions) proto.Message {
		return &pb.TagDocumentRequest{Document: d, Options: o}
	}
	calls := []call{
		{"ok", "tok", "TagDocument", "/v1/documents:tag", tagReq(doc("a", sentence), nil), codes.OK, "", 200},
		{"ok untagged", "tok", "TagDocument", "/v1/documents:tag", tagReq(&pb.Document{Id: "b", Text: "tên lửa 🚀 bay", LanguageCode: "en"}, &pb.TagOptions{IncludeUntagged: true}), codes.OK, "", 200},
		{"no token", "", "TagDocument", "/v1/documents:tag", tagReq(doc("a", sentence), nil), codes.Unauthenticated, pb.ErrorReason_MISSING_TOKEN.String(), 401},
		{"wrong token", "nope", "BatchTagDocuments", "/v1/documents:batchTag", &pb.BatchTagDocumentsRequest{Documents: []*pb.Document{doc("a", "x")}}, codes.Unauthenticated, pb.ErrorReason_INVALID_TOKEN.String(), 401},
		{"missing document", "tok", "TagDocument", "/v1/documents:tag", tagReq(nil, nil), codes.InvalidArgument, pb.ErrorReason_MISSING_DOCUMENT.String(), 400},
		{"document too large", "tok", "TagDocument", "/v1/documents:tag", tagReq(doc("big", strings.Repeat("a", 101)), nil), codes.InvalidArgument, pb.ErrorReason_DOCUMENT_TOO_LARGE.String(), 400},
		{"unknown theme", "tok", "TagDocument", "/v1/documents:tag", tagReq(doc("a", "x"), &pb.TagOptions{Themes: []string{"moon"}}), codes.InvalidArgument, pb.ErrorReason_UNKNOWN_THEME.String(), 400},
		{"empty batch", "tok", "BatchTagDocuments", "/v1/documents:batchTag", &pb.BatchTagDocumentsRequest{}, codes.InvalidArgument, pb.ErrorReason_EMPTY_BATCH.String(), 400},
		{"batch too large", "tok", "BatchTagDocuments", "/v1/documents:batchTag", &pb.BatchTagDocumentsRequest{Documents: []*pb.Document{doc("a", "x"), doc("b", "y"), doc("c", "z")}}, codes.InvalidArgument, pb.ErrorReason_BATCH_TOO_LARGE.String(), 400},
		{"batch, one bad", "tok", "BatchTagDocuments", "/v1/documents:batchTag", &pb.BatchTagDocumentsRequest{Documents: []*pb.Document{doc("a", sentence), doc("big", strings.Repeat("b", 101))}}, codes.OK, "", 200},
	}
	handled := func(method, code string) float64 {
		return metricWith(t, ts.srv, "grpc_server_handled_total", map[string]string{"grpc_method": method, "grpc_code": code})
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			before := handled(c.method, c.code.String())
			logsBefore := callLines(ts.logs.String(), c.method, c.code.String())
			callsBefore := map[string]float64{}
			for _, transport := range []string{"grpc", "rest"} {
				callsBefore[transport] = metricWith(t, ts.srv, "doctagger_calls_total", map[string]string{"method": c.method, "code": c.code.String(), "transport": transport})
			}

			// gRPC.
			ctx := ctxT(t)
			if c.token != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
			}
			resp := newResponse(c.method)
			err := ts.conn.Invoke(ctx, "/tagger.v1.TaggerService/"+c.method, c.req, resp)
			gst := status.Convert(err)

			// REST.
			body, err := m.Marshal(c.req)
			if err != nil {
				t.Fatal(err)
			}
			header := map[string]string{"Content-Type": "application/json"}
			if c.token != "" {
				header["Authorization"] = "Bearer " + c.token
			}
			hr := ts.do(t, "POST", c.path, bytes.NewReader(body), header)
			var restBody bytes.Buffer
			restBody.ReadFrom(hr.Body)
			hr.Body.Close()

			if gst.Code() != c.code {
				t.Fatalf("gRPC: %v, want %v", gst.Err(), c.code)
			}
			if hr.StatusCode != c.http {
				t.Fatalf("REST: HTTP %d %s, want %d", hr.StatusCode, restBody.String(), c.http)
			}
			if c.code == codes.OK {
				want, err := m.Marshal(resp)
				if err != nil {
					t.Fatal(err)
				}
				if got := compactJSON(t, restBody.Bytes()); got != compactJSON(t, want) {
					t.Fatalf("REST answered\n%s\ngRPC answered\n%s", got, want)
				}
			} else {
				var rst struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Details []struct {
						Type   string `json:"@type"`
						Reason string `json:"reason"`
					} `json:"details"`
				}
				if err := json.Unmarshal(restBody.Bytes(), &rst); err != nil {
					t.Fatalf("REST error body %s: %v", restBody.String(), err)
				}
				restReason := ""
				for _, d := range rst.Details {
					if d.Reason != "" {
						restReason = d.Reason
					}
				}
				if codes.Code(rst.Code) != c.code || rst.Message != gst.Message() || restReason != pb.ReasonOf(gst.Err()).String() || restReason != c.reason {
					t.Fatalf("REST error %s; gRPC error %v (reason %q); want reason %q", restBody.String(), gst.Err(), pb.ReasonOf(gst.Err()).String(), c.reason)
				}
			}
			// A call refused for its token is refused from its headers,
			// before the interceptors: logged, not counted, either way.
			wantCounted := 2.0
			if c.code == codes.Unauthenticated {
				wantCounted = 0
			}
			if got := handled(c.method, c.code.String()) - before; got != wantCounted {
				t.Errorf("grpc_server_handled_total{%s,%s} rose by %v, want %v (one call each way)", c.method, c.code, got, wantCounted)
			}
			// doctagger_calls_total tells the transports apart.
			for _, transport := range []string{"grpc", "rest"} {
				want := wantCounted / 2
				if got := metricWith(t, ts.srv, "doctagger_calls_total", map[string]string{"method": c.method, "code": c.code.String(), "transport": transport}) - callsBefore[transport]; got != want {
					t.Errorf("doctagger_calls_total{%s,%s,%s} rose by %v, want %v", transport, c.method, c.code, got, want)
				}
			}
			// One access log line each way, successes too, each with its
			// transport.
			if got := callLines(ts.logs.String(), c.method, c.code.String()) - logsBefore; got != 2 {
				t.Errorf("%d call log lines, want 2 (one each way)", got)
			}
		})
	}
}

// TestRESTStreamLikeGRPCStream: the NDJSON stream and the gRPC stream give
// the same results for the same documents, a bad one failing alone, and
// both count as one StreamTagDocuments call.
func TestRESTStreamLikeGRPCStream(t *testing.T) {
	ts := start(t, func(c *Config) { c.MaxDocumentBytes = 100 })
	m := jsonCodec{}
	docs := []*pb.Document{doc("a", sentence), doc("b", strings.Repeat("c", 101)), {Id: "c", Text: "vệ tinh 🛰 và tên lửa", LanguageCode: "en"}, doc("d", "nothing here")}
	before := metricWith(t, ts.srv, "grpc_server_handled_total", map[string]string{"grpc_method": "StreamTagDocuments", "grpc_code": "OK"})

	stream, err := ts.client.StreamTagDocuments(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	for i, d := range docs {
		req := &pb.StreamTagDocumentsRequest{Document: d}
		if i == 0 {
			req.Options = &pb.TagOptions{IncludeUntagged: true}
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
		b, _ := m.Marshal(req)
		lines.Write(append(b, '\n'))
	}
	stream.CloseSend()
	grpcResults := map[int64]string{}
	for {
		r, err := stream.Recv()
		if err != nil {
			break
		}
		b, _ := m.Marshal(r)
		grpcResults[r.Result.Sequence] = compactJSON(t, b)
	}
	resp := ts.do(t, "POST", "/v1/documents:streamTag", &lines, map[string]string{"Content-Type": "application/x-ndjson"})
	defer resp.Body.Close()
	restResults := map[int64]string{}
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		var r pb.StreamTagDocumentsResponse
		if err := m.Unmarshal(raw, &r); err != nil {
			t.Fatalf("line %s: %v", raw, err)
		}
		restResults[r.Result.Sequence] = compactJSON(t, raw)
	}
	if len(grpcResults) != len(docs) || len(restResults) != len(docs) {
		t.Fatalf("%d gRPC results, %d REST results, want %d", len(grpcResults), len(restResults), len(docs))
	}
	for seq, g := range grpcResults {
		if restResults[seq] != g {
			t.Errorf("sequence %d: REST %s\ngRPC %s", seq, restResults[seq], g)
		}
	}
	if !strings.Contains(grpcResults[2], pb.ErrorReason_DOCUMENT_TOO_LARGE.String()) {
		t.Errorf("the over-size document did not fail alone: %s", grpcResults[2])
	}
	if got := metricWith(t, ts.srv, "grpc_server_handled_total", map[string]string{"grpc_method": "StreamTagDocuments", "grpc_code": "OK"}) - before; got != 2 {
		t.Errorf("StreamTagDocuments OK rose by %v, want 2", got)
	}
}

func newResponse(method string) proto.Message {
	switch method {
	case "TagDocument":
		return new(pb.TagDocumentResponse)
	case "BatchTagDocuments":
		return new(pb.BatchTagDocumentsResponse)
	}
	panic(method)
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, _ := json.Marshal(v) // sorted keys, one spacing
	return string(out)
}

// TestNDJSONReadsBareDocuments: the stream reads the lines tagctl reads, a
// bare Document a line, beside requests, and a malformed line still ends
// the stream after the results before it.
func TestNDJSONReadsBareDocuments(t *testing.T) {
	ts := start(t, nil)
	body := `{"id": "a", "text": "` + sentence + `"}` + "\n" +
		`{"document": {"id": "b", "text": "tên lửa"}, "options": {"omitEvidence": true}}` + "\n" +
		`{"id": "c", "text": "vệ tinh", "languageCode": "en"}` + "\n" +
		`{"id": "d", "txt": "typo"}` + "\n" +
		`{"id": "e", "text": "never read"}` + "\n"
	resp := ts.do(t, "POST", "/v1/documents:streamTag", strings.NewReader(body), nil)
	defer resp.Body.Close()
	var ids []string
	var last map[string]any
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var line map[string]any
		if err := dec.Decode(&line); err != nil {
			t.Fatal(err)
		}
		if r, ok := line["result"].(map[string]any); ok {
			ids = append(ids, r["documentId"].(string))
		}
		last = line
	}
	slices.Sort(ids) // results come as they are ready
	if strings.Join(ids, ",") != "a,b,c" {
		t.Fatalf("results for %v, want a, b and c", ids)
	}
	e, _ := last["error"].(map[string]any)
	if e == nil || !strings.Contains(e["message"].(string), "line 4") || !strings.Contains(e["message"].(string), "unknown field") {
		t.Fatalf("last line %v, want an error naming line 4", last)
	}
}

// jsonCodec writes and reads the API's JSON as the REST side does:
// lowerCamelCase names, zero values written out.
type jsonCodec struct{}

func (jsonCodec) Marshal(m proto.Message) ([]byte, error) {
	return protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(m)
}

func (jsonCodec) Unmarshal(b []byte, m proto.Message) error { return protojson.Unmarshal(b, m) }
