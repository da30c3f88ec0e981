package gateway

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/klauspost/compress/gzhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/internal/wire"
)

// Config is what the REST side needs of the server.
type Config struct {
	// Service is the tagging service the REST calls reach, in process.
	Service pb.TaggerServiceServer
	// Unary and Stream are the gRPC server's interceptors, chained
	// (middleware.ChainUnary): REST calls go through them as gRPC calls do.
	Unary  grpc.UnaryServerInterceptor
	Stream grpc.StreamServerInterceptor
	// Auth checks bearer tokens before a body is read.
	Auth *middleware.Auth
	Log  *slog.Logger
	// Limits, as the server's flags set them.
	MaxMessageBytes   int
	MaxDocumentBytes  int
	StreamIdleTimeout time.Duration
	// BodyTimeout bounds the reading of a whole unary request body (0:
	// no bound beyond StreamIdleTimeout between bytes).
	BodyTimeout time.Duration
	// Limiter refuses a request when the server is full, before its body
	// is read, as the gRPC server's tap does.
	Limiter *middleware.Limiter
	// TracerProvider, when set, traces REST requests (otelhttp: the
	// request's span, continuing an incoming traceparent) and their
	// in-process calls (a child span each); nil: no tracing.
	TracerProvider trace.TracerProvider
	// Propagator reads the trace context of a request (traceparent).
	Propagator propagation.TextMapPropagator
}

// Gateway is the REST side: the grpc-gateway mux, which decodes each
// request with our JSON rules and calls the service in process
// (inProcess), and the NDJSON stream.
type Gateway struct {
	cfg  Config
	mux  *runtime.ServeMux
	json *restJSON
	rest *inProcess
}

// New builds the REST side of the service.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	g := &Gateway{cfg: cfg, json: newRESTJSON(),
		rest: &inProcess{svc: cfg.Service, unary: cfg.Unary, stream: cfg.Stream, maxMessage: cfg.MaxMessageBytes}}
	if cfg.TracerProvider != nil {
		g.rest.tracer = cfg.TracerProvider.Tracer("github.com/doctagger/doctagger/internal/gateway")
	}
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, g.json),
		runtime.WithIncomingHeaderMatcher(headerMatcher),
		runtime.WithOutgoingHeaderMatcher(outgoingHeaderMatcher),
		runtime.WithRoutingErrorHandler(func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
			switch httpStatus {
			case http.StatusMethodNotAllowed:
				// The default answers 501 (UNIMPLEMENTED), as if the
				// server could not do it at all.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusMethodNotAllowed)
				writeStatus(w, g.json, pb.NewStatus(codes.Unimplemented, pb.ErrorReason_METHOD_NOT_ALLOWED, "",
					"method "+r.Method+" not allowed on "+r.URL.Path+"; see /openapi.json", nil), false)
			case http.StatusNotFound:
				httpError(w, g.json, NotFound(r))
			default:
				runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
			}
		}),
		runtime.WithErrorHandler(func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
			if body, ok := r.Body.(*restBody); ok {
				switch {
				case body.over:
					// The gateway reports it as a malformed body (400).
					bodyTooLarge(w, g.json, g.bodyLimit())
					return
				case body.decodeErr != nil:
					// The gateway keeps only the message of a decoding error.
					httpError(w, g.json, body.decodeErr)
					return
				}
			}
			st := status.Convert(err)
			retryAfter(w, st)
			switch st.Code() {
			case codes.Unauthenticated:
				// The default handler would put the message in WWW-Authenticate.
				w.Header().Set("WWW-Authenticate", `Bearer realm="doctagger"`)
				httpError(w, g.json, st)
			case codes.ResourceExhausted:
				httpError(w, g.json, st) // 413, or 429 for a quota: see httpStatus
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

// Handler serves the REST routes, /v1/: the token is checked before a
// body is read or decoded (and again by the interceptors), a gzip body is
// decoded, the body limit holds for it as decoded, and answers are gzip
// for clients that accept it.
func (g *Gateway) Handler() http.Handler {
	// Answers are gzip-compressed for clients that accept it (curl
	// --compressed; Go's HTTP client asks by itself): a batch's results
	// with their evidence shrink several times. The NDJSON stream's lines
	// are compressed and flushed one by one.
	// (gzip only: gzhttp would answer zstd to clients that offer both.)
	compress, err := gzhttp.NewWrapper(gzhttp.EnableZstd(false))
	if err != nil {
		panic(err) // constant options
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/documents:streamTag", compress(&ndjsonHandler{g: g}))
	mux.Handle("/v1/", compress(g.Authorize(false, http.HandlerFunc(g.serveUnary))))
	if g.cfg.TracerProvider == nil {
		return mux
	}
	// The request's span (continuing the caller's traceparent), with its
	// request id; the in-process call's span goes under it (inProcess).
	withID := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("request.id", r.Header.Get("X-Request-Id")))
		mux.ServeHTTP(w, r)
	})
	return otelhttp.NewHandler(withID, "rest",
		otelhttp.WithTracerProvider(g.cfg.TracerProvider),
		otelhttp.WithPropagators(g.cfg.Propagator),
		otelhttp.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if _, ok := restMethods[r.URL.Path]; ok {
				return r.Method + " " + r.URL.Path
			}
			return r.Method + " /v1/" // no route: one name, whatever the path
		}))
}

func (g *Gateway) serveUnary(w http.ResponseWriter, r *http.Request) {
	if g.cfg.Limiter.Full() {
		closeUnread(w)
		httpError(w, g.json, status.Convert(g.cfg.Limiter.Overloaded()))
		return
	}
	limit := g.bodyLimit()
	if r.ContentLength > limit {
		bodyTooLarge(w, g.json, limit)
		return
	}
	// Each read from the connection must bring a byte within the idle
	// timeout, and the whole body come within the body timeout (a client
	// sending a byte now and then would hold the handler for ever); the
	// limit holds for the body as decoded.
	body := &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: g.cfg.StreamIdleTimeout, whole: g.cfg.BodyTimeout}
	if g.cfg.BodyTimeout > 0 {
		body.end = time.Now().Add(g.cfg.BodyTimeout)
	}
	r.Body = body
	if r.Header.Get("Content-Type") == "" {
		// JSON is the only body there is; grpc-gateway would log a
		// complaint about the missing header outside the structured log.
		r.Header.Set("Content-Type", "application/json")
	}
	if st := decodeBody(w, r); st != nil {
		httpError(w, g.json, st)
		return
	}
	r.Body = &restBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit), size: r.ContentLength}
	g.mux.ServeHTTP(w, r.WithContext(withPeer(r.Context(), r.RemoteAddr)))
}

// NotFound is the error of a request to no route.
func NotFound(r *http.Request) *status.Status {
	return pb.NewStatus(codes.NotFound, pb.ErrorReason_UNKNOWN_ROUTE, "",
		"no route "+r.Method+" "+r.URL.Path+"; see /openapi.json", nil)
}

// WriteError answers with a JSON google.rpc.Status and the matching HTTP
// code, as the REST routes do.
func WriteError(w http.ResponseWriter, st *status.Status) { httpError(w, defaultJSON, st) }

var defaultJSON = newRESTJSON()

// outgoingHeaderMatcher drops the request id the interceptors set as a
// gRPC header: the HTTP side echoes X-Request-Id already.
func outgoingHeaderMatcher(key string) (string, bool) {
	if key == middleware.RequestIDHeader {
		return "", false
	}
	return runtime.DefaultHeaderMatcher(key)
}

// headerMatcher forwards the gateway's defaults plus X-Request-Id.
func headerMatcher(key string) (string, bool) {
	if textproto.CanonicalMIMEHeaderKey(key) == "X-Request-Id" {
		return "x-request-id", true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// restBodyLimit is the largest REST request body (as decoded, if gzip):
// the message limit and an eighth more for what JSON adds (field names,
// quotes, escaped line breaks). A body is held twice while it is decoded
// (its bytes and the strings decoded from them), so the limit is what
// bounds a REST call's memory: 4 concurrent bodies at the deploy/ limit of
// 16 MiB peak at about 300 MiB (scripts/restmem.sh).
func (g *Gateway) bodyLimit() int64 {
	return int64(g.cfg.MaxMessageBytes) + int64(g.cfg.MaxMessageBytes)/8
}

// bodyTooLarge answers a REST body over the limit.
func bodyTooLarge(w http.ResponseWriter, m *restJSON, limit int64) {
	closeUnread(w) // net/http cannot see the limit through gzhttp's writer
	httpError(w, m, pb.NewStatus(codes.ResourceExhausted, pb.ErrorReason_REQUEST_TOO_LARGE, "body",
		fmt.Sprintf("the request body (as decoded, if sent with gzip) is over the limit of %d bytes (--max-message-bytes and an eighth): send fewer documents per request, or stream them through POST /v1/documents:streamTag", limit),
		map[string]string{pb.MetaLimit: fmt.Sprint(limit)}))
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
	return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_UNSUPPORTED_CONTENT_ENCODING, "body",
		fmt.Sprintf("Content-Encoding %q is not supported: send the body as it is, or with gzip", enc),
		map[string]string{pb.MetaContentEncoding: enc})
}

// gzipBody decodes a gzip request body. It reads the gzip header on the
// first Read, not before: the NDJSON handler reads its body in a goroutine
// that a read deadline can wake, and the header must not be awaited
// outside it.
type gzipBody struct {
	body io.ReadCloser
	zr   io.Reader // gzip, within wire.BoundedDecompress
	err  error
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.zr == nil && b.err == nil {
		zr, err := wire.BoundedDecompress(b.body, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })
		if err != nil {
			b.err = fmt.Errorf("the body is not gzip, as its Content-Encoding says: %w", err)
		} else {
			b.zr = zr
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
	rc    *http.ResponseController
	idle  time.Duration
	whole time.Duration // the body timeout, and end the time it ends at
	end   time.Time
}

// bodyTimeoutError is the error of a body that did not come in time.
type bodyTimeoutError struct{ msg string }

func (e *bodyTimeoutError) Error() string { return e.msg }

func (b *idleBody) Read(p []byte) (int, error) {
	deadline := time.Time{}
	if b.idle > 0 {
		deadline = time.Now().Add(b.idle)
	}
	if !b.end.IsZero() && (deadline.IsZero() || b.end.Before(deadline)) {
		deadline = b.end
	}
	if !deadline.IsZero() {
		_ = b.rc.SetReadDeadline(deadline)
	}
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && !b.end.IsZero() && !time.Now().Before(b.end):
		err = &bodyTimeoutError{fmt.Sprintf("the request body did not all come within %s (--rest-body-timeout)", b.whole)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = &bodyTimeoutError{fmt.Sprintf("the request body stalled: no byte of it for %s (--stream-idle-timeout)", b.idle)}
	case err != nil && !deadline.IsZero():
		_ = b.rc.SetReadDeadline(time.Time{}) // the body is read: net/http watches the connection without one
	}
	return n, err
}

// Authorize checks the bearer token of a request before h sees it, unless
// open; a refused request is logged as a refused gRPC call is.
func (g *Gateway) Authorize(open bool, h http.Handler) http.Handler {
	if open {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.cfg.Auth.Check(r.Header.Get("Authorization")); err != nil {
			g.logRefused(r, err)
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
func (g *Gateway) logRefused(r *http.Request, err error) {
	method, ok := restMethods[r.URL.Path]
	if !ok {
		method = r.Method + " " + r.URL.Path
	}
	md := metadata.Pairs(middleware.RequestIDHeader, r.Header.Get("X-Request-Id"))
	if v := r.Header.Get("X-Forwarded-For"); v != "" {
		md.Set("x-forwarded-for", v)
	}
	middleware.LogRefused(withPeer(r.Context(), r.RemoteAddr), g.cfg.Log, method, md, middleware.TransportREST, err)
}

// httpError answers with a JSON google.rpc.Status and the matching HTTP code.
func httpError(w http.ResponseWriter, m *restJSON, st *status.Status) {
	retryAfter(w, st)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus(st))
	writeStatus(w, m, st, false)
}

// httpStatus is grpc-gateway's HTTP code for a status's gRPC code, except
// that RESOURCE_EXHAUSTED for a size is 413 (the gateway's 429 tells
// clients to retry it as it is; a caller over its quota, QUOTA_EXCEEDED,
// gets that 429), an unsupported Content-Encoding is 415,
// and a body that did not come in time is 408.
func httpStatus(st *status.Status) int {
	switch pb.ReasonOf(st.Err()) {
	case pb.ErrorReason_REQUEST_TOO_LARGE, pb.ErrorReason_RESULT_TOO_LARGE, pb.ErrorReason_DECOMPRESSION_BOMB:
		return http.StatusRequestEntityTooLarge
	case pb.ErrorReason_UNSUPPORTED_CONTENT_ENCODING:
		return http.StatusUnsupportedMediaType
	case pb.ErrorReason_BODY_TIMEOUT:
		return http.StatusRequestTimeout
	case pb.ErrorReason_QUOTA_EXCEEDED:
		return http.StatusTooManyRequests // with Retry-After: retry it as it is, later
	}
	if st.Code() == codes.ResourceExhausted {
		return http.StatusRequestEntityTooLarge // no other resource runs out per request
	}
	return runtime.HTTPStatusFromCode(st.Code())
}

// retryAfter gives an overloaded answer its Retry-After header, in
// seconds, from the status's RetryInfo.
func retryAfter(w http.ResponseWriter, st *status.Status) {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			w.Header().Set("Retry-After", fmt.Sprint(max(1, int(ri.GetRetryDelay().AsDuration().Round(time.Second).Seconds()))))
		}
	}
}

// bodyError is the error of a request body that could not be read: too
// slow, not the gzip it says, or a decompression bomb.
func bodyError(err error) *status.Status {
	var timeout *bodyTimeoutError
	switch {
	case errors.As(err, &timeout):
		return pb.NewStatus(codes.DeadlineExceeded, pb.ErrorReason_BODY_TIMEOUT, "body", err.Error(), nil)
	case errors.Is(err, wire.ErrDecompressionBomb):
		return pb.NewStatus(codes.ResourceExhausted, pb.ErrorReason_DECOMPRESSION_BOMB, "body", err.Error(), nil)
	}
	return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_MALFORMED_BODY, "body", "reading the request body: "+err.Error(), nil)
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
