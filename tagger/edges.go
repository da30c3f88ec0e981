package tagger

// edgeTable maps (node, token key) edges of the trie to the next node. It is
// an open-addressing hash table with linear probing, built once at compile
// time and read-only afterwards: a lookup is one multiply and, nearly
// always, one cache line, where a Go map costs several times that on the
// matcher's hot path.
type edgeTable struct {
	keys []uint64 // 0 marks an empty slot; edgeKey never returns 0 (see put)
	vals []int32
	mask uint64
	n    int
}

func newEdgeTable(sizeHint int) *edgeTable {
	size := 16
	for size < sizeHint*2 {
		size <<= 1
	}
	return &edgeTable{keys: make([]uint64, size), vals: make([]int32, size), mask: uint64(size - 1)}
}

func slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> 17 }

func (e *edgeTable) get(k uint64) (int32, bool) {
	if k == 0 {
		k = 1
	}
	for i := slot(k) & e.mask; ; i = (i + 1) & e.mask {
		switch e.keys[i] {
		case k:
			return e.vals[i], true
		case 0:
			return 0, false
		}
	}
}

func (e *edgeTable) put(k uint64, v int32) {
	if k == 0 {
		k = 1 // a key of 0 would read as empty; 1 stands for it (a collision the matcher's verify step tolerates)
	}
	if (e.n+1)*2 > len(e.keys) {
		e.grow()
	}
	for i := slot(k) & e.mask; ; i = (i + 1) & e.mask {
		switch e.keys[i] {
		case k:
			e.vals[i] = v
			return
		case 0:
			e.keys[i], e.vals[i] = k, v
			e.n++
			return
		}
	}
}

func (e *edgeTable) grow() {
	old := *e
	*e = *newEdgeTable(len(old.keys))
	for i, k := range old.keys {
		if k != 0 {
			e.put(k, old.vals[i])
		}
	}
}
