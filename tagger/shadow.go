package tagger

import "strings"

// ShadowingPhrase is a phrase of one term that holds, word for word, a
// phrase of another term of the same theme, where the longer one's match
// counts for less. Of a theme's matches starting at the same word the
// longest wins and a match inside it is dropped, before weak terms, needs
// and exclusions are read: wherever the longer phrase matches, the shorter
// term's match is gone and the longer term's stands for it, so the longer
// phrase lowers the tag ("chip" of weight 1 inside "chip khoai tây" of
// weight 0.3).
type ShadowingPhrase struct {
	Theme                       string
	Longer, Shorter             string  // the phrases
	LongerTerm, ShorterTerm     string  // their terms' ids
	LongerWeight, ShorterWeight float64 // a context term's is 0
	// Reason is the first of: "lower weight" (the longer term's weight is
	// lower; a context term counts as 0), "weak" (the longer term is weak,
	// the shorter is not) and "needs" (the longer term has needs, the
	// shorter has none).
	Reason string
	Line   int // the longer term's line in its file (0 when unknown)
}

// ShadowingPhrases lists the ruleset's shadowing phrases in file order (of
// the longer phrase's term). Words compare as RedundantPhrases compares
// them, a number slot with the forms the number prefixes give it; case and
// folding are left aside, for wherever both phrases match the same text the
// longer wins, except that a case-sensitive shorter phrase must stand in the
// longer as written ("Pony.ai" does not hold "AI"). Exclusions are not
// read, and a pair where the shorter term is the weak, needing or context
// one is left out: there the longer phrase only helps, or costs no more
// than the setting a context word gives.
func (rs *Ruleset) ShadowingPhrases() []ShadowingPhrase {
	prefixes, _ := numberPrefixes(rs.NumberPrefixes) // the loader let no wordless prefix through
	type phrase struct {
		term  int // index in the theme's terms
		text  string
		key   []uint64
		forms [][]uint64
	}
	var out []ShadowingPhrase
	for _, th := range rs.Themes {
		var phrases []phrase // the theme's, in file order
		for ti, t := range th.Terms {
			for _, text := range append([]string{t.Text}, t.Variants...) {
				key, forms := phraseForms(text, prefixes)
				if key != nil {
					phrases = append(phrases, phrase{ti, text, key, forms})
				}
			}
		}
		for _, long := range phrases {
			a := &th.Terms[long.term]
			for _, short := range phrases {
				if short.term == long.term {
					continue
				}
				b := &th.Terms[short.term]
				reason := shadowReason(a, b)
				if reason == "" || !holds(long.key, short.key, short.forms) ||
					(b.CaseSensitive && !strings.Contains(long.text, short.text)) {
					continue
				}
				out = append(out, ShadowingPhrase{
					Theme: th.ID, Longer: long.text, Shorter: short.text,
					LongerTerm: a.ID, ShorterTerm: b.ID,
					LongerWeight: a.Weight, ShorterWeight: b.Weight,
					Reason: reason, Line: a.Line,
				})
			}
		}
	}
	return out
}

// shadowReason says how term a's match counts for less than term b's
// would, or "" when it does not.
func shadowReason(a, b *Term) string {
	switch {
	case b.Context:
		// b counts nothing itself: a longer phrase over it costs at most the
		// setting it gives weak terms, which is how weak phrases that name
		// their own setting are written ("patient app" over "patient").
		return ""
	case a.Weight < b.Weight: // a context term's weight is 0
		return "lower weight"
	case a.Weak && !b.Weak:
		return "weak"
	case len(a.Needs) > 0 && len(b.Needs) == 0:
		return "needs"
	}
	return ""
}
