package main

import (
	"fmt"
	"io"

	"github.com/doctagger/doctagger/internal/evaluation"
)

// baselineEval scores the baseline ruleset on the same documents and
// prints, per theme and for the micro average, its F1 beside the new one.
func baselineEval(w io.Writer, path string, docs []evaluation.GoldDoc, rep *evaluation.Report) error {
	bt, err := loadRules(path)
	if err != nil {
		return fmt.Errorf("baseline %s: %w", path, err)
	}
	base, err := evaluation.Run(bt, docs)
	if err != nil {
		return fmt.Errorf("baseline %s: %w", path, err)
	}
	fmt.Fprintf(w, "\nagainst baseline %s (%s)\n", bt.Version(), bt.Ruleset().Source)
	fmt.Fprintf(w, "%-18s %8s %8s %8s %10s %10s\n", "theme", "F1 base", "F1 new", "change", "TP/FP/FN base", "new")
	row := func(name string, b, n evaluation.Counts) {
		fmt.Fprintf(w, "%-18s %8.3f %8.3f %+8.3f %10s %10s\n", name, b.F1(), n.F1(), n.F1()-b.F1(),
			fmt.Sprintf("%d/%d/%d", b.TP, b.FP, b.FN), fmt.Sprintf("%d/%d/%d", n.TP, n.FP, n.FN))
	}
	for _, th := range rep.Themes {
		row(th, base.PerTheme[th], rep.PerTheme[th])
	}
	row("micro", base.Micro, rep.Micro)
	fmt.Fprintf(w, "theme-less documents tagged: %d -> %d (of %d)\n", base.NoThemeHit, rep.NoThemeHit, rep.NoTheme)
	return nil
}
