package tagger

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// rawMatch is a pattern found at tokens [start, end).
type rawMatch struct {
	pat        int32
	start, end int32
	folded     bool
	caps       bool // an acronym standing in all-capital text
}

// termMatch is a term match being scored.
type termMatch struct {
	rawMatch
	term    int32
	theme   int32
	dropped uint8 // dropNone while it counts
	by      int32 // the exclusion match that cancelled it
}

const (
	dropNone uint8 = iota
	dropExcluded
	dropUnsupported
	dropNeedsUnmet
)

var dropReasons = [...]string{dropExcluded: DropExcluded, dropUnsupported: DropUnsupported, dropNeedsUnmet: DropNeedsUnmet}

// scratch is the per-call working memory, pooled.
type scratch struct {
	toks    []token
	raw     []rawMatch
	terms   []termMatch
	excls   []rawMatch
	sorted  []termMatch
	counts  []int32
	buckets []int32
	runs    []themeRun
	strong  []rawMatch
	done    []int        // per exclusion: how far into its theme's run it has gone
	needs   []rawMatch   // the matches of the terms' Needs (matchNeeds)
	needDoc []int8       // per exclusion: whether a document-wide Needs setting is present (hasNeeded)
	senses  []senseCount // per term, for oneSensePerDocument (all zero between calls)
	// the themes score reports
	reported     []scoredRun
	words        *wordCache // keys of the words seen before, by their bytes
	cands        []int32    // the tokens that may start a pattern
	runeBlocks   []int32    // fillOffsets: the runes before every 8 bytes of the text
	astralBlocks []int32    // and those of them outside the BMP, for texts with some
	// slow path only
	work     []byte
	mapStart []int32
	mapEnd   []int32
}

// Tag tags one document. The text must be valid UTF-8 (else an
// *InvalidUTF8Error); it may be NFC or NFD, in either tone-mark placement.
func (t *Tagger) Tag(text string, opts Options) (Result, error) {
	res := Result{RulesetVersion: t.rs.Version}
	var wanted []bool
	if len(opts.Themes) > 0 {
		wanted = make([]bool, len(t.rs.Themes))
		for _, id := range opts.Themes {
			ti, ok := t.themeIdx[id]
			if !ok {
				return res, &UnknownThemeError{Theme: id, Known: t.themeIDs}
			}
			wanted[ti] = true
		}
	}
	s := t.scratch.Get().(*scratch)
	s.words = t.takeWordCache()
	defer func() {
		t.keepWordCache(s.words)
		s.words = nil
		t.scratch.Put(s)
	}()

	// Fast path: the text is NFC (nearly all real text is) and is scanned
	// in place. Otherwise scan its NFC form and map offsets back.
	work := text
	toks, cands, status, at, astral := scanWords(text, s.toks[:0], s.cands[:0], true, s.words)
	slow := false
	switch status {
	case scanInvalidUTF8:
		s.toks = toks
		return res, &InvalidUTF8Error{Offset: at}
	case scanNotNFC:
		if !utf8.ValidString(text[at:]) {
			for i, r := range text[at:] {
				if r == utf8.RuneError {
					if _, size := utf8.DecodeRuneInString(text[at+i:]); size == 1 {
						s.toks = toks
						return res, &InvalidUTF8Error{Offset: at + i}
					}
				}
			}
		}
		work = s.normalize(text)
		toks, cands, _, _, _ = scanWords(work, toks[:0], cands[:0], false, s.words)
		// Runes outside the BMP in the original text, for the UTF-16
		// offsets (normalisation may map some to the BMP).
		if astral < 0 {
			astral = indexAstral(text[at:], at)
		}
		slow = true
	}
	s.toks, s.cands = toks, cands
	// With a title (TagDocument) its tokens come first; Words and the
	// length are the text's.
	titleToks := s.titleTokens(opts.title, slow)
	res.Words = len(toks) - int(titleToks)

	t.match(work, s)
	if len(s.raw) == 0 {
		return res, nil
	}
	t.resolve(work, s)

	res.Tags, res.Untagged = t.score(text, s, wanted, opts, titleToks, slow)
	if !opts.OmitEvidence {
		fillOffsets(text, astral, s, res.Tags, res.Untagged)
	}
	return res, nil
}

// normalize writes the NFC form of text into s.work, with, for every byte
// of it, the original byte range of the normalisation segment it came from.
func (s *scratch) normalize(text string) string {
	s.work, s.mapStart, s.mapEnd = s.work[:0], s.mapStart[:0], s.mapEnd[:0]
	var it norm.Iter
	it.InitString(norm.NFC, text)
	for !it.Done() {
		before := it.Pos()
		seg := it.Next()
		after := it.Pos()
		s.work = append(s.work, seg...)
		for range seg {
			s.mapStart = append(s.mapStart, int32(before))
			s.mapEnd = append(s.mapEnd, int32(after))
		}
	}
	return string(s.work)
}

// match finds every pattern occurrence, in token order.
func (t *Tagger) match(text string, s *scratch) {
	s.raw = s.raw[:0]
	toks := s.toks
	// Only the tokens the scan listed: its cache knows of the others that
	// they start no pattern (the first test below turns them away).
	for _, ci := range s.cands {
		i := int(ci)
		// The first bit test inline: it turns away nearly every token.
		// The next token's keys (none after the last), read once for
		// both filters.
		next, hasNext := &toks[i], i+1 < len(toks)
		if hasNext {
			next = &toks[i+1]
		}
		if k := toks[i].strict; t.startStrict.first.has(k) && t.startStrict.follows(k, next.strict, hasNext) {
			t.walk(text, s, i, rootStrict)
		}
		if k := toks[i].fold; t.hasFold && t.startFold.first.has(k) && t.startFold.follows(k, next.fold, hasNext) {
			t.walk(text, s, i, rootFold)
		}
	}
}

func (t *Tagger) walk(text string, s *scratch, i int, root int32) {
	fold := root == rootFold || root == rootNeedFold
	t.walkFrom(text, s, i, i, root, 0, fold)
}

// walkFrom walks the trie from node, which the tokens i to j-1 reached
// with the gaps seen between them, onwards from token j.
func (t *Tagger) walkFrom(text string, s *scratch, i, j int, node int32, gaps uint8, fold bool) {
	toks := s.toks
	slots := t.slotNodes.bits != nil
	for ; j < len(toks); j++ {
		key := toks[j].strict
		if fold {
			key = toks[j].fold
		}
		if j > i {
			gap := toks[j].gap
			// No pattern spans a paragraph break (a line break is looked
			// at closer only where a walk reaches one, which few do).
			if gap&gapNewline != 0 && paragraphBreak(text[toks[j-1].end:toks[j].start]) {
				return
			}
			gaps |= gap
		}
		// A number's first byte first: few words are numbers, so the
		// slot nodes are rarely looked up.
		if slots && text[toks[j].start]-'0' < 10 && t.slotNodes.has(uint64(node)) {
			t.walkSlot(text, s, i, j, node, gaps, fold)
		}
		next, ok := t.edges.get(node, key)
		if !ok {
			return
		}
		node = next
		// Most nodes end no pattern: the call only where one does.
		if t.outStart[node] != t.outStart[node+1] {
			t.emit(text, s, i, j+1, node, gaps)
		}
	}
}

// walkSlot follows node's NumberSlot edge when token j starts a number:
// that branch is walked on its own, and the caller goes on by the
// number's own key (a phrase may name the number itself: "COP 21").
func (t *Tagger) walkSlot(text string, s *scratch, i, j int, node int32, gaps uint8, fold bool) {
	if !isNumber(text, &s.toks[j]) {
		return
	}
	next, ok := t.edges.get(node, slotKey)
	if !ok {
		return
	}
	end := numberEnd(text, s.toks, j) + 1
	if t.outStart[next] != t.outStart[next+1] {
		t.emit(text, s, i, end, next, gaps)
	}
	t.walkFrom(text, s, i, end, next, gaps, fold)
}

// emit records the patterns ending at node, reached by the tokens i to
// end-1, that match there.
func (t *Tagger) emit(text string, s *scratch, i, end int, node int32, gaps uint8) {
	for _, pi := range t.outPats[t.outStart[node]:t.outStart[node+1]] {
		// The trie has matched a plain pattern's keys: only its gaps
		// are left to check.
		if allowed := t.plainGaps[pi]; allowed != 0 {
			if gaps&^allowed == 0 {
				s.raw = append(s.raw, rawMatch{pat: pi, start: int32(i), end: int32(end)})
			}
			continue
		}
		if m, ok := t.verify(text, s.toks, &t.patterns[pi], i, end); ok {
			m.pat = pi
			s.raw = append(s.raw, m)
		}
	}
}

// isNumber reports whether a token is all ASCII digits.
func isNumber(text string, tk *token) bool {
	for k := tk.start; k < tk.end; k++ {
		if c := text[k]; c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// numberEnd is the last token of the number starting at token j: digits
// joined by "." or "," (a thousands separator, a decimal point) or by a
// hyphen or dash (a range), with nothing else between them.
func numberEnd(text string, toks []token, j int) int {
	last := j
	for k := j + 1; k < len(toks) && k-j < maxNumberTokens; k++ {
		switch text[toks[k-1].end:toks[k].start] {
		case ".", ",", "-", "\u2013", "\u2010", "\u2011":
		default:
			return last
		}
		if !isNumber(text, &toks[k]) {
			return last
		}
		last = k
	}
	return last
}

// verify checks what the trie cannot: the gaps between words, letter case,
// and for folded patterns (walked by their diacritic-free keys) that every
// word carrying diacritics carries the right ones. Word w of the pattern is
// token start+w, except after a NumberSlot, whose number may span several
// tokens (the walk took the slot's edge only at a number).
func (t *Tagger) verify(text string, toks []token, p *pattern, start, end int) (rawMatch, bool) {
	m := rawMatch{start: int32(start), end: int32(end), folded: p.folded}
	anyFolded := false
	k := start
	for w := range p.strict {
		tk := &toks[k]
		if w > 0 && !gapMatches(text, toks[k-1].end, tk, p.gaps[w-1], p.hyphens) {
			return m, false
		}
		if p.slots&(1<<w) != 0 {
			k = numberEnd(text, toks, k) + 1
			continue
		}
		if p.folded && tk.strict != p.strict[w] {
			if tk.flags&tokMarked != 0 {
				return m, false // accented, but differently: another word
			}
			anyFolded = true
		}
		if p.caseMask != nil && !caseMatches(text[tk.start:tk.end], p.caseMask[w]) {
			return m, false
		}
		k++
	}
	if p.folded && !anyFolded {
		return m, false // the strict trie found it already
	}
	if p.acronym {
		m.caps = capsContext(text, toks, start, end)
	}
	return m, true
}

func gapMatches(text string, prevEnd int32, tk *token, g patternGap, hyphens bool) bool {
	switch g.kind {
	case gapKindLiteral:
		return strings.TrimSpace(text[prevEnd:tk.start]) == g.literal
	case gapKindHyphen:
		return tk.gap&^(gapSpace|gapNewline|gapHyphen) == 0
	}
	allowed := gapSpace | gapNewline
	if hyphens {
		allowed |= gapHyphen
	}
	return tk.gap&^allowed == 0
}

// paragraphBreak reports whether the gap between two words holds a
// paragraph break: a blank line (two line breaks, CR LF counting as one) or
// U+2029. A phrase matches across one line break, as hard-wrapped text
// splits phrases there, but not across paragraphs: a headline ending in
// "sức khỏe" and a first paragraph starting "Sở Nội vụ" are no "sức khỏe
// số" (folded, without marks).
func paragraphBreak(gap string) bool {
	breaks := 0
	for i := 0; i < len(gap); {
		r, size := utf8.DecodeRuneInString(gap[i:])
		switch r {
		case 0x2029:
			return true
		case '\r':
			if i+1 < len(gap) && gap[i+1] == '\n' {
				break // counted with its LF
			}
			breaks++
		case '\n', 0x85, 0x2028:
			breaks++
		}
		if breaks >= 2 {
			return true
		}
		i += size
	}
	return false
}

// caseMatches compares the case of a word's letters with the pattern's;
// letters past the pattern's (an inflection's ending) may have any case.
func caseMatches(word string, upper []bool) bool {
	i := 0
	for _, r := range word {
		info := lookupRune(r)
		if info.base < 0 {
			continue
		}
		if i < len(upper) && (info.flags&tokUpper != 0) != upper[i] {
			return false
		}
		i++
	}
	return true
}

// capsContext reports whether tokens [start, end) stand in all-capital
// text: the nearest words on the same line are capitals and none is
// lower-case ("KHÔNG AI BIẾT").
func capsContext(text string, toks []token, start, end int) bool {
	caps, lower := false, false
	look := func(tk *token) {
		if tk.flags&tokLower != 0 {
			lower = true
		} else if tk.flags&tokUpper != 0 && hasTwoLetters(text[tk.start:tk.end]) {
			caps = true
		}
	}
	for k, n := start-1, 0; k >= 0 && n < 3; k, n = k-1, n+1 {
		if toks[k+1].gap&gapNewline != 0 {
			break
		}
		look(&toks[k])
	}
	for k, n := end, 0; k < len(toks) && n < 3; k, n = k+1, n+1 {
		if toks[k].gap&gapNewline != 0 {
			break
		}
		look(&toks[k])
	}
	return caps && !lower
}

// resolve turns raw matches into term matches: within a theme a match
// inside a longer one does not count; exclusions cancel; weak terms and acronyms
// in capitals need support. The result, s.terms, is grouped by theme and
// in text order within each theme.
func (t *Tagger) resolve(text string, s *scratch) {
	t.groupByTheme(s)
	keepLongest(s)
	themeRuns(s)
	if len(t.expansions) > 0 {
		t.findOtherExpansions(text, s)
	}
	t.applyExclusions(s)
	if t.rs.Scoring.OneSensePerDocument {
		t.oneSensePerDocument(s)
	}
	t.requireSupport(text, s)
}

// oneSensePerDocument cancels the matches a term keeps where its
// exclusions cancelled more (Scoring.OneSensePerDocument): the
// word has the other sense in this document, and its remaining mentions
// (a headline, a line beyond the exclusion's window) have it too. They are
// cancelled by the term's last cancelling exclusion.
func (t *Tagger) oneSensePerDocument(s *scratch) {
	if cap(s.senses) < len(t.terms) {
		s.senses = make([]senseCount, len(t.terms))
	}
	senses := s.senses[:len(t.terms)]
	for _, m := range s.terms {
		c := &senses[m.term]
		switch m.dropped {
		case dropNone:
			c.kept++
		case dropExcluded:
			c.excluded++
			c.by = m.by
		}
	}
	for i := range s.terms {
		m := &s.terms[i]
		if c := senses[m.term]; m.dropped == dropNone && c.excluded > c.kept {
			m.dropped, m.by = dropExcluded, c.by
		}
	}
	for _, m := range s.terms {
		senses[m.term] = senseCount{}
	}
}

// senseCount is, for one term in one document, its matches kept and
// cancelled by an exclusion, and the last exclusion match that cancelled one.
type senseCount struct{ kept, excluded, by int32 }

// groupByTheme splits s.raw into the exclusion matches (s.excls) and the
// term matches, grouped by theme in s.sorted. Raw matches come in text
// order (by start token, then by length); a counting sort keeps that
// order within each theme.
func (t *Tagger) groupByTheme(s *scratch) {
	nThemes := len(t.rs.Themes)
	if cap(s.buckets) < nThemes+1 {
		s.buckets = make([]int32, nThemes+1)
	}
	buckets := s.buckets[:nThemes+1]
	clear(buckets)
	s.excls = s.excls[:0]
	nTerms := 0
	for _, m := range s.raw {
		p := &t.patterns[m.pat]
		if p.excl >= 0 {
			s.excls = append(s.excls, m)
			continue
		}
		buckets[t.terms[p.term].theme+1]++
		nTerms++
	}
	for i := 1; i <= nThemes; i++ {
		buckets[i] += buckets[i-1]
	}
	s.sorted = slices.Grow(s.sorted[:0], nTerms)[:nTerms]
	for _, m := range s.raw {
		p := &t.patterns[m.pat]
		if p.excl >= 0 {
			continue
		}
		th := t.terms[p.term].theme
		s.sorted[buckets[th]] = termMatch{rawMatch: m, term: int32(p.term), theme: int32(th), by: -1}
		buckets[th]++
	}
}

// keepLongest keeps, in s.terms, the matches of s.sorted that are
// mentions of their own. Within each theme: of matches starting at the
// same word the longest wins; a match inside a kept one is part of that
// mention and dropped, and so is one overlapping a kept match of the same
// term. A match that only overlaps one of another term counts too: an
// earlier, weaker phrase must not hide a strong term standing in full in
// the text.
func keepLongest(s *scratch) {
	kept := s.terms[:0]
	lastTheme := int32(-1)
	for _, m := range s.sorted {
		if n := len(kept); n > 0 && m.theme == lastTheme {
			last := &kept[n-1]
			if m.start == last.start {
				if m.end > last.end {
					*last = m
				}
				continue
			}
			if m.end <= last.end || (m.start < last.end && m.term == last.term) {
				continue
			}
		}
		lastTheme = m.theme
		kept = append(kept, m)
	}
	s.terms = kept
}

// themeRuns finds the run of s.terms of each theme (s.runs). Within a
// theme no kept match lies inside another, so both their starts and their
// ends are sorted: what is near a span is found by binary search, and no
// step after this is quadratic.
func themeRuns(s *scratch) {
	runs := s.runs[:0]
	for i := range s.terms {
		if i == 0 || s.terms[i].theme != s.terms[i-1].theme {
			runs = append(runs, themeRun{theme: s.terms[i].theme, lo: int32(i)})
		}
		runs[len(runs)-1].hi = int32(i + 1)
	}
	s.runs = runs
}

// applyExclusions marks the matches the exclusions cancel, over the whole
// document whatever their offset. The matches of one exclusion come in
// text order, so the part of the run an earlier match of the same
// exclusion went through (done) is not gone through again: each exclusion
// costs at most one pass over its theme's matches, however often it occurs.
func (t *Tagger) applyExclusions(s *scratch) {
	if cap(s.done) < len(t.excls) {
		s.done = make([]int, len(t.excls))
	}
	done := s.done[:len(t.excls)]
	clear(done)
	for ei, e := range s.excls {
		xi := t.patterns[e.pat].excl
		ex := &t.excls[xi]
		run := s.runOf(int32(ex.theme))
		if insideLonger(run, e) {
			continue
		}
		from, to := done[xi], len(run)
		if !ex.document {
			// Within w words: at most w words between the two (ends are
			// exclusive). A window of 0 is overlap only: a match that ends
			// where the exclusion starts, or starts where it ends, stands
			// beside the phrase, not in it ("… hạ tầng AI. Các trung tâm dữ
			// liệu AI" cancels only the second AI).
			lo, hi := e.start-int32(ex.window), e.end+int32(ex.window)
			if ex.window == 0 {
				lo, hi = e.start+1, e.end-1
			}
			from = max(from, firstEndingAtOrAfter(run, lo))
			to = from
			for to < len(run) && run[to].start <= hi {
				to++
			}
		}
		done[xi] = max(done[xi], to)
		for i := from; i < to; i++ {
			m := &run[i]
			if m.dropped != dropNone || (ex.cancels != nil && !slices.Contains(ex.cancels, int(m.term))) {
				continue
			}
			m.dropped, m.by = dropExcluded, int32(ei)
		}
	}
}

// findOtherExpansions adds to s.excls a match of each OtherExpansion
// exclusion where the document spells its acronym out as other words:
// "Assistant Instructor (AI)", "AI (Assistant Instructor)" or "AI (here)
// stands for Assistant Instructor" ("AI là viết tắt của …"), as many
// words as the acronym has letters, joined by spaces or hyphens, each
// starting with its letter (in either case, marks aside), and no term of
// the theme matching them ("artificial intelligence (AI)" is the sense
// the theme means). The acronym is looked for among the theme's term
// matches, so a document without it costs nothing.
func (t *Tagger) findOtherExpansions(text string, s *scratch) {
	for _, xi := range t.expansions {
		ex := &t.excls[xi]
		run := s.runOf(int32(ex.theme))
		k := int32(len(ex.expansion))
		for _, m := range run {
			tk := s.toks[m.start]
			if m.end != m.start+1 || text[tk.start:tk.end] != ex.expansion {
				continue
			}
			// The words before "(AI)", after "AI (" or after "AI stands for".
			var lo, hi int32
			if parenthesised(text, s.toks, m.start, m.start+1) {
				lo, hi = m.start-k, m.start
			} else if parenthesised(text, s.toks, m.start+1, m.start+1+k) {
				lo, hi = m.start+1, m.start+1+k
			} else if c := connected(text, s.toks, m.start); c >= 0 {
				lo, hi = c, c+k
			} else {
				continue
			}
			if !spellsOut(text, s.toks, lo, hi, ex.expansion) || overlapsTerm(run, lo, hi) {
				continue
			}
			s.excls = append(s.excls, rawMatch{pat: ex.pat, start: lo, end: hi})
		}
	}
}

// parenthesised reports whether the tokens [lo, hi) stand in parentheses
// on the line of the token before them: the gap before lo is "(" after
// spaces only, and the gap after hi-1 starts with ")" (spaces aside).
func parenthesised(text string, toks []token, lo, hi int32) bool {
	if lo < 1 || hi > int32(len(toks)) || lo >= hi {
		return false
	}
	before := text[toks[lo-1].end:toks[lo].start]
	after := text[toks[hi-1].end:]
	if hi < int32(len(toks)) {
		after = text[toks[hi-1].end:toks[hi].start]
	}
	return strings.TrimLeft(before, " ") == "(" && strings.HasPrefix(strings.TrimLeft(after, " "), ")")
}

// standsFor holds, as the scanner's strict keys (any case, any tone
// placement), the phrases between an acronym and its spelling out in
// running text: "AI stands for", "AI here stands for", "AI là viết tắt
// của". Keys, not strings: comparing them costs a document no lower-cased
// copy of a capitalised word. Computed on first use, once the scanner's
// rune table is filled.
var standsFor = sync.OnceValue(func() [][]uint64 {
	var keys [][]uint64
	for _, phrase := range []string{"stands for", "here stands for", "là viết tắt của", "viết tắt của"} {
		toks, _, _, _ := scan(phrase, nil, false)
		words := make([]uint64, len(toks))
		for i, tk := range toks {
			words[i] = tk.strict
		}
		keys = append(keys, words)
	}
	return keys
})

// connected returns the index of the token after one of the standsFor
// phrases that follows token i (single spaces between the words, a space
// or ", " after the acronym), or -1.
func connected(text string, toks []token, i int32) int32 {
	for _, words := range standsFor() {
		j, ok := i+1, true
		for w, word := range words {
			if j >= int32(len(toks)) {
				ok = false
				break
			}
			gap := text[toks[j-1].end:toks[j].start]
			if !(gap == " " || (w == 0 && gap == ", ")) || toks[j].strict != word {
				ok = false
				break
			}
			j++
		}
		if ok && j < int32(len(toks)) && text[toks[j-1].end:toks[j].start] == " " {
			return j
		}
	}
	return -1
}

// spellsOut reports whether the tokens [lo, hi) are one word for each
// letter of acronym, joined by a space or a hyphen, each starting with its
// letter in either case, marks aside ("Ấn" starts with A). The letter is
// the scanner's rune table's fold, so no rune is decomposed per document;
// đ is its own letter, not a D (as before the table was used).
func spellsOut(text string, toks []token, lo, hi int32, acronym string) bool {
	if lo < 0 || hi > int32(len(toks)) {
		return false
	}
	for i := lo; i < hi; i++ {
		if i > lo {
			if g := text[toks[i-1].end:toks[i].start]; g != " " && g != "-" {
				return false
			}
		}
		r, _ := utf8.DecodeRuneInString(text[toks[i].start:toks[i].end])
		info := lookupRune(r)
		if info.base == 'đ' || info.fold != rune(acronym[i-lo])+'a'-'A' {
			return false
		}
	}
	return true
}

// overlapsTerm reports whether a match of the theme's run overlaps the
// tokens [lo, hi): the words are (part of) a term of the theme.
func overlapsTerm(run []termMatch, lo, hi int32) bool {
	for _, m := range run {
		if m.start < hi && m.end > lo {
			return true
		}
	}
	return false
}

// requireSupport drops the weak matches and the acronyms in capitals with
// no strong match of their theme beside them (anywhere in the document, or
// within the term's window), and the matches of a term with Needs where no
// word of its setting stands within its NeedsWindow.
func (t *Tagger) requireSupport(text string, s *scratch) {
	if t.maxNeedTokens > 0 && t.anyNeeds(s) {
		t.matchNeeds(text, s)
		if cap(s.needDoc) < len(t.excls) {
			s.needDoc = make([]int8, len(t.excls))
		}
		s.needDoc = s.needDoc[:len(t.excls)]
		clear(s.needDoc)
		for i := range s.terms {
			m := &s.terms[i]
			if k := t.terms[m.term].needs; k >= 0 && m.dropped == dropNone && !t.hasNeeded(s, k, m.rawMatch) {
				m.dropped = dropNeedsUnmet
			}
		}
	}
	for _, r := range s.runs {
		run := s.terms[r.lo:r.hi]
		strong := s.strong[:0]
		for i := range run {
			if m := &run[i]; m.dropped == dropNone && !m.caps && !t.terms[m.term].weak {
				strong = append(strong, m.rawMatch)
			}
		}
		s.strong = strong
		for i := range run {
			m := &run[i]
			term := &t.terms[m.term]
			if m.dropped != dropNone || (!term.weak && !m.caps) {
				continue
			}
			supported := len(strong) > 0
			if supported && term.weak && term.window > 0 {
				w := int32(term.window)
				j, _ := slices.BinarySearchFunc(strong, m.start-w, func(o rawMatch, target int32) int { return cmp.Compare(o.end, target) })
				supported = j < len(strong) && strong[j].start <= m.end+w
			}
			if !supported {
				m.dropped = dropUnsupported
			}
		}
	}
}

// anyNeeds reports whether a match that still counts is of a term with Needs.
func (t *Tagger) anyNeeds(s *scratch) bool {
	for i := range s.terms {
		if m := &s.terms[i]; m.dropped == dropNone && t.terms[m.term].needs >= 0 {
			return true
		}
	}
	return false
}

// matchNeeds finds the matches of every term's Needs (s.needs), in token
// order: the walk of match over the Needs' tries, from every token, since
// the scan listed as candidates only the tokens that may start a term or
// an exclusion.
func (t *Tagger) matchNeeds(text string, s *scratch) {
	first := len(s.raw) // s.raw is spent: the walks append after it
	toks := s.toks
	for i := range toks {
		next, hasNext := &toks[i], i+1 < len(toks)
		if hasNext {
			next = &toks[i+1]
		}
		if k := toks[i].strict; t.startNeedStrict.first.has(k) && t.startNeedStrict.follows(k, next.strict, hasNext) {
			t.walk(text, s, i, rootNeedStrict)
		}
		if k := toks[i].fold; t.startNeedFold.first.has(k) && t.startNeedFold.follows(k, next.fold, hasNext) {
			t.walk(text, s, i, rootNeedFold)
		}
	}
	s.needs = append(s.needs[:0], s.raw[first:]...)
	s.raw = s.raw[:first]
}

// hasNeeded reports whether a match of the setting excls[k] (a term's
// Needs) stands within its window of m. s.needs is in text order (by
// start), and no match of a setting spans more than maxNeedTokens tokens,
// so only the matches starting from m.start-window-maxNeedTokens on are read.
func (t *Tagger) hasNeeded(s *scratch, k int, m rawMatch) bool {
	ex := &t.excls[k]
	if ex.document {
		// Once per document and setting (needDoc: 0 unknown, 1 absent, 2 present).
		if s.needDoc[k] == 0 {
			s.needDoc[k] = 1
			for _, e := range s.needs {
				if t.patterns[e.pat].excl == k {
					s.needDoc[k] = 2
					break
				}
			}
		}
		return s.needDoc[k] == 2
	}
	w := int32(ex.window)
	lo, hi := m.start-w, m.end+w
	i, _ := slices.BinarySearchFunc(s.needs, lo-t.maxNeedTokens, func(e rawMatch, target int32) int { return cmp.Compare(e.start, target) })
	for ; i < len(s.needs) && s.needs[i].start <= hi; i++ {
		if e := s.needs[i]; t.patterns[e.pat].excl == k && e.end >= lo {
			return true
		}
	}
	return false
}

type themeRun struct{ theme, lo, hi int32 }

// runOf is the theme's run of s.terms (themeRuns), nil when it has no match.
func (s *scratch) runOf(theme int32) []termMatch {
	for _, r := range s.runs {
		if r.theme == theme {
			return s.terms[r.lo:r.hi]
		}
	}
	return nil
}

// insideLonger reports whether the exclusion match e lies inside a longer
// match of a term of its theme: as between terms, the longer phrase names
// the sense ("máy gắn chip", a die bonder, holds the ID card's "gắn chip").
// A match of the same span does not hide it.
func insideLonger(run []termMatch, e rawMatch) bool {
	// No kept match lies inside another, so the first one ending at or after
	// e has the smallest start of those that could hold it.
	i := firstEndingAtOrAfter(run, e.end)
	return i < len(run) && run[i].start <= e.start && run[i].end-run[i].start > e.end-e.start
}

// firstEndingAtOrAfter returns the index of the first match of a theme's
// run whose end is at or after the token index.
func firstEndingAtOrAfter(run []termMatch, at int32) int {
	i, _ := slices.BinarySearchFunc(run, at, func(m termMatch, target int32) int { return cmp.Compare(m.end, target) })
	return i
}

// scoredRun is a theme's run of s.terms whose tag is reported, with its score.
type scoredRun struct {
	lo, hi int32
	score  float64
	tagged bool
}

// onlyContext reports whether every match of a theme's run is of a
// context term.
func (t *Tagger) onlyContext(run []termMatch) bool {
	for _, m := range run {
		if !t.terms[m.term].context {
			return false
		}
	}
	return true
}

// span is where a match stands in the original text, in bytes.
type span struct{ start, end int }

// where is the span of m in the original text; slow says the text was
// normalised (Tag), so that token offsets are into its NFC form. Rune and
// UTF-16 offsets are counted by fillOffsets, for the evidence only.
func (s *scratch) where(m rawMatch, slow bool) span {
	start, end := s.toks[m.start].start, s.toks[m.end-1].end
	if slow {
		return span{int(s.mapStart[start]), int(s.mapEnd[end-1])}
	}
	return span{int(start), int(end)}
}

// score computes each theme's score and builds its tag.
func (t *Tagger) score(text string, s *scratch, wanted []bool, opts Options, titleToks int32, slow bool) (tags, untagged []Tag) {
	if cap(s.counts) < len(t.terms) {
		s.counts = make([]int32, len(t.terms))
	}
	counts := s.counts[:len(t.terms)]
	for _, m := range s.terms {
		if m.dropped == dropNone {
			counts[m.term]++
		}
	}
	sc := t.rs.Scoring
	// A title's tokens (TagDocument) weigh titleWeight and do not count
	// in the length.
	titleWeight := t.titleWeight()
	lengthNorm := math.Max(1, math.Sqrt(float64(len(s.toks)-int(titleToks))/float64(sc.ReferenceWords)))
	if sc.MaxLengthFactor > 0 {
		lengthNorm = math.Min(lengthNorm, sc.MaxLengthFactor)
	}
	// s.terms is grouped by theme: one run per theme. The scores first,
	// to know which themes are reported: only their matches become
	// evidence, so a document with matches but no tag allocates nothing.
	reported := s.reported[:0]
	nEvidence, nDropped := 0, 0
	for lo := 0; lo < len(s.terms); {
		ti := s.terms[lo].theme
		hi := lo
		for hi < len(s.terms) && s.terms[hi].theme == ti {
			hi++
		}
		run := s.terms[lo:hi]
		if wanted != nil && !wanted[ti] {
			lo = hi
			continue
		}
		sum := 0.0
		for _, m := range run {
			if c := counts[m.term]; c > 0 {
				sum += t.contribution(int(m.term), c)
				counts[m.term] = -c // counted; keep the count for the evidence weights
			}
		}
		if titleWeight != 1 && titleToks > 0 {
			for _, m := range run {
				if m.dropped == dropNone && m.start < titleToks {
					c := -counts[m.term]
					sum += t.contribution(int(m.term), c) / float64(c) * (titleWeight - 1)
				}
			}
		}
		th := &t.rs.Themes[ti]
		score := math.Round((1-math.Exp(-sum/lengthNorm))*1e4) / 1e4
		isTagged := sum > 0 && score >= th.Threshold && score >= opts.MinScore
		// A theme with nothing but its setting (context terms) has
		// nothing to show.
		if isTagged || opts.IncludeUntagged && !t.onlyContext(run) {
			reported = append(reported, scoredRun{lo: int32(lo), hi: int32(hi), score: score, tagged: isTagged})
			for _, m := range run {
				if m.dropped == dropNone {
					nEvidence++
				} else {
					nDropped++
				}
			}
		}
		lo = hi
	}
	s.reported = reported
	// One allocation each for the reported tags' evidence and dropped matches.
	var evidence []Evidence
	var dropped []Dropped
	if !opts.OmitEvidence {
		evidence = make([]Evidence, 0, nEvidence) // no allocation when empty
		if nDropped > 0 {
			dropped = make([]Dropped, 0, nDropped)
		}
	}
	// Where a match stands and what it matched, written in place (an
	// Evidence is 112 bytes).
	fill := func(ev *Evidence, m termMatch) {
		sp := s.where(m.rawMatch, slow)
		ev.Term, ev.Pattern, ev.Text = t.terms[m.term].id, t.patText[m.pat], text[sp.start:sp.end]
		ev.Start, ev.End, ev.Folded, ev.InTitle = sp.start, sp.end, m.folded, m.start < titleToks
	}
	for _, r := range reported {
		run := s.terms[r.lo:r.hi]
		th := &t.rs.Themes[run[0].theme]
		tag := Tag{Theme: th.ID, LabelVI: th.LabelVI, LabelEN: th.LabelEN, Threshold: th.Threshold, Score: r.score}
		isTagged := r.tagged
		if !opts.OmitEvidence {
			ev0, dr0 := len(evidence), len(dropped)
			for _, m := range run {
				if m.dropped == dropNone {
					evidence = evidence[:len(evidence)+1]
					ev := &evidence[len(evidence)-1]
					fill(ev, m)
					c := -counts[m.term]
					w := t.contribution(int(m.term), c) / float64(c)
					if ev.InTitle {
						w *= titleWeight
					}
					ev.Weight = math.Round(w*1e4) / 1e4
					continue
				}
				d := Dropped{Reason: dropReasons[m.dropped]}
				fill(&d.Evidence, m)
				if m.dropped == dropExcluded {
					e := s.excls[m.by]
					d.Exclusion = t.excls[t.patterns[e.pat].excl].id
					esp := s.where(e, slow)
					d.ExclusionStart, d.ExclusionEnd = esp.start, esp.end
					d.ExclusionText = text[esp.start:esp.end]
					d.ExclusionInTitle = e.start < titleToks
				}
				dropped = append(dropped, d)
			}
			tag.Evidence = evidence[ev0:len(evidence):len(evidence)]
			if len(dropped) > dr0 {
				tag.Dropped = dropped[dr0:len(dropped):len(dropped)]
			}
		}
		if isTagged {
			tags = append(tags, tag)
		} else {
			untagged = append(untagged, tag)
		}
	}
	for _, m := range s.terms {
		counts[m.term] = 0
	}
	byScore := func(a, b Tag) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Theme, b.Theme)) }
	slices.SortFunc(tags, byScore)
	slices.SortFunc(untagged, byScore)
	return tags, untagged
}

// contribution is what c matches of one term add to its theme's evidence:
// the weight, growing with each doubling of the mentions, up to a ceiling.
func (t *Tagger) contribution(term int, c int32) float64 {
	if int(c) < len(t.repeats) {
		return t.terms[term].weight * t.repeats[c]
	}
	return t.terms[term].weight * t.repeat(c)
}

// repeat is what c mentions of a term count as, in mentions of weight 1.
func (t *Tagger) repeat(c int32) float64 {
	sc := t.rs.Scoring
	return math.Min(sc.MaxRepeat, 1+sc.RepeatFactor*math.Log2(float64(c)))
}

// fillOffsets sets the rune and UTF-16 offsets of the evidence from its
// byte offsets. Only documents with evidence pay for it, not every token:
// the runes before every eight bytes of the text are counted, eight bytes
// at a time, and an offset's are those plus the runes of at most seven
// bytes, without a branch. UTF-16 offsets differ from rune offsets only
// after a character outside the Basic Multilingual Plane (an emoji), two
// UTF-16 code units for one rune, which UTF-8 writes as four bytes led by
// a byte of 0xF0 or more: most texts have none (firstAstral, the offset of
// the first, is -1), and then they are the rune offsets.
func fillOffsets(text string, firstAstral int, s *scratch, groups ...[]Tag) {
	last := lastOffset(groups)
	if last < 0 {
		return // no evidence
	}
	// The counts before every eight bytes up to the last offset; the
	// last bytes are read from a zero-padded copy (eight bytes are read
	// at a time).
	n := last/8 + 1
	runes := slices.Grow(s.runeBlocks[:0], n)[:n]
	s.runeBlocks = runes
	var tail [16]byte
	tailStart := max(0, len(text)-8) &^ 7
	copy(tail[:], text[tailStart:])
	read8 := func(i int) uint64 {
		if i+8 <= len(text) {
			return load64(text, i)
		}
		return load64(unsafe.String(&tail[0], len(tail)), i-tailStart)
	}
	// The blocks inside the text, and at most one more (the last offset is
	// at most the text's length): the block of its last bytes, which needs
	// only the runes before it.
	inside := min(n, len(text)/8)
	count := runesBefore(bytesOf(text)[:inside*8], runes[:inside])
	if inside < n {
		runes[inside] = count
	}
	// Runes outside the BMP before every block, only for the texts that
	// have some.
	var astral []int32
	if firstAstral >= 0 {
		astral = slices.Grow(s.astralBlocks[:0], n)[:n]
		s.astralBlocks = astral
		c := int32(0)
		for k := range astral {
			astral[k] = c
			c += int32(countAstral(text, k<<3, min(k<<3+8, len(text))))
		}
	}
	// at gives the rune and UTF-16 offsets of byte offset b.
	at := func(b int) (int, int) {
		blk := b >> 3
		x := read8(blk<<3) & byteMasks[b&7][0]
		r := int(runes[blk]) + b&7 - continuationBytes(x)
		if astral == nil {
			return r, r
		}
		return r, r + int(astral[blk]) + countAstral(text, blk<<3, b)
	}
	for _, tags := range groups {
		for _, tag := range tags {
			for i := range tag.Evidence {
				e := &tag.Evidence[i]
				e.RuneStart, e.UTF16Start = at(e.Start)
				e.RuneEnd, e.UTF16End = at(e.End)
			}
			for i := range tag.Dropped {
				d := &tag.Dropped[i]
				d.RuneStart, d.UTF16Start = at(d.Start)
				d.RuneEnd, d.UTF16End = at(d.End)
				if d.Reason == DropExcluded {
					d.ExclusionRuneStart, d.ExclusionUTF16Start = at(d.ExclusionStart)
					d.ExclusionRuneEnd, d.ExclusionUTF16End = at(d.ExclusionEnd)
				}
			}
		}
	}
}

// runesBeforeGo sets runes[k] to the number of runes of text before byte
// 8k and returns the runes of text; text is 8 bytes per entry of runes
// (runesBefore; on amd64 mostly in assembly). A loop of its own: in
// fillOffsets' body the compiler kept its values on the stack.
//
//go:noinline
func runesBeforeGo(text []byte, runes []int32) int32 {
	count := int32(0)
	for k := range runes {
		runes[k] = count
		count += 8 - int32(continuationBytes(binary.LittleEndian.Uint64(text[k*8:k*8+8])))
	}
	return count
}

// lastOffset is the largest byte offset of the evidence of groups, -1
// when there is none.
func lastOffset(groups [][]Tag) int {
	last := -1
	for _, tags := range groups {
		for _, tag := range tags {
			for _, e := range tag.Evidence {
				last = max(last, e.End)
			}
			for _, d := range tag.Dropped {
				last = max(last, d.End, d.ExclusionEnd)
			}
		}
	}
	return last
}

// countAstral is the number of runes outside the Basic Multilingual
// Plane in text[from:to]: their lead bytes, 0xF0 or more.
func countAstral(text string, from, to int) int {
	n := 0
	for i := from; i < to; i++ {
		if text[i] >= 0xF0 {
			n++
		}
	}
	return n
}
