package tagger

// STUB: the engine is being written; signatures are final.

// Tagger is a compiled ruleset. It is immutable and safe for concurrent use.
type Tagger struct {
	rs *Ruleset
}

// Compile builds the matcher for a validated ruleset.
func Compile(rs *Ruleset) (*Tagger, error) { return &Tagger{rs: rs}, nil }

// Ruleset returns the ruleset the tagger was compiled from. Do not modify it.
func (t *Tagger) Ruleset() *Ruleset { return t.rs }

// Version is the ruleset's content hash, as reported in every Result.
func (t *Tagger) Version() string { return t.rs.Version }

// Tag tags one document.
func (t *Tagger) Tag(text string, opts Options) (Result, error) {
	return Result{RulesetVersion: t.rs.Version}, nil
}
