package client

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// REST calls the service's REST mirror (the JSON routes of taggerd's HTTP
// port) with the same documents, options and results as Client: TagStream
// sends documents through the NDJSON route POST /v1/documents:streamTag, a
// chunk of documents per request, several requests at once, and gives every
// document exactly one Result, resending what a failed request left
// unanswered, as Client.TagStream does over gRPC. Use it where only HTTP
// gets through (a proxy, a gateway); gRPC is faster.
type REST struct {
	base    string
	token   string
	http    *http.Client
	timeout time.Duration
	gzip    bool
	ua      string
}

// NewREST creates a REST client for baseURL ("http://host:8080",
// "https://tagger.example.com"). Of the options it uses WithTLS and
// WithTLSConfig (for https:// URLs: the CA, the client certificate), WithBearerToken and
// WithTokenOverPlaintext (a token goes over http:// only with it),
// WithTimeout (each unary call; in TagStream, each request), WithGzip
// (request bodies; answers come compressed either way) and WithUserAgent.
func NewREST(baseURL string, opts ...Option) (*REST, error) {
	o := options{timeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	base := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("client: REST base URL %q: want an http:// or https:// URL", baseURL)
	}
	if err := o.checkHeaders(); err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c, err := o.tlsClientConfig()
	if err != nil {
		return nil, err
	}
	if c != nil {
		tr.TLSClientConfig = c
	}
	if o.token != "" && strings.HasPrefix(base, "http://") && !o.tokenPlaintext {
		return nil, ErrTokenNeedsTLS
	}
	ua := "doctagger-go-client"
	if o.userAgent != "" {
		ua = o.userAgent
	}
	return &REST{base: base, token: o.token, http: &http.Client{Transport: tr}, timeout: o.timeout, gzip: o.gzip, ua: ua}, nil
}

// Close closes the client's idle keep-alive connections.
func (c *REST) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// Target is the base URL.
func (c *REST) Target() string { return c.base }

func (c *REST) request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", c.ua)
	return req, nil
}

// ListThemes lists the themes of the ruleset the server has loaded
// (GET /v1/themes).
func (c *REST) ListThemes(ctx context.Context) (*pb.ListThemesResponse, error) {
	resp := new(pb.ListThemesResponse)
	if err := c.get(ctx, "/v1/themes", resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// GetRuleset describes the ruleset the server has loaded (GET /v1/ruleset).
func (c *REST) GetRuleset(ctx context.Context) (*pb.Ruleset, error) {
	resp := new(pb.GetRulesetResponse)
	if err := c.get(ctx, "/v1/ruleset", resp); err != nil {
		return nil, err
	}
	return resp.GetRuleset(), nil
}

// get calls a unary GET route and decodes the answer into out.
func (c *REST) get(ctx context.Context, path string, out proto.Message) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return transportError(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return HTTPStatusError(resp.StatusCode, data)
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, out)
}

// HTTPStatusError turns an error answer of the REST mirror, a JSON
// google.rpc.Status (or, from the NDJSON stream, an {"error": Status}
// line), into a gRPC status error with its details, its message prefixed
// with "HTTP code: ".
func HTTPStatusError(code int, body []byte) error {
	var line struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &line) == nil && len(line.Error) > 0 {
		body = line.Error
	}
	st := new(spb.Status)
	if (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, st) != nil || st.GetMessage() == "" {
		// Details of types this client does not know, or not a status at all.
		var plain struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &plain) != nil || plain.Message == "" {
			msg := strings.TrimSpace(string(body))
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			return status.Errorf(codeFromHTTP(code), "HTTP %d: %s", code, msg)
		}
		st = &spb.Status{Code: plain.Code, Message: plain.Message}
	}
	st.Message = fmt.Sprintf("HTTP %d: %s", code, st.GetMessage())
	return status.ErrorProto(st)
}

// codeFromHTTP maps an HTTP status to the closest gRPC code.
func codeFromHTTP(code int) codes.Code {
	switch code {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.Unknown
}

type restEntry struct {
	index    int64
	doc      Document
	attempts int
}

// restChunk is the default number of documents per request.
const restChunk = 200

// TagStream tags docs through the NDJSON route POST
// /v1/documents:streamTag with the same contract as Client.TagStream:
// results as they come, every document exactly once, a request that fails
// part-way sent again with the documents it left unanswered (up to
// o.MaxAttempts sends of a document; the job gives up after o.FailAfter
// without an answer, or at once on an error IsPermanent calls so).
// o.Streams requests run at once (default 4), each of o.Window/o.Streams
// documents (default 200). A document whose line the server cannot take
// (MALFORMED_LINE: over its line limit) fails alone and the others of its
// request are sent again. A document whose own Options hold a theme name
// that is not valid UTF-8 fails alone, unsent. Unlike the gRPC client, text that is not valid
// UTF-8 is sent as it is, for the server to fail that document with the
// offset. Result.Peer is the base URL; o.Stats counts requests as streams.
func (c *REST) TagStream(parent context.Context, docs iter.Seq[Document], o StreamOptions) iter.Seq[Result] {
	window := o.Window
	o = streamDefaults(o) // as over gRPC; with a Window, no more requests than documents in it
	chunkSize := restChunk
	if window > 0 {
		chunkSize = o.Window / o.Streams
	}
	stats := o.Stats
	if stats == nil {
		stats = new(StreamStats)
	}
	return func(yield func(Result) bool) {
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		r := &restRun{
			c: c, o: o, stats: stats, ctx: ctx,
			chunks: make(chan []*restEntry),
			out:    make(chan Result),
			gone:   make(chan struct{}),
		}
		r.lastGood.Store(time.Now().UnixNano())

		go r.chunk(docs, chunkSize)
		var wg sync.WaitGroup
		for range o.Streams {
			wg.Go(r.worker)
		}
		go func() {
			wg.Wait()
			close(r.out)
		}()

		for res := range r.out {
			if !yield(res) {
				break
			}
		}
		cancel()
		close(r.gone) // workers blocked handing over a result give up
		wg.Wait()
	}
}

// restRun is the state of one REST TagStream job.
type restRun struct {
	c      *REST
	o      StreamOptions
	stats  *StreamStats
	ctx    context.Context
	chunks chan []*restEntry
	out    chan Result
	gone   chan struct{} // closed when the caller stops reading out

	fatalMu  sync.Mutex
	fatal    error        // why the job gave up: the first such error
	lastGood atomic.Int64 // when a request last got an answer, Unix ns
}

// emit hands a result to the caller; false when the caller is gone.
func (r *restRun) emit(res Result) bool {
	select {
	case r.out <- res:
		return true
	case <-r.gone:
		return false
	}
}

func (r *restRun) getFatal() error {
	r.fatalMu.Lock()
	defer r.fatalMu.Unlock()
	return r.fatal
}

func (r *restRun) setFatal(err error) {
	r.fatalMu.Lock()
	defer r.fatalMu.Unlock()
	if r.fatal == nil {
		r.fatal = err
	}
}

// chunk cuts docs into chunks of size documents for the workers, until
// docs ends or the job does.
func (r *restRun) chunk(docs iter.Seq[Document], size int) {
	defer close(r.chunks)
	var (
		index int64
		chunk []*restEntry
	)
	send := func() bool {
		select {
		case r.chunks <- chunk:
			chunk = nil
			return true
		case <-r.ctx.Done():
			return false
		}
	}
	for d := range docs {
		e := &restEntry{index: index, doc: d}
		index++
		if d.Options != nil {
			// As TagStream does: options that cannot be encoded fail their
			// document alone, unsent (in a request, they would fail it all).
			if err := checkOptions(d.Options, fmt.Sprintf("document %d: ", e.index)); err != nil {
				if !r.emit(Result{Index: e.index, ID: d.ID, Err: err}) {
					return
				}
				continue
			}
		}
		chunk = append(chunk, e)
		if len(chunk) == size && !send() {
			return
		}
	}
	if len(chunk) > 0 {
		send()
	}
}

// worker tags one chunk after another until there are no more.
func (r *restRun) worker() {
	for chunk := range r.chunks {
		r.tagChunk(chunk)
	}
}

// tagChunk posts chunk, then again what each request left unanswered,
// until every document of it has its result.
func (r *restRun) tagChunk(chunk []*restEntry) {
	failures := 0
	for len(chunk) > 0 {
		if err := r.getFatal(); err != nil {
			failAll(chunk, err, r.emit)
			return
		}
		if err := r.ctx.Err(); err != nil {
			failAll(chunk, status.FromContextError(err).Err(), r.emit)
			return
		}
		r.stats.Opened.Add(1)
		rest, progressed, err := r.c.post(r.ctx, chunk, r.o.Tag, r.emit)
		if progressed {
			r.lastGood.Store(time.Now().UnixNano())
			failures = 0
		}
		chunk = rest
		if err == nil || len(chunk) == 0 {
			continue
		}
		r.stats.Broken.Add(1)
		if IsPermanent(err) {
			r.setFatal(err)
			failAll(chunk, err, r.emit)
			return
		}
		chunk = r.dropSpent(chunk, err)
		if time.Since(time.Unix(0, r.lastGood.Load())) > r.o.FailAfter {
			err = unansweredError(r.o.FailAfter, err)
			r.setFatal(err)
			failAll(chunk, err, r.emit)
			return
		}
		r.stats.Resent.Add(int64(len(chunk)))
		failures++
		sleep(r.ctx, backoff(failures, err)) // 429 QUOTA_EXCEEDED, 503 OVERLOADED: as the server asks
	}
}

// dropSpent fails the documents of chunk sent o.MaxAttempts times, with
// err, the error of the last request, and returns the others.
func (r *restRun) dropSpent(chunk []*restEntry, err error) []*restEntry {
	keep := chunk[:0]
	for _, e := range chunk {
		if e.attempts >= r.o.MaxAttempts {
			r.emit(Result{Index: e.index, ID: e.doc.ID, Attempts: e.attempts,
				Err: spentError(e.attempts, err)})
			continue
		}
		keep = append(keep, e)
	}
	return keep
}

func failAll(chunk []*restEntry, err error, emit func(Result) bool) {
	for _, e := range chunk {
		emit(Result{Index: e.index, ID: e.doc.ID, Err: err, Attempts: e.attempts})
	}
}

// appendRequest appends one NDJSON request line, a StreamTagDocumentsRequest
// in the API's JSON: {"document": {"id", "text", "title", "languageCode"},
// "options": ...}, the options when given (already JSON).
//
// The strings are plain JSON strings (jsonText), any bytes in them that are
// not valid UTF-8 copied as they are: encoding/json and protojson would
// turn them into U+FFFD or refuse the request, and the server would tag
// the altered text or fail every document; the REST mirror fails the
// document holding them alone with INVALID_ARGUMENT (INVALID_UTF8) and, for
// the text, the byte offset, as the gRPC client does.
func appendRequest(b []byte, d Document, options []byte) []byte {
	b = append(b, `{"document":{"id":`...)
	b = append(b, jsonText(d.ID)...)
	b = append(b, `,"text":`...)
	b = append(b, jsonText(d.Text)...)
	if d.Title != "" {
		b = append(b, `,"title":`...)
		b = append(b, jsonText(d.Title)...)
	}
	if d.Language != "" {
		b = append(b, `,"languageCode":`...)
		b = append(b, jsonText(d.Language)...)
	}
	b = append(b, '}')
	if options != nil {
		b = append(b, `,"options":`...)
		b = append(b, options...)
	}
	return append(b, "}\n"...)
}

// jsonText quotes s as a JSON string, escaped as encoding/json does
// (without HTML escaping), except that bytes that are not valid UTF-8 are
// copied as they are (see appendRequest).
func jsonText(s string) json.RawMessage {
	var q bytes.Buffer
	enc := json.NewEncoder(&q)
	enc.SetEscapeHTML(false)
	out := []byte{'"'}
	appendValid := func(v string) {
		q.Reset()
		enc.Encode(v) // "…" and a newline: a string always encodes
		out = append(out, q.Bytes()[1:q.Len()-2]...)
	}
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			appendValid(s[start:i])
			out = append(out, s[i])
			start = i + 1
		}
		i += size
	}
	appendValid(s[start:])
	return append(out, '"')
}

// post sends one chunk and emits the results as they stream in. It returns
// the documents left unanswered and the error that ended the request.
func (c *REST) post(ctx context.Context, chunk []*restEntry, opts *pb.TagOptions, emit func(Result) bool) (rest []*restEntry, progressed bool, err error) {
	body, err := encodeChunk(chunk, opts)
	if err != nil {
		return chunk, false, err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	a := &restAnswer{peer: c.base, chunk: chunk, answered: make([]bool, len(chunk)), emit: emit}
	resp, err := c.postNDJSON(ctx, body)
	if err != nil {
		return chunk, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		err := HTTPStatusError(resp.StatusCode, data)
		if a.failLine(err) {
			return a.remaining(), true, nil
		}
		return chunk, false, err
	}
	return a.read(ctx, resp.Body)
}

// encodeChunk is the NDJSON body of a request for chunk, each document
// with its own options or else opts, and counts an attempt for each.
func encodeChunk(chunk []*restEntry, opts *pb.TagOptions) ([]byte, error) {
	var (
		body    []byte
		current *pb.TagOptions // the options in force in the server's stream
	)
	for i, e := range chunk {
		// As TagStream does: the document's own options, or else opts,
		// sent when they differ from those in force.
		o := e.doc.options(opts)
		var options []byte
		if i == 0 && o != nil || i > 0 && o != current {
			send := o
			if send == nil {
				send = new(pb.TagOptions) // back to the defaults
			}
			var err error
			if options, err = protojson.Marshal(send); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "the options of document %q: %v", e.doc.ID, err)
			}
		}
		current = o
		body = appendRequest(body, e.doc, options)
		e.attempts++
	}
	return body, nil
}

// postNDJSON posts body to the NDJSON route, compressed with WithGzip.
func (c *REST) postNDJSON(ctx context.Context, body []byte) (*http.Response, error) {
	payload := body
	if c.gzip {
		var zb bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&zb, gzip.BestSpeed)
		zw.Write(payload)
		zw.Close()
		payload = zb.Bytes()
	}
	req, err := c.request(ctx, http.MethodPost, "/v1/documents:streamTag", payload)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	return resp, nil
}

// restAnswer is what the answer to one request of a chunk has answered.
type restAnswer struct {
	peer     string // the base URL, as Result.Peer
	chunk    []*restEntry
	answered []bool // by sequence number - 1
	emit     func(Result) bool
}

// remaining is the documents of the chunk not answered yet.
func (a *restAnswer) remaining() []*restEntry {
	var left []*restEntry
	for i, e := range a.chunk {
		if !a.answered[i] {
			left = append(left, e)
		}
	}
	return left
}

// failLine fails alone the document of a line the server could not take
// (MALFORMED_LINE: a line over its limits), whose error ended the request
// after the results of the lines before it: the others are sent again.
func (a *restAnswer) failLine(err error) bool {
	k, ok := malformedLine(err)
	if !ok || k < 1 || k > len(a.chunk) || a.answered[k-1] {
		return false
	}
	a.answered[k-1] = true
	e := a.chunk[k-1]
	a.emit(Result{Index: e.index, ID: e.doc.ID, Attempts: e.attempts, Err: err, Peer: a.peer})
	return true
}

// read emits the results of the NDJSON answer body as they come. It
// returns the documents left unanswered, whether any was answered and the
// error that ended the answer.
func (a *restAnswer) read(ctx context.Context, body io.Reader) (rest []*restEntry, progressed bool, err error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 256<<20)
	unmarshal := protojson.UnmarshalOptions{DiscardUnknown: true}
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		// A result line is parsed once; only a line that is not one is
		// looked at again as an {"error": Status} line.
		msg := new(pb.StreamTagDocumentsResponse)
		uerr := unmarshal.Unmarshal(line, msg)
		if uerr != nil || msg.GetResult() == nil {
			if st, ok := errorLine(line, unmarshal); ok {
				err := status.ErrorProto(st)
				if a.failLine(err) {
					return a.remaining(), true, nil
				}
				return a.remaining(), progressed, err
			}
		}
		if uerr != nil {
			return a.remaining(), progressed, status.Errorf(codes.Internal, "malformed result line from the server: %v", uerr)
		}
		res := msg.GetResult()
		seq := res.GetSequence()
		if seq < 1 || seq > int64(len(a.chunk)) || a.answered[seq-1] {
			return a.remaining(), progressed, status.Errorf(codes.Internal, "the server answered sequence %d of a request of %d documents", seq, len(a.chunk))
		}
		a.answered[seq-1] = true
		progressed = true
		e := a.chunk[seq-1]
		if !a.emit(resultOf(res, e.index, e.doc.ID, e.attempts, a.peer)) {
			return a.remaining(), progressed, status.Error(codes.Canceled, "stopped")
		}
	}
	left := a.remaining()
	if err := sc.Err(); err != nil {
		return left, progressed, transportError(ctx, err)
	}
	if len(left) > 0 {
		return left, progressed, status.Errorf(codes.Unavailable, "the response ended with %d documents unanswered", len(left))
	}
	return nil, progressed, nil
}

// errorLine is the status of an {"error": Status} line of the NDJSON
// answer; false for a result line.
func errorLine(line []byte, unmarshal protojson.UnmarshalOptions) (*spb.Status, bool) {
	var probe struct {
		Error *json.RawMessage `json:"error"`
	}
	if json.Unmarshal(line, &probe) != nil || probe.Error == nil {
		return nil, false
	}
	st := new(spb.Status)
	if uerr := unmarshal.Unmarshal(*probe.Error, st); uerr != nil {
		st = &spb.Status{Code: int32(codes.Unknown), Message: string(*probe.Error)}
	}
	return st, true
}

// malformedLine is the line (from 1) named by a MALFORMED_LINE error of
// the NDJSON stream.
func malformedLine(err error) (int, bool) {
	if pb.ReasonOf(err) != pb.ErrorReason_MALFORMED_LINE {
		return 0, false
	}
	n, perr := strconv.Atoi(pb.ErrorInfoOf(err).GetMetadata()[pb.MetaLine])
	return n, perr == nil
}

func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Error(codes.Unavailable, err.Error())
}
