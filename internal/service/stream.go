package service

import (
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
	"github.com/doctagger/doctagger/tagger"
)

type streamJob struct {
	seq  int64
	doc  *pb.Document
	opts *pb.TagOptions
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
	ctx := stream.Context()
	s.metrics.streamsActive.Inc()
	defer s.metrics.streamsActive.Dec()

	maxInFlight := s.cfg.StreamMaxInFlight
	jobs := make(chan streamJob, maxInFlight)
	results := make(chan *pb.StreamTagDocumentsResponse, maxInFlight)
	slots := make(chan struct{}, maxInFlight)
	recvDone := make(chan error, 1)

	var (
		mu         sync.Mutex
		stopped    bool
		dispatched int64
		inFlight   atomic.Int64
		lastActive atomic.Int64
	)
	lastActive.Store(time.Now().UnixNano())

	// Receiver: reads requests while slots are free.
	go func() {
		defer close(jobs)
		var seq int64
		var opts *pb.TagOptions
		for {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				recvDone <- nil
				return
			}
			req, err := stream.Recv()
			if err != nil {
				<-slots
				if errors.Is(err, io.EOF) {
					err = nil
				}
				recvDone <- err
				return
			}
			lastActive.Store(time.Now().UnixNano())
			seq++
			if req.Options != nil {
				opts = req.Options
			}
			mu.Lock()
			if stopped {
				mu.Unlock()
				<-slots
				recvDone <- nil
				return
			}
			dispatched = seq
			inFlight.Add(1)
			mu.Unlock()
			jobs <- streamJob{seq: seq, doc: req.Document, opts: opts}
		}
	}()

	// Workers.
	workers := min(runtime.GOMAXPROCS(0), maxInFlight)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var (
				lastOpts   *pb.TagOptions
				lastLoaded *Loaded
				conv       tagger.Options
				convErr    *status.Status
			)
			for j := range jobs {
				l := s.rules.Current()
				if l != lastLoaded || j.opts != lastOpts || lastLoaded == nil {
					conv, convErr = s.options(l, j.opts, "options")
					lastLoaded, lastOpts = l, j.opts
				}
				var res *pb.DocumentResult
				st := convErr
				if st == nil {
					res, st = s.tagOne(l, j.doc, conv, "document")
				} else {
					s.metrics.documents.WithLabelValues(st.Code().String()).Inc()
				}
				if st != nil {
					p := st.Proto()
					p.Message = fmt.Sprintf("sequence %d: %s", j.seq, p.Message)
					res = &pb.DocumentResult{DocumentId: j.doc.GetId(), Error: p}
				}
				res.Sequence = j.seq
				results <- &pb.StreamTagDocumentsResponse{Result: res}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// stop makes the receiver drop whatever it reads from now on and returns
	// the last sequence number it dispatched.
	stop := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		return dispatched
	}

	var idleC <-chan time.Time
	if s.cfg.StreamIdleTimeout > 0 {
		tick := time.NewTicker(min(s.cfg.StreamIdleTimeout/4+time.Millisecond, time.Second))
		defer tick.Stop()
		idleC = tick.C
	}
	// Sender: a client that stops reading blocks Send (flow control) until
	// the stream ends, so sends happen off this loop, which must still see
	// the idle timeout, the drain and the end of ctx.
	var (
		sent    atomic.Int64
		sending atomic.Bool
		target  atomic.Int64 // the last sequence to answer once stopped; -1 before
	)
	target.Store(-1)
	sendDone := make(chan error, 1)
	reached := make(chan struct{}, 1) // the sender sent result target
	go func() {
		for r := range results {
			sending.Store(true)
			err := stream.Send(r)
			sending.Store(false)
			if err != nil {
				sendDone <- err
				return
			}
			// Idle counts from the last document read or result sent: a
			// client still reading its results is not idle.
			lastActive.Store(time.Now().UnixNano())
			inFlight.Add(-1)
			n := sent.Add(1)
			<-slots
			if t := target.Load(); t >= 0 && n >= t {
				select {
				case reached <- struct{}{}:
				default:
				}
			}
		}
		sendDone <- nil
	}()

	drain := s.drain
	var stopErr error
	for {
		if t := target.Load(); t >= 0 && sent.Load() >= t {
			return stopErr
		}
		select {
		case err := <-sendDone:
			if err != nil {
				return err
			}
			return <-recvDone // every result was sent
		case <-reached:
		case <-drain:
			drain = nil
			if target.Load() < 0 {
				target.Store(stop())
				stopErr = status.Errorf(codes.Unavailable,
					"server is shutting down: results were sent for documents 1..%d of this stream; resend the later ones", target.Load())
			}
		case now := <-idleC:
			idleFor := now.Sub(time.Unix(0, lastActive.Load()))
			if idleFor < s.cfg.StreamIdleTimeout {
				break
			}
			if sending.Load() {
				// The client has read nothing for that long: returning
				// ends the stream and wakes the blocked Send.
				stop()
				return status.Errorf(codes.DeadlineExceeded,
					"stream idle for %s (--stream-idle-timeout): the client read no result; %d results were sent, see their sequence numbers", s.cfg.StreamIdleTimeout, sent.Load())
			}
			if target.Load() < 0 && inFlight.Load() == 0 {
				target.Store(stop())
				stopErr = status.Errorf(codes.DeadlineExceeded,
					"stream idle for %s (--stream-idle-timeout); results were sent for documents 1..%d", s.cfg.StreamIdleTimeout, target.Load())
			}
		case <-ctx.Done():
			return ctxStatus(ctx.Err())
		}
	}
}
