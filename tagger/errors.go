package tagger

import (
	"fmt"
	"strings"
)

// InvalidUTF8Error reports input that is not valid UTF-8.
type InvalidUTF8Error struct {
	Offset int // byte offset of the first invalid sequence, in the field
	// Field is the document field that is not valid UTF-8: "title"
	// (TagDocument), or "" for the text.
	Field string
}

func (e *InvalidUTF8Error) Error() string {
	field := e.Field
	if field == "" {
		field = "text"
	}
	return fmt.Sprintf("%s is not valid UTF-8: invalid byte sequence at byte offset %d", field, e.Offset)
}

// UnknownThemeError reports an Options.Themes entry the ruleset lacks.
type UnknownThemeError struct {
	Theme string
	Known []string
}

func (e *UnknownThemeError) Error() string {
	return fmt.Sprintf("unknown theme %q (the ruleset has: %s)", e.Theme, strings.Join(e.Known, ", "))
}

// Problem is one thing wrong in a ruleset, located as precisely as known.
type Problem struct {
	File    string
	Line    int    // 0 when unknown
	Theme   string // theme id, when the problem is inside a theme
	Term    string // term or exclusion id/text, when inside one
	Message string // what is wrong and what to change
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Theme != "" {
		fmt.Fprintf(&b, "theme %q: ", p.Theme)
	}
	if p.Term != "" {
		fmt.Fprintf(&b, "%q: ", p.Term)
	}
	b.WriteString(p.Message)
	return b.String()
}

// RulesetError lists every problem found while loading a ruleset.
type RulesetError struct {
	Problems []Problem
}

func (e *RulesetError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("invalid ruleset (%d problems):\n  %s", len(e.Problems), strings.Join(lines, "\n  "))
}
