package client

import "iter"

// InOrder yields the results of TagStream (or TagChannel) in input order,
// by Result.Index, instead of as they arrive. It holds back the results
// that arrive ahead of a slower one: at most the stream window's worth,
// since no more documents than that are in flight. Indices must be
// 0, 1, 2, ... with each exactly once, as TagStream gives them.
func InOrder(results iter.Seq[Result]) iter.Seq[Result] {
	return func(yield func(Result) bool) {
		next := int64(0)
		early := map[int64]Result{}
		for r := range results {
			if r.Index != next {
				early[r.Index] = r
				continue
			}
			if !yield(r) {
				return
			}
			next++
			for {
				held, ok := early[next]
				if !ok {
					break
				}
				delete(early, next)
				if !yield(held) {
					return
				}
				next++
			}
		}
		// Only a broken input leaves results behind (a gap in the indices):
		// yield them rather than lose them.
		for len(early) > 0 {
			lowest := int64(-1)
			for i := range early {
				if lowest < 0 || i < lowest {
					lowest = i
				}
			}
			r := early[lowest]
			delete(early, lowest)
			if !yield(r) {
				return
			}
		}
	}
}
