package tagger

import (
	"fmt"
	"strings"
)

// Ruleset is a parsed and validated ruleset: plain data, safe to inspect.
// Compile turns it into a Tagger.
type Ruleset struct {
	// Name is a free-form name from the file ("default").
	Name string
	// Source says where the rules came from: "embedded:default.yaml" or a path.
	Source string `json:"-"`
	// Version is a content hash of the rules (not of the file's bytes, so
	// comments and formatting do not change it): "sha256:" and 16 hex digits.
	Version string `json:"-"`
	// Scoring holds the document-level scoring constants.
	Scoring Scoring
	// NumberPrefixes are the words that may stand before the number a
	// NumberSlot matches ("hơn", "khoảng", "more than"): the slot takes
	// one of them with the number, so "huấn luyện trên <n> ảnh" also
	// matches "huấn luyện trên hơn 200.000 ảnh".
	NumberPrefixes []string `json:",omitempty"` // omitted when empty: older rulesets keep their version
	Themes         []Theme
}

// ThemeIDs lists the ruleset's theme ids in file order (what a gold file or
// a request may name).
func (rs *Ruleset) ThemeIDs() []string {
	ids := make([]string, len(rs.Themes))
	for i, th := range rs.Themes {
		ids[i] = th.ID
	}
	return ids
}

// Scoring constants, shared by all themes of a ruleset.
type Scoring struct {
	// ReferenceWords is the document length (in words) up to which one
	// strong mention is enough; longer documents need proportionally more
	// evidence (the evidence is divided by sqrt(words/ReferenceWords)).
	ReferenceWords int
	// RepeatFactor is how much each doubling of the mentions of one term
	// adds to its weight; repetitions saturate at MaxRepeat times the weight.
	RepeatFactor float64
	MaxRepeat    float64
	// MaxLengthFactor caps that divisor (0: no cap), so that in a long
	// article several strong mentions still reach the threshold: past
	// ReferenceWords × MaxLengthFactor² words the evidence needed stops growing.
	MaxLengthFactor float64 `json:",omitempty"`
	// TitleWeight multiplies what a match in a document's title
	// (TagDocument) contributes, in [1, 4]; 0 (the field absent, or 1 in
	// the file) is 1: a title match counts as one in the text.
	TitleWeight float64 `json:",omitempty"`
	// OneSensePerDocument: when a term's exclusions cancel more of its
	// matches in a document than they leave, the document uses
	// the word in the other sense throughout, and its other matches are
	// cancelled too (a text about "AI" as artificial insemination, or
	// about drone music, whose headline says only "AI" or "drone").
	OneSensePerDocument bool `json:",omitempty"`
}

// Theme is one theme: its labels, threshold, terms and exclusions.
type Theme struct {
	ID          string
	LabelVI     string
	LabelEN     string
	Description string
	// Threshold is the score in (0, 1] at which the theme is tagged.
	Threshold  float64
	Terms      []Term
	Exclusions []Exclusion
	// Examples are texts the theme must (Tagged) or must not tag: the
	// rule file's own tests, run by Tagger.TestExamples. They do not
	// change what the rules mean, so they are not part of the version.
	Examples []Example `json:"-"`
	Line     int       `json:"-"` // where the theme starts in its file (0 when unknown)
}

// Example is one test text of a theme.
type Example struct {
	Text   string
	Tagged bool // true: the theme must tag it; false: it must not
	Line   int
}

// Term is one weighted word or phrase with its variants.
type Term struct {
	ID       string
	Text     string
	Variants []string
	Weight   float64 // in (0, 1]
	// CaseSensitive matches the letters' case exactly ("AI" but not "ai" or
	// "Ai"). An all-capital case-sensitive term (an acronym) found in
	// all-capital text counts only with support, like a weak term.
	CaseSensitive bool
	// Folded also matches the term typed without diacritics.
	Folded bool
	// Unfolded names the term's own phrases (its text or variants) that
	// match only as written although the term is folded: those that,
	// typed without diacritics, are another everyday word ("chùa" is
	// "chưa", not yet). The term's other phrases stay folded. It may also
	// name phrases of Needs, which are otherwise read without diacritics
	// too ("phóng", launched, is "phòng", room, typed without them).
	Unfolded []string `json:",omitempty"` // omitted when empty: older rulesets keep their version
	// Inflect also matches simple English inflections of the last word
	// (drone/drones, chip/chips, battery/batteries).
	Inflect bool
	// Hyphens lets the words of a phrase be joined by hyphens as well as by
	// spaces ("các-bon" for "các bon"). Terms written with a hyphen always may.
	Hyphens bool
	// Weak terms count only when a strong term of the same theme also
	// matched: anywhere in the document when Window is 0, else within
	// Window words.
	Weak   bool
	Window int
	// Context terms count nothing themselves: they are the setting in
	// which a theme's weak terms count ("bệnh viện" for "ứng dụng"), as
	// a strong term would be. Their weight is 0; they show as evidence
	// of weight 0.
	Context bool `json:",omitempty"` // omitted when false: older rulesets keep their version
	// Needs are the term's own setting: words of which one must stand
	// within NeedsWindow words (0: anywhere in the document) for the term
	// to count ("AI" beside a word of computing; not the theme's other
	// terms, which the theme's context terms would support too). They
	// match in any case (but for a case-sensitive term's own phrase within
	// one, as written), also without diacritics (but for those Unfolded
	// lists), hyphenated as the term is.
	Needs       []string `json:",omitempty"`
	NeedsWindow int      `json:",omitempty"`
	Line        int      `json:"-"`
}

// Exclusion is a phrase that cancels matches of its theme's terms where it
// overlaps them or stands within Window words of them, or everywhere in the
// document when Scope is "document".
type Exclusion struct {
	ID       string
	Text     string
	Variants []string
	// Cancels lists the term ids it cancels; empty means every term of the theme.
	Cancels []string
	Window  int
	// Scope is "near" (default) or "document".
	Scope  string
	Folded bool
	// Unfolded: as for a Term, the exclusion's phrases that match only as
	// written.
	Unfolded []string `json:",omitempty"`
	Hyphens  bool
	// CaseSensitive matches the letters' case exactly: "Electric Boat" (the
	// submarine builder) cancels where "electric boat" must not. Exclusions
	// do not take it from the defaults: one narrower than the terms it
	// guards would let them through.
	CaseSensitive bool `json:",omitempty"` // omitted when false: older rulesets keep their version
	// OtherExpansion makes Text an acronym (2 to 10 capital letters) and
	// the exclusion match where a document spells it out as something
	// else: in parentheses after (or before) as many words as it has
	// letters, whose initials they are ("Assistant Instructor (AI)",
	// "acid-insoluble (AI)"), unless a term of the theme matches those
	// words ("artificial intelligence (AI)"). The words are the match.
	OtherExpansion bool `json:",omitempty"`
	Line           int  `json:"-"`
}

// DropReason says, for people reading evidence, why d (a dropped match of
// the theme) did not count: its Reason, and for DropNeedsUnmet and
// DropUnsupported what it lacked, in words: its own setting (Needs), a
// strong term near a weak one, or one beside an acronym in all-capital
// text. Printers add an exclusion's details. A nil Ruleset, or a term it
// does not hold, gives the Reason alone.
func (rs *Ruleset) DropReason(theme string, d Dropped) string {
	if rs == nil || (d.Reason != DropUnsupported && d.Reason != DropNeedsUnmet) {
		return d.Reason
	}
	within := func(w int) string {
		if w == 0 {
			return "in the document"
		}
		return fmt.Sprintf("within %d words", w)
	}
	for _, th := range rs.Themes {
		if th.ID != theme {
			continue
		}
		for _, t := range th.Terms {
			switch {
			case t.ID != d.Term:
			case d.Reason == DropNeedsUnmet:
				words := strings.Join(t.Needs[:min(3, len(t.Needs))], ", ")
				if len(t.Needs) > 3 {
					words += ", …"
				}
				return fmt.Sprintf("needs unmet: no word of its needs %s (%s)", within(t.NeedsWindow), words)
			case t.Weak:
				return fmt.Sprintf("unsupported: a weak term with no strong or context term of the theme %s", within(t.Window))
			default:
				return "unsupported: an acronym in all-capital text with no strong term of the theme in the document"
			}
		}
	}
	return d.Reason
}
