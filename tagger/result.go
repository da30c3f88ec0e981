package tagger

// Options tune one Tag call. The zero value tags every theme, keeps the
// evidence, and reports only themes that reach their threshold.
type Options struct {
	// Themes restricts tagging to these theme ids; empty means all.
	// An id the ruleset does not have is an *UnknownThemeError.
	Themes []string
	// MinScore drops tags scoring below it, on top of each theme's threshold.
	MinScore float64
	// OmitEvidence leaves Tag.Evidence and Tag.Dropped empty.
	OmitEvidence bool
	// IncludeUntagged also reports, in Result.Untagged, the themes that had
	// matches but stayed under their threshold, with their evidence: what a
	// rule author needs to see why a document was missed.
	IncludeUntagged bool

	// title is the byte length of the title that TagDocument put before
	// the text (0: none).
	title int
}

// Result is the answer for one document.
type Result struct {
	// Tags are the themes that reached their threshold, highest score first.
	Tags []Tag
	// Untagged is filled only with Options.IncludeUntagged.
	Untagged []Tag
	// RulesetVersion names the ruleset that produced this result.
	RulesetVersion string
	// Words is the number of word tokens in the document's text (a
	// TagDocument title not counted).
	Words int
}

// Tag is one theme's verdict on a document and why.
type Tag struct {
	Theme     string
	LabelVI   string
	LabelEN   string
	Score     float64 // in [0, 1]
	Threshold float64
	// Evidence lists the matches that counted, in text order.
	Evidence []Evidence
	// Dropped lists matches that were found but did not count, and why.
	Dropped []Dropped
}

// Evidence is one match of a rule in the document. Start and End are byte
// offsets into the original input, so input[Start:End] == Text whatever
// normalisation the matcher did.
type Evidence struct {
	Term      string // term id, unique within its theme
	Pattern   string // the term text (or variant) as written in the ruleset
	Text      string // the matched text exactly as it stands in the input
	Start     int    // byte offset, inclusive
	End       int    // byte offset, exclusive
	RuneStart int    // rune offset, inclusive
	RuneEnd   int    // rune offset, exclusive
	// UTF-16 code unit offsets, as JavaScript, Java and C# index strings:
	// the rune offsets plus one for each rune before them outside the
	// Basic Multilingual Plane (an emoji).
	UTF16Start int
	UTF16End   int
	Weight     float64
	// Folded is true when the match was made without diacritics
	// ("tri tue nhan tao" for "trí tuệ nhân tạo").
	Folded bool
	// InTitle is true when the match is in the document's title
	// (TagDocument): its offsets and Text are then into the title, not
	// the text, and its weight is multiplied by the ruleset's title weight.
	InTitle bool `json:",omitempty"`
}

// Drop reasons.
const (
	// DropExcluded: an exclusion of the theme cancelled the match.
	DropExcluded = "excluded"
	// DropUnsupported: a weak term (or an acronym in all-capital text) with
	// no strong term of its theme to support it.
	DropUnsupported = "unsupported"
	// DropNeedsUnmet: a term with Needs and none of those words within its
	// NeedsWindow (its own setting is missing). Checked before support, so a
	// weak term with Needs that lacks both is dropped for its needs.
	DropNeedsUnmet = "needs_unmet"
)

// Dropped is a match that was found but did not count.
type Dropped struct {
	Evidence
	Reason string // DropExcluded, DropUnsupported or DropNeedsUnmet
	// For DropExcluded: the exclusion and where it matched, in bytes and
	// in runes, like the evidence.
	Exclusion          string // exclusion id
	ExclusionText      string
	ExclusionStart     int
	ExclusionEnd       int
	ExclusionRuneStart int
	ExclusionRuneEnd   int
	// UTF-16 code unit offsets of the exclusion match.
	ExclusionUTF16Start int
	ExclusionUTF16End   int
	// ExclusionInTitle is true when the exclusion matched in the title
	// (TagDocument): its offsets are then into the title.
	ExclusionInTitle bool `json:",omitempty"`
}
