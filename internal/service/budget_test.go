package service

import (
	"context"
	"testing"
	"time"
)

// TestBudget: a request waits for room and gets it when another releases;
// it gives up when its context ends first; one larger than the whole budget
// runs alone once the budget is all free; a nil budget bounds nothing.
func TestBudget(t *testing.T) {
	b := newBudget(100)
	if !b.acquire(context.Background(), 80) {
		t.Fatal("room for 80 of 100")
	}
	got := make(chan bool)
	go func() { got <- b.acquire(context.Background(), 50) }()
	time.Sleep(20 * time.Millisecond)
	b.release(80)
	if !<-got || b.held() != 50 {
		t.Fatalf("the waiter did not get the room released (held %d)", b.held())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if b.acquire(ctx, 60) {
		t.Fatal("60 more than the 50 free")
	}
	b.release(50)
	if !b.acquire(context.Background(), 500) || b.held() != 500 {
		t.Fatalf("a request over the whole budget, alone: held %d", b.held())
	}
	b.charge(10) // past the bound, without waiting
	if b.held() != 510 {
		t.Fatalf("held %d after charge", b.held())
	}
	b.release(510)
	var none *budget
	if !none.acquire(context.Background(), 1<<40) || none.held() != 0 {
		t.Fatal("a nil budget bounds")
	}
}
