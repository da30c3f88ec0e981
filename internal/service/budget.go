package service

import (
	"context"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// budgetWait is how long a request waits for room in the budget before it
// is shed: long enough to ride out a burst, short enough to shed an
// overload early instead of queueing until memory runs out.
const budgetWait = time.Second

// retryAfter is the retry hint of a shed request.
const retryAfter = time.Second

// budget bounds the bytes of document text the service holds at once,
// over every call and stream: a document takes its size when it is read
// and gives it back when its result is sent. A request larger than the
// whole budget still runs alone, when the budget is all free.
type budget struct {
	mu      sync.Mutex
	max     int64
	free    int64
	waiters int           // acquirers waiting for room
	changed chan struct{} // closed and replaced on a release while some wait
}

func newBudget(max int64) *budget {
	if max <= 0 {
		return nil // no bound
	}
	return &budget{max: max, free: max, changed: make(chan struct{})}
}

// acquire takes n bytes, waiting at most budgetWait (or until ctx ends);
// false when there was no room. A nil budget has room for anything.
func (b *budget) acquire(ctx context.Context, n int64) bool {
	if b == nil {
		return true
	}
	timer := time.NewTimer(budgetWait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		if n <= b.free || b.free == b.max {
			b.free -= n
			b.mu.Unlock()
			return true
		}
		b.waiters++
		changed := b.changed
		b.mu.Unlock()
		var room bool
		select {
		case <-changed:
			room = true
		case <-timer.C:
		case <-ctx.Done():
		}
		b.mu.Lock()
		b.waiters--
		b.mu.Unlock()
		if !room {
			return false
		}
	}
}

// charge takes n bytes without waiting, even past the bound: what a
// document's result holds once it is tagged, which must not wait for room
// (the room is made by sending results). New requests then wait.
func (b *budget) charge(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free -= n
	b.mu.Unlock()
}

func (b *budget) release(n int64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	if b.waiters > 0 { // a release with nobody waiting (the usual case) allocates nothing
		close(b.changed)
		b.changed = make(chan struct{})
	}
	b.mu.Unlock()
}

// held is what the budget holds now, for the metrics.
func (b *budget) held() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.max - b.free
}

// overloaded is the error of a request shed for want of room in the
// budget: UNAVAILABLE (clients retry it; REST 503) with a RetryInfo.
func overloaded(what string) *status.Status {
	st := pb.NewStatus(codes.Unavailable, pb.ErrorReason_OVERLOADED, "",
		"the server is overloaded: "+what+"; retry after "+retryAfter.String()+" (--max-inflight-bytes)", nil)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); err == nil {
		st = d
	}
	return st
}

// docBytes is what a document costs the budget.
func docBytes(d *pb.Document) int64 {
	return int64(len(d.GetText()) + len(d.GetTitle()) + len(d.GetId()))
}

// resultBytes is about what a result holds in memory beyond its document's
// text (which its evidence texts share): the messages of its tags and
// evidence.
func resultBytes(r *pb.DocumentResult) int64 {
	n := 256
	for _, group := range [][]*pb.Tag{r.GetTags(), r.GetUntagged()} {
		for _, t := range group {
			n += 160 + len(t.GetEvidence())*200 + len(t.GetDropped())*320
		}
	}
	return int64(n)
}

// BudgetHeld is the document text the service holds now, in bytes.
func (s *Service) BudgetHeld() int64 { return s.budget.held() }
