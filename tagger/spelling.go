package tagger

import (
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Vietnamese writes a syllable of an initial consonant and a lone i or y
// either way: "bác sĩ" / "bác sỹ", "kỹ sư" / "kĩ sư", "quy định" / "qui
// định", "lý do" / "lí do", "tỷ đồng" / "tỉ đồng". Both spellings are
// current (the 2017 corpus has "bác sỹ" in one in seven of its doctors), so
// a term written one way matches the other: Compile adds the other spelling
// of each such word as a pattern of the same term (iyVariants), and the
// loader counts the two as the same words (checkPhrase).
//
// The initials are those whose i/y syllables vary in practice: h, k, l, m,
// s, t and qu. Not "v" ("Vy" is a name), "th" ("Thy"), nor a syllable with
// another vowel ("thủy", "tuỳ": the mark placement is handled elsewhere).
var iyInitials = []string{"h", "k", "l", "m", "s", "t", "qu"}

// iySwap returns word with its final i written y or its final y written i
// (tone and case kept), and whether the word is such a syllable.
func iySwap(word string) (string, bool) {
	if utf8.RuneCountInString(word) > 3 || !endsInIY(word) { // "quý" is the longest, in NFC
		return "", false
	}
	d := []rune(norm.NFD.String(word))
	// the base letters: the word without its combining marks, lower-cased
	var letters []rune
	last := -1
	for i, r := range d {
		if isMark(r) {
			continue
		}
		letters = append(letters, r)
		last = i
	}
	if len(letters) < 2 {
		return "", false
	}
	lower := strings.ToLower(string(letters))
	vowel := lower[len(lower)-1]
	if vowel != 'i' && vowel != 'y' {
		return "", false
	}
	if !slices.Contains(iyInitials, lower[:len(lower)-1]) {
		return "", false
	}
	switch d[last] {
	case 'i':
		d[last] = 'y'
	case 'y':
		d[last] = 'i'
	case 'I':
		d[last] = 'Y'
	case 'Y':
		d[last] = 'I'
	}
	return norm.NFC.String(string(d)), true
}

// isMark: a combining mark (NFD text), as the tokenizer's rune table has it
// (a mark has no letter of its own to fold to).
func isMark(r rune) bool { return lookupRune(r).fold < 0 }

// isIY: the letter is an i or a y, with or without a tone.
func isIY(r rune) bool {
	f := lookupRune(r).fold
	return f == 'i' || f == 'y'
}

// endsInIY: the word's last letter is an i or a y.
func endsInIY(word string) bool {
	r, size := utf8.DecodeLastRuneInString(word)
	for isMark(r) && size > 0 { // NFD: skip the marks
		word = word[:len(word)-size]
		r, size = utf8.DecodeLastRuneInString(word)
	}
	return isIY(r)
}

// hasShortIYWord says cheaply (no allocation) whether text may hold an i/y
// syllable: a run of at most three letters ending in i or y.
func hasShortIYWord(text string) bool {
	n := 0
	var last rune
	for _, r := range text {
		switch {
		case isMark(r):
		case lookupRune(r).class == clsWord:
			n, last = n+1, r
		default:
			if n > 0 && n <= 3 && isIY(last) {
				return true
			}
			n = 0
		}
	}
	return n > 0 && n <= 3 && isIY(last)
}

// iyVariants returns p written with the other spelling of each of its i/y
// words, in every combination (at most 7 more patterns: three such words).
func iyVariants(p pattern) []pattern {
	if !hasShortIYWord(p.text) {
		return nil
	}
	words, _ := phraseWords(p.text)
	if len(words) != len(p.strict) {
		return nil
	}
	type alt struct {
		i            int
		strict, fold uint64
	}
	var alts []alt
	for i, w := range words {
		if w.strict != p.strict[i] {
			continue // an inflected last word: its key is not its text's
		}
		other, ok := iySwap(p.text[w.start:w.end])
		if !ok {
			continue
		}
		ow, _ := phraseWords(other)
		if len(ow) != 1 {
			continue
		}
		alts = append(alts, alt{i, ow[0].strict, ow[0].fold})
		if len(alts) == 3 {
			break
		}
	}
	var out []pattern
	for mask := 1; mask < 1<<len(alts); mask++ {
		q := p
		q.strict = append([]uint64(nil), p.strict...)
		q.fold = append([]uint64(nil), p.fold...)
		for j, a := range alts {
			if mask&(1<<j) != 0 {
				q.strict[a.i], q.fold[a.i] = a.strict, a.fold
			}
		}
		out = append(out, q)
	}
	return out
}
