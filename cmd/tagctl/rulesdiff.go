package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/doctagger/doctagger/internal/corpus"
	"github.com/doctagger/doctagger/tagger"
)

// rulesDiffCmd tags a corpus with two rulesets and reports the documents
// whose tags change, with the evidence that changed and counts per theme:
// the blast radius of a rule edit before it is deployed.
func rulesDiffCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rules diff", "OLD NEW --corpus FILE", stderr)
	corpus := fs.String("corpus", "", "documents to tag: .jsonl[.gz] of {id, text} (a corpus, or a gold file with texts)")
	limit := fs.Int("limit", 50, "print at most this many changed documents (0: all); the counts cover all")
	quiet := fs.Bool("counts", false, "print only the per-theme counts")
	unmarked := fs.Bool("unmarked", false, "tag each document typed without diacritics (every mark stripped, đ as d)")
	if err := parse(fs, interspersed(args, map[string]bool{"corpus": true, "limit": true})); err != nil {
		return err
	}
	if fs.NArg() != 2 || *corpus == "" {
		fs.Usage()
		return errUsage
	}
	oldT, err := loadRules(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	newT, err := loadRules(fs.Arg(1))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(1), err)
	}
	d := &ruleDiff{gained: map[string]int{}, lost: map[string]int{}, tagged: map[string][2]int{}, oldRules: oldT.Ruleset(), newRules: newT.Ruleset()}
	for _, th := range newT.Ruleset().Themes {
		d.themes = append(d.themes, th.ID)
	}
	for _, th := range oldT.Ruleset().Themes {
		if !slices.Contains(d.themes, th.ID) {
			d.themes = append(d.themes, th.ID)
		}
	}
	fmt.Fprintf(stdout, "old %s (%s)\nnew %s (%s)\n", oldT.Version(), oldT.Ruleset().Source, newT.Version(), newT.Ruleset().Source)
	// Phrases the edit added that add nothing (redundant) or that lower a
	// tag where they hold another term's phrase (shadowing). Compared
	// without their lines, which an edit above them moves.
	oldRS, newRS := oldT.Ruleset(), newT.Ruleset()
	withoutLine := func(r tagger.RedundantPhrase) tagger.RedundantPhrase { r.Line = 0; return r }
	redundant := addedSince(oldRS.RedundantPhrases(), newRS.RedundantPhrases(), withoutLine)
	printRedundant(stdout, newRS.Source, redundant)
	fmt.Fprintf(stdout, "redundant phrases added: %d\n", len(redundant))
	shadowWithoutLine := func(s tagger.ShadowingPhrase) tagger.ShadowingPhrase { s.Line = 0; return s }
	shadowing := addedSince(oldRS.ShadowingPhrases(), newRS.ShadowingPhrases(), shadowWithoutLine)
	printShadowing(stdout, newRS.Source, shadowing)
	fmt.Fprintf(stdout, "shadowing phrases added: %d\n", len(shadowing))
	printed := 0
	err = eachDoc(*corpus, func(id, text string) error {
		if *unmarked {
			text = tagger.Unmark(text)
		}
		o, err := oldT.Tag(text, tagger.Options{IncludeUntagged: true})
		if err != nil {
			return fmt.Errorf("document %q: %w", id, err)
		}
		n, err := newT.Tag(text, tagger.Options{IncludeUntagged: true})
		if err != nil {
			return fmt.Errorf("document %q: %w", id, err)
		}
		d.docs++
		lines := d.compare(o, n)
		if len(lines) == 0 {
			return nil
		}
		d.changed++
		if *quiet || (*limit > 0 && printed >= *limit) {
			return nil
		}
		printed++
		fmt.Fprintf(stdout, "%s (%d words)\n", id, n.Words)
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !*quiet && *limit > 0 && d.changed > printed {
		fmt.Fprintf(stdout, "… %d more changed documents (--limit 0 prints all)\n", d.changed-printed)
	}
	fmt.Fprintf(stdout, "\n%-18s %8s %8s %8s %8s\n", "theme", "old", "new", "gained", "lost")
	for _, th := range d.themes {
		c := d.tagged[th]
		fmt.Fprintf(stdout, "%-18s %8d %8d %8d %8d\n", th, c[0], c[1], d.gained[th], d.lost[th])
	}
	fmt.Fprintf(stdout, "documents: %d; with changed tags: %d\n", d.docs, d.changed)
	return nil
}

type ruleDiff struct {
	themes        []string
	docs, changed int
	gained, lost  map[string]int
	tagged        map[string][2]int // documents tagged by the old and the new rules
	// the rulesets, which say why a match was unsupported
	oldRules, newRules *tagger.Ruleset
}

// compare returns the lines describing how a document's tags changed
// (none when the set of tagged themes is the same).
func (d *ruleDiff) compare(o, n tagger.Result) []string {
	var lines []string
	for _, th := range d.themes {
		ot, oTagged := findResultTag(o, th)
		nt, nTagged := findResultTag(n, th)
		c := d.tagged[th]
		if oTagged {
			c[0]++
		}
		if nTagged {
			c[1]++
		}
		d.tagged[th] = c
		if oTagged == nTagged {
			continue
		}
		sign := "+"
		if nTagged {
			d.gained[th]++
		} else {
			sign = "-"
			d.lost[th]++
		}
		lines = append(lines, fmt.Sprintf("  %s%s  score %.4f -> %.4f", sign, th, score(ot), score(nt)))
		oldEv, newEv := evidenceSet(d.oldRules, th, ot), evidenceSet(d.newRules, th, nt)
		for _, k := range slices.Sorted(maps.Keys(newEv)) {
			if _, ok := oldEv[k]; !ok {
				lines = append(lines, "      + "+newEv[k])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(oldEv)) {
			if _, ok := newEv[k]; !ok {
				lines = append(lines, "      - "+oldEv[k])
			}
		}
	}
	return lines
}

func findResultTag(r tagger.Result, theme string) (*tagger.Tag, bool) {
	for i := range r.Tags {
		if r.Tags[i].Theme == theme {
			return &r.Tags[i], true
		}
	}
	for i := range r.Untagged {
		if r.Untagged[i].Theme == theme {
			return &r.Untagged[i], false
		}
	}
	return nil, false
}

func score(t *tagger.Tag) float64 {
	if t == nil {
		return 0
	}
	return t.Score
}

// evidenceSet keys a tag's counting evidence by place and term, with a
// description; dropped matches are described with their reason.
func evidenceSet(rs *tagger.Ruleset, theme string, t *tagger.Tag) map[string]string {
	m := map[string]string{}
	if t == nil {
		return m
	}
	for _, e := range t.Evidence {
		m[fmt.Sprintf("%012d %s", e.Start, e.Term)] = fmt.Sprintf("%-28s %q at %d (weight %.3f)", e.Term, e.Text, e.Start, e.Weight)
	}
	for _, dr := range t.Dropped {
		why := rs.DropReason(theme, dr)
		if dr.Exclusion != "" {
			why += " by " + dr.Exclusion
		}
		m[fmt.Sprintf("%012d %s dropped", dr.Start, dr.Term)] = fmt.Sprintf("%-28s %q at %d (%s)", dr.Term, dr.Text, dr.Start, why)
	}
	return m
}

// eachDoc calls fn for every {id, text} line of a JSONL file (.gz allowed).
func eachDoc(path string, fn func(id, text string) error) error {
	return corpus.EachLine(path, func(n int, line []byte) error {
		var doc struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if doc.ID == "" {
			doc.ID = fmt.Sprintf("%s:%d", path, n)
		}
		return fn(doc.ID, doc.Text)
	})
}

// interspersed moves flags after positional arguments to the front, so
// that "OLD NEW --corpus C" parses as the usage line shows it. valued
// names the flags that take a value.
func interspersed(args []string, valued map[string]bool) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && valued[name] && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

// addedSince returns the items of now whose key is not among the keys of
// before, in the order of now.
func addedSince[T any, K comparable](before, now []T, key func(T) K) []T {
	had := make(map[K]bool, len(before))
	for _, x := range before {
		had[key(x)] = true
	}
	var added []T
	for _, x := range now {
		if !had[key(x)] {
			added = append(added, x)
		}
	}
	return added
}
