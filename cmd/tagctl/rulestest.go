package main

import (
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/doctagger/doctagger/tagger"
)

func init() {
	register(command{name: "rules test", summary: "run the examples a ruleset file carries; print each failure with its evidence", run: rulesTestCmd})
	register(command{name: "rules diff", summary: "documents of a corpus whose tags change between two rulesets, with counts per theme", run: rulesDiffCmd})
}

// rulesTestCmd runs the examples a ruleset file carries (each theme's
// examples: tagged / not_tagged) and prints every failure with its evidence.
func rulesTestCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rules test", "FILE", stderr)
	verbose := fs.Bool("v", false, "also list the examples that pass")
	unmarked := fs.Bool("unmarked", false, "also run each example that has diacritics as typed without them, and list those whose answer changes (listed, not failed: some words cannot be folded, as \"bán dẫn\" is also \"bàn dân\")")
	if err := parse(fs, args); err != nil {
		return err
	}
	rs, t, err := loadRuleFileArg(fs)
	if err != nil {
		return err
	}
	failed := runExamples(stdout, rs, t, *verbose)
	if *unmarked {
		runUnmarkedExamples(stdout, rs, t)
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

// runUnmarkedExamples lists the examples whose answer changes when typed
// without diacritics, with the unmarked text's evidence.
func runUnmarkedExamples(w io.Writer, rs *tagger.Ruleset, t *tagger.Tagger) {
	results := t.TestExamplesUnmarked()
	changed := 0
	for _, r := range results {
		if r.Passed && r.Err == nil {
			continue
		}
		changed++
		writeExampleResult(w, "UNMARKED", rs, r)
	}
	fmt.Fprintf(w, "unmarked: %d examples with diacritics, %d answer differently without them\n", len(results), changed)
}

// runExamples runs and reports a ruleset's examples; it returns how many failed.
func runExamples(w io.Writer, rs *tagger.Ruleset, t *tagger.Tagger, verbose bool) int {
	results := t.TestExamples()
	failed := 0
	for _, r := range results {
		if r.Passed && r.Err == nil {
			if verbose {
				fmt.Fprintf(w, "ok   %s:%d %s %s %s\n", rs.Source, r.Example.Line, r.Theme, want(r.Example), quote(r.Example.Text))
			}
			continue
		}
		failed++
		writeExampleResult(w, "FAIL", rs, r)
	}
	fmt.Fprintf(w, "examples: %d, passed: %d, failed: %d\n", len(results), len(results)-failed, failed)
	return failed
}

func want(ex tagger.Example) string {
	if ex.Tagged {
		return "tagged"
	}
	return "not_tagged"
}

// quote shortens a long example for one line of output.
func quote(s string) string {
	const max = 100
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// writeExampleResult prints an example's outcome under label (FAIL,
// UNMARKED) with its evidence.
func writeExampleResult(w io.Writer, label string, rs *tagger.Ruleset, r tagger.ExampleResult) {
	fmt.Fprintf(w, "%s %s:%d theme %s: example must be %s: %s\n", label, rs.Source, r.Example.Line, r.Theme, map[bool]string{true: "tagged", false: "not tagged"}[r.Example.Tagged], quote(r.Example.Text))
	switch {
	case r.Err != nil:
		fmt.Fprintf(w, "    error: %v\n", r.Err)
		return
	case r.Tag == nil:
		fmt.Fprintf(w, "    no term of the theme matched\n")
		return
	}
	fmt.Fprintf(w, "    score %.4f (threshold %.2f)\n", r.Tag.Score, r.Tag.Threshold)
	for _, ev := range r.Tag.Evidence {
		fmt.Fprintf(w, "    + %-28s %q at %d (weight %.3f%s)\n", ev.Term, ev.Text, ev.Start, ev.Weight, map[bool]string{true: ", without diacritics"}[ev.Folded])
	}
	for _, d := range r.Tag.Dropped {
		why := rs.DropReason(r.Theme, d)
		if d.Exclusion != "" {
			why += fmt.Sprintf(" by %s %q at %d", d.Exclusion, d.ExclusionText, d.ExclusionStart)
		}
		fmt.Fprintf(w, "    - %-28s %q at %d: %s\n", d.Term, d.Text, d.Start, why)
	}
}
