package client

import (
	"slices"
	"testing"
)

func TestInOrder(t *testing.T) {
	arrival := []int64{2, 0, 1, 5, 3, 4, 6}
	seq := func(yield func(Result) bool) {
		for _, i := range arrival {
			if !yield(Result{Index: i}) {
				return
			}
		}
	}
	var got []int64
	for r := range InOrder(seq) {
		got = append(got, r.Index)
	}
	if want := []int64{0, 1, 2, 3, 4, 5, 6}; !slices.Equal(got, want) {
		t.Fatalf("InOrder: %v, want %v", got, want)
	}
	// Stopping early stops the input too.
	got = nil
	for r := range InOrder(seq) {
		got = append(got, r.Index)
		if r.Index == 1 {
			break
		}
	}
	if !slices.Equal(got, []int64{0, 1}) {
		t.Fatalf("break: %v", got)
	}
	// A gap (a broken input) loses nothing: the rest comes in index order.
	gap := func(yield func(Result) bool) {
		for _, i := range []int64{3, 0, 5} {
			if !yield(Result{Index: i}) {
				return
			}
		}
	}
	got = nil
	for r := range InOrder(gap) {
		got = append(got, r.Index)
	}
	if !slices.Equal(got, []int64{0, 3, 5}) {
		t.Fatalf("gap: %v", got)
	}
}
