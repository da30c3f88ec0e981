package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire"
)

// flushDelay is how long a result written to the NDJSON stream may wait in
// the response buffer for others to join it: results come in bursts, and
// one write per result costs a system call (and a gzip flush) each.
const flushDelay = 2 * time.Millisecond

// ndjsonHandler serves POST /v1/documents:streamTag: newline-delimited JSON
// requests in, one JSON result per line out as soon as each is ready, full
// duplex. It runs StreamTagDocuments in process (inProcess) on an
// ndjsonStream, through the gRPC server's stream interceptors.
//
// A line is a StreamTagDocumentsRequest ({"document": {...}, "options":
// {...}}) or, as tagctl reads them, a bare Document ({"id": ..., "text":
// ...}). A malformed line ends the stream: the results of the lines before
// it are written, then an {"error": ...} line naming the line number.
type ndjsonHandler struct{ g *Gateway }

func (h *ndjsonHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex() // HTTP/1.1: read the body while writing results (HTTP/2 always can)
	// net/http keeps a write deadline for the next request on the connection.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	out := &ndjsonWriter{w: w, rc: rc, json: h.g.json, idle: h.g.cfg.StreamIdleTimeout}

	// The gateway's context for a call: the headers its routes forward
	// (authorization, x-request-id, x-forwarded-for) and Grpc-Timeout.
	method := pb.TaggerService_StreamTagDocuments_FullMethodName
	ctx, err := runtime.AnnotateIncomingContext(r.Context(), h.g.mux, r, method,
		runtime.WithHTTPPathPattern("/v1/documents:streamTag"))
	if err != nil {
		out.fail(status.Convert(err))
		return
	}
	if err := h.g.cfg.Auth.Check(r.Header.Get("Authorization")); err != nil {
		h.g.logRefused(r, err)
		out.fail(status.Convert(err)) // before reading, let alone decoding, the body
		return
	}
	if h.g.cfg.Limiter.Full() {
		out.fail(status.Convert(h.g.cfg.Limiter.Overloaded()))
		return
	}
	// Whether the request body, as it comes off the connection (before
	// any gzip), has ended: see stopReading.
	var bodyEnded atomic.Bool
	r.Body = eofWatch{r.Body, &bodyEnded}
	if st := decodeBody(w, r); st != nil {
		out.fail(st)
		return
	}
	ctx, cancel := context.WithCancel(withMethod(withPeer(ctx, r.RemoteAddr), method))
	defer cancel()

	in := &ndjsonReader{
		br:      bufio.NewReaderSize(r.Body, 64<<10),
		maxLine: h.g.cfg.MaxDocumentBytes*6 + 64<<10,
		maxMsg:  h.g.cfg.MaxMessageBytes,
		want:    make(chan proto.Message),
		got:     make(chan error, 1),
		done:    make(chan struct{}),
		ctx:     ctx,
	}
	go in.run()
	// The body must not be read once ServeHTTP returns: the reader may be
	// blocked on a client that sends nothing more; a read deadline in the
	// past wakes it, then we wait for it. Not once the body has come to its
	// end: the reader cannot block any more, and net/http is reading the
	// idle connection too; the deadline would wake that read as well, which
	// cancels the connection's context and the next request on it.
	stopReading := func() {
		cancel()
		select {
		case <-in.done:
		default:
			if bodyEnded.Load() || rc.SetReadDeadline(time.Now()) == nil {
				<-in.done
			}
		}
	}
	defer stopReading()

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	err = h.g.rest.streamTagDocuments(&ndjsonStream{ctx: ctx, in: in, out: out})
	stopReading()
	switch {
	case err != nil:
		out.fail(status.Convert(err))
	case in.readErr != nil:
		out.fail(in.readErr)
	default:
		out.finish()
	}
}

// ndjsonStream is the grpc.ServerStream of an NDJSON request: RecvMsg
// decodes the next line, SendMsg writes a result line.
type ndjsonStream struct {
	ctx context.Context
	in  *ndjsonReader
	out *ndjsonWriter
}

func (s *ndjsonStream) Context() context.Context     { return s.ctx }
func (s *ndjsonStream) SetHeader(metadata.MD) error  { return nil }
func (s *ndjsonStream) SendHeader(metadata.MD) error { return nil }
func (s *ndjsonStream) SetTrailer(metadata.MD)       {}
func (s *ndjsonStream) SendMsg(m any) error          { return s.out.write(m.(proto.Message)) }
func (s *ndjsonStream) RecvMsg(m any) error          { return s.in.next(m.(proto.Message)) }

// ndjsonReader reads request lines in a goroutine of its own (run), which a
// read deadline can wake, one line each time the service asks (next), so
// that the service's flow control holds: a document is read only when the
// stream has room for it.
type ndjsonReader struct {
	br      *bufio.Reader
	maxLine int
	maxMsg  int
	want    chan proto.Message // next → run: decode the next line into this
	got     chan error         // run → next
	done    chan struct{}      // closed when run returns
	ctx     context.Context
	lineNo  int
	// readErr is why reading stopped before the end of the body (set
	// before done is closed): a malformed line, or a read error.
	readErr *status.Status
}

// eofWatch notes when a request body returns io.EOF.
type eofWatch struct {
	io.ReadCloser
	ended *atomic.Bool
}

func (w eofWatch) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	if err == io.EOF {
		w.ended.Store(true)
	}
	return n, err
}

func (in *ndjsonReader) run() {
	defer close(in.done)
	for {
		select {
		case m := <-in.want:
			err := in.decodeNext(m)
			in.got <- err
			if err != nil {
				return
			}
		case <-in.ctx.Done():
			return
		}
	}
}

// next fills m with the next request; io.EOF at the end of the body, or
// when a line cannot be read (readErr then says why: the service answers
// the lines before it, as for a client that half-closes).
func (in *ndjsonReader) next(m proto.Message) error {
	select {
	case in.want <- m:
	case <-in.done:
		return io.EOF
	case <-in.ctx.Done():
		return status.FromContextError(in.ctx.Err()).Err()
	}
	select {
	case err := <-in.got:
		return err
	case <-in.ctx.Done():
		return status.FromContextError(in.ctx.Err()).Err()
	}
}

func (in *ndjsonReader) decodeNext(m proto.Message) error {
	for {
		in.lineNo++
		line, err := readLine(in.br, in.maxLine)
		if errors.Is(err, errLineTooLong) {
			in.readErr = lineError(in.lineNo, fmt.Sprintf("line %d is longer than %d bytes (6 × --max-document-bytes + 64 KiB)", in.lineNo, in.maxLine))
			return io.EOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			in.readErr = lineError(in.lineNo, fmt.Sprintf("reading line %d of the request body: %v", in.lineNo, err))
			if errors.Is(err, wire.ErrDecompressionBomb) {
				in.readErr = bodyError(err) // as for a unary body: 413 DECOMPRESSION_BOMB
			}
			return io.EOF
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if st := decodeLine(line, m.(*pb.StreamTagDocumentsRequest)); st != nil {
				in.readErr = lineError(in.lineNo, fmt.Sprintf("line %d: %s", in.lineNo, st.Message()))
				return io.EOF
			}
			// Over the message limit: it fails alone, under its sequence
			// number, as a gRPC stream's message does (wire.MarkTooLarge).
			if n := proto.Size(m); n > in.maxMsg {
				wire.MarkTooLarge(m, n)
			}
			return nil
		}
		if err != nil {
			return io.EOF
		}
	}
}

// decodeLine decodes an NDJSON line: a StreamTagDocumentsRequest, or a bare
// Document (the shape tagctl reads).
func decodeLine(line []byte, req *pb.StreamTagDocumentsRequest) *status.Status {
	st := decodeRequest(line, req)
	if st == nil {
		return nil
	}
	doc := new(pb.Document)
	if decodeRequest(line, doc) == nil {
		proto.Reset(req)
		req.Document = doc
		return nil
	}
	return st
}

func lineError(lineNo int, msg string) *status.Status {
	return pb.NewStatus(codes.InvalidArgument, pb.ErrorReason_MALFORMED_LINE, fmt.Sprintf("line %d", lineNo), msg,
		map[string]string{pb.MetaLine: fmt.Sprint(lineNo)})
}

// ndjsonWriter writes result lines. The stream's sender writes them one at
// a time, but a sender the idle timeout gave up on may still write after
// the handler is done: closed refuses it.
type ndjsonWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	json *restJSON
	idle time.Duration

	mu      sync.Mutex
	wrote   bool // the status line and a first result were written
	closed  bool
	pending *time.Timer // a flush is due
}

var errStreamClosed = errors.New("the NDJSON stream is closed")

func (o *ndjsonWriter) write(m proto.Message) error {
	body, err := o.json.Marshal(m)
	if err != nil {
		return status.Errorf(codes.Internal, "marshalling a result: %v", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return errStreamClosed
	}
	if !o.wrote {
		o.w.WriteHeader(http.StatusOK)
		o.wrote = true
	}
	o.writeDeadline()
	if _, err := o.w.Write(append(body, '\n')); err != nil {
		return status.Errorf(codes.Canceled, "writing a result: %v", err) // the client is gone
	}
	if o.pending == nil {
		o.pending = time.AfterFunc(flushDelay, o.flush)
	}
	return nil
}

func (o *ndjsonWriter) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending = nil
	if !o.closed {
		o.writeDeadline()
		_ = o.rc.Flush()
	}
}

// writeDeadline bounds the next write by the stream idle timeout: a client
// that stops reading would otherwise hold the handler in Write forever.
func (o *ndjsonWriter) writeDeadline() {
	if o.idle > 0 {
		_ = o.rc.SetWriteDeadline(time.Now().Add(o.idle))
	}
}

// fail closes the stream with an error line; before any result it also
// sets the HTTP code.
func (o *ndjsonWriter) fail(st *status.Status) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	if o.pending != nil {
		o.pending.Stop()
	}
	o.writeDeadline()
	if !o.wrote {
		if st.Code() == codes.Unauthenticated {
			o.w.Header().Set("WWW-Authenticate", `Bearer realm="doctagger"`)
		}
		retryAfter(o.w, st)
		closeUnread(o.w) // the body may be partly unread
		o.w.Header().Set("Content-Type", "application/x-ndjson")
		o.w.WriteHeader(httpStatus(st))
		o.wrote = true
	}
	writeStatus(o.w, o.json, st, true)
	_ = o.rc.Flush()
}

// finish closes the stream after its last result.
func (o *ndjsonWriter) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	if o.pending != nil {
		o.pending.Stop()
	}
	if !o.wrote {
		o.w.WriteHeader(http.StatusOK)
		o.wrote = true
	}
	o.writeDeadline()
	_ = o.rc.Flush()
}
