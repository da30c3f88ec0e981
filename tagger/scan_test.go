package tagger

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// referenceScan is scan written the slow, obvious way (one rune at a time
// through utf8.DecodeRuneInString and lookupRune); the scanner's fast
// paths must give exactly its tokens, status and offset.
func referenceScan(text string, checkNFC bool) ([]token, scanStatus, int) {
	var toks []token
	var gap uint8
	read := func(i int) (runeInfo, int, scanStatus) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size == 1 {
			return runeInfo{}, size, scanInvalidUTF8
		}
		info := lookupRune(r)
		if checkNFC && info.flags&rNotNFC != 0 {
			return info, size, scanNotNFC
		}
		return info, size, scanOK
	}
	hash := func(rs []rune) uint64 {
		h := uint64(fnvOffset)
		for _, r := range rs {
			h = (h ^ uint64(r)) * fnvPrime
		}
		return h
	}
	for i := 0; i < len(text); {
		info, size, status := read(i)
		if status != scanOK {
			return toks, status, i
		}
		if info.class != clsWord {
			if info.class != clsIgnore {
				gap |= gapFlag(info.class)
			}
			i += size
			continue
		}
		tk := token{start: int32(i), gap: gap}
		var bases, folds []rune
		var tone uint8
		wordEnd := i // after the last word rune
		for i < len(text) {
			if info, size, status = read(i); status != scanOK {
				return toks, status, i
			}
			if info.class == clsIgnore {
				i += size
				continue
			}
			if info.class != clsWord {
				break
			}
			tk.flags |= info.flags &^ rNotNFC
			if info.tone != 0 {
				tone = info.tone
			}
			if info.base >= 0 {
				bases = append(bases, info.base)
				if info.fold >= 0 {
					folds = append(folds, info.fold)
				}
			}
			i += size
			wordEnd = i
		}
		tk.fold = hash(folds)
		if tone != 0 {
			bases = append(bases, toneSalt+rune(tone))
		}
		tk.strict = hash(bases)
		tk.end = int32(wordEnd)
		toks = append(toks, tk)
		gap = 0
	}
	return toks, scanOK, 0
}

// scanPieces are the kinds of text the scanner must get right: ASCII
// words, precomposed Vietnamese in two- and three-byte sequences,
// combining marks (non-NFC), separators of every class, the E0 and ED
// leads, four-byte runes, runes beyond the table, and invalid bytes.
var scanPieces = []string{
	"a", "Z", "7", "AI", "chip", " ", "  ", "\t", "\n", "\r\n", "-", "–", ",", ".", "(", "\"",
	"ệ", "Việt", "Nam", "đ", "Đ", "ơ", "ư", "à", "ả", "ã", "ạ", "hoà", "thủy", "TRÍ", "tuệ", "nhân", "tạo",
	"é", "ß", "ñ", "Ω", "Ж", "ǅ", "ǈ", "Ÿ", "K", "²", "٣", "０", "ｱ", "\u034f",
	"\u0301", "\u0323", "\u0302", "e\u0302\u0301", "a\u0300", "\u0340",
	"\u2019", "\u201c", "\u2026", "\u2010", "\u2028", "\u200b", "\ufeff", "\u00a0",
	"\u00ad", "\u200c", "\u200d", "\u2060", "Ð", "ð", "semi\u00adconductor",
	"\u0800", "\ud7ff", "\ue000", "\uffff", "😀", "𝔸", "\U0010FFFF", "한국", "中文",
	"\xff", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xc3", "\xe1\xbb", "\xf0\x9f", "\x80", "\xbf",
}

func checkScan(t *testing.T, text string) {
	t.Helper()
	for _, checkNFC := range []bool{true, false} {
		wantToks, wantStatus, wantAt := referenceScan(text, checkNFC)
		gotToks, gotStatus, gotAt, _ := scan(text, nil, checkNFC)
		if gotStatus != wantStatus || gotAt != wantAt {
			t.Fatalf("scan(%q, %v): status %d at %d, want %d at %d", text, checkNFC, gotStatus, gotAt, wantStatus, wantAt)
		}
		if gotStatus == scanOK && !slices.Equal(gotToks, wantToks) { // on an error the caller drops the tokens
			t.Fatalf("scan(%q, %v) tokens:\n got  %+v\n want %+v", text, checkNFC, gotToks, wantToks)
		}
		checkCachedScan(t, text, checkNFC, wantToks, wantStatus, wantAt)
	}
}

// cacheTagger's word cache serves checkCachedScan: one for all the random
// texts, so that words stored by one text are hits in the next.
var cacheTagger struct {
	once  sync.Once
	cache *wordCache
}

// checkCachedScan holds the word cache's fast path to the reference: the
// same tokens, status and offset, the second time too (when the text's
// words are in the cache), and a candidate list that is in text order and
// leaves out no token that may start a pattern.
func checkCachedScan(t *testing.T, text string, checkNFC bool, wantToks []token, wantStatus scanStatus, wantAt int) {
	t.Helper()
	cacheTagger.once.Do(func() { cacheTagger.cache = newWordCache(defaultT(t)) })
	cache := cacheTagger.cache
	tg := cache.t
	for pass := range 2 {
		toks, cands, status, at, _ := scanWords(text, nil, nil, checkNFC, cache)
		if status != wantStatus || at != wantAt {
			t.Fatalf("cached scan %d of %q (%v): status %d at %d, want %d at %d", pass, text, checkNFC, status, at, wantStatus, wantAt)
		}
		if status != scanOK {
			continue
		}
		if !slices.Equal(toks, wantToks) {
			t.Fatalf("cached scan %d of %q (%v) tokens:\n got  %+v\n want %+v", pass, text, checkNFC, toks, wantToks)
		}
		if !slices.IsSorted(cands) || len(slices.Compact(slices.Clone(cands))) != len(cands) {
			t.Fatalf("cached scan %d of %q: candidates %v not in order", pass, text, cands)
		}
		for i, tk := range toks {
			// A word with diacritics starts a folded pattern only with
			// the pattern's own diacritics, so by its strict key.
			unmarked := tk.flags&tokMarked == 0
			if (tg.startStrict.first.has(tk.strict) || tg.hasFold && unmarked && tg.startFold.first.has(tk.fold)) && !slices.Contains(cands, int32(i)) {
				t.Fatalf("cached scan %d of %q: token %d (%q) may start a pattern but is not a candidate %v", pass, text, i, text[tk.start:tk.end], cands)
			}
		}
	}
}

// TestCachedScanOnLongTexts: texts long enough for the fast path (it
// leaves the last 16 bytes to the scan's own path), with words that
// repeat, and the pieces that must make it step aside (marks, non-ASCII
// separators, ignorables, invalid bytes) between them.
func TestCachedScanOnLongTexts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"trí", "tuệ", "nhân", "tạo", "Việt", "Nam", "người", "được", "nghiêng", "chip", "AI", "ai", "2017", "semiconductors", "x", "Đà", "Nẵng", "thuỷ", "THỦY"}
	for range 5000 {
		checkScan(t, randomText(rng, words, 10+rng.IntN(40), 6))
	}
	// Runs of over 1,024 cached words with ASCII separators only: the
	// cached loop fills its room, stops and goes on (gaps included).
	for _, sep := range []string{" ", ", ", "; ", " - "} {
		checkScan(t, strings.Repeat("Trí tuệ nhân tạo"+sep+"và chip bán dẫn"+sep+"người được 2026"+sep, 400))
	}
}

// randomText strings n words (and, one time in oneIn, a piece of
// scanPieces instead), each followed by a separator: spaces mostly, and
// punctuation, a line break, a hyphen, a curly quote or an ellipsis.
func randomText(rng *rand.Rand, words []string, n, oneIn int) string {
	var b strings.Builder
	for range n {
		if rng.IntN(oneIn) == 0 {
			b.WriteString(scanPieces[rng.IntN(len(scanPieces))])
		} else {
			b.WriteString(words[rng.IntN(len(words))])
		}
		b.WriteString([]string{" ", " ", " ", ", ", ".\n", "-", "\u201c", " (", "  ", "\u2026 "}[rng.IntN(10)])
	}
	return b.String()
}

// TestScanMatchesReference holds the scanner to referenceScan over random
// texts built from scanPieces, whole and cut near the end (where the fast
// paths have fewer bytes to look at), and over every rune of the table.
func TestScanMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(scanPieces[rng.IntN(len(scanPieces))])
		}
		text := b.String()
		for cut := max(0, len(text)-4); cut <= len(text); cut++ {
			checkScan(t, text[:cut])
		}
	}
	for r := rune(0); r < runeTableSize+0x100; r++ {
		checkScan(t, string(r))
		checkScan(t, fmt.Sprintf("ab%cde f", r))
	}
}

// FuzzScan: the scanner agrees with referenceScan on any bytes.
func FuzzScan(f *testing.F) {
	for _, s := range scanPieces {
		f.Add(s + " x" + s + "ệ")
	}
	f.Fuzz(func(t *testing.T, text string) { checkScan(t, text) })
}

// TestContinuationBytes: what fillOffsets counts runes with, eight bytes
// at a time, against utf8.RuneCountInString.
func TestContinuationBytes(t *testing.T) {
	text := "Trí tuệ nhân tạo 😀 và chip bán dẫn, “AI” … 한국 中文 ệ x\u0301" + strings.Join(scanPieces[:len(scanPieces)-9], "")
	for i := 0; i+8 <= len(text); i++ {
		for n := 0; n <= 8; n++ {
			x := load64(text, i) & (^uint64(0) >> (64 - 8*n) * uint64(min(n, 1)))
			want := 0
			for _, c := range []byte(text[i : i+n]) {
				if c&0xC0 == 0x80 {
					want++
				}
			}
			if got := continuationBytes(x); got != want {
				t.Fatalf("continuationBytes of %q = %d, want %d", text[i:i+n], got, want)
			}
		}
	}
}
