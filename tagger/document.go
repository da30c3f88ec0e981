package tagger

import (
	"errors"
	"sort"
)

// Document is a text to tag with an optional title (a headline): a match
// in the title says more about what the document is about than one in its
// last paragraph, and counts for the ruleset's scoring.title_weight times
// as much.
type Document struct {
	Title string
	Text  string
}

// titleSep stands between the title and the text when TagDocument tags
// them as one string. The line breaks end the title's line, so no acronym
// takes the other field's capitals as its context; the NUL between them is
// punctuation to the scanner (a gap of its own kind), so no phrase matches
// across it, nor does a pattern with punctuation in it (the loader refuses
// a NUL in a term or exclusion). Windows count words across it: to
// exclusions, weak terms and their windows the title is the text's first
// sentence.
const titleSep = "\n\x00\n"

// TagDocument tags a document with a title. With an empty title it is Tag
// of the text, and costs nothing more. Otherwise the title is part of the
// document: its matches count like the text's, times the ruleset's
// Scoring.TitleWeight; an exclusion in the title cancels matches in the
// text (within its window, or anywhere with scope: document) and the
// other way round; a strong term in the title supports the weak terms of
// the text and the other way round. The length of the document (L, and
// Result.Words) is the text's: a title does not make its text count as a
// longer one. Every Evidence (and Dropped, and its exclusion) is placed in
// its own field: InTitle (ExclusionInTitle) says which, and its offsets
// and Text are into that field.
//
// The title must be valid UTF-8 like the text: an *InvalidUTF8Error with
// Field "title" otherwise.
func (t *Tagger) TagDocument(doc Document, opts Options) (Result, error) {
	if doc.Title == "" {
		return t.Tag(doc.Text, opts)
	}
	opts.title = len(doc.Title)
	res, err := t.Tag(doc.Title+titleSep+doc.Text, opts)
	if err != nil {
		var bad *InvalidUTF8Error
		if errors.As(err, &bad) {
			if bad.Offset < len(doc.Title) {
				bad.Field = "title"
			} else {
				bad.Offset -= len(doc.Title) + len(titleSep)
			}
		}
		return res, err
	}
	if len(res.Tags)+len(res.Untagged) > 0 && !opts.OmitEvidence {
		placeEvidence(doc, res.Tags, res.Untagged)
	}
	return res, nil
}

// titleTokens is the number of tokens of the title (0 without one): those
// that start in it, in the original text (the slow path's tokens are
// mapped back).
func (s *scratch) titleTokens(title int, slow bool) int32 {
	if title == 0 {
		return 0
	}
	return int32(sort.Search(len(s.toks), func(i int) bool {
		start := s.toks[i].start
		if slow {
			start = s.mapStart[start]
		}
		return int(start) >= title
	}))
}

// titleWeight is what a match in the title counts as (1: like the text's).
func (t *Tagger) titleWeight() float64 {
	if w := t.rs.Scoring.TitleWeight; w != 0 {
		return w
	}
	return 1
}

// fieldOffsets is how far a field starts into the string Tag was given,
// in bytes, runes and UTF-16 code units.
type fieldOffsets struct{ bytes, runes, utf16 int }

// placeEvidence moves the offsets and text of every piece of evidence of
// the tags from the title+titleSep+text string into the field it is in.
func placeEvidence(doc Document, groups ...[]Tag) {
	text := fieldOffsets{bytes: len(doc.Title) + len(titleSep)}
	for _, r := range doc.Title {
		text.runes++
		if r > 0xFFFF {
			text.utf16++
		}
	}
	text.runes += len(titleSep)
	text.utf16 += text.runes
	// move places one match; a match in the text that normalisation made
	// start on the separator (a lone combining mark opening the text) is
	// held to the text's start.
	move := func(inTitle bool, start, end, runeStart, runeEnd, u16Start, u16End *int) string {
		if inTitle {
			return doc.Title[*start:*end]
		}
		*start, *end = max(*start-text.bytes, 0), *end-text.bytes
		*runeStart, *runeEnd = max(*runeStart-text.runes, 0), *runeEnd-text.runes
		*u16Start, *u16End = max(*u16Start-text.utf16, 0), *u16End-text.utf16
		return doc.Text[*start:*end]
	}
	for _, tags := range groups {
		for _, tag := range tags {
			for i := range tag.Evidence {
				e := &tag.Evidence[i]
				e.Text = move(e.InTitle, &e.Start, &e.End, &e.RuneStart, &e.RuneEnd, &e.UTF16Start, &e.UTF16End)
			}
			for i := range tag.Dropped {
				d := &tag.Dropped[i]
				d.Text = move(d.InTitle, &d.Start, &d.End, &d.RuneStart, &d.RuneEnd, &d.UTF16Start, &d.UTF16End)
				if d.Reason == DropExcluded {
					d.ExclusionText = move(d.ExclusionInTitle, &d.ExclusionStart, &d.ExclusionEnd,
						&d.ExclusionRuneStart, &d.ExclusionRuneEnd, &d.ExclusionUTF16Start, &d.ExclusionUTF16End)
				}
			}
		}
	}
}
