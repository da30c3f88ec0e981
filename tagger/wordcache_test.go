package tagger

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestWordsInAsmMatchesGo holds the assembly loop to wordsInGo: from every
// byte of random texts whose words are in the cache (and some that are
// not), both must write the same tokens and candidates and stop at the
// same place with the same gap.
func TestWordsInAsmMatchesGo(t *testing.T) {
	if !haveWordsInAsm {
		t.Skip("no assembly loop on this platform")
	}
	tg := defaultT(t)
	c := newWordCache(tg)
	rng := rand.New(rand.NewPCG(9, 10))
	words := []string{
		"trí", "tuệ", "nhân", "tạo", "AI", "ai", "chip", "bán", "dẫn", "Việt", "Nam", "được", "người",
		"nghiêng", "xe", "điện", "drone", "UAV", "2026", "semiconductors", "khoẻ", "thuỷ", "a",
		"Nghiêng", "NGHIÊNG", "internationalisation", "x",
	}
	var toksA, toksG [wordBatch]token
	var candsA, candsG [wordBatch]int32
	for n := range 1500 {
		text := randomText(rng, words, 5+rng.IntN(200), 6)
		if n%300 == 0 {
			// Past one batch of cached words.
			text = strings.Repeat("trí tuệ nhân tạo và chip bán dẫn, xe điện 2026 ", 150) + text
		}
		// Scanned twice: the cache knows its words.
		scanWords(text, nil, nil, true, c)
		scanWords(text, nil, nil, true, c)
		b := bytesOf(text)
		for i := range len(text) {
			if c.bitmap[i>>6]>>(i&63)&1 == 0 {
				continue
			}
			gap := uint8(rng.IntN(16))
			iA, gA, nA, lA := c.wordsIn(b, c.bitmap, i, gap, &toksA, &candsA)
			iG, gG, nG, lG := c.wordsInGo(b, c.bitmap, i, gap, &toksG, &candsG)
			if iA != iG || gA != gG || nA != nG || lA != lG ||
				!slices.Equal(toksA[:nA], toksG[:nG]) || !slices.Equal(candsA[:lA], candsG[:lG]) {
				t.Fatalf("from %d of %q:\n asm i=%d gap=%d n=%d listed=%d\n go  i=%d gap=%d n=%d listed=%d\n asm %+v %v\n go  %+v %v",
					i, text, iA, gA, nA, lA, iG, gG, nG, lG, toksA[:min(nA, 8)], candsA[:min(lA, 8)], toksG[:min(nG, 8)], candsG[:min(lG, 8)])
			}
		}
	}
}

// TestWordsInAsmLayout pins the struct layouts the assembly loop writes and
// reads.
func TestWordsInAsmLayout(t *testing.T) {
	var tk token
	var e cachedWord
	var c wordCache
	got := []uintptr{
		unsafe.Offsetof(tk.start), unsafe.Offsetof(tk.end), unsafe.Offsetof(tk.strict), unsafe.Offsetof(tk.fold),
		unsafe.Offsetof(tk.gap), unsafe.Offsetof(tk.flags), unsafe.Sizeof(tk),
		unsafe.Offsetof(e.lo), unsafe.Offsetof(e.hi), unsafe.Offsetof(e.strict), unsafe.Offsetof(e.fold), unsafe.Sizeof(e),
		unsafe.Sizeof(c.entries), unsafe.Sizeof(byteMasks[0]), unsafe.Sizeof(asciiGap),
	}
	want := []uintptr{0, 4, 8, 16, 24, 25, 32, 0, 8, 16, 24, 32, 32 << 14, 16, 256}
	if !slices.Equal(got, want) || wordBatch != 1024 || wordCacheBits != 14 {
		t.Fatalf("layouts %v, want %v (wordcache_amd64.s reads and writes them)", got, want)
	}
}

// TestWordBitmapBlocks holds the bitmap of whole 64-byte blocks (SSE2 on
// amd64) to wordBits64, over every byte value at every position and over
// random texts.
func TestWordBitmapBlocks(t *testing.T) {
	check := func(text string) {
		t.Helper()
		bm := make([]uint64, len(text)/64)
		wordBitmapBlocks(text, bm)
		for k := range bm {
			if want := wordBits64(text, k*64); bm[k] != want {
				t.Fatalf("block %d of %q: %064b, want %064b", k, text[k*64:k*64+64], bm[k], want)
			}
		}
	}
	for b := range 256 {
		for pos := range 64 {
			block := []byte(strings.Repeat("a ", 64))
			block[pos] = byte(b)
			check(string(block))
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for n := range 2000 {
		size := rng.IntN(700)
		if n%500 == 0 {
			size = 200_000 // past the 64 KB an assembly call reads
		}
		text := make([]byte, size)
		for i := range text {
			text[i] = byte(rng.IntN(256))
		}
		check(string(text))
	}
	// A bitmap longer than its text would have the assembly read past the
	// text: a panic, never a read out of bounds.
	for _, short := range []string{"", "a", strings.Repeat("a ", 31) + "a", strings.Repeat("ab", 64)[:127]} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("wordBitmapBlocks(%d bytes, %d blocks) did not panic", len(short), len(short)/64+1)
				}
			}()
			wordBitmapBlocks(short, make([]uint64, len(short)/64+1))
		}()
	}
}

// TestRunesBefore holds the rune counts before every 8 bytes (SSE2 on
// amd64) to utf8.RuneCount, on valid and invalid text, even and odd counts.
func TestRunesBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	pieces := []string{"a", " ", "ệ", "Đ", "\u201c", "😀", "\x80", "\xbf", "\xc0", "ư"}
	for n := range 3000 {
		var b strings.Builder
		if n%500 == 0 {
			// Past the 64 KB an assembly call reads.
			b.WriteString(strings.Repeat("ệ a😀 ", 9000))
		}
		for range rng.IntN(200) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := []byte(b.String())
		runes := make([]int32, len(text)/8)
		total := runesBefore(text, runes)
		for k, got := range runes {
			if want := countRuneStarts(text[:8*k]); got != want {
				t.Fatalf("runes before byte %d of %q: %d, want %d", 8*k, text, got, want)
			}
		}
		if want := countRuneStarts(text[:8*len(runes)]); total != want {
			t.Fatalf("runes of %q[:%d]: %d, want %d", text, 8*len(runes), total, want)
		}
	}
}

// countRuneStarts counts the bytes that are not continuation bytes: the
// runes of valid UTF-8.
func countRuneStarts(b []byte) int32 {
	n := int32(0)
	for _, c := range b {
		if c&0xC0 != 0x80 {
			n++
		}
	}
	return n
}
