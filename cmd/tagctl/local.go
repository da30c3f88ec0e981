package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/doctagger/doctagger/internal/evaluation"
	"github.com/doctagger/doctagger/tagger"
)

func init() {
	register(command{name: "rules check", summary: "validate a ruleset file; print its themes, term counts and version", run: rulesCheck})
	register(command{name: "eval", summary: "score the rules against a gold file: precision, recall, F1", run: evalCmd})
}

func rulesCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rules check", "FILE", stderr)
	listRedundant := fs.Bool("redundant", false, "list each phrase that holds another of the same term or exclusion (it adds nothing)")
	listShadowing := fs.Bool("shadowing", false, "list each phrase that holds another term's phrase of the theme where the longer match counts for less (lower weight, weak, needs)")
	if err := parse(fs, args); err != nil {
		return err
	}
	rs, t, err := loadRuleFileArg(fs)
	if err != nil {
		return err
	}
	printRuleset(stdout, rs)
	redundant := rs.RedundantPhrases()
	if *listRedundant {
		printRedundant(stdout, rs.Source, redundant)
	}
	fmt.Fprintf(stdout, "redundant phrases: %d (a phrase holding another of the same entry matches nowhere the shorter one does not; --redundant lists them)\n", len(redundant))
	shadowing := rs.ShadowingPhrases()
	if *listShadowing {
		printShadowing(stdout, rs.Source, shadowing)
	}
	fmt.Fprintf(stdout, "shadowing phrases: %d (a phrase holding another term's phrase of the theme, where the longer match counts for less; --shadowing lists them)\n", len(shadowing))
	if failed := runExamples(stdout, rs, t, false); failed > 0 {
		return exitError{1}
	}
	return nil
}

func printRedundant(w io.Writer, source string, list []tagger.RedundantPhrase) {
	for _, r := range list {
		fmt.Fprintf(w, "%s:%d: theme %q %s %q: %q holds %q\n", source, r.Line, r.Theme, r.Kind, r.Entry, r.Longer, r.Shorter)
	}
}

func printShadowing(w io.Writer, source string, list []tagger.ShadowingPhrase) {
	for _, s := range list {
		fmt.Fprintf(w, "%s:%d: theme %q term %q %q (%s) holds term %q %q (%s): %s\n", source, s.Line, s.Theme,
			s.LongerTerm, s.Longer, weightText(s.LongerWeight), s.ShorterTerm, s.Shorter, weightText(s.ShorterWeight), s.Reason)
	}
}

// weightText prints a term's weight with at least one decimal: 1.0, 0.8, 0.35.
func weightText(w float64) string {
	s := strconv.FormatFloat(w, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func printRuleset(w io.Writer, rs *tagger.Ruleset) {
	fmt.Fprintf(w, "ruleset %q from %s\nversion %s\n", rs.Name, rs.Source, rs.Version)
	fmt.Fprintf(w, "%-18s %6s %6s %6s %10s %9s  %s\n", "theme", "terms", "weak", "needs", "exclusions", "threshold", "label")
	for _, th := range rs.Themes {
		weak, needs := 0, 0
		for _, t := range th.Terms {
			if t.Weak {
				weak++
			}
			if len(t.Needs) > 0 {
				needs++
			}
		}
		fmt.Fprintf(w, "%-18s %6d %6d %6d %10d %9.2f  %s / %s\n", th.ID, len(th.Terms), weak, needs, len(th.Exclusions), th.Threshold, th.LabelVI, th.LabelEN)
	}
}

// loadRuleFileArg loads and compiles the one rule file the rules
// subcommands take as their argument.
func loadRuleFileArg(fs *flag.FlagSet) (*tagger.Ruleset, *tagger.Tagger, error) {
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, nil, errUsage
	}
	rs, err := tagger.LoadRuleset(fs.Arg(0))
	if err != nil {
		return nil, nil, err
	}
	t, err := tagger.Compile(rs)
	if err != nil {
		return nil, nil, err
	}
	return rs, t, nil
}

func loadRules(path string) (*tagger.Tagger, error) {
	rs, err := tagger.LoadRulesetOrDefault(path)
	if err != nil {
		return nil, err
	}
	return tagger.Compile(rs)
}

func evalCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "", stderr)
	gold := fs.String("gold", "", "gold file (.jsonl or .jsonl.gz, format: GOLD-FORMAT.md)")
	rulesPath := fs.String("rules", "", "ruleset file (default: the embedded default rules)")
	corpus := fs.String("corpus", "", "corpus (.jsonl[.gz] of {id, text}) for gold lines that carry only an id and labels")
	showErrors := fs.Bool("errors", false, "print each false positive and false negative with its evidence")
	predictions := fs.String("predictions", "", "write one {id, tags:[{theme, score}]} line per document to this file")
	baseline := fs.String("baseline", "", "also score this ruleset file and print each theme's F1 change against it")
	titleFirstLine := fs.Bool("title-first-line", false, "tag the first line of each text as the document's title (scoring.title_weight), the rest as its text")
	unmarked := fs.Bool("unmarked", false, "tag each text typed without diacritics (every mark stripped, đ as d): how the rules fare on text typed without a Vietnamese keyboard")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *gold == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	t, err := loadRules(*rulesPath)
	if err != nil {
		return err
	}
	docs, err := evaluation.ReadGold(*gold, *corpus, t.Ruleset().ThemeIDs())
	if err != nil {
		return err
	}
	if *titleFirstLine {
		evaluation.TitleFirstLine(docs)
	}
	if *unmarked {
		evaluation.Unmarked(docs)
	}
	rep, err := evaluation.Run(t, docs)
	if err != nil {
		return err
	}
	typed := ""
	if *unmarked {
		typed = ", typed without diacritics"
	}
	fmt.Fprintf(stdout, "ruleset %s (%s), %d documents from %s%s\n", t.Version(), t.Ruleset().Source, len(docs), *gold, typed)
	if *showErrors {
		rep.WriteErrors(stdout)
	}
	rep.WriteSummary(stdout)
	if *baseline != "" {
		if err := baselineEval(stdout, *baseline, docs, rep); err != nil {
			return err
		}
	}
	if *predictions != "" {
		f, err := os.Create(*predictions)
		if err != nil {
			return err
		}
		if err := rep.WritePredictions(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}
