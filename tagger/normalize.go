package tagger

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Matching works on word tokens (Vietnamese syllables, English words,
// numbers). Each token gets two 64-bit keys computed in the same pass that
// finds it:
//
//   - strict: lower-cased letters with their vowel-quality marks (â ă ê ô ơ
//     ư đ) but with the tone mark taken off and added back as a number for
//     the whole syllable. Where the tone mark sits (hoà/hòa, thuỷ/thủy) thus
//     does not matter, and NFC/NFD do not either (non-NFC input is
//     normalised first, see tag.go).
//   - fold: the bare letters, with every mark removed and đ as d: the key of
//     text typed without diacritics ("tri tue nhan tao").

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	// toneSalt keeps tone numbers out of the range of code points.
	toneSalt = 0x110000
)

// Character classes.
const (
	clsOther   uint8 = iota // punctuation, symbols: breaks phrases
	clsSpace                // spaces and tabs
	clsNewline              // line breaks (phrases match across one, not across a blank line)
	clsHyphen               // hyphens: phrases match across them where allowed
	clsWord                 // letters, digits and combining marks
	clsIgnore               // invisible format characters (soft hyphen, ZWJ ...): skipped, even inside a word
)

// Token flags.
const (
	tokMarked uint8 = 1 << iota // has a diacritic (tone, quality mark, or đ)
	tokUpper                    // has an upper-case letter
	tokLower                    // has a lower-case letter
)

// Gap flags: what separates a token from the one before it.
const (
	gapSpace uint8 = 1 << iota
	gapNewline
	gapHyphen
	gapOther
)

// runeInfo is what the scanner needs to know of one rune.
type runeInfo struct {
	class uint8
	tone  uint8 // 0 none, 1 huyền, 2 sắc, 3 hỏi, 4 ngã, 5 nặng
	flags uint8 // tokMarked, tokUpper, tokLower as for a token; plus rNotNFC
	fast  bool  // a word rune wordRun takes: it leaves the text NFC and is not a lone mark
	base  rune  // lower case, tone removed, quality marks kept
	fold  rune  // lower case, every mark removed
}

// rNotNFC marks a rune that may make a text non-NFC (a combining mark, or a
// character NFC replaces); a text with one goes through the slow path.
const rNotNFC uint8 = 1 << 7

// runeTableSize covers Latin, the combining marks, Greek, Cyrillic, Latin
// Extended Additional (where precomposed Vietnamese letters live) and the
// general punctuation of news text (curly quotes, dashes, ellipsis).
const runeTableSize = 0x2200

var runeTable [runeTableSize]runeInfo

// The ASCII part of runeTable in the forms the scanner's fast path wants:
// the lower-case byte of a word character (0 for a separator), its case
// flags, and the gap flag of a separator.
var (
	asciiLower [128]byte
	asciiGap   [256]uint8 // 256: indexed by any byte without a bounds check
	// asciiWord packs, for a word byte, its token flags (bits 0-7) and its
	// lower-case byte (bits 8-15); 0 for any other byte, 0x80-0xFF
	// included.
	asciiWord [256]uint32
	// leadSize is, for the lead byte of a two- or three-byte rune that
	// wordRun decodes, its length; 0 for any other byte. E0 (which may
	// start an overlong form) and four-byte runes are left to readRune.
	leadSize [256]uint8
)

func init() {
	for r := rune(0); r < runeTableSize; r++ {
		runeTable[r] = computeRuneInfo(r)
	}
	for c := 0xC2; c <= 0xDF; c++ {
		leadSize[c] = 2
	}
	for c := 0xE1; c <= 0xEF; c++ {
		leadSize[c] = 3
	}
	for c := 0; c < 128; c++ {
		info := runeTable[c]
		if info.class == clsWord {
			asciiLower[c] = byte(info.base)
			asciiWord[c] = uint32(info.flags&^rNotNFC) | uint32(info.base)<<8
		} else {
			asciiGap[c] = gapFlag(info.class)
		}
	}
}

// combining marks that carry Vietnamese tones.
func toneOf(mark rune) uint8 {
	switch mark {
	case 0x0300, 0x0340: // grave: huyền
		return 1
	case 0x0301, 0x0341: // acute: sắc
		return 2
	case 0x0309: // hook above: hỏi
		return 3
	case 0x0303: // tilde: ngã
		return 4
	case 0x0323: // dot below: nặng
		return 5
	}
	return 0
}

func classOf(r rune) uint8 {
	switch {
	case r == 0x00AD || r == 0x200C || r == 0x200D || r == 0x2060:
		// Soft hyphen, zero-width (non-)joiner, word joiner: web text
		// carries them inside words ("semi\u00ADconductor").
		return clsIgnore
	case r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029:
		return clsNewline
	case r == '-' || r == 0x2010 || r == 0x2011:
		return clsHyphen
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me):
		return clsWord
	case unicode.IsSpace(r) || r == 0x200B || r == 0xFEFF:
		return clsSpace
	}
	return clsOther
}

func computeRuneInfo(r rune) runeInfo {
	info := baseRuneInfo(r)
	info.fast = info.class == clsWord && info.flags&rNotNFC == 0 && info.fold >= 0
	return info
}

func baseRuneInfo(r rune) runeInfo {
	info := runeInfo{class: classOf(r), base: r, fold: r}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	props := norm.NFC.Properties(buf[:n])
	if !props.BoundaryBefore() || !norm.NFC.IsNormal(buf[:n]) {
		info.flags |= rNotNFC
	}
	if info.class != clsWord {
		return info
	}
	if unicode.IsUpper(r) {
		info.flags |= tokUpper
	}
	if unicode.IsLower(r) {
		info.flags |= tokLower
	}
	lower := unicode.ToLower(r)
	if lower == 'đ' || lower == 'ð' { // Ð (eth) is what some legacy converters write for Đ
		info.base, info.fold = 'đ', 'd'
		info.flags |= tokMarked
		return info
	}
	// Split into the base letter and its marks; keep the quality marks,
	// turn the tone mark into a number.
	decomposed := []rune(norm.NFD.String(string(lower)))
	if len(decomposed) == 1 && unicode.In(decomposed[0], unicode.Mn) {
		// A lone combining mark (NFD input reaches here only through the
		// slow path, which composes first; what is left stays a mark).
		if t := toneOf(decomposed[0]); t != 0 {
			info.tone = t
			info.flags |= tokMarked
			info.base, info.fold = -1, -1 // contributes its tone only
			return info
		}
		info.flags |= tokMarked
		info.fold = -1
		info.base = r
		return info
	}
	kept := decomposed[:1]
	for _, m := range decomposed[1:] {
		if t := toneOf(m); t != 0 {
			info.tone = t
			continue
		}
		kept = append(kept, m)
	}
	if len(decomposed) > 1 {
		info.flags |= tokMarked
	}
	composed := []rune(norm.NFC.String(string(kept)))
	if len(composed) == 1 {
		info.base = composed[0]
	} else {
		info.base = lower
	}
	info.fold = decomposed[0]
	return info
}

// rareRunes caches the info of runes beyond the table (CJK, emoji ...).
var rareRunes sync.Map // rune -> runeInfo

// lookupRune returns the info of r.
func lookupRune(r rune) runeInfo {
	if r < runeTableSize {
		return runeTable[r]
	}
	if v, ok := rareRunes.Load(r); ok {
		return v.(runeInfo)
	}
	info := computeRuneInfo(r)
	rareRunes.Store(r, info)
	return info
}

// token is one word of the (normalised) text. Rune and UTF-16 offsets are
// not kept: fillOffsets counts them for the evidence alone.
type token struct {
	start, end int32 // byte offsets in the text that was scanned
	strict     uint64
	fold       uint64
	gap        uint8 // gap flags: what stands between the previous token and this one
	flags      uint8
}

// scanStatus says why scanning stopped early.
type scanStatus int

const (
	scanOK scanStatus = iota
	scanNotNFC
	scanInvalidUTF8
)

// scan splits text into tokens, appending them to toks. With checkNFC it
// stops with scanNotNFC at the first rune that may make the text non-NFC
// (the caller then normalises and scans again). It stops with
// scanInvalidUTF8 (and the offset) at the first invalid byte sequence.
// astral is the offset of the first rune outside the Basic Multilingual
// Plane (four bytes in UTF-8, two code units in UTF-16), or -1 if the text
// scanned has none: such runes never take wordRun's path (nor are they
// clsIgnore, skipped by wordAfterIgnorables), so noting them costs the hot
// loop nothing.
func scan(text string, toks []token, checkNFC bool) (_ []token, _ scanStatus, at, astral int) {
	toks, _, status, at, astral := scanWords(text, toks, nil, checkNFC, nil)
	return toks, status, at, astral
}

// scanWords is scan with the fast path of a word cache (nil for none),
// and cands: the indices of the tokens that may start a pattern, in text
// order: with a cache, those that may start a pattern of its Tagger
// (mayStart); without one, every token.
func scanWords(text string, toks []token, cands []int32, checkNFC bool, cache *wordCache) (_ []token, _ []int32, _ scanStatus, at, astral int) {
	var gap uint8
	astral = -1
	n := len(text)
	if cache != nil {
		cache.wordBitmap(text)
	}
	for i := 0; i < n; {
		// Words seen before: their keys from the cache (see wordCache).
		if cache != nil && i+16 <= n && cache.bitmap[i>>6]>>(i&63)&1 != 0 {
			i, gap, toks, cands = cache.words(text, i, gap, toks, cands)
			if i >= n {
				break
			}
		}
		c := text[i]
		// Between tokens: gather what separates them.
		if c < utf8.RuneSelf {
			if asciiLower[c] == 0 {
				gap |= asciiGap[c]
				i++
				continue
			}
		} else {
			info, size, status := readRune(text, i, checkNFC)
			if status != scanOK {
				return toks, cands, status, i, astral
			}
			if size == utf8.UTFMax && astral < 0 {
				astral = i
			}
			if info.class != clsWord {
				gap |= gapFlag(info.class)
				i += size
				continue
			}
		}
		// A token starts at i: read it to its end, hashing as it goes.
		start := i
		var (
			hs, hf uint64 = fnvOffset, fnvOffset // strict and fold hashes
			acc    uint32                        // token flags in the low byte
			tone   uint8
		)
		for first := true; ; first = false {
			i, hs, hf, acc, tone = wordRun(text, i, hs, hf, acc, tone)
			if i >= n || text[i] < utf8.RuneSelf {
				if first && cache != nil {
					// wordRun read the whole word: its runes are
					// valid, NFC and plain letters, so the same bytes
					// always make this token.
					cache.store(text, start, i, finishStrict(hs, tone), hf, uint8(acc))
				}
				break // the end, or an ASCII separator read again by the outer loop
			}
			// A rune wordRun leaves to the careful path.
			info, size, status := readRune(text, i, checkNFC)
			if status != scanOK {
				return toks, cands, status, i, astral
			}
			if size == utf8.UTFMax && astral < 0 {
				astral = i
			}
			if info.class != clsWord {
				if info.class == clsIgnore {
					// Inside the word if a letter follows; else the word
					// ends before it (the outer loop skips it).
					if next, ok := wordAfterIgnorables(text, i); ok {
						i = next
						continue
					}
				}
				break // the separator is read again by the outer loop
			}
			acc |= uint32(info.flags &^ rNotNFC)
			if info.tone != 0 {
				tone = info.tone
			}
			if info.base >= 0 { // a lone tone mark (slow path only) adds just its tone
				hs = (hs ^ uint64(info.base)) * fnvPrime
				if info.fold >= 0 {
					hf = (hf ^ uint64(info.fold)) * fnvPrime
				}
			}
			i += size
		}
		hs = finishStrict(hs, tone)
		if cache == nil || cache.t.mayStart(hs, hf, uint8(acc)) {
			cands = append(cands, int32(len(toks))) // match checks it
		}
		toks = append(toks, token{
			start: int32(start), end: int32(i), strict: hs, fold: hf, gap: gap, flags: uint8(acc),
		})
		gap = 0
	}
	return toks, cands, scanOK, 0, astral
}

// finishStrict hashes a syllable's tone into its strict key. Without a
// branch: about half the syllables have a tone, unpredictably.
func finishStrict(hs uint64, tone uint8) uint64 {
	toned := (hs ^ uint64(toneSalt+uint32(tone))) * fnvPrime
	if tone != 0 {
		hs = toned
	}
	return hs
}

// indexAstral is the offset of the first rune outside the Basic
// Multilingual Plane in text (led by a byte of 0xF0 or more in UTF-8),
// plus base, or -1 if there is none.
func indexAstral(text string, base int) int {
	for i := 0; i < len(text); i++ {
		if text[i] >= 0xF0 {
			return base + i
		}
	}
	return -1
}

// wordRun reads the word runes at text[i:] that need no call, hashing
// them: ASCII letters and digits, and the two- and three-byte runes of the
// table that are word runes and leave the text NFC (the letters of
// Vietnamese). It stops at anything else and returns where, with the
// token's state. The engine's hottest loop: a function of its own, never
// inlined, with its state in scalars (not a struct), so that the compiler
// keeps it in registers; in scan, values live across readRune's call
// would be spilled to memory on every byte.
//
//go:noinline
func wordRun(text string, i int, hs, hf uint64, acc uint32, tone uint8) (int, uint64, uint64, uint32, uint8) {
	for i < len(text) {
		c := text[i]
		if e := asciiWord[c]; e != 0 {
			lc := uint64(e>>8) & 0xFF
			hs = (hs ^ lc) * fnvPrime
			hf = (hf ^ lc) * fnvPrime
			acc |= e
			i++
			continue
		}
		// A two- or three-byte rune, decoded without branching on its
		// length: in Vietnamese words they alternate unpredictably (ô, ư,
		// đ are two bytes; ế, ộ, ữ three), and a mispredicted branch costs
		// more than decoding both ways.
		size := int(leadSize[c])
		if size == 0 || i+2 >= len(text) {
			break // a separator, a rune decoded elsewhere, or the text's end
		}
		// (Go compiles the ifs of such a choice to branches, so it is
		// written with masks: three is all ones for a three-byte rune.)
		c1, c2 := uint32(text[i+1]), uint32(text[i+2])
		three := -uint32(size - 2)
		r2 := uint32(c&0x1F)<<6 | c1&0x3F
		r3 := uint32(c&0x0F)<<12 | (c1&0x3F)<<6 | c2&0x3F
		r := r2 ^ (r2^r3)&three
		bad := c1&0xC0 ^ 0x80 | (c2&0xC0^0x80)&three // 0 when the continuation bytes are
		if bad != 0 || r >= runeTableSize {
			break
		}
		info := &runeTable[r]
		if !info.fast {
			break
		}
		acc |= uint32(info.flags)
		// the last tone mark counts: keep tone where info has none
		noTone := uint8((uint32(info.tone) - 1) >> 8) // 0xFF for none, else 0
		tone = info.tone | tone&noTone
		hs = (hs ^ uint64(info.base)) * fnvPrime
		hf = (hf ^ uint64(info.fold)) * fnvPrime
		i += size
	}
	return i, hs, hf, acc, tone
}

// readRune decodes and classifies the rune at text[i].
func readRune(text string, i int, checkNFC bool) (runeInfo, int, scanStatus) {
	r, size := utf8.DecodeRuneInString(text[i:])
	if r == utf8.RuneError && size == 1 {
		return runeInfo{}, size, scanInvalidUTF8
	}
	var info runeInfo
	if r < runeTableSize { // the table holds nearly every rune of real text
		info = runeTable[r]
	} else {
		info = lookupRune(r)
	}
	if checkNFC && info.flags&rNotNFC != 0 {
		return info, size, scanNotNFC
	}
	return info, size, scanOK
}

// wordAfterIgnorables looks past the clsIgnore runes at text[i:]: ok when
// a word rune follows them, at next.
func wordAfterIgnorables(text string, i int) (next int, ok bool) {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch lookupRune(r).class {
		case clsIgnore:
			i += size
		case clsWord:
			return i, true
		default:
			return i, false
		}
	}
	return i, false
}

// hasTwoLetters reports whether a word has two or more letters (not
// digits), as capsContext asks of the words around an acronym: counted
// then, for the few words it looks at, not by the scanner for every word.
func hasTwoLetters(word string) bool {
	n := 0
	for _, r := range word {
		if info := lookupRune(r); info.class == clsWord && info.base >= 0 && r >= 'A' {
			if n++; n == 2 {
				return true
			}
		}
	}
	return false
}

func gapFlag(cls uint8) uint8 {
	switch cls {
	case clsIgnore:
		return 0
	case clsSpace:
		return gapSpace
	case clsNewline:
		return gapNewline
	case clsHyphen:
		return gapHyphen
	}
	return gapOther
}
