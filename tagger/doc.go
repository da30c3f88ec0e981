// Package tagger is doctagger's engine: it tags a document (Vietnamese or
// English news) with the themes of a ruleset, each with a score and the
// evidence for it. Plain Go, no gRPC; the service, the CLI and the
// evaluation tools all call it.
//
// Get a ruleset with [DefaultRuleset] (the embedded rules/default.yaml),
// [LoadRuleset] (a file) or [ParseRuleset] (bytes): each validates the
// rules and reports every problem at once as a *[RulesetError]. [Compile]
// turns a ruleset into a *[Tagger], immutable and safe for concurrent use,
// and [Tagger.Tag] tags one text:
//
//	rs, err := tagger.DefaultRuleset()
//	...
//	t, err := tagger.Compile(rs)
//	...
//	res, err := t.Tag(text, tagger.Options{})
//	for _, tag := range res.Tags { // themes at or over their threshold, highest score first
//		fmt.Println(tag.Theme, tag.Score, tag.Evidence)
//	}
//
// The text must be valid UTF-8 (else an *[InvalidUTF8Error] with the byte
// offset of the first bad sequence); it may be NFC or NFD, with either
// placement of the tone marks, either spelling of an i/y syllable ("bác
// sĩ"/"bác sỹ"), and in any case. Matching is by whole words:
// the text is split into word tokens once, each keyed by its letters with
// the tone taken apart (and by its bare letters for text typed without
// diacritics), and a token trie finds every term; see docs/engine.md.
//
// The offset contract: every [Evidence] (and every [Dropped] match and the
// exclusion that dropped it) says where it stands in the text exactly as
// it was given, whatever normalisation the matcher did, in three units:
// bytes (Start, End: text[Start:End] == Text, for Go), code points
// (RuneStart, RuneEnd, for Python) and UTF-16 code units (UTF16Start,
// UTF16End, for JavaScript, Java and C#). Result.Words is the number of
// word tokens, which the score's length normalisation uses.
//
// [Tagger.TagDocument] tags a [Document] with a title (a headline): its
// matches weigh the ruleset's Scoring.TitleWeight, and their evidence has
// InTitle set, its offsets into the title; Words and the length are the
// text's. With an empty title it is Tag.
package tagger
