package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// ndjsonReaders counts the NDJSON handler's body readers still running.
func ndjsonReaders() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "gateway.(*ndjsonReader).run")
}

// TestRESTStreamEndsItsBodyReader: when the stream ends early (here: no
// token, 401) while the client is still sending, the handler waits for its
// body reader (net/http forbids reading the body after the handler
// returns) and must not hang on a client that never sends another byte:
// the response ends and no reader is left. What it catches is the hang (it
// fails if the handler waits without waking the reader); net/http closes
// the body after the handler returns, so a handler that did not wait at
// all would pass too.
func TestRESTStreamEndsItsBodyReader(t *testing.T) {
	ts := start(t, func(c *Config) { c.AuthTokens = []string{"right-token"} })
	for _, auth := range []string{"", "Bearer wrong-token"} {
		before := ndjsonReaders()
		pr, pw := io.Pipe()
		defer pw.Close()
		req, _ := http.NewRequest("POST", ts.base+"/v1/documents:streamTag", pr)
		req.Header.Set("Content-Type", "application/x-ndjson")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		go func() {
			// One line, then the body stays open without another byte.
			io.WriteString(pw, `{"document": {"id": "a", "text": "`+sentence+`"}}`+"\n")
		}()
		resp, err := ts.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// The whole response (the handler has returned), with the
		// connection and the request body still open.
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 401 || !strings.Contains(string(out), `"error"`) {
			t.Fatalf("auth %q: HTTP %d %q %v, want 401 and an error line", auth, resp.StatusCode, out, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for ndjsonReaders() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		n := ndjsonReaders()
		resp.Body.Close()
		if n > before {
			t.Fatalf("auth %q: %d NDJSON body readers still running after the response ended", auth, n-before)
		}
	}
}

// TestRESTBodyTooLarge: a body over the REST limit (the message limit and an eighth)
// is 413 with a google.rpc.Status naming the limit, whether the client
// announced its length or sent it chunked.
func TestRESTBodyTooLarge(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 1000
		c.MaxMessageBytes = 32 << 10
	})
	body := `{"documents": [` + strings.Repeat(`{"text": "`+sentence+`"},`, 1000) + `{"text": "x"}]}`
	for _, chunked := range []bool{false, true} {
		var r io.Reader = strings.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // hides the length: Transfer-Encoding: chunked
		}
		req, _ := http.NewRequest("POST", ts.base+"/v1/documents:batchTag", r)
		resp, err := ts.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || !strings.Contains(string(out), "limit of 36864 bytes") ||
			!strings.Contains(string(out), `"code":8`) || !strings.Contains(string(out), "REQUEST_TOO_LARGE") {
			t.Errorf("chunked %v: HTTP %d %s, want 413 RESOURCE_EXHAUSTED naming the limit", chunked, resp.StatusCode, out)
		}
	}
}

// TestRESTMessageTooLarge: a REST body under the body limit whose gRPC
// message is over --max-message-bytes is 413 naming that limit, not 429
// Too Many Requests (grpc-gateway's mapping of RESOURCE_EXHAUSTED), which
// tells clients to retry the same request later.
func TestRESTMessageTooLarge(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 4000
		c.MaxMessageBytes = 8 << 10
	})
	text := strings.Repeat("Rừng nguyên sinh bên bờ đại dương xanh. ", 60)[:3000] // ASCII cut: may split a letter
	text = strings.ToValidUTF8(text, "")
	var docs []string
	for i := range 4 { // ~12 KB: under the 16 KiB body limit, over the 8 KiB message limit
		docs = append(docs, fmt.Sprintf(`{"id": "d%d", "text": %q}`, i, text))
	}
	code, m, _ := ts.doJSON(t, "POST", "/v1/documents:batchTag", `{"documents": [`+strings.Join(docs, ",")+`]}`, nil)
	msg, _ := m["message"].(string)
	if code != 413 || m["code"] != float64(8) || !strings.Contains(msg, "--max-message-bytes") {
		t.Fatalf("HTTP %d %v, want 413 RESOURCE_EXHAUSTED naming --max-message-bytes", code, m)
	}
}

// TestRESTStreamLineOverMessageLimit: an NDJSON line under the line limit
// whose message is over --max-message-bytes fails alone under its sequence
// number, REQUEST_TOO_LARGE naming the flag, and the stream goes on, as a
// gRPC stream's message over the limit does.
func TestRESTStreamLineOverMessageLimit(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.MaxDocumentBytes = 4000
		c.MaxMessageBytes = 5120
	})
	const n = 200
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"document": {"id": "n%d", "text": "Vệ tinh bay quanh Trái Đất."}}`+"\n", i)
	}
	fmt.Fprintf(&b, `{"document": {"id": "big", "text": %q}}`+"\n", strings.Repeat("Rừng nguyên sinh. ", 400)) // ~8 KB
	fmt.Fprintf(&b, `{"document": {"id": "after", "text": "Đại dương"}}`+"\n")
	code, lines := ts.ndjson(t, strings.NewReader(b.String()), nil)
	ok, failed := 0, map[string]any{}
	for _, l := range lines {
		r, _ := l["result"].(map[string]any)
		if r == nil {
			t.Fatalf("line %v: want only results", l)
		}
		if e, _ := r["error"].(map[string]any); e != nil {
			failed = e
			if r["sequence"] != fmt.Sprint(n+1) {
				t.Errorf("the failed result is sequence %v, want %d", r["sequence"], n+1)
			}
			continue
		}
		ok++
	}
	msg, _ := failed["message"].(string)
	raw, _ := json.Marshal(failed)
	if code != 200 || ok != n+1 || !strings.Contains(msg, "--max-message-bytes") || !strings.Contains(string(raw), "REQUEST_TOO_LARGE") {
		t.Fatalf("HTTP %d, %d results, failed %v; want %d good results and the big line failed alone naming --max-message-bytes", code, ok, failed, n+1)
	}
}

// ndjsonHandlers counts NDJSON handlers still running.
func ndjsonHandlers() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "(*ndjsonHandler).ServeHTTP(")
}

// TestRESTStreamClientNotReading: an NDJSON client that sends lines and
// never reads the results must not hold its handler forever blocked in a
// write: --stream-idle-timeout bounds it, as it does the gRPC stream.
func TestRESTStreamClientNotReading(t *testing.T) {
	ts := start(t, func(c *Config) { c.StreamIdleTimeout = 300 * time.Millisecond })
	before := ndjsonHandlers()
	conn, err := net.Dial("tcp", ts.srv.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	line := fmt.Sprintf(`{"document": {"id": "d", "text": %q}}`+"\n", denseText)
	const n = 3000 // ~70 MB of results: far more than the socket buffers hold
	go func() {
		fmt.Fprintf(conn, "POST /v1/documents:streamTag HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n", n*len(line))
		for range n {
			if _, err := io.WriteString(conn, line); err != nil {
				return
			}
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); ndjsonHandlers() == before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// The client never reads. The handler must end (bounded wait).
	for deadline := time.Now().Add(20 * time.Second); ndjsonHandlers() > before && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if h := ndjsonHandlers() - before; h > 0 {
		t.Fatalf("%d NDJSON handler(s) still blocked long after --stream-idle-timeout with the client not reading", h)
	}
}

// TestRESTStreamGrpcTimeout: the NDJSON stream honours a Grpc-Timeout
// header like the unary REST routes: when it passes, the stream ends with a
// DEADLINE_EXCEEDED error line, even if the client is still sending.
func TestRESTStreamGrpcTimeout(t *testing.T) {
	ts := start(t, nil)
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", ts.base+"/v1/documents:streamTag", pr)
	req.Header.Set("Grpc-Timeout", "300m") // 300 ms
	req.Header.Set("X-Request-Id", "ndjson-1")
	go io.WriteString(pw, `{"document": {"id": "a", "text": "`+sentence+`"}}`+"\n")
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(out), `"documentId":"a"`) || !strings.Contains(string(out), `"code":4`) {
		t.Fatalf("HTTP %d %s %v: want the result of a, then a DEADLINE_EXCEEDED error line", resp.StatusCode, out, err)
	}
	// The gRPC call behind it carries the request id and the client's address.
	waitFor(t, "the stream's request id in the gRPC logs", func() bool {
		l := ts.logs.String()
		return strings.Contains(l, "request_id=ndjson-1") && strings.Contains(l, "forwarded_for=127.0.0.1")
	})
	// A malformed timeout is the client's error.
	req, _ = http.NewRequest("POST", ts.base+"/v1/documents:streamTag", strings.NewReader(""))
	req.Header.Set("Grpc-Timeout", "soon")
	if resp, err := ts.http.Do(req); err != nil || resp.StatusCode != 400 {
		t.Fatalf("Grpc-Timeout: soon: %v %v, want 400", resp, err)
	}
}

// A client that stops sending its request body is answered (400, naming
// the flag) once no byte of it came for the stream idle timeout, instead of
// holding the handler for as long as it keeps the connection; a slow body
// that keeps coming is read to its end.
func TestRESTStalledBody(t *testing.T) {
	ts := start(t, func(c *Config) { c.StreamIdleTimeout = 300 * time.Millisecond })
	addr := strings.TrimPrefix(ts.base, "http://")
	body := `{"document": {"id": "s", "text": "` + sentence + `"}}`
	send := func(chunks []string, gap time.Duration) string {
		t.Helper()
		conn := dialRaw(t, addr)
		fmt.Fprintf(conn, "POST /v1/documents:tag HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
		for i, c := range chunks {
			if i > 0 {
				time.Sleep(gap)
			}
			io.WriteString(conn, c)
		}
		answer, _ := io.ReadAll(conn)
		return string(answer)
	}

	start := time.Now()
	answer := send([]string{body[:20]}, 0)
	if !strings.HasPrefix(answer, "HTTP/1.1 408") || !strings.Contains(answer, "--stream-idle-timeout") || !strings.Contains(answer, "BODY_TIMEOUT") {
		t.Fatalf("stalled body: answer %q", answer)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("stalled body answered after %v", took)
	}

	var chunks []string
	for i := 0; i < len(body); i += len(body)/6 + 1 {
		chunks = append(chunks, body[i:min(i+len(body)/6+1, len(body))])
	}
	answer = send(chunks, 100*time.Millisecond)
	if !strings.HasPrefix(answer, "HTTP/1.1 200") || !strings.Contains(answer, `"documentId"`) {
		t.Fatalf("slow body (%d chunks 100 ms apart): answer %q", len(chunks), answer)
	}
}

// TestRESTBodyTimeout: a body that trickles in, a byte under the idle
// timeout each time, is answered 408 once --rest-body-timeout has passed
// (slowloris), instead of holding its handler for as long as it trickles.
func TestRESTBodyTimeout(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.StreamIdleTimeout = time.Second
		c.RESTBodyTimeout = 700 * time.Millisecond
	})
	conn := dialRaw(t, strings.TrimPrefix(ts.base, "http://"))
	body := `{"document": {"id": "s", "text": "` + sentence + `"}}`
	fmt.Fprintf(conn, "POST /v1/documents:tag HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	start := time.Now()
	answered := make(chan string, 1)
	go func() {
		answer, _ := io.ReadAll(conn)
		answered <- string(answer)
	}()
	for i := 0; i < len(body); i++ { // a byte every 100 ms: 7 s for the body
		select {
		case answer := <-answered:
			if !strings.HasPrefix(answer, "HTTP/1.1 408") || !strings.Contains(answer, "--rest-body-timeout") || !strings.Contains(answer, "BODY_TIMEOUT") {
				t.Fatalf("trickling body: answer %q", answer)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("answered after %v", took)
			}
			return
		case <-time.After(100 * time.Millisecond):
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				continue // closed after the answer: read it next round
			}
		}
	}
	t.Fatalf("the trickling body was read to its end (%v) without a 408", time.Since(start))
}

// rawHTTP sends head (and body) on a new connection, leaves it open, and
// returns the first line of the answer and how long it took.
func rawHTTP(t *testing.T, addr, head string, body []byte) (string, time.Duration) {
	t.Helper()
	conn := dialRaw(t, addr)
	start := time.Now()
	io.WriteString(conn, head)
	conn.Write(body)
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), time.Since(start)
}

// Answers given without reading the body (no token, a body over the limit,
// an unknown Content-Encoding) come at once, even from a client that then
// stops sending: the token is checked before the body is read or decoded,
// and net/http is kept from reading on in the body before answering.
func TestRESTAnswersWithoutTheBody(t *testing.T) {
	ts := start(t, func(c *Config) {
		c.AuthTokens = []string{"tok"}
		c.MaxDocumentBytes = 1000
		c.MaxMessageBytes = 64 << 10 // REST bodies up to 72 KiB
	})
	addr := strings.TrimPrefix(ts.base, "http://")
	partial := []byte(`{"document": {"id": "x", "text": "`)
	for _, path := range []string{"/v1/documents:tag", "/v1/documents:streamTag"} {
		// The token comes first: 401, not the 415 of the body's encoding.
		line, took := rawHTTP(t, addr, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\nContent-Length: 1000\r\n\r\n", partial)
		if !strings.HasPrefix(line, "HTTP/1.1 401") || took > 3*time.Second {
			t.Errorf("%s without a token, body stalled: %q after %v", path, line, took)
		}
	}
	// 200 KB chunked, then nothing more.
	chunk := bytes.Repeat([]byte("a"), 200<<10)
	head := "POST /v1/documents:batchTag HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nTransfer-Encoding: chunked\r\n\r\n"
	body := append(fmt.Appendf(nil, "%x\r\n", len(chunk)+len(partial)), append(partial, chunk...)...)
	line, took := rawHTTP(t, addr, head, append(body, "\r\n"...))
	if !strings.HasPrefix(line, "HTTP/1.1 413") || took > 3*time.Second {
		t.Errorf("body over the limit, then stalled: %q after %v", line, took)
	}
	line, took = rawHTTP(t, addr, "POST /v1/documents:tag HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Encoding: br\r\nContent-Length: 1000\r\n\r\n", partial)
	if !strings.HasPrefix(line, "HTTP/1.1 415") || took > 3*time.Second {
		t.Errorf("unknown encoding, body stalled: %q after %v", line, took)
	}
}

// dialRaw opens a TCP connection to addr, closed when the test ends, its
// reads and writes bounded by 10 s.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn
}
