package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// gateway is the REST side: a gRPC client of the server over the in-memory
// listener, the grpc-gateway mux and our JSON marshaler.
type gateway struct {
	conn   *grpc.ClientConn
	client pb.TaggerServiceClient
	mux    *runtime.ServeMux
	json   *restJSON
}

func (s *Server) newGateway(ctx context.Context, l *bufconn.Listener) (*gateway, error) {
	conn, err := grpc.NewClient("passthrough:///taggerd-internal",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(s.cfg.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(s.cfg.MaxMessageBytes),
		),
		// A REST body under its limit can still make a gRPC message over
		// --max-message-bytes: say so, instead of grpc-go's bare "trying to
		// send message larger than max".
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			if m, ok := req.(proto.Message); ok {
				if n := proto.Size(m); n > s.cfg.MaxMessageBytes {
					return badRequest(codes.ResourceExhausted, reasonRequestTooBig, "body",
						fmt.Sprintf("the request is %d bytes as a gRPC message, over the limit of %d bytes (--max-message-bytes): send fewer or smaller documents per request, or stream them through POST /v1/documents:streamTag", n, s.cfg.MaxMessageBytes),
						map[string]string{"bytes": fmt.Sprint(n), "limit": fmt.Sprint(s.cfg.MaxMessageBytes)}).Err()
				}
			}
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("gateway connection: %w", err)
	}
	g := &gateway{conn: conn, client: pb.NewTaggerServiceClient(conn), json: newRESTJSON()}
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, g.json),
		runtime.WithIncomingHeaderMatcher(headerMatcher),
		runtime.WithRoutingErrorHandler(func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
			if httpStatus == http.StatusMethodNotAllowed {
				// The default answers 501 (UNIMPLEMENTED), as if the
				// server could not do it at all.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusMethodNotAllowed)
				writeStatus(w, g.json, status.New(codes.Unimplemented,
					"method "+r.Method+" not allowed on "+r.URL.Path+"; see /openapi.json"), false)
				return
			}
			runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
		}),
		runtime.WithErrorHandler(func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
			if body, ok := r.Body.(*limitedBody); ok && body.over {
				// The gateway reports it as a malformed body (400).
				bodyTooLarge(w, g.json, s.restBodyLimit())
				return
			}
			switch st := status.Convert(err); st.Code() {
			case codes.Unauthenticated:
				// The default handler would put the message in WWW-Authenticate.
				w.Header().Set("WWW-Authenticate", `Bearer realm="doctagger"`)
				httpError(w, g.json, st)
			case codes.ResourceExhausted:
				httpError(w, g.json, st) // 413, see httpStatus
			default:
				runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
			}
		}),
	)
	if err := pb.RegisterTaggerServiceHandlerClient(ctx, g.mux, g.client); err != nil {
		conn.Close()
		return nil, err
	}
	return g, nil
}

// headerMatcher forwards the gateway's defaults plus X-Request-Id.
func headerMatcher(key string) (string, bool) {
	if textproto.CanonicalMIMEHeaderKey(key) == "X-Request-Id" {
		return "x-request-id", true
	}
	return runtime.DefaultHeaderMatcher(key)
}

func (s *Server) httpHandler(gw *gateway) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", s.httpAuth(s.cfg.OpenHealth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})))
	mux.Handle("GET /readyz", s.httpAuth(s.cfg.OpenHealth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.serving.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down\n")
			return
		}
		fmt.Fprintf(w, "ready %s\n", s.rules.current().tagger.Version())
	})))
	mux.Handle("GET /metrics", s.httpAuth(s.cfg.OpenMetrics,
		promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})))
	if s.cfg.Pprof {
		mux.Handle("/debug/pprof/", s.httpAuth(false, http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/cmdline", s.httpAuth(false, http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("/debug/pprof/profile", s.httpAuth(false, http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/symbol", s.httpAuth(false, http.HandlerFunc(pprof.Symbol)))
		mux.Handle("/debug/pprof/trace", s.httpAuth(false, http.HandlerFunc(pprof.Trace)))
	}
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(pb.OpenAPI)
	})
	// Answers are gzip-compressed for clients that accept it (curl
	// --compressed; Go's HTTP client asks by itself): a batch's results
	// with their evidence shrink several times. The NDJSON stream's lines
	// are compressed and flushed one by one.
	// (gzip only: gzhttp would answer zstd to clients that offer both.)
	compress, err := gzhttp.NewWrapper(gzhttp.EnableZstd(false))
	if err != nil {
		panic(err) // constant options
	}
	// The token is checked here, before a body is read or decoded, as well
	// as by the gRPC server the gateway calls.
	mux.Handle("POST /v1/documents:streamTag", compress(&ndjsonHandler{s: s, gw: gw}))
	mux.Handle("/v1/", compress(s.httpAuth(false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.restBodyLimit()
		if r.ContentLength > limit {
			bodyTooLarge(w, gw.json, limit)
			return
		}
		// Each read from the connection must bring a byte within the idle
		// timeout; the limit holds for the body as decoded.
		r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: s.cfg.StreamIdleTimeout}
		if st := decodeBody(w, r); st != nil {
			httpError(w, gw.json, st)
			return
		}
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit)}
		gw.mux.ServeHTTP(w, r)
	}))))
	if s.cfg.UI != nil {
		mux.Handle("/", s.cfg.UI)
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			httpError(w, gw.json, status.New(codes.NotFound, "no route "+r.Method+" "+r.URL.Path+"; see /openapi.json"))
		})
	}
	return withRequestID(mux)
}

// restBodyLimit is the largest REST request body: room for a gRPC message
// at the limit written as JSON.
func (s *Server) restBodyLimit() int64 { return 2 * int64(s.cfg.MaxMessageBytes) }

// bodyTooLarge answers a REST body over the limit.
func bodyTooLarge(w http.ResponseWriter, m *restJSON, limit int64) {
	closeUnread(w) // net/http cannot see the limit through gzhttp's writer
	httpError(w, m, badRequest(codes.ResourceExhausted, reasonRequestTooBig, "body",
		fmt.Sprintf("the request body (as decoded, if sent with gzip) is over the limit of %d bytes (2 × --max-message-bytes): send fewer documents per request, or stream them through POST /v1/documents:streamTag", limit),
		map[string]string{"limit": fmt.Sprint(limit)}))
}

// closeUnread closes the connection after an answer given before the
// request body was read to its end. Otherwise net/http, to reuse the
// connection, reads on in the body before it sends the answer, and waits
// on a client that stopped sending (for ever without a read deadline).
func closeUnread(w http.ResponseWriter) { w.Header().Set("Connection", "close") }

// decodeBody replaces r.Body by its decoding when Content-Encoding is gzip:
// scripts compress large batches and NDJSON files (news text shrinks 2-4
// times). Any other encoding is refused before the body is read.
func decodeBody(w http.ResponseWriter, r *http.Request) *status.Status {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch {
	case r.ContentLength == 0:
		return nil // no body to decode (a GET)
	case enc == "" || enc == "identity":
		return nil
	case enc == "gzip" || enc == "x-gzip":
		r.Body = &gzipBody{body: r.Body}
		r.Header.Del("Content-Encoding")
		r.ContentLength = -1
		return nil
	}
	w.Header().Set("Accept-Encoding", "gzip") // what a 415 should say is accepted
	closeUnread(w)
	return badRequest(codes.InvalidArgument, reasonBadEncoding, "body",
		fmt.Sprintf("Content-Encoding %q is not supported: send the body as it is, or with gzip", enc),
		map[string]string{"contentEncoding": enc})
}

// gzipBody decodes a gzip request body. It reads the gzip header on the
// first Read, not before: the NDJSON handler reads its body in a goroutine
// that a read deadline can wake, and the header must not be awaited
// outside it.
type gzipBody struct {
	body io.ReadCloser
	zr   io.Reader // gzip, within inflationLimit
	err  error
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.zr == nil && b.err == nil {
		in := &countingReader{r: b.body}
		zr, err := gzip.NewReader(in)
		if err != nil {
			b.err = fmt.Errorf("the body is not gzip, as its Content-Encoding says: %w", err)
		} else {
			b.zr = &inflationLimit{r: zr, in: in}
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.zr.Read(p)
}

func (b *gzipBody) Close() error { return b.body.Close() }

// limitedBody notes when the body went over its http.MaxBytesReader limit.
type limitedBody struct {
	io.ReadCloser
	over bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		b.over = true
	}
	return n, err
}

// idleBody gives up on a client that stops sending its body: each read
// from the connection must bring a byte within idle (the stream idle
// timeout), or a handler would wait on it for as long as the client keeps
// the connection.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.idle > 0 {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("the request body stalled: no byte of it for %s (--stream-idle-timeout)", b.idle)
	case err != nil && b.idle > 0:
		_ = b.rc.SetReadDeadline(time.Time{}) // the body is read: net/http watches the connection without one
	}
	return n, err
}

// withRequestID gives every request an X-Request-Id (the client's, or a new
// one), forwards it to the gRPC server, whose logs carry it, and echoes it
// in the response.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		h.ServeHTTP(w, r)
	})
}

// httpAuth checks the bearer token on plain HTTP endpoints unless open.
func (s *Server) httpAuth(open bool, h http.Handler) http.Handler {
	if open {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.auth.check(r.Header.Get("Authorization")); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="doctagger"`)
			closeUnread(w)
			httpError(w, newRESTJSON(), status.Convert(err))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// httpError answers with a JSON google.rpc.Status and the matching HTTP code.
func httpError(w http.ResponseWriter, m *restJSON, st *status.Status) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus(st))
	writeStatus(w, m, st, false)
}

// httpStatus is grpc-gateway's HTTP code for a status's gRPC code, except
// that RESOURCE_EXHAUSTED is 413 (the only thing a request exhausts here is
// a size limit, and the gateway's 429 tells clients to retry it as it is)
// and an unsupported Content-Encoding is 415.
func httpStatus(st *status.Status) int {
	switch {
	case st.Code() == codes.ResourceExhausted:
		return http.StatusRequestEntityTooLarge
	case hasReason(st, reasonBadEncoding):
		return http.StatusUnsupportedMediaType
	}
	return runtime.HTTPStatusFromCode(st.Code())
}

func hasReason(st *status.Status, reason string) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Reason == reason {
			return true
		}
	}
	return false
}

// writeStatus writes a google.rpc.Status as JSON: {"code":..,"message":..,
// "details":[..]}, or {"error": {...}} as an NDJSON line when line is set.
func writeStatus(w http.ResponseWriter, m *restJSON, st *status.Status, line bool) {
	var body []byte
	var err error
	if line {
		body, err = m.Marshal(map[string]any{"error": st.Proto()})
	} else {
		body, err = m.Marshal(st.Proto())
	}
	if err != nil {
		body = []byte(`{"code":13,"message":"failed to marshal the error"}`)
	}
	w.Write(append(body, '\n'))
}

// ndjsonHandler serves POST /v1/documents:streamTag: newline-delimited JSON
// requests in, one JSON result per line out as soon as each is ready, full
// duplex. It is a client of StreamTagDocuments on the real gRPC server.
// A malformed line ends the stream: the results of the lines before it are
// written, then an {"error": ...} line naming the line number.
type ndjsonHandler struct {
	s  *Server
	gw *gateway
}

func (h *ndjsonHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex() // HTTP/1.1: read the body while writing results (HTTP/2 always can)
	// net/http keeps a write deadline for the next request on the connection.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()

	// The gateway's own context for a call: the headers its routes forward
	// (authorization, x-request-id, x-forwarded-for) and Grpc-Timeout.
	annotated, err := runtime.AnnotateContext(r.Context(), h.gw.mux, r, pb.TaggerService_StreamTagDocuments_FullMethodName,
		runtime.WithHTTPPathPattern("/v1/documents:streamTag"))
	if err != nil {
		h.fail(w, status.Convert(err), false)
		return
	}
	if err := h.s.auth.check(r.Header.Get("Authorization")); err != nil {
		h.fail(w, status.Convert(err), false) // before reading, let alone decoding, the body
		return
	}
	if st := decodeBody(w, r); st != nil {
		h.fail(w, st, false)
		return
	}
	ctx, cancel := context.WithCancel(annotated)
	defer cancel()

	stream, err := h.gw.client.StreamTagDocuments(ctx)
	if err != nil {
		h.fail(w, status.Convert(err), false)
		return
	}

	// Sender: reads lines and sends them; on a malformed line it records the
	// error and half-closes, so the documents before it are still answered.
	var readErr *status.Status
	sendDone := make(chan struct{})
	// The body must not be read once ServeHTTP returns. When the stream
	// ends early (401, the client stopped reading) the sender may be
	// blocked reading a client that sends nothing more: a read deadline in
	// the past wakes it, then we wait for it.
	defer func() {
		cancel()
		select {
		case <-sendDone:
		default:
			if rc.SetReadDeadline(time.Now()) == nil {
				<-sendDone
			}
		}
	}()
	maxLine := h.s.cfg.MaxDocumentBytes*6 + 64<<10
	go func() {
		defer close(sendDone)
		defer stream.CloseSend()
		br := bufio.NewReaderSize(r.Body, 64<<10)
		for lineNo := 1; ; lineNo++ {
			line, err := readLine(br, maxLine)
			if errors.Is(err, errLineTooLong) {
				readErr = lineError(lineNo, fmt.Sprintf("line %d is longer than %d bytes (6 × --max-document-bytes + 64 KiB)", lineNo, maxLine))
				return
			}
			if err != nil && !errors.Is(err, io.EOF) {
				readErr = lineError(lineNo, fmt.Sprintf("reading line %d of the request body: %v", lineNo, err))
				return
			}
			if len(bytes.TrimSpace(line)) > 0 {
				req := new(pb.StreamTagDocumentsRequest)
				if derr := h.gw.json.Unmarshal(line, req); derr != nil {
					readErr = lineError(lineNo, fmt.Sprintf("line %d: malformed request: %v", lineNo, derr))
					return
				}
				// Checked here: grpc-go would fail Send and cancel the
				// whole stream, losing the results of the lines before.
				if n := proto.Size(req); n > h.s.cfg.MaxMessageBytes {
					readErr = lineError(lineNo, fmt.Sprintf("line %d is %d bytes as a gRPC message, over the limit of %d bytes (--max-message-bytes)", lineNo, n, h.s.cfg.MaxMessageBytes))
					return
				}
				if serr := stream.Send(req); serr != nil {
					return // the stream ended; Recv reports why
				}
			}
			if err != nil { // io.EOF
				return
			}
		}
	}()

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	wrote := false
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.fail(w, status.Convert(err), wrote)
			return
		}
		body, merr := h.gw.json.Marshal(resp)
		if merr != nil {
			h.fail(w, status.New(codes.Internal, "marshalling a result: "+merr.Error()), wrote)
			return
		}
		if !wrote {
			w.WriteHeader(http.StatusOK)
			wrote = true
		}
		h.writeDeadline(rc)
		if _, werr := w.Write(append(body, '\n')); werr != nil {
			return // client gone; ctx cancel ends the gRPC stream
		}
		_ = rc.Flush()
	}
	<-sendDone
	if readErr != nil {
		h.fail(w, readErr, wrote)
		return
	}
	if !wrote {
		w.WriteHeader(http.StatusOK)
	}
}

func lineError(lineNo int, msg string) *status.Status {
	return badRequest(codes.InvalidArgument, reasonMalformedLine, fmt.Sprintf("line %d", lineNo), msg,
		map[string]string{"line": fmt.Sprint(lineNo)})
}

// writeDeadline bounds the next write by the stream idle timeout: a client
// that stops reading would otherwise hold the handler in Write forever.
func (h *ndjsonHandler) writeDeadline(rc *http.ResponseController) {
	if d := h.s.cfg.StreamIdleTimeout; d > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(d))
	}
}

// fail writes the error line; before any result it also sets the HTTP code.
func (h *ndjsonHandler) fail(w http.ResponseWriter, st *status.Status, wrote bool) {
	h.writeDeadline(http.NewResponseController(w))
	if !wrote {
		if st.Code() == codes.Unauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="doctagger"`)
		}
		closeUnread(w) // the body may be partly unread
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(httpStatus(st))
	}
	writeStatus(w, h.gw.json, st, true)
	_ = http.NewResponseController(w).Flush()
}

// readLine reads one line without its '\n' (and '\r'), up to max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max+1 {
			return nil, errLineTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			line = append(line, chunk...)
			continue
		}
		if line == nil {
			line = chunk
		} else {
			line = append(line, chunk...)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if err != nil && len(line) == 0 {
			return nil, err
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return line, err
	}
}
