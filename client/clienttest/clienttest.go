// Package clienttest runs doctagger servers on loopback for tests of code
// that uses the client: each server sits behind a TCP proxy that can kill
// every connection at once (a replica dying) and later send the same
// address to a new server (a restarted replica).
package clienttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/doctagger/doctagger/server"
)

// Server is a doctagger server behind a proxy on 127.0.0.1.
type Server struct {
	t     testing.TB
	proxy *proxy

	mu      sync.Mutex
	backend *backend
	counted int64 // documents answered by the backends stopped so far
}

type backend struct {
	srv    *server.Server
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

// Start starts a server on the embedded rules (or as mutate sets its
// configuration) and a proxy in front of it; both stop at the end of the
// test.
func Start(t testing.TB, mutate func(*server.Config)) *Server {
	t.Helper()
	s := &Server{t: t}
	b := s.startBackend(mutate)
	p, err := newProxy(b.srv.GRPCAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.proxy = p
	s.backend = b
	t.Cleanup(func() {
		p.close()
		s.mu.Lock()
		b := s.backend
		s.backend = nil
		s.mu.Unlock()
		if b != nil {
			b.stop()
		}
	})
	return s
}

func (s *Server) startBackend(mutate func(*server.Config)) *backend {
	s.t.Helper()
	cfg := server.DefaultConfig()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ShutdownGrace = 2 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Registry = prometheus.NewRegistry()
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &backend{srv: srv, reg: srv.Registry(), cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-b.done:
		s.t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		s.t.Fatal("server did not start in 10 s")
	}
	return b
}

func (b *backend) stop() {
	b.cancel()
	select {
	case <-b.done:
	case <-time.After(15 * time.Second):
	}
}

// Addr is the address clients dial (the proxy's).
func (s *Server) Addr() string { return s.proxy.addr() }

// HTTPURL is the base URL of the current backend's REST mirror (not proxied).
func (s *Server) HTTPURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.backend == nil {
		return ""
	}
	return "http://" + s.backend.srv.HTTPAddr().String()
}

// Kill makes the replica die: every connection is cut at once, new ones are
// refused, and the server stops without a graceful shutdown being seen by
// clients. Documents the server took but had not answered get no answer.
func (s *Server) Kill() {
	s.proxy.kill()
	s.mu.Lock()
	b := s.backend
	s.backend = nil
	if b != nil {
		s.counted += documents(b.reg)
	}
	s.mu.Unlock()
	if b != nil {
		b.stop()
	}
}

// Stop shuts the server down gracefully (health NOT_SERVING, streams
// answer what they took and end with UNAVAILABLE) and then refuses
// connections at its address.
func (s *Server) Stop() {
	s.mu.Lock()
	b := s.backend
	s.backend = nil
	s.mu.Unlock()
	if b == nil {
		return
	}
	b.stop()
	s.proxy.kill()
	s.mu.Lock()
	s.counted += documents(b.reg)
	s.mu.Unlock()
}

// Restart starts a new server (configured by mutate) behind the same
// address, after Kill or Stop.
func (s *Server) Restart(mutate func(*server.Config)) {
	s.t.Helper()
	b := s.startBackend(mutate)
	s.mu.Lock()
	s.backend = b
	s.mu.Unlock()
	s.proxy.setBackend(b.srv.GRPCAddr().String())
}

// Reload reloads the current server's rules, as SIGHUP would.
func (s *Server) Reload() error {
	s.mu.Lock()
	b := s.backend
	s.mu.Unlock()
	if b == nil {
		return errors.New("clienttest: server is down")
	}
	return b.srv.Reload()
}

// Documents is how many documents this address's servers answered, from
// their doctagger_documents_total metric (every outcome).
func (s *Server) Documents() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.counted
	if s.backend != nil {
		n += documents(s.backend.reg)
	}
	return n
}

func documents(reg *prometheus.Registry) int64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "doctagger_documents_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return int64(n)
}

// WriteRules writes a ruleset file in dir laid out like a Kubernetes
// ConfigMap volume (dir/rules.yaml -> ..data/rules.yaml, ..data -> a
// timestamped directory) and returns the path to give the server.
// Calling it again swaps the content the way the kubelet does: a new
// directory, then an atomic rename of the ..data symlink.
func WriteRules(t testing.TB, dir, content string) string {
	t.Helper()
	ts := filepath.Join(dir, ".."+time.Now().Format("2006_01_02_15_04_05.000000000"))
	if err := os.MkdirAll(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ts, "rules.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	tmp := filepath.Join(dir, "..data_tmp")
	os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "rules.yaml")
	if _, err := os.Lstat(link); err != nil {
		if err := os.Symlink(filepath.Join("..data", "rules.yaml"), link); err != nil {
			t.Fatal(err)
		}
	}
	if old != "" {
		os.RemoveAll(filepath.Join(dir, old))
	}
	return link
}

// proxy forwards TCP connections to a backend and can cut them all.
type proxy struct {
	ln net.Listener

	mu      sync.Mutex
	target  string // "" while killed
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	accepts sync.WaitGroup
}

func newProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.accepts.Go(p.serve)
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		if target == "" || p.closed {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(c, target) })
	}
}

func (p *proxy) pipe(c net.Conn, target string) {
	defer func() {
		c.Close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.conns == nil || p.target != target {
		p.mu.Unlock()
		up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer func() {
		up.Close()
		p.mu.Lock()
		delete(p.conns, up)
		p.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// kill cuts every connection (with a TCP reset) and refuses new ones.
func (p *proxy) kill() {
	p.mu.Lock()
	p.target = ""
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	p.mu.Unlock()
}

func (p *proxy) setBackend(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.accepts.Wait()
	p.kill()
	p.wg.Wait()
}

// sentences are short texts, one per theme of the default rules, with a
// %d for a number that makes each generated document different.
var sentences = []struct{ text, theme string }{
	{"Doanh nghiệp đầu tư vào trí tuệ nhân tạo số %d.", "ai"},
	{"Nhà máy chip mới sản xuất chất bán dẫn, lô %d.", "semiconductors"},
	{"Bệnh viện triển khai bệnh án điện tử cho bệnh nhân %d.", "ehealth"},
	{"Máy bay không người lái số %d giao hàng ở ngoại thành.", "drones"},
	{"Tỉnh phát hành trái phiếu xanh cho chuyển đổi xanh, đợt %d.", "green_transition"},
}

// Sentence returns the i-th generated document text and the one theme of
// the default rules it is about, cycling through the five themes.
func Sentence(i int) (text, theme string) {
	s := sentences[i%len(sentences)]
	return fmt.Sprintf(s.text, i), s.theme
}
