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
// placement aside; a number slot is a word), and a slot stands for the
// forms the number prefixes give it too: with "hơn" listed, "giảm hơn <n>%
// khí thải" holds "giảm <n>% khí thải". A pair is left out where the shorter
// phrase is unfolded and the longer is not: typed without diacritics only
// the longer one matches.
func (rs *Ruleset) RedundantPhrases() []RedundantPhrase {
	prefixes, _ := numberPrefixes(rs.NumberPrefixes) // the loader let no wordless prefix through
	var out []RedundantPhrase
	for _, th := range rs.Themes {
		for _, t := range th.Terms {
			out = appendRedundant(out, prefixes, th.ID, "term", t.ID, t.Line, append([]string{t.Text}, t.Variants...), t.Unfolded)
		}
		for _, ex := range th.Exclusions {
			out = appendRedundant(out, prefixes, th.ID, "exclusion", ex.ID, ex.Line, append([]string{ex.Text}, ex.Variants...), ex.Unfolded)
		}
	}
	return out
}

// appendRedundant appends one entry's pairs. A slot's forms come from the
// compiler's own expansion (withPrefixes), so the two cannot disagree.
func appendRedundant(out []RedundantPhrase, prefixes []numberPrefix, theme, kind, id string, line int, phrases, unfolded []string) []RedundantPhrase {
	keys := make([][]uint64, len(phrases))
	forms := make([][][]uint64, len(phrases)) // each phrase's words with the prefixes the slots take
	for i, text := range phrases {
		keys[i], forms[i] = phraseForms(text, prefixes)
	}
	for i, longer := range keys {
		for j, shorter := range keys {
			if i == j || !holds(longer, shorter, forms[j]) {
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

// phraseForms returns a phrase's words as the matcher compares them (key)
// and the forms the number prefixes give its slots (forms, key first); nil
// for a phrase without words.
func phraseForms(text string, prefixes []numberPrefix) (key []uint64, forms [][]uint64) {
	p, err := newPattern(text, false, false)
	if err != nil {
		return nil, nil
	}
	prefixed, err := withPrefixes(p, prefixes)
	if err != nil {
		prefixed = []pattern{p}
	}
	for _, q := range prefixed {
		forms = append(forms, q.strict)
	}
	return p.strict, forms
}

// holds reports whether the phrase longer holds, word for word, the
// shorter phrase (its key, or one of the forms the prefixes give it), a
// phrase of fewer words.
func holds(longer, shorter []uint64, shorterForms [][]uint64) bool {
	return len(shorter) > 0 && len(shorter) < len(longer) &&
		slices.ContainsFunc(shorterForms, func(f []uint64) bool { return containsRun(longer, f) })
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
