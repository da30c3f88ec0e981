package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
)

// TestTagNumericIDs: a numeric id comes out exactly as it was written, even
// when it does not fit a float64 (ids above 2^53 used to be rounded).
func TestTagNumericIDs(t *testing.T) {
	srv := clienttest.Start(t, nil)
	defer func(r io.Reader) { stdin = r }(stdin)
	stdin = strings.NewReader(`{"id":9007199254740993,"text":"trí tuệ nhân tạo"}` + "\n" +
		`{"id":12345678901234567890,"text":"chất bán dẫn"}` + "\n" + `{"id":7,"text":"xe điện"}` + "\n")
	code, out, stderr := runTagctl(t, "tag", "--addr", srv.Addr(), "-q")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := parseOutput(t, out)
	for _, id := range []string{"9007199254740993", "12345678901234567890", "7"} {
		if _, ok := got[id]; !ok {
			t.Errorf("id %s missing from the output:\n%s", id, out)
		}
	}
}

// TestRESTTagStreamBreak: stopping early in the REST stream's results ends
// it (it used to wait forever for workers blocked handing over results).
func TestRESTTagStreamBreak(t *testing.T) {
	srv := clienttest.Start(t, nil)
	rc, err := (&remote{rest: srv.HTTPURL(), timeout: 10 * time.Second}).httpClient()
	if err != nil {
		t.Fatal(err)
	}
	docs := func(yield func(client.Document) bool) {
		for range 2000 {
			if !yield(client.Document{ID: "d", Text: "trí tuệ nhân tạo"}) {
				return
			}
		}
	}
	done := make(chan int, 1)
	go func() {
		n := 0
		for range rc.tagStream(context.Background(), docs, restOptions{concurrency: 3, chunk: 10, maxAttempts: 5, failAfter: 5 * time.Second}) {
			if n++; n == 5 {
				break
			}
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n != 5 {
			t.Fatalf("%d results", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the REST stream did not end after the caller stopped reading")
	}
}
