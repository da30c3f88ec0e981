package tagger

import (
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// unmarker strips every combining mark and writes đ/Đ as d/D: Vietnamese
// as typed on a keyboard without a Vietnamese input method.
var unmarker = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), runes.Map(func(r rune) rune {
	switch r {
	case 'đ':
		return 'd'
	case 'Đ':
		return 'D'
	}
	return r
}), norm.NFC)

// Unmark returns s typed without diacritics ("Trí tuệ nhân tạo" → "Tri tue
// nhan tao"). Rule authors use it to see what a reader typing without marks
// gets: a `folded` term still matches, a term with `folded: false` does not.
func Unmark(s string) string {
	out, _, _ := transform.String(unmarker, s) // norm and runes transformers never fail
	return out
}
