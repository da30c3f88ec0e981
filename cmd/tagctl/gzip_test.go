package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doctagger/doctagger/client/clienttest"
)

// countingProxy forwards TCP connections on 127.0.0.1 to a server and
// counts the bytes each way, to see what goes on the wire.
type countingProxy struct {
	ln       net.Listener
	target   string
	up, down atomic.Int64 // client to server, server to client
	pipes    sync.WaitGroup
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, target: target}
	var accepts sync.WaitGroup
	accepts.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.pipes.Go(func() { p.pipe(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		accepts.Wait()
		p.settle(t)
	})
	return p
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (p *countingProxy) pipe(c net.Conn) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(countingWriter{up, &p.up}, c); up.Close(); done <- struct{}{} }()
	go func() { io.Copy(countingWriter{c, &p.down}, up); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

// settle waits for the connections of a finished run to close, so that
// every byte they carried is counted.
func (p *countingProxy) settle(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	go func() { p.pipes.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxied connections were still open 10 s after tagctl ended")
	}
}

// run runs tagctl with args and returns what went each way.
func (p *countingProxy) run(t *testing.T, args ...string) (code int, out, stderr string, up, down int64) {
	t.Helper()
	p.up.Store(0)
	p.down.Store(0)
	code, out, stderr = runTagctl(t, args...)
	p.settle(t)
	return code, out, stderr, p.up.Load(), p.down.Load()
}

// TestTagGzip: tag --gzip (or DOCTAGGER_GZIP) tags every document through
// calls compressed with gzip: the documents, a few KB of Vietnamese text
// each, take a fraction of the bytes on the wire that they take without it.
func TestTagGzip(t *testing.T) {
	srv := clienttest.Start(t, nil)
	proxy := startCountingProxy(t, srv.Addr())
	const n = 300
	input := writeNDJSON(t, t.TempDir(), n, func(i int) string {
		var b strings.Builder
		for j := range 40 {
			s, _ := clienttest.Sentence(i + j*5) // all about the theme of sentence i
			b.WriteString(s + " ")
		}
		return b.String()
	})
	check := func(name string, code int, out, stderr string) {
		t.Helper()
		if code != 0 {
			t.Fatalf("%s: exit %d; stderr:\n%s", name, code, stderr)
		}
		got := parseOutput(t, out)
		if len(got) != n {
			t.Fatalf("%s: %d results for %d documents", name, len(got), n)
		}
		for i := range n {
			id := fmt.Sprintf("doc-%06d", i)
			l := got[id]
			if l.Error != nil || len(l.Tags) != 1 || l.Tags[0].Theme != sentenceTheme(i) || l.RulesetVersion == "" {
				t.Fatalf("%s: %s: %+v", name, id, l)
			}
		}
	}

	code, out, stderr, plainUp, plainDown := proxy.run(t, "tag", "--addr", proxy.ln.Addr().String(), "--evidence", "-q", input)
	check("tag", code, out, stderr)
	code, out, stderr, gzUp, gzDown := proxy.run(t, "tag", "--addr", proxy.ln.Addr().String(), "--evidence", "-q", "--gzip", input)
	check("tag --gzip", code, out, stderr)
	t.Logf("%d documents: sent %d bytes, %d with --gzip (%.1fx); received %d, %d with --gzip (%.1fx)",
		n, plainUp, gzUp, float64(plainUp)/float64(gzUp), plainDown, gzDown, float64(plainDown)/float64(gzDown))
	if gzUp*3 > plainUp {
		t.Errorf("tag --gzip sent %d bytes, tag %d: not compressed", gzUp, plainUp)
	}
	if gzDown*2 > plainDown {
		t.Errorf("tag --gzip received %d bytes, tag %d: the answers were not compressed", gzDown, plainDown)
	}

	// The environment twin, and the flag winning over it.
	env := map[string]string{"DOCTAGGER_GZIP": "true"}
	lookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	defer func() { lookupEnv = func(string) (string, bool) { return "", false } }()
	code, out, stderr, envUp, _ := proxy.run(t, "tag", "--addr", proxy.ln.Addr().String(), "--evidence", "-q", input)
	check("DOCTAGGER_GZIP=true tag", code, out, stderr)
	if envUp*3 > plainUp {
		t.Errorf("DOCTAGGER_GZIP=true tag sent %d bytes, tag %d: not compressed", envUp, plainUp)
	}
	code, out, stderr, offUp, _ := proxy.run(t, "tag", "--addr", proxy.ln.Addr().String(), "--evidence", "-q", "--gzip=false", input)
	check("DOCTAGGER_GZIP=true tag --gzip=false", code, out, stderr)
	if offUp*3 < plainUp*2 {
		t.Errorf("tag --gzip=false with DOCTAGGER_GZIP=true sent %d bytes, tag %d: compressed", offUp, plainUp)
	}

	// The other remote commands take it too.
	if code, out, stderr, _, _ := proxy.run(t, "themes", "--addr", proxy.ln.Addr().String(), "--gzip"); code != 0 || !strings.Contains(out, "green_transition") {
		t.Errorf("themes --gzip: exit %d\n%s%s", code, out, stderr)
	}
	// With --rest it compresses the request bodies (the answers come
	// compressed either way: Go's HTTP client asks for it).
	lookupEnv = func(string) (string, bool) { return "", false }
	restProxy := startCountingProxy(t, strings.TrimPrefix(srv.HTTPURL(), "http://"))
	restURL := "http://" + restProxy.ln.Addr().String()
	code, out, stderr, restUp, _ := restProxy.run(t, "tag", "--rest", restURL, "--evidence", "-q", input)
	check("tag --rest", code, out, stderr)
	code, out, stderr, restGzUp, _ := restProxy.run(t, "tag", "--rest", restURL, "--evidence", "-q", "--gzip", input)
	check("tag --rest --gzip", code, out, stderr)
	t.Logf("--rest: sent %d bytes, %d with --gzip (%.1fx)", restUp, restGzUp, float64(restUp)/float64(restGzUp))
	if restGzUp*3 > restUp {
		t.Errorf("tag --rest --gzip sent %d bytes, tag --rest %d: not compressed", restGzUp, restUp)
	}
}
