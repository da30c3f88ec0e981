package tagger

import "slices"

// RedundantPhrase is a phrase of a term or an exclusion that holds another
// phrase of the same entry word for word ("trained on <n> images" and
// "model trained on <n> images"): it matches nowhere the shorter one does
// not, with the same id and weight, so it only makes the file longer.
type RedundantPhrase struct {
	Theme string
	// Kind is "term" or "exclusion"; Entry is its id.
	Kind, Entry     string
	Longer, Shorter string
	Line            int // the entry's line in its file (0 when unknown)
}

// RedundantPhrases lists the ruleset's redundant phrases, in file order.
// Words compare as the matcher compares them (case, Unicode form and tone
// placement aside; a number slot is a word). A pair is left out where the
// shorter phrase is unfolded and the longer is not: typed without
// diacritics only the longer one matches.
func (rs *Ruleset) RedundantPhrases() []RedundantPhrase {
	var out []RedundantPhrase
	for _, th := range rs.Themes {
		for _, t := range th.Terms {
			out = appendRedundant(out, th.ID, "term", t.ID, t.Line, append([]string{t.Text}, t.Variants...), t.Unfolded)
		}
		for _, ex := range th.Exclusions {
			out = appendRedundant(out, th.ID, "exclusion", ex.ID, ex.Line, append([]string{ex.Text}, ex.Variants...), ex.Unfolded)
		}
	}
	return out
}

func appendRedundant(out []RedundantPhrase, theme, kind, id string, line int, phrases, unfolded []string) []RedundantPhrase {
	keys := make([][]uint64, len(phrases))
	for i, p := range phrases {
		words, _ := phraseWords(p)
		for _, w := range words {
			keys[i] = append(keys[i], w.strict)
		}
	}
	for i, longer := range keys {
		for j, shorter := range keys {
			if i == j || len(shorter) == 0 || len(shorter) >= len(longer) || !containsRun(longer, shorter) {
				continue
			}
			if slices.Contains(unfolded, phrases[j]) && !slices.Contains(unfolded, phrases[i]) {
				continue
			}
			out = append(out, RedundantPhrase{Theme: theme, Kind: kind, Entry: id, Longer: phrases[i], Shorter: phrases[j], Line: line})
		}
	}
	return out
}

// containsRun reports whether run stands in s, element for element.
func containsRun(s, run []uint64) bool {
	for k := 0; k+len(run) <= len(s); k++ {
		if slices.Equal(s[k:k+len(run)], run) {
			return true
		}
	}
	return false
}
