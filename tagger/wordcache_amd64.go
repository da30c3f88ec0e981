//go:build amd64 && !purego

package tagger

// wordsIn is wordsInGo in assembly (wordcache_amd64.s): the loop that
// reads a word seen before is most of the time a document takes, and the
// compiler, short of registers, spilled and reloaded a dozen values in it.
// Build with -tags purego to use the Go loop.
func (c *wordCache) wordsIn(text []byte, bm []uint64, i int, gap uint8, toks *[wordBatch]token, cands *[wordBatch]int32) (int, uint8, int, int) {
	if !bitmapCovers(text, bm) {
		return i, gap, 0, 0
	}
	return wordsInAsm(text, bm, &c.entries, i, gap, toks, cands)
}

const haveWordsInAsm = true

// wordsInAsm reads text from i on as wordsInGo does, with the cache's
// entries; bm must cover text (bitmapCovers).
//
//go:noescape
func wordsInAsm(text []byte, bm []uint64, entries *[1 << wordCacheBits]cachedWord, i int, gap uint8, toks *[wordBatch]token, cands *[wordBatch]int32) (next int, gapOut uint8, n, listed int)

// wordBitmapAsm sets bm[k] to wordBits64(text, 64k) for every k; text has
// 64 bytes for each.
//
//go:noescape
func wordBitmapAsm(text []byte, bm []uint64)

// wordBitmapBlocks sets bm[k] to wordBits64(text, 64k) for every k.
func wordBitmapBlocks(text string, bm []uint64) {
	// In slices of 64 KB: the runtime cannot stop a goroutine inside
	// assembly, and a long stop would hold up the garbage collector. Each
	// slice of the text is bounds-checked: a bitmap longer than its text
	// panics there, before the assembly could read past the text.
	for k := 0; k < len(bm); k += asmSlice / 64 {
		end := min(k+asmSlice/64, len(bm))
		wordBitmapAsm(bytesOf(text)[64*k:64*end], bm[k:end])
	}
}

// asmSlice is the most text, in bytes, an assembly loop reads in one call.
const asmSlice = 64 << 10

// runesBeforeAsm is runesBeforeGo for an even number of counts, counting
// on from count.
//
//go:noescape
func runesBeforeAsm(text []byte, runes []int32, count int32) int32

// runesBefore is runesBeforeGo, 16 bytes at a time in assembly.
func runesBefore(text []byte, runes []int32) int32 {
	even := len(runes) &^ 1
	count := int32(0)
	for k := 0; k < even; k += asmSlice / 8 { // 64 KB a call, as wordBitmapBlocks
		end := min(k+asmSlice/8, even)
		count = runesBeforeAsm(text[8*k:8*end], runes[k:end], count)
	}
	if even < len(runes) {
		// The last eight bytes, counted from 0 and moved up.
		tail := runesBeforeGo(text[8*even:8*even+8], runes[even:])
		runes[even] += count
		count += tail
	}
	return count
}
