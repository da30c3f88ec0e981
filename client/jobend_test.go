package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/server"
)

// TestTagChannelGiveUpFailsTheRest: when the job gives up (an error retrying
// cannot fix), every document still sent on the channel gets a result with
// that error, as with TagStream, and the sender is not left blocked.
func TestTagChannelGiveUpFailsTheRest(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) { c.AuthTokens = []string{"secret"} })
	c := newClient(t, srv.Addr(), client.WithBearerToken("wrong"), client.WithTokenOverPlaintext())
	const n = 300
	ch := make(chan client.Document)
	sent := make(chan int, 1)
	go func() {
		defer close(ch)
		i := 0
		defer func() { sent <- i }()
		for d := range docs(n) {
			select {
			case ch <- d:
				i++
			case <-time.After(5 * time.Second):
				return // nobody reads the channel any more
			}
		}
	}()
	got := collect(t, c.TagChannel(context.Background(), ch, client.StreamOptions{Streams: 2, Window: 4}), n)
	for id, r := range got {
		if status.Code(r.Err) != codes.Unauthenticated {
			t.Fatalf("%s: %v", id, r.Err)
		}
	}
	if i := <-sent; i != n {
		t.Fatalf("the channel was read %d times for %d documents", i, n)
	}
}

// TestTagStreamCancelWithOversizeDocument: a document over the client's
// message limit fails alone from the input goroutine; cancelling the job
// while that result waits for a slow caller must not panic (a send on a
// closed channel) nor answer the document twice.
func TestTagStreamCancelWithOversizeDocument(t *testing.T) {
	srv := clienttest.Start(t, nil)
	c := newClient(t, srv.Addr(), client.WithMaxMessageBytes(8192))
	for round := range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		gotSmall := make(chan struct{})
		input := func(yield func(client.Document) bool) {
			if yield(client.Document{ID: "small", Text: "tên lửa"}) {
				<-gotSmall
				yield(client.Document{ID: "big", Text: strings.Repeat("x", 10000)})
			}
		}
		seen := map[string]int{}
		for r := range c.TagStream(ctx, input, client.StreamOptions{Streams: 2}) {
			seen[r.ID]++
			if r.ID == "small" {
				close(gotSmall)
				// A slow caller: the oversize result waits to be read
				// while the job is cancelled.
				time.Sleep(50 * time.Millisecond)
				cancel()
				time.Sleep(50 * time.Millisecond)
			}
		}
		cancel()
		for id, k := range seen {
			if k > 1 {
				t.Fatalf("round %d: %s answered %d times", round, id, k)
			}
		}
	}
}
