// Package evaluation scores a tagger against hand-labelled documents (gold
// files in the format eval/README.md describes; the labelled sets are in
// eval/): per-theme precision, recall and F1, the micro average, and the
// errors with their evidence. tagctl eval and tagctl rules diff use it.
package evaluation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/doctagger/doctagger/internal/corpus"
	"github.com/doctagger/doctagger/tagger"
)

// GoldDoc is one labelled document. Text may be empty in the file when it
// is taken from a corpus by id. Title is optional (tagger.Document.Title).
type GoldDoc struct {
	ID       string   `json:"id"`
	Lang     string   `json:"lang,omitempty"`
	Source   string   `json:"source,omitempty"`
	Title    string   `json:"title,omitempty"`
	Text     string   `json:"text,omitempty"`
	Required []string `json:"required"`
	Optional []string `json:"optional"`
	Note     string   `json:"note,omitempty"`
}

// ReadGold reads a gold file. When corpusPath is set, documents without
// text take it from the corpus (JSONL of {"id","text"}) by id. Theme ids
// are checked against known (when non-nil).
func ReadGold(goldPath, corpusPath string, known []string) ([]GoldDoc, error) {
	var docs []GoldDoc
	seen := map[string]int{}
	err := corpus.EachLine(goldPath, func(n int, line []byte) error {
		var d GoldDoc
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return fmt.Errorf("%s:%d: %w", goldPath, n, err)
		}
		if d.ID == "" {
			return fmt.Errorf("%s:%d: the document has no id", goldPath, n)
		}
		if prev, dup := seen[d.ID]; dup {
			return fmt.Errorf("%s:%d: id %q already on line %d", goldPath, n, d.ID, prev)
		}
		seen[d.ID] = n
		for _, th := range append(slices.Clone(d.Required), d.Optional...) {
			if known != nil && !slices.Contains(known, th) {
				return fmt.Errorf("%s:%d: unknown theme %q (the ruleset has: %s)", goldPath, n, th, strings.Join(known, ", "))
			}
		}
		for _, th := range d.Required {
			if slices.Contains(d.Optional, th) {
				return fmt.Errorf("%s:%d: theme %q is both required and optional", goldPath, n, th)
			}
		}
		docs = append(docs, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	missing := map[string]int{}
	for i, d := range docs {
		if d.Text == "" {
			missing[d.ID] = i
		}
	}
	if len(missing) == 0 {
		return docs, nil
	}
	if corpusPath == "" {
		return nil, &NoTextError{Path: goldPath, Count: len(missing), First: docs[minIndex(missing)].ID}
	}
	err = corpus.EachLine(corpusPath, func(n int, line []byte) error {
		id, err := corpus.ID(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", corpusPath, n, err)
		}
		i, ok := missing[id]
		if !ok {
			return nil
		}
		var c struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &c); err != nil {
			return fmt.Errorf("%s:%d: %w", corpusPath, n, err)
		}
		docs[i].Text = c.Text
		delete(missing, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%d gold documents are not in %s (first: %q)", len(missing), corpusPath, docs[minIndex(missing)].ID)
	}
	return docs, nil
}

// NoTextError is ReadGold's answer for a gold file whose documents carry
// no text when no corpus is given: its lines are valid, and a corpus would
// supply the texts.
type NoTextError struct {
	Path  string
	Count int    // documents without text
	First string // the first of them
}

func (e *NoTextError) Error() string {
	return fmt.Sprintf("%s: %d documents have no text (first: %q): pass --corpus with the corpus they come from", e.Path, e.Count, e.First)
}

// TitleFirstLine makes the first line of each document's text its title
// (tagctl eval --title-first-line): the corpus's texts are a title line, a
// lead line and the body. A document that has a title already, or a text
// of one line, is left as it is.
func TitleFirstLine(docs []GoldDoc) {
	for i := range docs {
		d := &docs[i]
		if d.Title != "" {
			continue
		}
		d.Title, d.Text = SplitTitle(d.Text)
	}
}

// Unmarked strips every diacritic from each document's title and text
// (tagctl eval --unmarked, tagger.Unmark): the set as typed on a keyboard
// without a Vietnamese input method.
func Unmarked(docs []GoldDoc) {
	for i := range docs {
		docs[i].Title = tagger.Unmark(docs[i].Title)
		docs[i].Text = tagger.Unmark(docs[i].Text)
	}
}

// SplitTitle splits text into its first line (without its line break) and
// the rest; a text of one line is all text, with no title.
func SplitTitle(text string) (title, rest string) {
	first, rest, ok := strings.Cut(text, "\n")
	if !ok {
		return "", text
	}
	return strings.TrimSuffix(first, "\r"), rest
}

func minIndex(m map[string]int) int {
	lo := -1
	for _, i := range m {
		if lo < 0 || i < lo {
			lo = i
		}
	}
	return lo
}

// Counts are one theme's confusion counts.
type Counts struct{ TP, FP, FN int }

func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }
func (c Counts) Recall() float64    { return ratio(c.TP, c.TP+c.FN) }
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1 // nothing to get wrong
	}
	return float64(a) / float64(b)
}

// Error is one false positive or false negative, with the theme's tag
// (score and evidence; for a false negative, what matched below threshold).
type Error struct {
	Doc   string
	Theme string
	Kind  string // "FP" or "FN"
	Tag   *tagger.Tag
}

// Prediction is one document's tags, as written by --predictions.
type Prediction struct {
	ID   string     `json:"id"`
	Tags []ThemeTag `json:"tags"`
	Err  string     `json:"error,omitempty"`
}

// ThemeTag is a theme and its score.
type ThemeTag struct {
	Theme string  `json:"theme"`
	Score float64 `json:"score"`
}

// Report is the outcome of an evaluation.
type Report struct {
	Themes      []string
	PerTheme    map[string]Counts
	Micro       Counts
	Docs        int
	NoTheme     int // documents with no required or optional theme
	NoThemeHit  int // of those, how many got a tag
	Errors      []Error
	Predictions []Prediction
	rules       *tagger.Ruleset // says why a match was unsupported
}

// Run tags every document and scores the tags against the labels.
func Run(t *tagger.Tagger, docs []GoldDoc) (*Report, error) {
	rep := &Report{PerTheme: map[string]Counts{}, Docs: len(docs), rules: t.Ruleset()}
	for _, th := range t.Ruleset().Themes {
		rep.Themes = append(rep.Themes, th.ID)
	}
	for _, d := range docs {
		res, err := t.TagDocument(tagger.Document{Title: d.Title, Text: d.Text}, tagger.Options{IncludeUntagged: true})
		if err != nil {
			return nil, fmt.Errorf("document %q: %w", d.ID, err)
		}
		pred := Prediction{ID: d.ID, Tags: []ThemeTag{}}
		tagged := map[string]*tagger.Tag{}
		for i := range res.Tags {
			tg := &res.Tags[i]
			tagged[tg.Theme] = tg
			pred.Tags = append(pred.Tags, ThemeTag{tg.Theme, tg.Score})
		}
		rep.Predictions = append(rep.Predictions, pred)
		if len(d.Required)+len(d.Optional) == 0 {
			rep.NoTheme++
			if len(res.Tags) > 0 {
				rep.NoThemeHit++
			}
		}
		for _, th := range rep.Themes {
			c := rep.PerTheme[th]
			tg, isTagged := tagged[th]
			switch {
			case slices.Contains(d.Required, th) && isTagged:
				c.TP++
			case slices.Contains(d.Required, th):
				c.FN++
				rep.Errors = append(rep.Errors, Error{Doc: d.ID, Theme: th, Kind: "FN", Tag: findTag(res.Untagged, th)})
			case slices.Contains(d.Optional, th):
			case isTagged:
				c.FP++
				rep.Errors = append(rep.Errors, Error{Doc: d.ID, Theme: th, Kind: "FP", Tag: tg})
			}
			rep.PerTheme[th] = c
		}
	}
	for _, c := range rep.PerTheme {
		rep.Micro.TP += c.TP
		rep.Micro.FP += c.FP
		rep.Micro.FN += c.FN
	}
	return rep, nil
}

func findTag(tags []tagger.Tag, theme string) *tagger.Tag {
	for i := range tags {
		if tags[i].Theme == theme {
			return &tags[i]
		}
	}
	return nil
}

// WriteSummary prints the per-theme table and the micro average.
func (r *Report) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "%-18s %5s %5s %5s %9s %7s %7s\n", "theme", "TP", "FP", "FN", "precision", "recall", "F1")
	row := func(name string, c Counts) {
		fmt.Fprintf(w, "%-18s %5d %5d %5d %9.3f %7.3f %7.3f\n", name, c.TP, c.FP, c.FN, c.Precision(), c.Recall(), c.F1())
	}
	for _, th := range r.Themes {
		row(th, r.PerTheme[th])
	}
	row("micro", r.Micro)
	fmt.Fprintf(w, "documents: %d; with no theme: %d, of which tagged with any theme: %d\n", r.Docs, r.NoTheme, r.NoThemeHit)
}

// WriteErrors prints each false positive and false negative with its evidence.
func (r *Report) WriteErrors(w io.Writer) {
	for _, e := range r.Errors {
		if e.Tag == nil {
			fmt.Fprintf(w, "%s %s %s: no term of the theme matched\n", e.Kind, e.Doc, e.Theme)
			continue
		}
		fmt.Fprintf(w, "%s %s %s: score %.3f (threshold %.2f)\n", e.Kind, e.Doc, e.Theme, e.Tag.Score, e.Tag.Threshold)
		for _, ev := range e.Tag.Evidence {
			fmt.Fprintf(w, "    + %-28s %q at %d%s (weight %.3f%s)\n", ev.Term, ev.Text, ev.Start, titleNote(ev.InTitle), ev.Weight, foldedNote(ev.Folded))
		}
		for _, d := range e.Tag.Dropped {
			why := r.rules.DropReason(e.Theme, d)
			if d.Exclusion != "" {
				why += fmt.Sprintf(" by %s %q at %d%s", d.Exclusion, d.ExclusionText, d.ExclusionStart, titleNote(d.ExclusionInTitle))
			}
			fmt.Fprintf(w, "    - %-28s %q at %d%s: %s\n", d.Term, d.Text, d.Start, titleNote(d.InTitle), why)
		}
	}
}

// titleNote marks an offset into the title rather than the text.
func titleNote(inTitle bool) string {
	if inTitle {
		return " of the title"
	}
	return ""
}

func foldedNote(folded bool) string {
	if folded {
		return ", without diacritics"
	}
	return ""
}

// WritePredictions writes one JSON line per document.
func (r *Report) WritePredictions(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, p := range r.Predictions {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}
