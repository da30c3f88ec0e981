package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/internal/wire"
	"github.com/doctagger/doctagger/tagger"
)

type streamJob struct {
	seq   int64
	doc   *pb.Document
	opts  *pb.TagOptions
	bad   *wire.Malformed // a request the codec could not decode: it fails alone
	bytes int64           // what it holds of the service's budget
}

// streamResult is a result to send, and the budget its document holds.
type streamResult struct {
	resp  *pb.StreamTagDocumentsResponse
	bytes int64
}

// StreamTagDocuments tags documents as they arrive, on a few workers, and
// sends each result as soon as it is ready.
//
// Flow control: a document takes one of StreamMaxInFlight slots before it
// is read and gives it back once its result is sent, so a client that reads
// slowly stops the server from reading (and the transport's flow control
// then stops the client from sending): memory per stream stays bounded.
//
// When the shutdown grace period ends, or the stream has been idle for
// StreamIdleTimeout, the server stops reading, sends the results of every
// document it took (sequence 1..N, so nothing taken is lost) and ends the
// stream with UNAVAILABLE or DEADLINE_EXCEEDED naming N.
func (s *Service) StreamTagDocuments(stream pb.TaggerService_StreamTagDocumentsServer) error {
	s.metrics.streamsActive.Inc()
	defer s.metrics.streamsActive.Dec()
	c := newStreamCall(s, stream)
	go c.receive()
	c.startWorkers()
	go c.send()
	return c.supervise()
}

// streamCall is one StreamTagDocuments call: a receiver, workers and a
// sender, joined by channels, and a supervisor that ends the call.
type streamCall struct {
	s      *Service
	stream pb.TaggerService_StreamTagDocumentsServer
	ctx    context.Context

	jobs     chan streamJob    // receiver → workers
	results  chan streamResult // workers → sender
	slots    chan struct{}     // one per document read and not yet answered
	recvDone chan error        // the receiver's end: nil, or why it stopped

	mu         sync.Mutex
	stopped    bool  // the receiver drops what it reads from now on
	dispatched int64 // the last sequence handed to the workers

	inFlight   atomic.Int64 // documents read and not yet answered
	lastActive atomic.Int64 // unix nanoseconds of the last document read or result sent

	sent     atomic.Int64
	sending  atomic.Bool   // the sender is in stream.Send
	target   atomic.Int64  // the last sequence to answer once stopped; -1 before
	sendDone chan error    // the sender's end
	reached  chan struct{} // the sender sent result target
}

func newStreamCall(s *Service, stream pb.TaggerService_StreamTagDocumentsServer) *streamCall {
	n := s.cfg.StreamMaxInFlight
	c := &streamCall{
		s: s, stream: stream, ctx: stream.Context(),
		jobs:     make(chan streamJob, n),
		results:  make(chan streamResult, n),
		slots:    make(chan struct{}, n),
		recvDone: make(chan error, 1),
		sendDone: make(chan error, 1),
		reached:  make(chan struct{}, 1),
	}
	c.lastActive.Store(time.Now().UnixNano())
	c.target.Store(-1)
	return c
}

// receive reads requests while slots are free and hands them to the
// workers, numbered from 1; options carry over to later requests without.
func (c *streamCall) receive() {
	defer close(c.jobs)
	var seq int64
	var opts *pb.TagOptions
	for {
		select {
		case c.slots <- struct{}{}:
		case <-c.ctx.Done():
			c.recvDone <- nil
			return
		}
		req, err := c.stream.Recv()
		if err != nil {
			<-c.slots
			if errors.Is(err, io.EOF) {
				err = nil
			}
			c.recvDone <- err
			return
		}
		c.lastActive.Store(time.Now().UnixNano())
		seq++
		bad := wire.MalformedOf(req)
		if req.Options != nil && bad == nil {
			opts = req.Options
		}
		n := docBytes(req.Document)
		if !c.s.budget.acquire(c.ctx, n) {
			// Shed: this document is not taken (no result), the ones
			// before it are answered, and the call ends UNAVAILABLE
			// naming them, as a drained stream does.
			<-c.slots
			c.mu.Lock()
			c.stopped = true
			last := c.dispatched
			c.mu.Unlock()
			c.recvDone <- overloaded(fmt.Sprintf("results were sent for documents 1..%d of this stream; resend the later ones", last)).Err()
			return
		}
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			c.s.budget.release(n)
			<-c.slots
			c.recvDone <- nil
			return
		}
		c.dispatched = seq
		c.inFlight.Add(1)
		c.mu.Unlock()
		c.jobs <- streamJob{seq: seq, doc: req.Document, opts: opts, bad: bad, bytes: n}
	}
}

// startWorkers tags the documents on a few goroutines; results closes
// when they are done.
func (c *streamCall) startWorkers() {
	workers := min(runtime.GOMAXPROCS(0), cap(c.jobs))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(c.work)
	}
	go func() {
		wg.Wait()
		close(c.results)
	}()
}

// work tags jobs until there are none, converting the options once per
// change of options or ruleset; a bad document gets a result with its error.
func (c *streamCall) work() {
	s := c.s
	var (
		lastOpts   *pb.TagOptions
		lastLoaded *Loaded
		conv       tagger.Options
		convErr    *status.Status
	)
	for j := range c.jobs {
		l := s.rules.Current()
		if l != lastLoaded || j.opts != lastOpts || lastLoaded == nil {
			conv, convErr = s.options(l, j.opts, "options")
			lastLoaded, lastOpts = l, j.opts
		}
		var res *pb.DocumentResult
		st := convErr
		if j.bad != nil {
			st = s.malformed(j.bad, fmt.Sprintf("request %d of the stream", j.seq))
			s.metrics.documents.WithLabelValues(st.Code().String()).Inc()
		} else if st == nil {
			res, st = s.tagOne(context.Background(), l, j.doc, conv, "document") // no span a document: a stream may carry millions
		} else {
			s.metrics.documents.WithLabelValues(st.Code().String()).Inc()
		}
		if st != nil {
			p := st.Proto()
			p.Message = fmt.Sprintf("sequence %d: %s", j.seq, p.Message)
			res = &pb.DocumentResult{DocumentId: j.doc.GetId(), Error: p}
		}
		res.Sequence = j.seq
		// The result waits to be sent (for as long as the client does not
		// read): it holds its share of the budget until then.
		extra := resultBytes(res)
		s.budget.charge(extra)
		c.results <- streamResult{&pb.StreamTagDocumentsResponse{Result: res}, j.bytes + extra}
	}
}

// send sends the results as they come, off the supervisor's loop: a client
// that stops reading blocks Send (flow control) until the stream ends, and
// the supervisor must still see the idle timeout, the drain and the end of
// the call.
func (c *streamCall) send() {
	for r := range c.results {
		c.sending.Store(true)
		err := c.stream.Send(r.resp)
		c.sending.Store(false)
		c.s.budget.release(r.bytes)
		if err != nil {
			c.sendDone <- err
			// The call is over: give back what the results still to come
			// hold (the workers finish the jobs they have).
			for r := range c.results {
				c.s.budget.release(r.bytes)
			}
			return
		}
		// Idle counts from the last document read or result sent: a
		// client still reading its results is not idle.
		c.lastActive.Store(time.Now().UnixNano())
		c.inFlight.Add(-1)
		n := c.sent.Add(1)
		<-c.slots
		if t := c.target.Load(); t >= 0 && n >= t {
			select {
			case c.reached <- struct{}{}:
			default:
			}
		}
	}
	c.sendDone <- nil
}

// stop makes the receiver drop whatever it reads from now on and returns
// the last sequence number it dispatched.
func (c *streamCall) stop() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	return c.dispatched
}

// supervise ends the call: when every result is sent after the client's
// half-close, when the results of the documents taken are sent after a
// drain or an idle stop, when the client stops reading for the idle
// timeout, or when the call's context ends.
func (c *streamCall) supervise() error {
	idle := c.s.cfg.StreamIdleTimeout
	var idleC <-chan time.Time
	if idle > 0 {
		tick := time.NewTicker(min(idle/4+time.Millisecond, time.Second))
		defer tick.Stop()
		idleC = tick.C
	}
	drain := c.s.drain
	var stopErr error
	for {
		if t := c.target.Load(); t >= 0 && c.sent.Load() >= t {
			return stopErr
		}
		select {
		case err := <-c.sendDone:
			if err != nil {
				return err
			}
			return <-c.recvDone // every result was sent
		case <-c.reached:
		case <-drain:
			drain = nil
			if c.target.Load() < 0 {
				c.target.Store(c.stop())
				stopErr = status.Errorf(codes.Unavailable,
					"server is shutting down: results were sent for documents 1..%d of this stream; resend the later ones", c.target.Load())
			}
		case now := <-idleC:
			end, err := c.idleCheck(now, idle)
			if end {
				return err
			}
			if err != nil {
				stopErr = err
			}
		case <-c.ctx.Done():
			return ctxStatus(c.ctx.Err())
		}
	}
}

// idleCheck acts on a stream idle for the idle timeout: a client that
// reads nothing ends the call at once (end); a client that sends nothing
// more gets the results of what it sent, then the error.
func (c *streamCall) idleCheck(now time.Time, idle time.Duration) (end bool, err error) {
	idleFor := now.Sub(time.Unix(0, c.lastActive.Load()))
	if idleFor < idle {
		return false, nil
	}
	if c.sending.Load() {
		// The client has read nothing for that long: returning ends the
		// stream and wakes the blocked Send.
		c.stop()
		return true, status.Errorf(codes.DeadlineExceeded,
			"stream idle for %s (--stream-idle-timeout): the client read no result; %d results were sent, see their sequence numbers", idle, c.sent.Load())
	}
	if c.target.Load() < 0 && c.inFlight.Load() == 0 {
		c.target.Store(c.stop())
		return false, status.Errorf(codes.DeadlineExceeded,
			"stream idle for %s (--stream-idle-timeout); results were sent for documents 1..%d", idle, c.target.Load())
	}
	return false, nil
}
