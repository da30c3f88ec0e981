package tagger

import (
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Tagger is a compiled ruleset. It is immutable and safe for concurrent use.
type Tagger struct {
	rs       *Ruleset
	themeIdx map[string]int
	themeIDs []string

	terms    []compiledTerm // all themes' terms, theme by theme
	excls    []compiledExcl
	patterns []pattern
	// expansions are the indices into excls of the OtherExpansion ones.
	expansions []int

	// The matcher: a token trie for exact (strict) keys rooted at node 0 and
	// one for diacritic-free (fold) keys rooted at node 1, stored as one hash
	// map from (node, token key) to the next node.
	edges *edgeTable
	nodes int32
	// The patterns ending at node n are outPats[outStart[n]:outStart[n+1]],
	// in the order they were added.
	outStart, outPats []int32
	// plainGaps[p] is, for a pattern that needs no check but its gaps
	// (strict keys, no case, only spaces between its words), the gap flags
	// allowed between its words; 0 for the others, which verify checks.
	plainGaps []uint8
	// patText[p] is pattern p's text, for the evidence: the patterns
	// themselves are too large to read for it.
	patText []string
	// Start filters, one per trie: most tokens of a text start no pattern
	// and are skipped after a bit test or two.
	startStrict, startFold startFilter
	hasFold                bool
	// The same for the terms' Needs (rootNeedStrict, rootNeedFold).
	startNeedStrict, startNeedFold startFilter

	scratch sync.Pool // of *scratch
	// Word caches for this Tagger's scans, kept apart from the scratch
	// pool, which the garbage collector empties: a cache is worth its
	// words, and a new one starts cold. At most two per CPU are kept.
	caches chan *wordCache
	// noWordCache turns the scanner's fast path off: the tests' reference.
	noWordCache bool
	// slotNodes has a bit for each trie node with a NumberSlot edge, so
	// that a walk looks for one only there; zero (bits nil) when no phrase
	// has a slot.
	slotNodes bitset
	// prefixes are the ruleset's NumberPrefixes as words: each phrase with
	// a slot is also inserted with each of them before the slot, so that
	// the walk itself does no more for them.
	prefixes []numberPrefix
	// maxNeedTokens bounds the tokens a match of a term's Needs spans, so
	// that hasNeeded can search the matches by their start; 0 when no term
	// has Needs.
	maxNeedTokens int32
	// repeats[c] is repeat(c) for the mention counts of most documents,
	// computed once (a logarithm per term and document showed in profiles).
	repeats [64]float64
}

// numberPrefix is one of the ruleset's NumberPrefixes ("more than"): its
// words' strict and fold keys.
type numberPrefix struct {
	strict, fold []uint64
}

// numberPrefixes turns a ruleset's NumberPrefixes into their words' keys.
func numberPrefixes(list []string) ([]numberPrefix, error) {
	var out []numberPrefix
	for _, text := range list {
		words, _ := phraseWords(text)
		if len(words) == 0 {
			return nil, fmt.Errorf("number prefix %q has no words", text)
		}
		var np numberPrefix
		for _, w := range words {
			np.strict = append(np.strict, w.strict)
			np.fold = append(np.fold, w.fold)
		}
		out = append(out, np)
	}
	return out, nil
}

// maxPrefixedPatterns bounds the patterns one phrase becomes with the
// number prefixes: (prefixes+1) to the power of its slots.
const maxPrefixedPatterns = 4096

type compiledTerm struct {
	theme   int
	weight  float64
	weak    bool
	context bool
	window  int
	id      string
	needs   int // index into excls of the term's own setting (Term.Needs), or -1
}

// compiledExcl is an exclusion, or a term's Needs: phrases near a match
// that cancel it where they stand (an exclusion) or where they are absent
// (Needs; cancels holds the term).
type compiledExcl struct {
	theme    int
	id       string
	text     string
	cancels  []int // term indices; nil means every term of the theme
	window   int
	document bool
	// expansion is the acronym of an OtherExpansion exclusion, whose
	// matches findOtherExpansions makes (of pattern pat, in no trie).
	expansion string
	pat       int32
}

const (
	rootStrict int32 = 0
	rootFold   int32 = 1
	// The terms' Needs have tries of their own, walked only for a document
	// where a term with Needs matched (matchNeeds): their words are common
	// ones, and most documents would find them for nothing.
	rootNeedStrict int32 = 2
	rootNeedFold   int32 = 3
)

// gap kinds inside a pattern.
const (
	gapKindSpace   uint8 = iota // spaces or line breaks (and hyphens if the pattern allows)
	gapKindHyphen               // written with a hyphen: hyphens or spaces
	gapKindLiteral              // punctuation that must stand as written ("4.0")
)

type patternGap struct {
	kind    uint8
	literal string
}

type patternWord struct {
	start, end int
	strict     uint64
	fold       uint64
	upper      []bool // per letter, for case-sensitive patterns
	slot       bool   // NumberSlot: any number stands here
}

// NumberSlot, written as a word of a phrase, matches any number there:
// "giảm <n>% khí thải" matches "giảm 40% khí thải" and "giảm 1,5% khí
// thải". A number is a word of digits, or several joined by "." or "," (a
// thousands separator or a decimal point: "120.000", "1,5") or by a hyphen
// or dash (a range: "30-40"). A phrase may not start with it: the matcher
// starts from a word. It is "<n>" rather than "#" as YAML reads " #" as the
// start of a comment.
const NumberSlot = "<n>"

// slotKey is the trie key of a NumberSlot: the hash of "<n>", whose bytes
// are no word's, so no word of a text has it.
var slotKey = func() uint64 {
	h := uint64(fnvOffset)
	for _, c := range []byte(NumberSlot) {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}()

// maxNumberTokens bounds the tokens one number spans ("1.250.000.000").
const maxNumberTokens = 6

type pattern struct {
	text     string // as written in the ruleset
	term     int    // index into terms, or -1 for an exclusion
	excl     int    // index into excls, or -1 for a term
	folded   bool   // keyed by fold keys: matches text typed without diacritics
	hyphens  bool
	acronym  bool // case-sensitive and all capitals: needs support in all-capital text
	strict   []uint64
	fold     []uint64
	gaps     []patternGap
	caseMask [][]bool // nil unless case-sensitive
	slots    uint64   // bit w set: word w is a NumberSlot
	node     int32    // the trie node it ends at
}

// Compile builds the matcher for a validated ruleset (from ParseRuleset,
// LoadRuleset or DefaultRuleset).
func Compile(rs *Ruleset) (*Tagger, error) {
	if rs == nil || rs.Version == "" {
		return nil, fmt.Errorf("tagger: Compile needs a ruleset from ParseRuleset, LoadRuleset or DefaultRuleset")
	}
	t := &Tagger{
		rs:       rs,
		themeIdx: make(map[string]int, len(rs.Themes)),
		edges:    newEdgeTable(1024),
		nodes:    4, // the roots
	}
	for c := range len(t.repeats) {
		t.repeats[c] = t.repeat(int32(c))
	}
	t.scratch.New = func() any { return new(scratch) }
	t.caches = make(chan *wordCache, max(4, 2*runtime.GOMAXPROCS(0)))
	nWords := 0
	for _, th := range rs.Themes {
		for _, term := range th.Terms {
			nWords += 1 + len(term.Variants)
		}
	}
	t.startStrict = newStartFilter(nWords * 2)
	t.startFold = newStartFilter(nWords * 2)
	t.startNeedStrict = newStartFilter(nWords / 4)
	t.startNeedFold = newStartFilter(nWords / 4)
	prefixes, err := numberPrefixes(rs.NumberPrefixes)
	if err != nil {
		return nil, err
	}
	t.prefixes = prefixes
	for ti, th := range rs.Themes {
		t.themeIdx[th.ID] = ti
		t.themeIDs = append(t.themeIDs, th.ID)
		termIdx := map[string]int{}
		for _, term := range th.Terms {
			idx := len(t.terms)
			termIdx[term.ID] = idx
			t.terms = append(t.terms, compiledTerm{theme: ti, weight: term.Weight, weak: term.Weak, context: term.Context, window: term.Window, id: term.ID, needs: -1})
			// The term's own phrases, parsed once: its patterns, and what its
			// needs look for to keep their case (caseOnlyOwn).
			var ownPats []pattern
			for _, text := range append([]string{term.Text}, term.Variants...) {
				p, err := newPattern(text, term.Hyphens, term.CaseSensitive)
				if err != nil {
					return nil, fmt.Errorf("theme %q term %q: %w", th.ID, term.ID, err)
				}
				ownPats = append(ownPats, p)
			}
			if len(term.Needs) > 0 {
				t.terms[idx].needs = len(t.excls)
				t.excls = append(t.excls, compiledExcl{theme: ti, id: term.ID, text: term.Text, cancels: []int{idx}, window: term.NeedsWindow, document: term.NeedsWindow == 0})
				// A term's own phrases are not its setting: they would meet the
				// needs of every match by themselves (a shared list, such as
				// *computing, may hold them).
				own := term.ownKeys()
				for _, text := range term.Needs {
					if key, _ := checkPhrase(text); own[key] {
						continue
					}
					p, err := newPattern(text, term.Hyphens, term.CaseSensitive)
					if err != nil {
						return nil, fmt.Errorf("theme %q term %q needs: %w", th.ID, term.ID, err)
					}
					p.caseOnlyOwn(ownPats)
					p.term, p.excl = -1, t.terms[idx].needs
					// A setting typed without diacritics is a setting too, but for
					// the needs phrases the term lists as unfolded.
					if err := t.addPattern(p, !slices.Contains(term.Unfolded, text), true); err != nil {
						return nil, fmt.Errorf("theme %q term %q needs: %w", th.ID, term.ID, err)
					}
				}
			}
			for _, p := range ownPats {
				p.term, p.excl = idx, -1
				// Only a term's support reads the all-capital context: an
				// exclusion or a setting in capitals is no acronym.
				p.acronym = p.allCapitals()
				folded := term.Folded && !slices.Contains(term.Unfolded, p.text)
				if err := t.addPattern(p, folded, false); err != nil {
					return nil, fmt.Errorf("theme %q term %q: %w", th.ID, term.ID, err)
				}
				if term.Inflect {
					for _, infl := range inflections(p) {
						if err := t.addPattern(infl, folded, false); err != nil {
							return nil, fmt.Errorf("theme %q term %q: %w", th.ID, term.ID, err)
						}
					}
				}
			}
		}
		for _, ex := range th.Exclusions {
			idx := len(t.excls)
			ce := compiledExcl{theme: ti, id: ex.ID, text: ex.Text, window: ex.Window, document: ex.Scope == "document"}
			for _, c := range ex.Cancels {
				ce.cancels = append(ce.cancels, termIdx[c])
			}
			t.excls = append(t.excls, ce)
			if ex.OtherExpansion {
				t.excls[idx].expansion = ex.Text
				t.expansions = append(t.expansions, idx)
				continue // its matches are made from the acronym's (findOtherExpansions)
			}
			for _, text := range append([]string{ex.Text}, ex.Variants...) {
				p, err := newPattern(text, ex.Hyphens, ex.CaseSensitive)
				if err != nil {
					return nil, fmt.Errorf("theme %q exclusion %q: %w", th.ID, ex.ID, err)
				}
				p.term, p.excl = -1, idx
				if err := t.addPattern(p, ex.Folded && !slices.Contains(ex.Unfolded, text), false); err != nil {
					return nil, fmt.Errorf("theme %q exclusion %q: %w", th.ID, ex.ID, err)
				}
			}
		}
	}
	t.indexOutputs()
	// An OtherExpansion exclusion's pattern, added after the trie's
	// outputs are indexed: no walk emits it.
	for _, xi := range t.expansions {
		t.excls[xi].pat = int32(len(t.patterns))
		t.patterns = append(t.patterns, pattern{text: t.excls[xi].text, term: -1, excl: xi})
		t.plainGaps = append(t.plainGaps, 0)
		t.patText = append(t.patText, t.excls[xi].text)
	}
	return t, nil
}

// indexOutputs lists the patterns ending at each node (outStart, outPats).
func (t *Tagger) indexOutputs() {
	t.outStart = make([]int32, t.nodes+1)
	for _, p := range t.patterns {
		t.outStart[p.node+1]++
	}
	for n := 1; n <= int(t.nodes); n++ {
		t.outStart[n] += t.outStart[n-1]
	}
	t.outPats = make([]int32, len(t.patterns))
	fill := append([]int32(nil), t.outStart[:t.nodes]...)
	for pi, p := range t.patterns {
		t.outPats[fill[p.node]] = int32(pi)
		fill[p.node]++
	}
}

// addPattern inserts p and its other i/y spellings ("bác sỹ" for "bác sĩ",
// spelling.go).
func (t *Tagger) addPattern(p pattern, folded, need bool) error {
	prefixed, err := withPrefixes(p, t.prefixes)
	if err != nil {
		return err
	}
	for _, p := range prefixed {
		if need {
			// A match of the setting may span more tokens than the
			// phrase has words (hyphens, literal punctuation). And a
			// NumberSlot may stand for several.
			t.maxNeedTokens = max(t.maxNeedTokens, int32(2*len(p.strict)+2+bits.OnesCount64(p.slots)*(maxNumberTokens-1)))
		}
		t.addOnePattern(p, folded, need)
		for _, q := range iyVariants(p) { // "bác sỹ" for "bác sĩ" (spelling.go)
			t.addOnePattern(q, folded, need)
		}
	}
	return nil
}

// withPrefixes returns p and, when it has number slots, its copies with
// each of the number prefixes before each slot ("huấn luyện trên
// hơn <n> ảnh" for "huấn luyện trên <n> ảnh"). The prefix's words are
// words of the copy: matched as the phrase's (folded with it), in any
// case, joined by spaces. A copy keeps the text as written, which the
// evidence names.
func withPrefixes(p pattern, prefixes []numberPrefix) ([]pattern, error) {
	out := []pattern{p}
	if p.slots == 0 || len(prefixes) == 0 {
		return out, nil
	}
	n := 1
	for range bits.OnesCount64(p.slots) {
		if n *= len(prefixes) + 1; n > maxPrefixedPatterns {
			return nil, fmt.Errorf("%q has too many number slots for %d number prefixes (more than %d forms): use fewer slots or prefixes", p.text, len(prefixes), maxPrefixedPatterns)
		}
	}
	// The last slot first: a copy's earlier slots keep their places.
	for w := len(p.strict) - 1; w > 0; w-- {
		if p.slots&(1<<w) == 0 {
			continue
		}
		for _, q := range out {
			for _, np := range prefixes {
				if c, ok := q.withPrefix(w, np); ok {
					out = append(out, c)
				}
			}
		}
	}
	return out, nil
}

// withPrefix is a copy of p with np's words before its word w (a slot);
// false when the copy would put a slot past the 64th word.
func (p pattern) withPrefix(w int, np numberPrefix) (pattern, bool) {
	m := len(np.strict)
	low := p.slots & (1<<w - 1)
	high := p.slots &^ low
	if high<<m>>m != high {
		return pattern{}, false
	}
	c := p
	c.strict = slices.Concat(p.strict[:w], np.strict, p.strict[w:])
	c.fold = slices.Concat(p.fold[:w], np.fold, p.fold[w:])
	// The gap before word w now stands before the prefix; spaces join
	// the prefix's words and the slot.
	c.gaps = slices.Concat(p.gaps[:w], make([]patternGap, m), p.gaps[w:])
	for i := w; i < w+m; i++ {
		c.gaps[i] = patternGap{kind: gapKindSpace}
	}
	if p.caseMask != nil {
		c.caseMask = slices.Concat(p.caseMask[:w], make([][]bool, m), p.caseMask[w:]) // nil: any case
	}
	c.slots = low | high<<m
	return c, true
}

// addOnePattern inserts p into the strict trie and, when folded matching is
// on and makes a difference, a diacritic-free copy into the fold trie: those
// of the terms' Needs when need is set, else the main ones.
func (t *Tagger) addOnePattern(p pattern, folded, need bool) {
	rootS, rootF, startS, startF := rootStrict, rootFold, &t.startStrict, &t.startFold
	if need {
		rootS, rootF, startS, startF = rootNeedStrict, rootNeedFold, &t.startNeedStrict, &t.startNeedFold
	}
	t.insert(p, rootS, p.strict)
	startS.add(p.strict)
	if !folded {
		return
	}
	differs := false
	for i := range p.strict {
		differs = differs || p.strict[i] != p.fold[i]
	}
	if !differs {
		return
	}
	p.folded = true
	t.insert(p, rootF, p.fold)
	startF.add(p.fold)
	if !need {
		t.hasFold = true
	}
}

func (t *Tagger) insert(p pattern, root int32, keys []uint64) {
	node := root
	for _, k := range keys {
		if k == slotKey {
			if t.slotNodes.bits == nil {
				t.slotNodes = newBitset(0) // 4,096 bits: a false hit costs one edge lookup
			}
			t.slotNodes.set(uint64(node))
		}
		next, ok := t.edges.get(node, k)
		if !ok {
			next = t.nodes
			t.nodes++
			t.edges.put(node, k, next)
		}
		node = next
	}
	p.node = node
	t.patterns = append(t.patterns, p)
	t.plainGaps = append(t.plainGaps, p.plainGaps())
	t.patText = append(t.patText, p.text)
}

// plainGaps is the pattern's entry of Tagger.plainGaps.
func (p *pattern) plainGaps() uint8 {
	if p.folded || p.caseMask != nil || p.acronym || p.slots != 0 {
		return 0
	}
	for _, g := range p.gaps {
		if g.kind != gapKindSpace {
			return 0
		}
	}
	allowed := gapSpace | gapNewline
	if p.hyphens {
		allowed |= gapHyphen
	}
	return allowed
}

// newPattern splits a term text into words with their keys.
func newPattern(text string, hyphens, caseSensitive bool) (pattern, error) {
	words, gaps := phraseWords(text)
	if len(words) == 0 {
		return pattern{}, fmt.Errorf("%q has no words", text)
	}
	p := pattern{text: text, hyphens: hyphens, gaps: gaps}
	for i, w := range words {
		p.strict = append(p.strict, w.strict)
		p.fold = append(p.fold, w.fold)
		if w.slot {
			p.slots |= 1 << i // checkPhrase keeps slots within the first 64 words
		}
		if caseSensitive {
			p.caseMask = append(p.caseMask, w.upper)
		}
	}
	return p, nil
}

// ownPlace is where a phrase's words hold one of a term's own phrases,
// word for word.
type ownPlace struct {
	at        int      // the phrase's word where it starts
	own       *pattern // the term's phrase
	asWritten bool     // every word in the letter case the term writes it in
}

// ownPlaces lists where the words of p hold one of own's phrases (both
// case-sensitive patterns), and whether in the case the term writes it.
// caseOnlyOwn keeps the case of the first kind; the loader refuses a needs
// phrase with only the second (ownInOtherCase).
func (p *pattern) ownPlaces(own []pattern) []ownPlace {
	var out []ownPlace
	for k := range own {
		o := &own[k]
		for i := 0; i+len(o.strict) <= len(p.strict); i++ {
			if !slices.Equal(p.strict[i:i+len(o.strict)], o.strict) {
				continue
			}
			asWritten := true
			for j := range o.strict {
				if !slices.Equal(p.caseMask[i+j], o.caseMask[j]) {
					asWritten = false
					break
				}
			}
			out = append(out, ownPlace{at: i, own: o, asWritten: asWritten})
		}
	}
	return out
}

// caseOnlyOwn keeps p's letter case only on the words where p holds one of
// the term's own phrases as written (own, the term's patterns); every other
// word matches in any case. A needs phrase of a case-sensitive term is
// matched without case, except where it repeats the term: "nhờ AI" in the
// needs of "AI" is the acronym, and must not read the everyday "nhờ ai"
// (ask someone), nor "Nhờ AI" at a sentence's start be missed.
func (p *pattern) caseOnlyOwn(own []pattern) {
	if p.caseMask == nil {
		return
	}
	keep := make([]bool, len(p.strict))
	for _, pl := range p.ownPlaces(own) {
		if pl.asWritten {
			for j := range pl.own.strict {
				keep[pl.at+j] = true
			}
		}
	}
	if !slices.Contains(keep, true) {
		p.caseMask = nil
		return
	}
	for i, k := range keep {
		if !k {
			p.caseMask[i] = nil // any case
		}
	}
}

// allCapitals reports whether the pattern is case-sensitive and all its
// letters are capitals ("AI", "LLM").
func (p *pattern) allCapitals() bool {
	if p.caseMask == nil {
		return false
	}
	for _, word := range p.caseMask {
		for _, up := range word {
			if !up {
				return false
			}
		}
	}
	return true
}

// phraseWords scans a phrase (NFC) into words and the gaps between them.
// A NumberSlot is a word of its own (slot), keyed slotKey.
func phraseWords(text string) ([]patternWord, []patternGap) {
	scanned := text
	if strings.Contains(text, NumberSlot) {
		// The same length, so offsets hold: the slot's "n" becomes a word
		// of its own, found again below by what surrounds it.
		scanned = strings.ReplaceAll(text, NumberSlot, " n ")
	}
	toks, status, _, _ := scan(scanned, nil, false)
	if status != scanOK {
		return nil, nil
	}
	words := make([]patternWord, len(toks))
	var gaps []patternGap
	for i, tk := range toks {
		w := patternWord{start: int(tk.start), end: int(tk.end), strict: tk.strict, fold: tk.fold}
		if scanned != text && tk.start > 0 && strings.HasPrefix(text[tk.start-1:], NumberSlot) && tk.end == tk.start+1 {
			w.strict, w.fold, w.slot = slotKey, slotKey, true
			words[i] = w
			if i > 0 {
				gaps = append(gaps, gapBetween(scanned[toks[i-1].end:tk.start]))
			}
			continue
		}
		for _, r := range text[tk.start:tk.end] {
			if info := lookupRune(r); info.base >= 0 {
				w.upper = append(w.upper, info.flags&tokUpper != 0)
			}
		}
		words[i] = w
		if i > 0 {
			gaps = append(gaps, gapBetween(scanned[toks[i-1].end:tk.start]))
		}
	}
	return words, gaps
}

// gapBetween is the kind of what stands between two words of a phrase.
func gapBetween(between string) patternGap {
	g := patternGap{kind: gapKindSpace}
	switch trimmed := strings.TrimSpace(between); {
	case trimmed == "":
	case strings.Trim(trimmed, "-\u2010\u2011 ") == "":
		g.kind = gapKindHyphen
	default:
		g.kind, g.literal = gapKindLiteral, trimmed
	}
	return g
}

// inflections returns the patterns for simple English inflections of the
// last word: +s, +es, and y -> ies. Only plain ASCII words inflect.
func inflections(p pattern) []pattern {
	words, _ := phraseWords(p.text)
	last := words[len(words)-1]
	word := strings.ToLower(p.text[last.start:last.end])
	for i := 0; i < len(word); i++ {
		if c := word[i]; c < 'a' || c > 'z' {
			return nil
		}
	}
	forms := []string{word + "s", word + "es"}
	if n := len(word); n > 1 && word[n-1] == 'y' && !strings.ContainsRune("aeiou", rune(word[n-2])) {
		forms = append(forms, word[:n-1]+"ies")
	}
	var out []pattern
	for _, form := range forms {
		fw, _ := phraseWords(form)
		q := p
		q.strict = append(append([]uint64(nil), p.strict[:len(p.strict)-1]...), fw[0].strict)
		q.fold = append(append([]uint64(nil), p.fold[:len(p.fold)-1]...), fw[0].fold)
		// A case-sensitive word keeps the case of its stem and takes its
		// ending in either case ("GPUs"): see caseMatches.
		out = append(out, q)
	}
	return out
}

// startFilter says which tokens may start a pattern: one whose key begins
// a pattern (first) and, of those, one whose key is a one-word pattern
// (one) or whose key and the next token's begin a longer one (pair). A
// common word that begins a phrase ("xe" of "xe điện") passes first but
// rarely pair, and the trie walk from it is saved.
type startFilter struct{ first, one, pair bitset }

func newStartFilter(n int) startFilter {
	return startFilter{first: newBitset(n), one: newBitset(n), pair: newBitset(n)}
}

func (f *startFilter) add(keys []uint64) {
	f.first.set(keys[0])
	// A number in second place has no key to pair with: the first word
	// alone lets the walk start.
	if len(keys) == 1 || keys[1] == slotKey {
		f.one.set(keys[0])
	} else {
		f.pair.set(pairKey(keys[0], keys[1]))
	}
}

// follows reports, for a token whose key k passed first, whether a
// pattern may start there: k is a one-word pattern, or k and the next
// token's key (of the same kind; hasNext false after the last token) begin
// a longer one.
func (f *startFilter) follows(k, next uint64, hasNext bool) bool {
	return f.one.has(k) || hasNext && f.pair.has(pairKey(k, next))
}

func pairKey(a, b uint64) uint64 { return a ^ b*0xFF51AFD7ED558CCD }

// bitset is a one-hash Bloom filter over token keys.
type bitset struct {
	bits []uint64
	mask uint64
}

func newBitset(n int) bitset {
	size := uint64(1 << 12)
	for size < uint64(n)*16 {
		size <<= 1
	}
	return bitset{bits: make([]uint64, size/64), mask: size - 1}
}

func (b bitset) set(k uint64) {
	h := (k * 0x9E3779B97F4A7C15) >> 20 & b.mask
	b.bits[h>>6] |= 1 << (h & 63)
}

func (b bitset) has(k uint64) bool {
	h := (k * 0x9E3779B97F4A7C15) >> 20 & b.mask
	return b.bits[h>>6]&(1<<(h&63)) != 0
}

// Ruleset returns the ruleset the tagger was compiled from. Do not modify it.
func (t *Tagger) Ruleset() *Ruleset { return t.rs }

// Version is the ruleset's content hash, as reported in every Result.
func (t *Tagger) Version() string { return t.rs.Version }
