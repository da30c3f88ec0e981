package tagger

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unsafe"
)

// The scanner's fast path. News text repeats a few thousand syllables, and
// hashing a word rune by rune costs a branch misprediction or two at every
// switch between ASCII and two- or three-byte letters, and at every word's
// end. So the scan first marks, many bytes at a time, which bytes may be
// part of a word (wordBitmap); a word's extent is then a bit count, and a
// word seen before is found by its bytes in a cache of its keys
// (wordCache), with no work per rune. Everything else (a word not in the
// cache, 16 bytes or longer, or within 16 bytes of the text's end, and any
// byte that is not ASCII and not in a cached word) takes the scan's own
// path, which fills the cache. On amd64 the bitmap and the loop over cached
// words are in assembly (wordcache_amd64.s; SSE2, which every amd64 CPU
// has); their Go versions run elsewhere and with -tags purego, and the
// tests hold the two to each other.

// wordCache remembers the keys of words already scanned, by their bytes.
// Only words that wordRun read from end to end are stored (letters that
// leave the text NFC, never a separator, a mark or an invalid byte), and a
// word is looked up by the exact bytes of the run of possible word bytes at
// a token's start, which ends at an ASCII separator: so a hit gives exactly
// the token the scan would have made. It belongs to one Tagger, to
// remember too whether the word may start one of its patterns; a Tag call
// takes one for itself (takeWordCache) and gives it back, so it is never
// used by two goroutines at once.
type wordCache struct {
	t       *Tagger
	entries [1 << wordCacheBits]cachedWord
	bitmap  []uint64
}

const wordCacheBits = 14

// cachedWord is a word of 1 to 15 bytes. Its bytes are lo and the low 7
// bytes of hi, zero-padded (no word byte is 0); hi's top byte holds the
// token flags (bits 0-2) and whether the word may start a pattern (bit 3).
type cachedWord struct {
	lo, hi       uint64
	strict, fold uint64
}

const (
	ones8     = 0x0101010101010101
	highs8    = 0x8080808080808080
	low56     = 1<<56 - 1
	startsBit = 1 << 3
	movemask8 = 0x0102040810204080 // gathers the high bits of 8 bytes, >> 7, into the top byte
	maxCached = 15
)

func newWordCache(t *Tagger) *wordCache { return &wordCache{t: t} }

// takeWordCache is a word cache of t's for one scan: a kept one if there
// is, else a new one (nil when the tests turn the cache off).
func (t *Tagger) takeWordCache() *wordCache {
	if t.noWordCache {
		return nil
	}
	select {
	case c := <-t.caches:
		return c
	default:
		return newWordCache(t)
	}
}

// keepWordCache gives a cache back, or drops it when enough are kept.
func (t *Tagger) keepWordCache(c *wordCache) {
	if c == nil {
		return
	}
	select {
	case t.caches <- c:
	default:
	}
}

// wordBytes sets the high bit of each byte of x that may be part of a
// word: an ASCII letter or digit, or any byte of a multi-byte rune.
func wordBytes(x uint64) uint64 {
	// For bytes below 0x80, y + (0x80-n) has its high bit set when y >= n.
	y := x &^ highs8
	l := y | 0x20*ones8 // lower case, for letters
	letters := (l + (0x80-'a')*ones8) &^ (l + (0x80-'z'-1)*ones8)
	digits := (y + (0x80-'0')*ones8) &^ (y + (0x80-'9'-1)*ones8)
	return (letters | digits | x) & highs8
}

// load64 is the eight bytes of text at i, little-endian.
func load64(text string, i int) uint64 { return binary.LittleEndian.Uint64(bytesOf(text)[i:]) }

// wordBitmap sets c.bitmap's bit i%64 of word i/64 when text[i] may be
// part of a word, with two zero words after the last.
func (c *wordCache) wordBitmap(text string) {
	n := len(text)
	full := n / 64
	bm := slices.Grow(c.bitmap[:0], full+3)[:full]
	wordBitmapBlocks(text, bm)
	if base := full * 64; base < n {
		// The last bytes, zero-padded: a zero byte is not a word byte.
		var tail [64 + 8]byte
		copy(tail[:], text[base:])
		bm = append(bm, wordBits64(unsafe.String(&tail[0], len(tail)), 0))
	}
	c.bitmap = append(bm, 0, 0)
}

// wordBits64 is the bitmap word of text[base:base+64].
func wordBits64(text string, base int) uint64 {
	b := bytesOf(text)[base : base+64 : base+64] // one bounds check for the eight reads
	m := func(j int) uint64 { return wordBytes(binary.LittleEndian.Uint64(b[j:])) >> 7 * movemask8 >> 56 << j }
	return m(0) | m(8) | m(16) | m(24) | m(32) | m(40) | m(48) | m(56)
}

// window is the bitmap's 64 bits from bit i on (bm holds a word past
// i/64+1).
func window(bm []uint64, i int) uint64 {
	k := uint(i) & 63
	return bm[i>>6]>>k | bm[i>>6+1]<<1<<(63-k)
}

// byteMasks[n] keeps the first n bytes of the 16 at a word's start, as
// two halves.
var byteMasks = func() (m [16][2]uint64) {
	for n := range m {
		for b := 0; b < n; b++ {
			m[n][b/8] |= 0xFF << (8 * (b % 8))
		}
	}
	return m
}()

func (c *wordCache) slot(lo, hi uint64) *cachedWord {
	return &c.entries[(lo*0x9E3779B97F4A7C15^hi*0xC2B2AE3D27D4EB4F)>>(64-wordCacheBits)]
}

// store caches the word text[start:end], which wordRun read whole, if it
// is the whole run of possible word bytes at start.
func (c *wordCache) store(text string, start, end int, strict, fold uint64, flags uint8) {
	size := end - start
	if size > maxCached || start+16 > len(text) || bits.TrailingZeros64(^window(c.bitmap, start)) != size {
		return
	}
	lo := load64(text, start) & byteMasks[size][0]
	hi := load64(text, start+8) & byteMasks[size][1]
	top := uint64(flags)
	if c.t.mayStart(strict, fold, flags) {
		top |= startsBit
	}
	*c.slot(lo, hi) = cachedWord{lo: lo, hi: hi | top<<56, strict: strict, fold: fold}
}

// words reads the words at text[i:] that are in the cache, and the ASCII
// separators after them, appending their tokens; it stops at the first
// word that is not (or within 16 bytes of the text's end) and returns
// where, with the gap before it.
func (c *wordCache) words(text string, i int, gap uint8, toks []token, cands []int32) (int, uint8, []token, []int32) {
	for {
		// Room for a batch of tokens, written in place by wordsIn.
		toks, cands = slices.Grow(toks, wordBatch), slices.Grow(cands, wordBatch)
		nt, nc := len(toks), len(cands)
		var n, listed int
		i, gap, n, listed = c.wordsIn(bytesOf(text), c.bitmap, i, gap, (*[wordBatch]token)(toks[nt:nt+wordBatch]), (*[wordBatch]int32)(cands[nc:nc+wordBatch]))
		toks, cands = toks[:nt+n], cands[:nc+listed]
		for k := nc; k < len(cands); k++ {
			cands[k] += int32(nt) // wordsIn counts from its first token
		}
		if n < wordBatch {
			return i, gap, toks, cands
		}
	}
}

// wordBatch is how many tokens wordsIn writes at most in one call.
const wordBatch = 1024

// wordsInGo is words' loop, writing up to wordBatch tokens to toks and the
// indices (in toks) of those that may start a pattern to cands; it returns
// how many of each. On amd64, wordsIn is the same loop in assembly
// (wordcache_amd64.s), which the tests hold to this one. Like wordRun, a function of its own with few
// values live in it, so that the compiler keeps them in registers: the
// arrays it writes have a fixed size (no lengths, no bounds checks), and it
// reads the text and the bitmap through unsafe.Add, at offsets the loop's
// bound keeps inside them (i+16 <= len(text); the bitmap has two words past
// the text's last). unsafe.Add, not uintptr arithmetic: a loop holding a
// uintptr made from a pointer is a point where the runtime cannot preempt
// the goroutine, and an earlier version spent 8-21% of its time in retries.
//
//go:noinline
func (c *wordCache) wordsInGo(text []byte, bm []uint64, i int, gap uint8, toks *[wordBatch]token, cands *[wordBatch]int32) (_ int, _ uint8, n, listed int) {
	if !bitmapCovers(text, bm) {
		return i, gap, 0, 0
	}
	tp, bp := unsafe.Pointer(unsafe.SliceData(text)), unsafe.Pointer(unsafe.SliceData(bm))
	read := func(off int) uint64 { return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(tp, off))[:]) }
	last := len(text) - 16
	for i <= last && n < wordBatch {
		// The bitmap's 64 bits from bit i on.
		k := uint(i) & 63
		q := unsafe.Add(bp, i>>6*8)
		w := *(*uint64)(q)>>k | *(*uint64)(unsafe.Add(q, 8))<<1<<(63-k)
		if w&1 == 0 {
			break
		}
		size := bits.TrailingZeros64(^w)
		mask := &byteMasks[size&maxCached]
		lo := read(i) & mask[0]
		hi := read(i+8) & mask[1]
		e := c.slot(lo, hi)
		if e.lo != lo || e.hi&low56 != hi || size > maxCached {
			break
		}
		top := uint8(e.hi >> 56)
		tk := &toks[n]
		tk.start, tk.end = int32(i), int32(i+size)
		tk.strict, tk.fold = e.strict, e.fold
		tk.gap, tk.flags = gap, top&7
		// Listed when it may start a pattern, without a branch.
		cands[listed&(wordBatch-1)] = int32(n)
		listed += int(top&startsBit) >> 3
		n++
		// The separators after it: all ASCII, as the bitmap marks every
		// other byte as a possible word byte; the window's 64 bits end
		// at 64-size.
		seps := min(bits.TrailingZeros64(w>>size), 64-size)
		i += size
		end := min(i+seps, last+16)
		gap = asciiGap[*(*byte)(unsafe.Add(tp, i))] // the first separator, inside the 16 bytes read
		for i++; i < end; i++ {
			gap |= asciiGap[*(*byte)(unsafe.Add(tp, i))]
		}
	}
	return i, gap, n, listed
}

// mayStart reports whether a token with these keys and flags may start one
// of t's patterns: it is then a candidate for match. A folded pattern
// matches a word with diacritics only when they are its own (verify), and
// then the word's strict key begins a pattern too: so only words without
// any may start one by their fold key alone. Without this, every syllable
// that folds like a pattern's first word ("trí", "trị", "trì" like "tri")
// would be listed.
func (t *Tagger) mayStart(strict, fold uint64, flags uint8) bool {
	return t.startStrict.first.has(strict) || t.hasFold && flags&tokMarked == 0 && t.startFold.first.has(fold)
}

// bitmapCovers reports whether bm is text's bitmap, with the two words
// after the last that wordsIn reads, and text has 16 bytes to read.
func bitmapCovers(text []byte, bm []uint64) bool {
	return len(text) >= 16 && len(bm) >= (len(text)+63)/64+2
}

// bytesOf is text's bytes, not copied (wordsIn only reads them).
func bytesOf(text string) []byte { return unsafe.Slice(unsafe.StringData(text), len(text)) }

// continuationBytes counts the bytes of x of the form 10xxxxxx: a run of
// valid UTF-8 has that many bytes more than runes. Their high bits, one a
// byte, are summed by a multiply: no branch, where a popcount checks for
// the POPCNT instruction each time unless GOAMD64 promises it.
func continuationBytes(x uint64) int { return int((x &^ (x << 1) & highs8) >> 7 * ones8 >> 56) }
