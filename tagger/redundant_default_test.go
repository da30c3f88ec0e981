package tagger

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateRedundant = flag.Bool("update-redundant", false, "rewrite testdata/redundant-default.txt from rules/default.yaml")

// knownRedundantFile holds the default ruleset's redundant phrases from before
// the check existed, one "theme/kind entry: longer ⊃ shorter" a line. They
// are harmless (each matches nowhere its shorter phrase does not), but an
// entry's text cannot go without renaming its id, and a longer exclusion
// phrase reaches its window from a wider span, so they were not removed in
// bulk. New ones are refused: see TestDefaultRedundant.
const knownRedundantFile = "testdata/redundant-default.txt"

func redundantKey(r RedundantPhrase) string {
	return fmt.Sprintf("%s/%s %s: %s ⊃ %s", r.Theme, r.Kind, r.Entry, r.Longer, r.Shorter)
}

// TestDefaultRedundant fails, naming the line, when an edit to
// rules/default.yaml adds a phrase that holds another phrase of the same
// entry (it only makes the file longer), and when a listed one is gone, so
// the list shrinks as the file is cleaned. -update-redundant rewrites the
// list, for the rare deliberate case; the diff then shows it in review.
func TestDefaultRedundant(t *testing.T) {
	rs, err := DefaultRuleset()
	if err != nil {
		t.Fatal(err)
	}
	phrases := rs.RedundantPhrases()
	keys := make([]string, len(phrases))
	for i, r := range phrases {
		keys[i] = redundantKey(r)
	}
	if *updateRedundant {
		if err := os.WriteFile(knownRedundantFile, []byte(strings.Join(keys, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(knownRedundantFile)
	if err != nil {
		t.Fatal(err)
	}
	known := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	checkKnownList(t, keys, known, knownRedundantFile, func(i int) {
		r := phrases[i]
		t.Errorf("rules/default.yaml:%d theme %s %s %s: %q holds %q of the same entry, so it matches nowhere the shorter one does not: drop it (tagctl rules check --redundant rules/default.yaml)",
			r.Line, r.Theme, r.Kind, r.Entry, r.Longer, r.Shorter)
	})
}
