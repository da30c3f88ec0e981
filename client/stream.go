package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// StreamOptions tune TagStream. The zero value is ready to use.
type StreamOptions struct {
	// Tag applies to every document without Options of its own (nil: all
	// themes, with evidence).
	Tag *pb.TagOptions
	// Streams is how many streams run at once (default 4). Each stream goes
	// to one replica, picked round-robin, so use at least as many streams as
	// replicas.
	Streams int
	// Window is the most documents in flight over all streams: taken from
	// the input and not yet yielded (default 128 per stream). It bounds the
	// memory of the job and of the servers.
	Window int
	// RecycleAfter half-closes a stream after that many documents and opens
	// a new one, so that work moves to replicas that joined or came back
	// (default 1000; negative: never).
	RecycleAfter int
	// MaxAttempts is how many times a document is sent before it fails with
	// the error of the last broken stream (default 5). It stops a document
	// that crashes replicas from taking them all down.
	MaxAttempts int
	// FailAfter is how long streams may keep failing without any document
	// answered before TagStream gives up (default 30 s): the documents in
	// flight and the rest of the input then fail with the last error.
	FailAfter time.Duration
	// Logger, when set, receives a warning for each broken stream.
	Logger *slog.Logger
	// Stats, when set, is updated as the job runs.
	Stats *StreamStats
}

// StreamStats counts what happened during a TagStream.
type StreamStats struct {
	// Streams opened, and broken (ended with an error while documents
	// were unanswered).
	Opened, Broken atomic.Int64
	// Resent is how many documents were sent again after a broken stream.
	Resent atomic.Int64
}

// Result is the outcome for one document of a TagStream.
type Result struct {
	// Index is the document's position in the input, from 0.
	Index int64
	// ID is the document's id.
	ID string
	// Tags are the themes that reached their threshold, highest score first.
	Tags []*pb.Tag
	// Untagged, with TagOptions.IncludeUntagged, are the themes under their
	// threshold.
	Untagged []*pb.Tag
	// RulesetVersion is the version of the ruleset that produced the tags.
	RulesetVersion string
	// Words is the number of word tokens.
	Words int
	// Err is set when the document failed: a gRPC status error (see
	// status.Code), INVALID_ARGUMENT for a bad document, or the error that
	// ended the job.
	Err error
	// Attempts is how many times the document was sent, not counting
	// resends after a stream broke on another document that was over the
	// server's message limit.
	Attempts int
	// Peer is the address of the replica that answered.
	Peer string
}

// errStopped is the cause when the caller stops ranging over the results.
var errStopped = errors.New("client: the caller stopped reading the results")

// fatalError is the cause when the job gives up.
type fatalError struct{ err error }

func (f *fatalError) Error() string { return f.err.Error() }
func (f *fatalError) Unwrap() error { return f.err }

// entry is one document taken from the input.
type entry struct {
	index    int64
	doc      *pb.Document
	opts     *pb.TagOptions // the document's, or StreamOptions.Tag
	attempts int
	done     bool // answered; guarded by the session that sent it
}

type streamRun struct {
	c      *Client
	o      StreamOptions
	ctx    context.Context
	cancel context.CancelCauseFunc
	in     chan *entry
	out    chan Result
	gone   chan struct{} // closed when the caller stopped reading
	per    int           // window per stream
	stats  *StreamStats

	// serverLimit is the server's message limit, learnt when a stream
	// broke on a document over it (0: unknown).
	serverLimit atomic.Int64

	mu     sync.Mutex
	broken map[string]time.Time // replicas whose stream broke lately

	// The feeder emits results of its own (documents failed before being
	// sent). feedMu keeps it from sending on out once closeOut has decided
	// to close it without waiting for the feeder.
	feedMu     sync.Mutex
	feedClosed bool
}

// avoidFor is how long a replica whose stream broke is avoided by new
// streams, and avoidTries how many streams in a row may be reopened to
// get around it (round-robin moves on at each one).
const (
	avoidFor   = 10 * time.Second
	avoidTries = 3
)

func (r *streamRun) markBroken(peerAddr string) {
	if peerAddr == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.broken == nil {
		r.broken = map[string]time.Time{}
	}
	r.broken[peerAddr] = time.Now()
}

func (r *streamRun) recentlyBroken(peerAddr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.broken[peerAddr]
	return ok && time.Since(t) < avoidFor
}

// TagStream tags the documents of docs over gRPC streams and yields one
// Result per document as results arrive (not in input order; see
// Result.Index). At most o.Window documents are in flight.
//
// A broken stream is reopened (round-robin puts it on another replica when
// there is one) and the documents it left unanswered are sent again, so
// every document taken from docs is yielded exactly once: with its tags, or
// with Err set. A document fails on its own when the server rejects it
// (INVALID_ARGUMENT), when its text, id or language is not valid UTF-8
// (INVALID_ARGUMENT naming its index, the field and, for the text, the
// byte offset, reason INVALID_UTF8 as from the server; without being
// sent), when a theme name of its own Options is not valid UTF-8,
// when its request is over the server's message limit (INVALID_ARGUMENT:
// the server ends the stream on such a document, and the documents sent
// after it are resent without counting an attempt; later ones over that
// limit fail without being sent), when it was sent o.MaxAttempts times
// without an answer, or when the job gives up (no answer for o.FailAfter,
// or an error that retrying cannot fix, such as UNAUTHENTICATED): then
// every remaining document of docs fails with that error too. When a theme
// name of o.Tag is not valid UTF-8 (no request could be encoded), the job
// fails at once, without opening a stream: every document of docs fails,
// unsent, with INVALID_ARGUMENT "options.themes[N] is not valid UTF-8".
//
// A document's own Options replace o.Tag for it: they are sent with its
// request whenever they differ from those of the previous request of the
// stream, which the server keeps in force until then.
//
// When ctx ends, the documents in flight are yielded with the context's
// error and TagStream stops taking documents. Breaking out of the loop
// stops the job. docs is read from another goroutine.
func (c *Client) TagStream(ctx context.Context, docs iter.Seq[Document], o StreamOptions) iter.Seq[Result] {
	return c.tagStream(ctx, func(ctx context.Context, yield func(Document) bool) {
		for d := range docs {
			if !yield(d) {
				return
			}
		}
	}, o)
}

// TagChannel is TagStream for documents sent on a channel; close it after
// the last document.
func (c *Client) TagChannel(ctx context.Context, docs <-chan Document, o StreamOptions) iter.Seq[Result] {
	return c.tagStream(ctx, func(ctx context.Context, yield func(Document) bool) {
		for {
			select {
			case d, ok := <-docs:
				if !ok || !yield(d) {
					return
				}
			case <-ctx.Done():
				// When the job gives up, the rest of the channel still
				// gets its results (failed with the job's error), as with
				// TagStream; only a cancelled job stops reading.
				var fatal *fatalError
				if !errors.As(context.Cause(ctx), &fatal) {
					return
				}
				for d := range docs {
					if !yield(d) {
						return
					}
				}
				return
			}
		}
	}, o)
}

func (c *Client) tagStream(parent context.Context, source func(context.Context, func(Document) bool), o StreamOptions) iter.Seq[Result] {
	o = streamDefaults(o)
	optErr := checkOptions(o.Tag, "")
	return func(yield func(Result) bool) {
		r := c.newStreamRun(parent, o)
		if optErr != nil {
			// Every stream would break on its first request: give up
			// before starting, and the feeder fails each document.
			r.cancel(&fatalError{err: optErr})
		}

		feederDone := make(chan struct{})
		go func() {
			defer close(feederDone)
			r.feed(source)
		}()

		var workers sync.WaitGroup
		if optErr == nil {
			for range o.Streams {
				workers.Go(r.worker)
			}
		}
		go r.closeOut(&workers, feederDone)

		defer func() {
			r.cancel(errStopped)
			close(r.gone)
			workers.Wait()
		}()
		for res := range r.out {
			if !yield(res) {
				return
			}
		}
	}
}

// streamDefaults fills in the defaults of the options left zero.
func streamDefaults(o StreamOptions) StreamOptions {
	if o.Streams <= 0 {
		o.Streams = 4
	}
	if o.Window <= 0 {
		o.Window = 128 * o.Streams
	}
	if o.Window < o.Streams {
		o.Streams = o.Window
	}
	if o.RecycleAfter == 0 {
		o.RecycleAfter = 1000
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.FailAfter <= 0 {
		o.FailAfter = 30 * time.Second
	}
	return o
}

func (c *Client) newStreamRun(parent context.Context, o StreamOptions) *streamRun {
	ctx, cancel := context.WithCancelCause(parent)
	r := &streamRun{
		c: c, o: o, ctx: ctx, cancel: cancel,
		in:    make(chan *entry),
		out:   make(chan Result),
		gone:  make(chan struct{}),
		per:   (o.Window + o.Streams - 1) / o.Streams,
		stats: o.Stats,
	}
	if r.stats == nil {
		r.stats = new(StreamStats)
	}
	return r
}

// feed takes documents from the input and hands them to the workers. When
// the job gives up it goes on reading the input and fails each document,
// so that every document gets its result; when the caller cancels or stops
// reading, it stops.
func (r *streamRun) feed(source func(context.Context, func(Document) bool)) {
	defer close(r.in)
	var index int64
	source(r.ctx, func(d Document) bool {
		e := &entry{index: index, doc: d.proto(), opts: d.options(r.o.Tag)}
		index++
		if err := r.unsendable(d, e); err != nil && r.ctx.Err() == nil {
			return r.feederEmit(r.failed(e, err))
		}
		if r.ctx.Err() == nil {
			select {
			case r.in <- e:
				return true
			case <-r.ctx.Done():
			}
		}
		var fatal *fatalError
		if !errors.As(context.Cause(r.ctx), &fatal) {
			return false
		}
		return r.feederEmit(r.failed(e, fatal.err))
	})
}

// unsendable is why document d (taken as e) fails alone without being
// sent, or nil.
func (r *streamRun) unsendable(d Document, e *entry) error {
	name := func() string { return fmt.Sprintf("document %d", e.index) }
	if st := d.checkStrings(name, func() string { return "document" }); st != nil {
		// Its request cannot be encoded: sending it would
		// break every stream it is sent on. Fail it alone.
		return st.Err()
	}
	if d.Options != nil {
		if err := checkOptions(d.Options, name()+": "); err != nil {
			return err
		}
	}
	if n := len(e.doc.Text) + len(e.doc.Title); n > r.c.opts.maxMsg-4096 {
		// It would break the stream it is sent on, again and
		// again: fail it alone.
		return status.Errorf(codes.InvalidArgument,
			"document %q is %d bytes, over the client's message limit of %d bytes", e.doc.GetId(), n, r.c.opts.maxMsg)
	}
	return r.overServerLimit(e)
}

// feederEmit is emit for the feeder's own results (documents failed
// before being sent); false, without sending, once closeOut has closed
// r.out without waiting for the feeder.
func (r *streamRun) feederEmit(res Result) bool {
	r.feedMu.Lock()
	defer r.feedMu.Unlock()
	return !r.feedClosed && r.emit(res)
}

// closeOut closes r.out once the workers and, unless the job was
// cancelled, the feeder are done.
func (r *streamRun) closeOut(workers *sync.WaitGroup, feederDone <-chan struct{}) {
	workers.Wait()
	var fatal *fatalError
	if errors.As(context.Cause(r.ctx), &fatal) || r.ctx.Err() == nil {
		<-feederDone
	} else {
		// Cancelled: the feeder may still be reading the input;
		// wait only for a result it is handing over.
		r.feedMu.Lock()
		r.feedClosed = true
		r.feedMu.Unlock()
	}
	close(r.out)
}

// emit hands a result to the caller; false when the caller is gone.
func (r *streamRun) emit(res Result) bool {
	select {
	case r.out <- res:
		return true
	case <-r.gone:
		return false
	}
}

func (r *streamRun) failed(e *entry, err error) Result {
	return Result{Index: e.index, ID: e.doc.GetId(), Err: err, Attempts: e.attempts}
}

// cause is why the job's context ended, as the documents' error.
func (r *streamRun) cause() error {
	err := context.Cause(r.ctx)
	var fatal *fatalError
	if errors.As(err, &fatal) {
		return fatal.err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return err
}

// worker runs one stream after another until the input ends.
func (r *streamRun) worker() {
	var (
		queue        []*entry // unanswered documents to send first
		failingSince time.Time
		failures     int
		first        = true
	)
	for {
		if len(queue) == 0 {
			select {
			case e, ok := <-r.in:
				if !ok {
					return
				}
				queue = append(queue, e)
			case <-r.ctx.Done():
				return
			}
		}
		// The first stream of each worker is recycled early: when the job
		// starts, round-robin may know only the first replica to connect.
		recycle := r.o.RecycleAfter
		if first && recycle > 0 {
			recycle = min(recycle, r.per)
		}
		first = false
		rest, unanswered, progressed, peerAddr, err := r.session(queue, recycle)
		queue = rest
		if r.ctx.Err() != nil {
			cause := r.cause()
			for _, e := range queue {
				r.emit(r.failed(e, cause))
			}
			return
		}
		if err == nil || len(queue) == 0 {
			// Recycled, or ended with nothing unanswered (say, an idle
			// stream timed out): nothing lost, carry on.
			failures = 0
			continue
		}
		if hint, ok := RetryDelay(err); ok && pb.ReasonOf(err) == pb.ErrorReason_QUOTA_EXCEEDED && !progressed {
			// Refused for the caller's quota (streams open at once): the
			// server read none of it, and the replica is fine. These tries
			// do not count; wait as the server asks, then reopen.
			for _, e := range queue {
				e.attempts = max(e.attempts-1, 0)
			}
			failures, failingSince = 0, time.Time{}
			sleep(r.ctx, hint)
			continue
		}
		r.stats.Broken.Add(1)
		if kept, ok := r.dropOversize(queue, unanswered, err); ok {
			// The replica is fine and the other documents did nothing
			// wrong: resend them at once.
			if r.o.Logger != nil {
				r.o.Logger.Warn("tagging stream broke on a document over the server's message limit; resending the others",
					"peer", peerAddr, "limit", r.serverLimit.Load(), "failed", len(queue)-len(kept), "resent", len(kept))
			}
			queue = kept
			r.stats.Resent.Add(int64(len(queue)))
			failures, failingSince = 0, time.Time{}
			continue
		}
		r.markBroken(peerAddr)
		if r.o.Logger != nil {
			r.o.Logger.Warn("tagging stream broke; resending its unanswered documents", "peer", peerAddr, "unanswered", len(queue), "err", err)
		}
		if IsPermanent(err) {
			r.giveUp(queue, err)
			return
		}
		keep := queue[:0]
		for _, e := range queue {
			if e.attempts >= r.o.MaxAttempts {
				r.emit(r.failed(e, spentError(e.attempts, err)))
				continue
			}
			keep = append(keep, e)
		}
		queue = keep
		r.stats.Resent.Add(int64(len(queue)))
		if progressed {
			failures, failingSince = 0, time.Time{}
			if hint, ok := RetryDelay(err); ok { // shed, or over quota: as the server asks
				sleep(r.ctx, hint)
			}
			continue // another replica is likely ready: reopen at once
		}
		if failures == 0 {
			failingSince = time.Now()
		}
		failures++
		if time.Since(failingSince) >= r.o.FailAfter {
			r.giveUp(queue, unansweredError(r.o.FailAfter, err))
			return
		}
		sleep(r.ctx, backoff(failures, err))
	}
}

// backoff is how long to wait before trying again after the failures-th
// failure in a row, with err: exponential backoff with full jitter (50 ms,
// 100 ms, ... 5 s), or the server's retry hint (over quota, overloaded).
// The gRPC and the REST streams share it.
func backoff(failures int, err error) time.Duration {
	if hint, ok := RetryDelay(err); ok {
		return hint
	}
	d := min(50*time.Millisecond<<min(failures-1, 7), 5*time.Second)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// spentError is the error of a document sent attempts times without an
// answer, err the error of the last try.
func spentError(attempts int, err error) error {
	return status.Errorf(status.Code(err), "no answer after %d attempts; last: %v", attempts, status.Convert(err).Message())
}

// unansweredError is the error a job gives up with when no document was
// answered for failAfter, err the error of the last try.
func unansweredError(failAfter time.Duration, err error) error {
	return status.Errorf(status.Code(err), "no document answered for %s: %v", failAfter, status.Convert(err).Message())
}

// giveUp fails the job with err: this worker's documents now, the others'
// and the rest of the input as the workers and the feeder see the cause.
func (r *streamRun) giveUp(queue []*entry, err error) {
	r.cancel(&fatalError{err: err})
	err = r.cause()
	for _, e := range queue {
		r.emit(r.failed(e, err))
	}
}

// IsPermanent reports whether err, the error of a whole call or stream
// (not a document's result error), is one that sending the same request
// again cannot fix: UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT,
// UNIMPLEMENTED, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS and
// OUT_OF_RANGE. TagStream gives up on such an error instead of reopening
// the stream; other codes (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
// RESOURCE_EXHAUSTED, ...) may pass on another replica or a later try.
func IsPermanent(err error) bool {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented,
		codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists, codes.OutOfRange:
		return true
	}
	return false
}

// limitRE finds the limit in grpc-go's "grpc: received message larger
// than max (N vs. M)" and, for a compressed message (WithGzip), "grpc:
// received message after decompression larger than max M".
var limitRE = regexp.MustCompile(`\(\d+ vs\. (\d+)\)|after decompression larger than max (\d+)`)

// messageLimit is the server's message limit named by a RESOURCE_EXHAUSTED
// error: the limit of its REQUEST_TOO_LARGE ErrorInfo (a request the
// server's codec refused alone), or M in grpc-go's own "... larger than
// max (N vs. M)" or "... after decompression larger than max M" (a request
// so large that the transport ended the call, or an older server).
func messageLimit(err error) (int64, bool) {
	if status.Code(err) != codes.ResourceExhausted {
		return 0, false
	}
	if info := pb.ErrorInfoOf(err); info != nil && info.GetReason() == pb.ErrorReason_REQUEST_TOO_LARGE.String() {
		if limit, perr := strconv.ParseInt(info.GetMetadata()[pb.MetaLimit], 10, 64); perr == nil && limit > 0 {
			return limit, true
		}
	}
	m := limitRE.FindStringSubmatch(status.Convert(err).Message())
	if m == nil {
		return 0, false
	}
	limit, perr := strconv.ParseInt(m[1]+m[2], 10, 64)
	if perr != nil || limit <= 0 {
		return 0, false
	}
	return limit, true
}

// requestSize is the encoded size of e's request, with its options (which
// go with the first request of a stream).
func (r *streamRun) requestSize(e *entry) int64 {
	return int64(proto.Size(&pb.StreamTagDocumentsRequest{Document: e.doc, Options: e.opts}))
}

// overServerLimit is e's error when its request is over the server's
// message limit learnt so far, else nil.
func (r *streamRun) overServerLimit(e *entry) error {
	limit := r.serverLimit.Load()
	if limit <= 0 {
		return nil
	}
	if size := r.requestSize(e); size > limit {
		return r.oversizeError(e, size, limit)
	}
	return nil
}

func (r *streamRun) oversizeError(e *entry, size, limit int64) error {
	whose := "the server's message limit of %d bytes (taggerd --max-message-bytes)"
	if limit >= int64(r.c.opts.maxMsg) {
		// The client's own send limit stops a request first.
		whose = "the client's message limit of %d bytes (WithMaxMessageBytes)"
	}
	return status.Errorf(codes.InvalidArgument, "document %q is %d bytes as a request, over "+whose,
		e.doc.GetId(), size, limit)
}

// dropOversize handles a stream that ended with RESOURCE_EXHAUSTED because
// a request was over the message limit M named in the error: it remembers
// M for the rest of the job, fails the documents of queue whose request is
// over M, and gives back the attempt of the others that were sent on that
// stream (queue[:unanswered]): they did nothing wrong. It returns the
// documents to resend, or false and changes nothing when err is not that
// or no document of queue is over M (say, a response was over the client's
// limit): the stream then counts as broken as usual.
func (r *streamRun) dropOversize(queue []*entry, unanswered int, err error) ([]*entry, bool) {
	limit, ok := messageLimit(err)
	if !ok || !slices.ContainsFunc(queue, func(e *entry) bool { return r.requestSize(e) > limit }) {
		return queue, false
	}
	r.learnLimit(limit)
	keep := make([]*entry, 0, len(queue))
	for i, e := range queue {
		if size := r.requestSize(e); size > limit {
			r.emit(r.failed(e, r.oversizeError(e, size, limit)))
			continue
		}
		if i < unanswered {
			e.attempts--
		}
		keep = append(keep, e)
	}
	return keep, true
}

// learnLimit remembers the server's message limit for the rest of the job,
// keeping the smallest seen, should replicas differ.
func (r *streamRun) learnLimit(limit int64) {
	for {
		old := r.serverLimit.Load()
		if old > 0 && old <= limit || r.serverLimit.CompareAndSwap(old, limit) {
			return
		}
	}
}

var errStalled = errors.New("stream stalled")

// session runs one stream: it sends queue, then documents from the input,
// and yields the results. It returns the documents left unanswered (in the
// order they were taken: rest[:unanswered] were sent on this stream, the
// others not), whether any document was answered, the replica and the
// error that ended the stream (nil when it ended cleanly).
func (r *streamRun) session(queue []*entry, recycle int) (rest []*entry, unanswered int, progressed bool, peerAddr string, err error) {
	s := &streamSession{r: r, queue: queue}
	if err := s.open(); err != nil {
		return queue, 0, false, "", err
	}
	defer s.cancel(nil)

	s.activity.Store(time.Now().UnixNano())
	s.slots = make(chan struct{}, r.per)
	var wg sync.WaitGroup
	wg.Go(func() { s.send(recycle) })
	if stall := r.c.timeout; stall > 0 {
		stop := make(chan struct{})
		defer close(stop)
		go s.watchStalls(stall, stop)
	}
	progressed, err = s.receive()
	s.cancel(nil)
	wg.Wait()

	rest, unanswered, err = s.leftover(err)
	return rest, unanswered, progressed, s.peerAddr, err
}

// streamSession is the state of one stream of a session.
type streamSession struct {
	r        *streamRun
	ctx      context.Context // the stream's
	cancel   context.CancelCauseFunc
	stream   pb.TaggerService_StreamTagDocumentsClient
	peerAddr string
	// queue is what is left to send before taking from the input; the
	// sender's until it returns.
	queue []*entry
	// slots bounds the documents in flight on the stream to r.per: the
	// sender takes one before each document, the receiver gives one back
	// after each result.
	slots chan struct{}

	mu       sync.Mutex
	sent     []*entry // by sequence number - 1
	answered int

	activity atomic.Int64 // last send or result, Unix ns
	emitting atomic.Bool
}

// open opens a stream, on another replica than one that broke lately if
// round-robin gives one within a few tries.
func (s *streamSession) open() error {
	r := s.r
	for try := 0; ; try++ {
		s.ctx, s.cancel = context.WithCancelCause(r.ctx)
		r.stats.Opened.Add(1)
		stream, err := r.c.rpc.StreamTagDocuments(s.ctx)
		if err != nil {
			s.cancel(nil)
			return err
		}
		s.stream = stream
		s.peerAddr = ""
		if p, ok := peer.FromContext(stream.Context()); ok && p.Addr != nil {
			s.peerAddr = p.Addr.String()
		}
		if try == avoidTries || !r.recentlyBroken(s.peerAddr) {
			return nil
		}
		s.cancel(nil)
	}
}

// send sends the queue, then documents from the input, one for each free
// slot, until it has sent recycle documents (recycle < 0: no limit), the
// input ends or the stream does; then it half-closes the stream.
func (s *streamSession) send(recycle int) {
	defer s.stream.CloseSend()
	n := 0
	var current *pb.TagOptions // the options in force on the stream
	for recycle < 0 || n < recycle {
		select {
		case s.slots <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		var e *entry
		if len(s.queue) > 0 {
			e, s.queue = s.queue[0], s.queue[1:]
		} else {
			select {
			case next, ok := <-s.r.in:
				if !ok {
					return
				}
				e = next
			case <-s.ctx.Done():
				return
			}
		}
		s.mu.Lock()
		s.sent = append(s.sent, e)
		e.attempts++
		s.mu.Unlock()
		req := &pb.StreamTagDocumentsRequest{Document: e.doc}
		// The server keeps a request's options for the later
		// requests of the stream that carry none.
		if n == 0 || e.opts != current {
			req.Options = e.opts
			if req.Options == nil && n > 0 {
				req.Options = &pb.TagOptions{} // back to the defaults
			}
			current = e.opts
		}
		n++
		s.activity.Store(time.Now().UnixNano())
		if s.stream.Send(req) != nil {
			return // the stream broke; Recv says why
		}
	}
}

// watchStalls abandons the stream when it holds documents and answers none
// for stall (the client's timeout), until stop is closed or the stream ends.
func (s *streamSession) watchStalls(stall time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(max(stall/8, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			waiting := len(s.sent) - s.answered
			s.mu.Unlock()
			if waiting > 0 && !s.emitting.Load() && now.Sub(time.Unix(0, s.activity.Load())) > stall {
				s.cancel(fmt.Errorf("%w: %d documents unanswered for %s (client timeout)", errStalled, waiting, stall))
				return
			}
		}
	}
}

// receive yields the results of the stream until it ends, or the caller
// stops reading. It returns whether any document was answered and the
// error that ended the stream (nil at its clean end).
func (s *streamSession) receive() (progressed bool, err error) {
	for {
		resp, rerr := s.stream.Recv()
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return progressed, nil
			}
			if c := context.Cause(s.ctx); c != nil && s.r.ctx.Err() == nil {
				return progressed, status.Error(codes.Unavailable, c.Error())
			}
			return progressed, rerr
		}
		res := resp.GetResult()
		e, first, aerr := s.answer(res.GetSequence())
		if aerr != nil {
			return progressed, aerr
		}
		if !first {
			continue
		}
		progressed = true
		s.emitting.Store(true)
		ok := s.r.emit(s.result(e, res))
		s.emitting.Store(false)
		s.activity.Store(time.Now().UnixNano())
		if !ok {
			return progressed, nil
		}
		<-s.slots
	}
}

// answer marks the document of sequence number seq answered. first is
// false when it was already.
func (s *streamSession) answer(seq int64) (e *entry, first bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq < 1 || seq > int64(len(s.sent)) {
		return nil, false, status.Errorf(codes.Internal, "the server answered sequence %d of a stream of %d documents", seq, len(s.sent))
	}
	e = s.sent[seq-1]
	if e.done {
		return e, false, nil
	}
	e.done = true
	s.answered++
	return e, true, nil
}

// result is the Result of e for the server's answer res.
func (s *streamSession) result(e *entry, res *pb.DocumentResult) Result {
	out := resultOf(res, e.index, e.doc.GetId(), e.attempts, s.peerAddr)
	if out.Err != nil {
		if limit, ok := messageLimit(out.Err); ok {
			// The server refused the request alone as over its
			// limit: say which document, and check later ones first.
			s.r.learnLimit(limit)
			out.Err = s.r.oversizeError(e, s.r.requestSize(e), limit)
		}
	}
	return out
}

// resultOf is the Result of the server's answer res for the document at
// index, with its id, attempts and the peer that answered; the gRPC and
// the REST streams share it.
func resultOf(res *pb.DocumentResult, index int64, id string, attempts int, peer string) Result {
	out := Result{
		Index: index, ID: id, Tags: res.GetTags(), Untagged: res.GetUntagged(),
		RulesetVersion: res.GetRulesetVersion(), Words: int(res.GetWords()), Attempts: attempts, Peer: peer,
	}
	if res.GetError() != nil {
		out.Err = status.ErrorProto(res.GetError())
	}
	return out
}

// leftover is, once the sender and the receiver are done, what the stream
// leaves to the next: the documents it sent and got no answer for, then
// those it did not send (the session's rest and unanswered), and the error
// that ended it, made UNAVAILABLE when it ended cleanly with documents left.
func (s *streamSession) leftover(err error) (rest []*entry, unanswered int, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.sent {
		if !e.done {
			rest = append(rest, e)
		}
	}
	unanswered = len(rest)
	rest = append(rest, s.queue...)
	if err == nil && len(rest) > 0 {
		err = status.Errorf(codes.Unavailable, "the stream ended with %d documents unanswered", len(rest))
	}
	return rest, unanswered, err
}
