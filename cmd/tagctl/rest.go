package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
)

type statusProto = spb.Status

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

// restOptions tune restClient.tagStream.
type restOptions struct {
	tag         *pb.TagOptions
	concurrency int           // requests at once
	chunk       int           // documents per request
	maxAttempts int           // sends of one document
	failAfter   time.Duration // give up after failing this long without an answer
}

type restEntry struct {
	index    int64
	doc      client.Document
	attempts int
}

// tagStream tags docs through the NDJSON route POST /v1/documents:streamTag,
// a chunk of documents per request, several requests at once. Like
// client.TagStream, every document gets exactly one result: a request that
// fails part-way is sent again with the documents it left unanswered.
func (c *restClient) tagStream(parent context.Context, docs iter.Seq[client.Document], o restOptions) iter.Seq[client.Result] {
	return func(yield func(client.Result) bool) {
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		chunks := make(chan []*restEntry)
		out := make(chan client.Result)
		gone := make(chan struct{}) // closed when the caller stops reading out
		emit := func(r client.Result) bool {
			select {
			case out <- r:
				return true
			case <-gone:
				return false
			}
		}

		var (
			fatalMu  sync.Mutex
			fatal    error
			lastGood atomic.Int64
		)
		lastGood.Store(time.Now().UnixNano())
		getFatal := func() error {
			fatalMu.Lock()
			defer fatalMu.Unlock()
			return fatal
		}
		setFatal := func(err error) {
			fatalMu.Lock()
			defer fatalMu.Unlock()
			if fatal == nil {
				fatal = err
			}
		}

		go func() {
			defer close(chunks)
			var (
				index int64
				chunk []*restEntry
			)
			send := func() bool {
				select {
				case chunks <- chunk:
					chunk = nil
					return true
				case <-ctx.Done():
					return false
				}
			}
			for d := range docs {
				chunk = append(chunk, &restEntry{index: index, doc: d})
				index++
				if len(chunk) == o.chunk && !send() {
					return
				}
			}
			if len(chunk) > 0 {
				send()
			}
		}()

		var wg sync.WaitGroup
		for range o.concurrency {
			wg.Go(func() {
				for chunk := range chunks {
					failures := 0
					for len(chunk) > 0 {
						if err := getFatal(); err != nil {
							failAll(chunk, err, emit)
							break
						}
						if err := ctx.Err(); err != nil {
							failAll(chunk, status.FromContextError(err).Err(), emit)
							break
						}
						rest, progressed, err := c.post(ctx, chunk, o.tag, emit)
						if progressed {
							lastGood.Store(time.Now().UnixNano())
							failures = 0
						}
						chunk = rest
						if err == nil || len(chunk) == 0 {
							continue
						}
						if client.IsPermanent(err) {
							setFatal(err)
							failAll(chunk, err, emit)
							break
						}
						keep := chunk[:0]
						for _, e := range chunk {
							if e.attempts >= o.maxAttempts {
								emit(client.Result{Index: e.index, ID: e.doc.ID, Attempts: e.attempts,
									Err: status.Errorf(status.Code(err), "no answer after %d attempts; last: %v", e.attempts, status.Convert(err).Message())})
								continue
							}
							keep = append(keep, e)
						}
						chunk = keep
						if time.Since(time.Unix(0, lastGood.Load())) > o.failAfter {
							err = status.Errorf(status.Code(err), "no document answered for %s: %v", o.failAfter, status.Convert(err).Message())
							setFatal(err)
							failAll(chunk, err, emit)
							break
						}
						failures++
						d := min(50*time.Millisecond<<min(failures-1, 7), 5*time.Second)
						select {
						case <-time.After(time.Duration(rand.Int64N(int64(d)) + 1)):
						case <-ctx.Done():
						}
					}
				}
			})
		}
		go func() {
			wg.Wait()
			close(out)
		}()
		for r := range out {
			if !yield(r) {
				break
			}
		}
		cancel()
		close(gone) // workers blocked handing over a result give up
		wg.Wait()
	}
}

func failAll(chunk []*restEntry, err error, emit func(client.Result) bool) {
	for _, e := range chunk {
		emit(client.Result{Index: e.index, ID: e.doc.ID, Err: err, Attempts: e.attempts})
	}
}

// appendRequest appends one NDJSON request line, a StreamTagDocumentsRequest
// in the API's JSON: {"document": {"id", "text", "languageCode"},
// "options": ...}, the options when given (already JSON).
//
// The strings are plain JSON strings (jsonText), any bytes in them that are
// not valid UTF-8 copied as they are: encoding/json and protojson would
// turn them into U+FFFD or refuse the request, and the server would tag
// the altered text or fail every document; the REST mirror fails the
// document holding them alone with INVALID_ARGUMENT (INVALID_UTF8) and, for
// the text, the byte offset, as the gRPC client does.
func appendRequest(b []byte, d client.Document, options []byte) []byte {
	b = append(b, `{"document":{"id":`...)
	b = append(b, jsonText(d.ID)...)
	b = append(b, `,"text":`...)
	b = append(b, jsonText(d.Text)...)
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
func (c *restClient) post(ctx context.Context, chunk []*restEntry, opts *pb.TagOptions, emit func(client.Result) bool) (rest []*restEntry, progressed bool, err error) {
	var (
		body    []byte
		current *pb.TagOptions // the options in force in the server's stream
	)
	for i, e := range chunk {
		// As client.TagStream does: the document's own options, or else
		// opts, sent when they differ from those in force.
		o := e.doc.Options
		if o == nil {
			o = opts
		}
		var options []byte
		if i == 0 && o != nil || i > 0 && o != current {
			send := o
			if send == nil {
				send = new(pb.TagOptions) // back to the defaults
			}
			if options, err = protojson.Marshal(send); err != nil {
				return chunk, false, status.Errorf(codes.InvalidArgument, "the options of document %q: %v", e.doc.ID, err)
			}
		}
		current = o
		body = appendRequest(body, e.doc, options)
		e.attempts++
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	answered := make([]bool, len(chunk))
	remaining := func() []*restEntry {
		var left []*restEntry
		for i, e := range chunk {
			if !answered[i] {
				left = append(left, e)
			}
		}
		return left
	}
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
		return chunk, false, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if c.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return chunk, false, transportError(ctx, err)
	}
	defer resp.Body.Close()
	// failLine fails alone the document of a line the server could not
	// take (MALFORMED_LINE: a line over its limits), whose error ended the
	// request after the results of the lines before it: the others are
	// sent again.
	failLine := func(err error) bool {
		k, ok := malformedLine(err)
		if !ok || k < 1 || k > len(chunk) || answered[k-1] {
			return false
		}
		answered[k-1] = true
		e := chunk[k-1]
		emit(client.Result{Index: e.index, ID: e.doc.ID, Attempts: e.attempts, Err: err, Peer: c.base})
		return true
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		err := httpStatusError(resp.StatusCode, data)
		if failLine(err) {
			return remaining(), true, nil
		}
		return chunk, false, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 256<<20)
	unmarshal := protojson.UnmarshalOptions{DiscardUnknown: true}
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var probe struct {
			Error *json.RawMessage `json:"error"`
		}
		if json.Unmarshal(line, &probe) == nil && probe.Error != nil {
			st := new(spb.Status)
			if uerr := unmarshal.Unmarshal(*probe.Error, st); uerr != nil {
				st = &spb.Status{Code: int32(codes.Unknown), Message: string(*probe.Error)}
			}
			err := status.ErrorProto(st)
			if failLine(err) {
				return remaining(), true, nil
			}
			return remaining(), progressed, err
		}
		msg := new(pb.StreamTagDocumentsResponse)
		if uerr := unmarshal.Unmarshal(line, msg); uerr != nil {
			return remaining(), progressed, status.Errorf(codes.Internal, "malformed result line from the server: %v", uerr)
		}
		res := msg.GetResult()
		seq := res.GetSequence()
		if seq < 1 || seq > int64(len(chunk)) || answered[seq-1] {
			return remaining(), progressed, status.Errorf(codes.Internal, "the server answered sequence %d of a request of %d documents", seq, len(chunk))
		}
		answered[seq-1] = true
		progressed = true
		e := chunk[seq-1]
		r := client.Result{
			Index: e.index, ID: e.doc.ID, Tags: res.GetTags(), Untagged: res.GetUntagged(),
			RulesetVersion: res.GetRulesetVersion(), Words: int(res.GetWords()), Attempts: e.attempts, Peer: c.base,
		}
		if res.GetError() != nil {
			r.Err = status.ErrorProto(res.GetError())
		}
		if !emit(r) {
			return remaining(), progressed, status.Error(codes.Canceled, "stopped")
		}
	}
	left := remaining()
	if err := sc.Err(); err != nil {
		return left, progressed, transportError(ctx, err)
	}
	if len(left) > 0 {
		return left, progressed, status.Errorf(codes.Unavailable, "the response ended with %d documents unanswered", len(left))
	}
	return nil, progressed, nil
}

// malformedLine is the line (from 1) named by a MALFORMED_LINE error of
// the NDJSON stream.
func malformedLine(err error) (int, bool) {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == pb.ErrorReason_MALFORMED_LINE.String() {
			n, err := strconv.Atoi(info.GetMetadata()["line"])
			return n, err == nil
		}
	}
	return 0, false
}

func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Error(codes.Unavailable, err.Error())
}
