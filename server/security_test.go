package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

func TestAuth(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "tokens")
	writeFile(t, tokenFile, "# tokens\nfile-token\n\n")
	ts := start(t, func(c *Config) {
		c.AuthTokens = []string{"env-token"}
		c.AuthTokenFile = tokenFile
		c.OpenMetrics = false
	})
	ctx := ctxT(t)
	call := func(auth string) error {
		c := ctx
		if auth != "" {
			c = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
		}
		_, err := ts.client.TagDocument(c, &pb.TagDocumentRequest{Document: doc("a", sentence)})
		return err
	}
	wantCode(t, call(""), codes.Unauthenticated, "")
	wantCode(t, call("Bearer wrong"), codes.Unauthenticated, "")
	wantCode(t, call("Basic env-token"), codes.Unauthenticated, "")
	for _, tok := range []string{"env-token", "file-token"} {
		if err := call("Bearer " + tok); err != nil {
			t.Fatalf("token %s: %v", tok, err)
		}
	}
	// Streams too.
	stream, err := ts.client.StreamTagDocuments(ctx)
	if err == nil {
		_, err = stream.Recv()
	}
	wantCode(t, err, codes.Unauthenticated, "")
	// Health stays open.
	if _, err := healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("open health: %v", err)
	}

	// REST: 401 with WWW-Authenticate, then 200 with the token.
	body := `{"document": {"text": "tên lửa"}}`
	code, m, h := ts.doJSON(t, "POST", "/v1/documents:tag", body, nil)
	if code != 401 || m["code"].(float64) != 16 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %v %v", code, m, h)
	}
	if code, _, _ := ts.doJSON(t, "POST", "/v1/documents:tag", body, map[string]string{"Authorization": "Bearer nope"}); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	if code, m, _ := ts.doJSON(t, "POST", "/v1/documents:tag", body, map[string]string{"Authorization": "Bearer env-token"}); code != 200 {
		t.Fatalf("right token: %d %v", code, m)
	}
	code, lines := ts.ndjson(t, strings.NewReader(body+"\n"), nil)
	if code != 401 || len(lines) != 1 || lines[0]["error"] == nil {
		t.Fatalf("stream without token: %d %v", code, lines)
	}
	code, lines = ts.ndjson(t, strings.NewReader(body+"\n"), map[string]string{"Authorization": "Bearer file-token"})
	if code != 200 || len(lines) != 1 || lines[0]["result"] == nil {
		t.Fatalf("stream with token: %d %v", code, lines)
	}
	if code, _, _ := ts.doJSON(t, "GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("open /healthz: %d", code)
	}
	if code, _, _ := ts.doJSON(t, "GET", "/metrics", "", nil); code != 401 {
		t.Fatalf("closed /metrics without token: %d", code)
	}
	if code, _, _ := ts.doJSON(t, "GET", "/metrics", "", map[string]string{"Authorization": "Bearer env-token"}); code != 200 {
		t.Fatalf("closed /metrics with token: %d", code)
	}

	// The token file is re-read on Reload.
	writeFile(t, tokenFile, "rotated\n")
	if err := ts.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	wantCode(t, call("Bearer file-token"), codes.Unauthenticated, "")
	if err := call("Bearer rotated"); err != nil {
		t.Fatal(err)
	}
}

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA.
type pki struct {
	dir                       string
	caFile, certFile, keyFile string
	clientCert                tls.Certificate
	pool                      *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), pool: x509.NewCertPool()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "doctagger test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.pool.AddCert(ca)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, name string) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	der, key := issue(2, x509.ExtKeyUsageServerAuth, "server")
	p.certFile = p.write(t, "server.pem", "CERTIFICATE", der)
	kb, _ := x509.MarshalECPrivateKey(key)
	p.keyFile = p.write(t, "server-key.pem", "EC PRIVATE KEY", kb)
	der, key = issue(3, x509.ExtKeyUsageClientAuth, "client")
	p.clientCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	ts := start(t, func(c *Config) {
		c.TLSCertFile, c.TLSKeyFile = p.certFile, p.keyFile
	})
	conn, err := grpc.NewClient(ts.srv.GRPCAddr().String(), tlsClientCreds(&tls.Config{RootCAs: p.pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := pb.NewTaggerServiceClient(conn).TagDocument(ctxT(t), &pb.TagDocumentRequest{Document: doc("tls", sentence)})
	if err != nil || len(resp.Result.Tags) != 2 {
		t.Fatalf("gRPC over TLS: %v %v", resp, err)
	}
	// Plaintext is refused.
	plain, _ := grpc.NewClient(ts.srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecureCreds()))
	defer plain.Close()
	if _, err := pb.NewTaggerServiceClient(plain).GetRuleset(ctxT(t), &pb.GetRulesetRequest{}); err == nil {
		t.Fatal("plaintext gRPC accepted on a TLS port")
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool}, ForceAttemptHTTP2: true}}
	r, err := hc.Post("https://"+ts.srv.HTTPAddr().String()+"/v1/documents:tag", "application/json",
		strings.NewReader(`{"document": {"text": "tên lửa"}}`))
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("HTTPS: %v %v", r, err)
	}
	r.Body.Close()
	r, err = hc.Post("https://"+ts.srv.HTTPAddr().String()+"/v1/documents:streamTag", "application/x-ndjson",
		strings.NewReader(`{"document": {"text": "tên lửa"}}`+"\n"))
	if err != nil || r.StatusCode != 200 || r.ProtoMajor != 2 {
		t.Fatalf("NDJSON over HTTP/2: %v %v", r, err)
	}
	r.Body.Close()
}

func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	ts := start(t, func(c *Config) {
		c.TLSCertFile, c.TLSKeyFile, c.ClientCAFile = p.certFile, p.keyFile, p.caFile
	})
	try := func(certs []tls.Certificate) error {
		conn, err := grpc.NewClient(ts.srv.GRPCAddr().String(), tlsClientCreds(&tls.Config{RootCAs: p.pool, Certificates: certs}))
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = pb.NewTaggerServiceClient(conn).GetRuleset(ctxT(t), &pb.GetRulesetRequest{})
		return err
	}
	if err := try(nil); err == nil {
		t.Fatal("gRPC without a client certificate accepted")
	}
	if err := try([]tls.Certificate{p.clientCert}); err != nil {
		t.Fatalf("gRPC with a client certificate: %v", err)
	}
	get := func(certs []tls.Certificate) (*http.Response, error) {
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, Certificates: certs}}}
		return hc.Get("https://" + ts.srv.HTTPAddr().String() + "/v1/themes")
	}
	if r, err := get(nil); err == nil {
		r.Body.Close()
		t.Fatal("HTTPS without a client certificate accepted")
	}
	r, err := get([]tls.Certificate{p.clientCert})
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("HTTPS with a client certificate: %v %v", r, err)
	}
	r.Body.Close()
}

func TestConfigErrors(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"cert without key":   func(c *Config) { c.TLSCertFile = "x.pem" },
		"client CA, no TLS":  func(c *Config) { c.ClientCAFile = "ca.pem" },
		"zero batch":         func(c *Config) { c.MaxBatchDocuments = 0 },
		"missing rules file": func(c *Config) { c.RulesPath = "/nonexistent/rules.yaml" },
		"bad rules file":     func(c *Config) { c.RulesPath = rulesFile(t, rulesBad) },
		"missing token file": func(c *Config) { c.AuthTokenFile = "/nonexistent/tokens" },
	} {
		cfg := DefaultConfig()
		mutate(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// A call without an accepted token is refused from its headers, before
// its message is read: grpc-go inflates and decodes a message before any
// interceptor runs, so a message over the limit (or a gzip bomb) without a
// token would otherwise cost the server its size first. The refusal is
// logged like any call.
func TestAuthBeforeTheMessage(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.AuthTokens = []string{"tok"}
		c.MaxDocumentBytes = 1 << 20
		c.MaxMessageBytes = 2 << 20
	})
	big := &pb.TagDocumentRequest{Document: doc("big", strings.Repeat("a", 3<<20))}
	_, err := ts.client.TagDocument(ctxT(t), big)
	wantCode(t, err, codes.Unauthenticated, "")
	ctx := metadata.AppendToOutgoingContext(ctxT(t), "authorization", "Bearer tok")
	_, err = ts.client.TagDocument(ctx, big)
	wantCode(t, err, codes.ResourceExhausted, "")
	if logs := ts.logs.String(); callLines(logs, "TagDocument", "Unauthenticated") == 0 {
		t.Errorf("the refused call is not logged:\n%s", logs)
	}
}

// TestOpenDocs: with authentication on, the API's descriptions are open by
// default and behind the token with --open-docs=false, like health and
// metrics; the startup log says what is open.
func TestOpenDocs(t *testing.T) {
	for _, open := range []bool{true, false} {
		ts := start(t, func(c *Config) {
			c.AuthTokens = []string{"tok"}
			c.OpenDocs = open
			c.OpenHealth = false
			c.OpenMetrics = false
		})
		for _, path := range []string{"/openapi.json", "/swagger.json"} {
			code, _, _ := ts.doJSON(t, "GET", path, "", nil)
			if want := map[bool]int{true: 200, false: 401}[open]; code != want {
				t.Errorf("open docs %v: %s without a token: HTTP %d, want %d", open, path, code, want)
			}
			if code, _, _ := ts.doJSON(t, "GET", path, "", map[string]string{"Authorization": "Bearer tok"}); code != 200 {
				t.Errorf("%s with the token: HTTP %d", path, code)
			}
		}
		var serving string // the startup line (calls may be logged before it)
		for _, l := range strings.Split(ts.logs.String(), "\n") {
			if strings.Contains(l, "taggerd serving") {
				serving = l
			}
		}
		if got := strings.Contains(serving, "/openapi.json"); got != open || !strings.Contains(serving, "open_without_token") {
			t.Errorf("open docs %v: the startup log's open list %q", open, ts.logs.String())
		}
	}
}

// TestRESTRoutingErrorsHaveDetails: an unknown route and a wrong method
// answer a google.rpc.Status with an ErrorInfo reason, like every error.
func TestRESTRoutingErrorsHaveDetails(t *testing.T) {
	ts := start(t, nil)
	for _, c := range []struct {
		method, path, reason string
		code                 int
	}{
		{"GET", "/v1/nowhere", "UNKNOWN_ROUTE", 404},
		{"GET", "/elsewhere", "UNKNOWN_ROUTE", 404},
		{"GET", "/v1/documents:tag", "METHOD_NOT_ALLOWED", 405},
		{"POST", "/v1/themes", "METHOD_NOT_ALLOWED", 405},
	} {
		code, m, _ := ts.doJSON(t, c.method, c.path, "", nil)
		raw, _ := json.Marshal(m)
		if code != c.code || !strings.Contains(string(raw), `"reason":"`+c.reason+`"`) {
			t.Errorf("%s %s: HTTP %d %s, want %d with reason %s", c.method, c.path, code, raw, c.code, c.reason)
		}
	}
}
