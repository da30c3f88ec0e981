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
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// gateway is the REST side: the grpc-gateway mux, which decodes each
// request with our JSON marshaler and calls the service in process
// (inProcess), and the NDJSON stream.
type gateway struct {
	mux  *runtime.ServeMux
	json *restJSON
	rest *inProcess
}

func (s *Server) newGateway(ctx context.Context) (*gateway, error) {
	g := &gateway{json: newRESTJSON(), rest: s.rest}
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
			if body, ok := r.Body.(*restBody); ok {
				switch {
				case body.over:
					// The gateway reports it as a malformed body (400).
					bodyTooLarge(w, g.json, s.restBodyLimit())
					return
				case body.decodeErr != nil:
					// The gateway keeps only the message of a decoding error.
					httpError(w, g.json, body.decodeErr)
					return
				}
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
	if err := pb.RegisterTaggerServiceHandlerServer(ctx, g.mux, g.rest); err != nil {
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
	// The REST API's description: OpenAPI 3 for client generators, and
	// the Swagger 2 document protoc-gen-openapiv2 makes, for older tools.
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(pb.OpenAPI3)
	})
	mux.HandleFunc("GET /swagger.json", func(w http.ResponseWriter, r *http.Request) {
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
		r.Body = &restBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit), size: r.ContentLength}
		gw.mux.ServeHTTP(w, r.WithContext(withPeer(r.Context(), r.RemoteAddr)))
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

// restBodyLimit is the largest REST request body (as decoded, if gzip):
// the message limit and an eighth more for what JSON adds (field names,
// quotes, escaped line breaks). A body is held twice while it is decoded
// (its bytes and the strings decoded from them), so the limit is what
// bounds a REST call's memory: 4 concurrent bodies at the deploy/ limit of
// 16 MiB peak at about 300 MiB (scripts/restmem.sh).
func (s *Server) restBodyLimit() int64 {
	return int64(s.cfg.MaxMessageBytes) + int64(s.cfg.MaxMessageBytes)/8
}

// bodyTooLarge answers a REST body over the limit.
func bodyTooLarge(w http.ResponseWriter, m *restJSON, limit int64) {
	closeUnread(w) // net/http cannot see the limit through gzhttp's writer
	httpError(w, m, badRequest(codes.ResourceExhausted, reasonRequestTooBig, "body",
		fmt.Sprintf("the request body (as decoded, if sent with gzip) is over the limit of %d bytes (--max-message-bytes and an eighth): send fewer documents per request, or stream them through POST /v1/documents:streamTag", limit),
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

// restBody is a unary REST request body: it notes when the body went over
// its http.MaxBytesReader limit, and keeps a decoding error with its
// details for the gateway's error handler.
type restBody struct {
	io.ReadCloser
	size      int64 // the declared length, or -1
	over      bool
	decodeErr *status.Status
}

func (b *restBody) Read(p []byte) (int, error) {
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
			s.logRefused(r, err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="doctagger"`)
			closeUnread(w)
			httpError(w, newRESTJSON(), status.Convert(err))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// restMethods names the RPC behind each REST route.
var restMethods = map[string]string{
	"/v1/documents:tag":       pb.TaggerService_TagDocument_FullMethodName,
	"/v1/documents:batchTag":  pb.TaggerService_BatchTagDocuments_FullMethodName,
	"/v1/documents:streamTag": pb.TaggerService_StreamTagDocuments_FullMethodName,
	"/v1/themes":              pb.TaggerService_ListThemes_FullMethodName,
	"/v1/ruleset":             pb.TaggerService_GetRuleset_FullMethodName,
}

// logRefused logs a REST request refused for its token before it reached
// the interceptors, as tapAuth logs a gRPC call refused from its headers.
func (s *Server) logRefused(r *http.Request, err error) {
	method, ok := restMethods[r.URL.Path]
	if !ok {
		method = r.Method + " " + r.URL.Path
	}
	md := metadata.Pairs("x-request-id", r.Header.Get("X-Request-Id"))
	ctx := withPeer(metadata.NewIncomingContext(r.Context(), md), r.RemoteAddr)
	logCall(ctx, s.log, method, time.Now(), err)
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
