package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// Two small rulesets: v2 adds the theme "forest".
const rulesV1 = `name: test
themes:
  - id: space
    label: {vi: Vũ trụ, en: Space}
    description: rockets and satellites
    threshold: 0.5
    terms:
      - {text: tên lửa}
      - {text: vệ tinh, weight: 0.9}
  - id: ocean
    label: {vi: Đại dương, en: Ocean}
    description: the sea
    threshold: 0.5
    terms:
      - {text: đại dương}
`

const rulesV2 = rulesV1 + `  - id: forest
    label: {vi: Rừng, en: Forest}
    description: forests
    threshold: 0.5
    terms:
      - {text: rừng nguyên sinh}
`

// rulesBad has an invalid weight and an unknown key.
const rulesBad = `name: broken
themes:
  - id: space
    label: {vi: Vũ trụ, en: Space}
    threshold: 0.5
    terms:
      - {text: tên lửa, weight: 7}
      - {text: vệ tinh, colour: blue}
`

const sentence = "Việt Nam phóng tên lửa đưa vệ tinh lên quỹ đạo, vượt qua đại dương."

type testServer struct {
	srv     *Server
	cfg     Config
	conn    *grpc.ClientConn
	client  pb.TaggerServiceClient
	base    string // http://127.0.0.1:port
	http    *http.Client
	logs    *syncBuffer
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rulesFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	writeFile(t, p, content)
	return p
}

// start runs a server on random loopback ports with the test rules (unless
// the mutator sets RulesPath to "" for the embedded rules).
func start(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.RulesPath = rulesFile(t, rulesV1)
	cfg.ShutdownGrace = 5 * time.Second
	cfg.RulesSettle = 200 * time.Millisecond // quick reloads in tests
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{srv: srv, cfg: cfg, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-ts.done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready after 10s")
	}
	ts.base = "http://" + srv.HTTPAddr().String()
	ts.http = &http.Client{Timeout: 20 * time.Second}
	if cfg.TLSCertFile == "" {
		// relaxedCodec: tests send invalid UTF-8 as clients of other languages can.
		ts.conn, err = grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(newRelaxedCodec())))
		if err != nil {
			t.Fatal(err)
		}
		ts.client = pb.NewTaggerServiceClient(ts.conn)
	}
	t.Cleanup(func() {
		if ts.conn != nil {
			ts.conn.Close()
		}
		ts.stop(t)
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return ts
}

// stop cancels Run and waits for it.
func (ts *testServer) stop(t *testing.T) {
	ts.cancel()
	if ts.stopped {
		return
	}
	ts.stopped = true
	select {
	case err, ok := <-ts.done:
		if ok && err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("server did not stop within 30s")
	}
}

func tlsClientCreds(cfg *tls.Config) grpc.DialOption {
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg))
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantCode checks an error's gRPC code and, when field is set, that it
// carries a BadRequest violation for that field whose description contains
// every string in want.
func wantCode(t *testing.T, err error, code codes.Code, field string, want ...string) *status.Status {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("code = %v (%q), want %v", st.Code(), st.Message(), code)
	}
	if field != "" {
		checkViolation(t, st, field, want...)
	}
	return st
}

func checkViolation(t *testing.T, st *status.Status, field string, want ...string) {
	t.Helper()
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				if v.Field == field {
					for _, w := range want {
						if !strings.Contains(v.Description, w) {
							t.Errorf("violation %q: %q lacks %q", field, v.Description, w)
						}
					}
					return
				}
			}
			t.Fatalf("no violation for field %q in %v", field, br.FieldViolations)
		}
	}
	t.Fatalf("no BadRequest detail in %v (%q)", st.Code(), st.Message())
}

// do sends a request with the given headers; the caller closes the answer.
func (ts *testServer) do(t *testing.T, method, path string, body io.Reader, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ts.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// doJSON sends a request and decodes the JSON answer into a generic map.
func (ts *testServer) doJSON(t *testing.T, method, path, body string, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	resp := ts.do(t, method, path, strings.NewReader(body), header)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(bytes.TrimSpace(data)) > 0 && json.Unmarshal(data, &m) != nil {
		m = map[string]any{"_raw": string(data)}
	}
	return resp.StatusCode, m, resp.Header
}

func doc(id, text string) *pb.Document { return &pb.Document{Id: id, Text: text} }

func insecureCreds() credentials.TransportCredentials { return insecure.NewCredentials() }

// metricValue sums the samples of a metric whose label values include
// labelValue (every sample when labelValue is empty).
func metricValue(t *testing.T, s *Server, name, labelValue string) float64 {
	t.Helper()
	return metricSum(t, s, name, func(labels map[string]string) bool {
		if labelValue == "" {
			return true
		}
		for _, v := range labels {
			if v == labelValue {
				return true
			}
		}
		return false
	})
}

// metricWith sums the samples of a metric whose labels include all of want.
func metricWith(t *testing.T, s *Server, name string, want map[string]string) float64 {
	t.Helper()
	return metricSum(t, s, name, func(labels map[string]string) bool {
		for k, v := range want {
			if labels[k] != v {
				return false
			}
		}
		return true
	})
}

// metricSum sums the samples of a metric whose labels match: a counter's
// or gauge's value, a histogram's count.
func metricSum(t *testing.T, s *Server, name string, match func(map[string]string) bool) float64 {
	t.Helper()
	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if !match(labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

// callLines counts the call log's lines of method (TagDocument) ending with code.
func callLines(logs, method, code string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `msg="finished call"`) && strings.Contains(l, " grpc.method="+method+" ") && strings.Contains(l, " grpc.code="+code+" ") {
			n++
		}
	}
	return n
}

// startWithQuotas starts a server with these token and quota files (in a
// temporary directory) and returns it with the quota file's path.
func startWithQuotas(t *testing.T, tokens, quotas string) (*testServer, string) {
	t.Helper()
	dir := t.TempDir()
	tokenPath, quotaPath := filepath.Join(dir, "tokens"), filepath.Join(dir, "quotas.yaml")
	writeFile(t, tokenPath, tokens)
	writeFile(t, quotaPath, quotas)
	return start(t, func(c *Config) {
		c.AuthTokenFile = tokenPath
		c.QuotaFile = quotaPath
	}), quotaPath
}
