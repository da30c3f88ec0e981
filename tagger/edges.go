package tagger

// edgeTable maps the edges of the trie, (node, token key), to the next
// node. It is an open-addressing hash table with linear probing, built once
// at compile time and read-only afterwards. An entry holds the edge itself,
// not a hash of it, so a hit is that edge and no other: the matcher need not
// compare a pattern's keys again. One entry is 16 bytes, so a lookup is one
// multiply and, nearly always, one cache line, where a Go map costs several
// times that on the matcher's hot path.
type edgeTable struct {
	entries []edgeEntry
	mask    uint64
	n       int
	// A bit per hash of the edges, 16 bits an edge: a walk ends at an
	// edge that is not there, and most of those are turned away here,
	// in a few kilobytes, before the entries (megabytes with 10,000 terms)
	// are read.
	filter     []uint64
	filterMask uint64
}

// edgeEntry is one edge; next is 0 in an empty slot (no edge leads to a
// root, and node 0 is one).
type edgeEntry struct {
	key        uint64
	node, next int32
}

func newEdgeTable(sizeHint int) *edgeTable {
	size := 16
	for size < sizeHint*2 {
		size <<= 1
	}
	e := &edgeTable{entries: make([]edgeEntry, size), mask: uint64(size - 1)}
	// size/2 edges at most before growing: 8 filter bits an entry.
	e.filter = make([]uint64, size*8/64)
	e.filterMask = uint64(size*8 - 1)
	return e
}

// filterBit is the edge's bit in filter: bits of its hash above those
// that pick its slot.
func (e *edgeTable) filterBit(h uint64) (word, bit uint64) {
	f := h >> 24 & e.filterMask
	return f >> 6, 1 << (f & 63)
}

func edgeSlot(node int32, key uint64) uint64 {
	return ((key ^ (uint64(node)+1)*0x9E3779B97F4A7C15) * 0x9E3779B97F4A7C15) >> 17
}

func (e *edgeTable) get(node int32, key uint64) (int32, bool) {
	h := edgeSlot(node, key)
	if w, b := e.filterBit(h); e.filter[w]&b == 0 {
		return 0, false
	}
	for i := h & e.mask; ; i = (i + 1) & e.mask {
		en := &e.entries[i]
		if en.next == 0 {
			return 0, false
		}
		if en.key == key && en.node == node {
			return en.next, true
		}
	}
}

// put adds the edge (node, key) -> next, which must not be there yet.
func (e *edgeTable) put(node int32, key uint64, next int32) {
	if (e.n+1)*2 > len(e.entries) {
		e.grow()
	}
	h := edgeSlot(node, key)
	w, b := e.filterBit(h)
	e.filter[w] |= b
	i := h & e.mask
	for e.entries[i].next != 0 {
		i = (i + 1) & e.mask
	}
	e.entries[i] = edgeEntry{key: key, node: node, next: next}
	e.n++
}

func (e *edgeTable) grow() {
	old := e.entries
	*e = *newEdgeTable(len(old))
	for _, en := range old {
		if en.next != 0 {
			e.put(en.node, en.key, en.next)
		}
	}
}
