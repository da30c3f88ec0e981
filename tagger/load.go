package tagger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"

	"github.com/doctagger/doctagger/rules"
)

// engineVersion is part of every ruleset version: when the matching or
// scoring semantics change, the same rules give a new version (2: a
// case-sensitive term's own phrase in its needs keeps its case; 3: an
// other_expansion acronym is also spelled out after "stands for").
const engineVersion = "doctagger-engine-3"

// Defaults for a ruleset's scoring section and for term fields.
var defaultScoring = Scoring{ReferenceWords: 200, RepeatFactor: 0.5, MaxRepeat: 2}

const defaultThreshold = 0.5

// maxWindow bounds a window (in words): past it a window is the whole of
// any document the service takes, and the number stays far from overflow.
const maxWindow = 1 << 20

// LoadRuleset reads and validates a ruleset file.
func LoadRuleset(path string) (*Ruleset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading ruleset: %w", err)
	}
	return ParseRuleset(path, data)
}

// LoadRulesetOrDefault reads the ruleset file at path, or returns the
// embedded default ruleset when path is empty (taggerd's --rules and
// tagctl's --rules both mean this).
func LoadRulesetOrDefault(path string) (*Ruleset, error) {
	if path == "" {
		return DefaultRuleset()
	}
	return LoadRuleset(path)
}

// DefaultRuleset returns the embedded default ruleset.
func DefaultRuleset() (*Ruleset, error) {
	return ParseRuleset("embedded:"+rules.DefaultName, rules.Default)
}

// ParseRuleset validates a ruleset held in memory; source names it in
// errors and in Ruleset.Source. It reports every problem it finds, each
// with its line, as a *RulesetError.
func ParseRuleset(source string, data []byte) (*Ruleset, error) {
	p := &parser{file: source, lines: strings.Split(string(data), "\n")}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(0, "", "", "the file is empty: a ruleset needs at least a themes: list")
		} else {
			p.add(0, "", "", "not valid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return nil, p.err()
	}
	rs := &Ruleset{Source: source, Scoring: defaultScoring}
	if len(doc.Content) == 1 {
		p.ruleset(doc.Content[0], rs)
	}
	if len(rs.Themes) == 0 && len(p.problems) == 0 {
		p.add(doc.Line, "", "", "no themes: add a themes: list with at least one theme")
	}
	p.validate(rs)
	if err := p.err(); err != nil {
		return nil, err
	}
	rs.Version = rulesetVersion(rs)
	return rs, nil
}

type parser struct {
	file     string
	lines    []string // the source, for checks the YAML nodes cannot answer
	problems []Problem
	defaults termDefaults
}

type termDefaults struct {
	weight                                  float64
	caseSensitive, folded, inflect, hyphens bool
}

func (p *parser) add(line int, theme, term, msg string) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Theme: theme, Term: term, Message: msg})
}

func (p *parser) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return &RulesetError{Problems: p.problems}
}

// fields walks a mapping node, calling set for each known key and reporting
// unknown and repeated keys. where names the mapping in messages.
func (p *parser) fields(n *yaml.Node, theme, term, where string, known []string, set func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, theme, term, fmt.Sprintf("%s must be a mapping of keys to values", where))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case seen[k.Value]:
			p.add(k.Line, theme, term, fmt.Sprintf("key %q appears twice in %s: keep one", k.Value, where))
		case !contains(known, k.Value):
			p.add(k.Line, theme, term, fmt.Sprintf("unknown key %q in %s (known keys: %s)", k.Value, where, strings.Join(known, ", ")))
		default:
			set(k.Value, v)
		}
		seen[k.Value] = true
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) str(n *yaml.Node, theme, term, key string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.add(n.Line, theme, term, fmt.Sprintf("%s must be a string", key))
		return ""
	}
	return n.Value
}

func (p *parser) num(n *yaml.Node, theme, term, key string) float64 {
	var f float64
	if n.Kind != yaml.ScalarNode || n.Decode(&f) != nil {
		p.add(n.Line, theme, term, fmt.Sprintf("%s must be a number, not %q", key, n.Value))
	}
	return f
}

func (p *parser) integer(n *yaml.Node, theme, term, key string) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
		p.add(n.Line, theme, term, fmt.Sprintf("%s must be a whole number, not %q", key, n.Value))
	}
	return i
}

func (p *parser) boolean(n *yaml.Node, theme, term, key string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		p.add(n.Line, theme, term, fmt.Sprintf("%s must be true or false, not %q", key, n.Value))
	}
	return b
}

func (p *parser) strList(n *yaml.Node, theme, term, key string) []string {
	// A list written once with an anchor (needs: &computing [...]) and
	// named elsewhere by its alias (needs: *computing).
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		return []string{p.str(n, theme, term, key)}
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, theme, term, fmt.Sprintf("%s must be a list of strings", key))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, p.str(c, theme, term, key))
	}
	return out
}

func (p *parser) seq(n *yaml.Node, theme, key string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, theme, "", fmt.Sprintf("%s must be a list", key))
		return nil
	}
	return n.Content
}

func (p *parser) ruleset(n *yaml.Node, rs *Ruleset) {
	p.defaults = termDefaults{weight: 1}
	var themes *yaml.Node
	p.fields(n, "", "", "the ruleset", []string{"name", "description", "scoring", "defaults", "number_prefixes", "themes"}, func(k string, v *yaml.Node) {
		switch k {
		case "name":
			rs.Name = p.str(v, "", "", "name")
		case "description":
			p.str(v, "", "", "description")
		case "scoring":
			p.fields(v, "", "", "scoring", []string{"reference_words", "repeat_factor", "max_repeat", "max_length_factor", "title_weight", "one_sense_per_document"}, func(k string, v *yaml.Node) {
				switch k {
				case "reference_words":
					rs.Scoring.ReferenceWords = p.integer(v, "", "", "scoring.reference_words")
					if rs.Scoring.ReferenceWords < 1 {
						p.add(v.Line, "", "", "scoring.reference_words must be at least 1")
					}
				case "repeat_factor":
					rs.Scoring.RepeatFactor = p.num(v, "", "", "scoring.repeat_factor")
					if rs.Scoring.RepeatFactor < 0 || rs.Scoring.RepeatFactor > 10 {
						p.add(v.Line, "", "", "scoring.repeat_factor must be between 0 and 10")
					}
				case "max_repeat":
					rs.Scoring.MaxRepeat = p.num(v, "", "", "scoring.max_repeat")
					if rs.Scoring.MaxRepeat < 1 || rs.Scoring.MaxRepeat > 100 {
						p.add(v.Line, "", "", "scoring.max_repeat must be between 1 and 100")
					}
				case "max_length_factor":
					rs.Scoring.MaxLengthFactor = p.num(v, "", "", "scoring.max_length_factor")
					if f := rs.Scoring.MaxLengthFactor; f != 0 && (f < 1 || f > 100) {
						p.add(v.Line, "", "", "scoring.max_length_factor must be 0 (no cap) or between 1 and 100")
					}
				case "title_weight":
					w := p.num(v, "", "", "scoring.title_weight")
					if w < 1 || w > 4 || w != w {
						p.add(v.Line, "", "", fmt.Sprintf("scoring.title_weight is %v; it must be between 1 (a match in the title counts as one in the text) and 4", w))
					}
					if w != 1 {
						rs.Scoring.TitleWeight = w // 1 is stored as 0, the absent value: the same rules, the same version
					}
				case "one_sense_per_document":
					rs.Scoring.OneSensePerDocument = p.boolean(v, "", "", "scoring.one_sense_per_document")
				}
			})
		case "defaults":
			p.fields(v, "", "", "defaults", []string{"weight", "case_sensitive", "folded", "inflect", "hyphens"}, func(k string, v *yaml.Node) {
				switch k {
				case "weight":
					p.defaults.weight = p.num(v, "", "", "defaults.weight")
					p.checkWeight(v.Line, "", "", p.defaults.weight)
				case "case_sensitive":
					p.defaults.caseSensitive = p.boolean(v, "", "", k)
				case "folded":
					p.defaults.folded = p.boolean(v, "", "", k)
				case "inflect":
					p.defaults.inflect = p.boolean(v, "", "", k)
				case "hyphens":
					p.defaults.hyphens = p.boolean(v, "", "", k)
				}
			})
		case "number_prefixes":
			rs.NumberPrefixes = p.numberPrefixes(v)
		case "themes":
			themes = v
		}
	})
	// Themes last, so that defaults apply wherever they stand in the file.
	if themes != nil {
		for _, tn := range p.seq(themes, "", "themes") {
			rs.Themes = append(rs.Themes, p.theme(tn))
		}
	}
}

// maxPrefixWords bounds the words of one number prefix ("more than", "up
// to"): a slot spans at most maxPrefixWords+maxNumberTokens tokens.
const maxPrefixWords = 3

// numberPrefixes reads the ruleset's number_prefixes: words, without digits
// or punctuation, at most maxPrefixWords of them, each prefix once.
func (p *parser) numberPrefixes(n *yaml.Node) []string {
	list := p.strList(n, "", "", "number_prefixes")
	seen := map[string]string{}
	var out []string
	for i, text := range list {
		line := n.Line
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			line = n.Content[i].Line
		}
		text = norm.NFC.String(strings.TrimSpace(text))
		words, gaps := phraseWords(text)
		problem := ""
		switch {
		case len(words) == 0:
			problem = "has no letters, so it can never match"
		case len(words) > maxPrefixWords:
			problem = fmt.Sprintf("has %d words; a prefix has at most %d", len(words), maxPrefixWords)
		case strings.ContainsAny(text, "0123456789") || strings.Contains(text, NumberSlot):
			problem = "holds a digit or a number slot; a prefix is the words before the number"
		case strings.TrimSpace(text[:words[0].start]) != "" || strings.TrimSpace(text[words[len(words)-1].end:]) != "":
			problem = "has punctuation before or after its words: remove it"
		}
		for _, g := range gaps {
			if problem == "" && g.kind != gapKindSpace {
				problem = "has punctuation or a hyphen between its words; write them with spaces"
			}
		}
		if problem != "" {
			p.add(line, "", "", fmt.Sprintf("number_prefixes: %q %s", text, problem))
			continue
		}
		key := ""
		for _, w := range words {
			key += fmt.Sprintf("%x ", w.strict)
		}
		if prev, ok := seen[key]; ok {
			p.add(line, "", "", fmt.Sprintf("number_prefixes: %q is listed twice (as %q): keep one", text, prev))
			continue
		}
		seen[key] = text
		out = append(out, text)
	}
	return out
}

func (p *parser) checkWeight(line int, theme, term string, w float64) {
	if !(w > 0 && w <= 1) {
		p.add(line, theme, term, fmt.Sprintf("weight %g is out of range: use a number greater than 0 and at most 1", w))
	}
}

func (p *parser) theme(n *yaml.Node) Theme {
	th := Theme{Line: n.Line, Threshold: defaultThreshold}
	// Read the id first so every message about this theme can name it.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "id" && n.Content[i+1].Kind == yaml.ScalarNode {
				th.ID = n.Content[i+1].Value
			}
		}
	}
	var terms, excls *yaml.Node
	p.fields(n, th.ID, "", "a theme", []string{"id", "label", "description", "threshold", "terms", "exclusions", "examples"}, func(k string, v *yaml.Node) {
		switch k {
		case "id":
			th.ID = p.str(v, th.ID, "", "id")
		case "label":
			p.fields(v, th.ID, "", "label", []string{"vi", "en"}, func(k string, v *yaml.Node) {
				if k == "vi" {
					th.LabelVI = norm.NFC.String(p.str(v, th.ID, "", "label.vi"))
				} else {
					th.LabelEN = p.str(v, th.ID, "", "label.en")
				}
			})
		case "description":
			th.Description = p.str(v, th.ID, "", "description")
		case "threshold":
			th.Threshold = p.num(v, th.ID, "", "threshold")
			if !(th.Threshold > 0 && th.Threshold <= 1) {
				p.add(v.Line, th.ID, "", fmt.Sprintf("threshold %g is out of range: use a number greater than 0 and at most 1", th.Threshold))
			}
		case "terms":
			terms = v
		case "exclusions":
			excls = v
		case "examples":
			th.Examples = p.examples(th.ID, v)
		}
	})
	if terms != nil {
		for _, tn := range p.seq(terms, th.ID, "terms") {
			th.Terms = append(th.Terms, p.term(th.ID, tn))
		}
	}
	if excls != nil {
		for _, en := range p.seq(excls, th.ID, "exclusions") {
			th.Exclusions = append(th.Exclusions, p.exclusion(th.ID, en))
		}
	}
	return th
}

// examples reads a theme's examples: {tagged: [texts], not_tagged: [texts]}.
func (p *parser) examples(theme string, n *yaml.Node) []Example {
	var out []Example
	p.fields(n, theme, "", "examples", []string{"tagged", "not_tagged"}, func(k string, v *yaml.Node) {
		if v.Kind != yaml.SequenceNode {
			p.add(v.Line, theme, "", fmt.Sprintf("examples.%s must be a list of texts", k))
			return
		}
		for _, c := range v.Content {
			text := p.str(c, theme, "", "an example")
			if strings.TrimSpace(text) == "" {
				p.add(c.Line, theme, "", fmt.Sprintf("an example in examples.%s is empty: write the text it tests", k))
				continue
			}
			if !utf8.ValidString(text) {
				p.add(c.Line, theme, "", fmt.Sprintf("an example in examples.%s is not valid UTF-8", k))
				continue
			}
			if line := p.splicedItem(v, c); line > 0 {
				p.add(line, theme, "", fmt.Sprintf("this line starts like a new item of examples.%s (\"- \" at the list's indentation) but is inside the quotes of the example "+
					"that starts on line %d, so YAML reads both as one text: close that example's quotes before this line, or indent it", k, c.Line))
				continue
			}
			out = append(out, Example{Text: text, Tagged: k == "tagged", Line: c.Line})
		}
	})
	return out
}

// splicedItem returns the source line, inside a quoted item of the block
// list seq that spans several lines, that starts with "- " at the list's own
// indentation: what an example pasted between the lines of a multi-line
// quoted one looks like. YAML folds it into that example without a word, so
// the file loses an example and the other one tests a different text. 0 when
// there is none; a flow list ([a, b]) has no "- " items to be confused with.
func (p *parser) splicedItem(seq, n *yaml.Node) int {
	double := n.Style&yaml.DoubleQuotedStyle != 0
	if !double && n.Style&yaml.SingleQuotedStyle == 0 || seq.Style&yaml.FlowStyle != 0 ||
		seq.Column < 1 || n.Line < 1 || n.Line > len(p.lines) || n.Column < 1 {
		return 0
	}
	first := p.lines[n.Line-1]
	if n.Column > len(first) || first[n.Column-1] != '"' && first[n.Column-1] != '\'' {
		return 0 // not where yaml.v3 says the quote opens (a layout this scan does not know)
	}
	// The list's items are indented with spaces only; the scan starts just
	// after the opening quote, which may be on the line after the "-".
	dash := strings.Repeat(" ", seq.Column-1) + "- "
	line, i := n.Line-1, n.Column
	for line < len(p.lines) {
		s := p.lines[line]
		if line > n.Line-1 && strings.HasPrefix(s, dash) {
			return line + 1
		}
		for ; i < len(s); i++ {
			switch {
			case double && s[i] == '\\':
				i++ // an escaped character, or an escaped line break at the end
			case double && s[i] == '"', !double && s[i] == '\'' && (i+1 >= len(s) || s[i+1] != '\''):
				return 0 // the item ends on this line
			case !double && s[i] == '\'':
				i++ // '' is a quote inside single quotes
			}
		}
		line, i = line+1, 0
	}
	return 0
}

func (p *parser) term(theme string, n *yaml.Node) Term {
	d := p.defaults
	t := Term{Line: n.Line, Weight: d.weight, CaseSensitive: d.caseSensitive, Folded: d.folded, Inflect: d.inflect, Hyphens: d.hyphens}
	if n.Kind == yaml.ScalarNode { // shorthand: just the text
		t.Text = norm.NFC.String(p.str(n, theme, "", "a term"))
		return t
	}
	name := nodeValue(n, "text")
	windowLine := 0
	weightLine := 0
	needsWindowLine := 0
	unfoldedLine := 0
	p.fields(n, theme, name, "a term", []string{"id", "text", "variants", "weight", "case_sensitive", "folded", "unfolded", "inflect", "hyphens", "weak", "window", "context", "needs", "needs_window"}, func(k string, v *yaml.Node) {
		if p.phraseKey(k, v, theme, name, &t.ID, &t.Text, &t.Variants) {
			return
		}
		switch k {
		case "weight":
			t.Weight = p.num(v, theme, name, "weight")
			p.checkWeight(v.Line, theme, name, t.Weight)
			weightLine = v.Line
		case "context":
			t.Context = p.boolean(v, theme, name, k)
		case "case_sensitive":
			t.CaseSensitive = p.boolean(v, theme, name, k)
		case "folded":
			t.Folded = p.boolean(v, theme, name, k)
		case "unfolded":
			t.Unfolded, unfoldedLine = p.unfolded(v, theme, name), v.Line
		case "inflect":
			t.Inflect = p.boolean(v, theme, name, k)
		case "hyphens":
			t.Hyphens = p.boolean(v, theme, name, k)
		case "weak":
			t.Weak = p.boolean(v, theme, name, k)
		case "window":
			t.Window = p.integer(v, theme, name, k)
			p.checkWindow(v.Line, theme, name, t.Window, "0 (the whole document)")
			windowLine = v.Line
		case "needs":
			for _, s := range p.strList(v, theme, name, k) {
				t.Needs = append(t.Needs, norm.NFC.String(s))
			}
			if len(t.Needs) == 0 {
				p.add(v.Line, theme, name, "needs is empty: list the words of the term's setting, or remove needs")
			}
		case "needs_window":
			t.NeedsWindow = p.integer(v, theme, name, k)
			p.checkWindow(v.Line, theme, name, t.NeedsWindow, "0 (the whole document)")
			needsWindowLine = v.Line
		}
	})
	p.checkUnfolded(unfoldedLine, theme, name, t.Folded, t.Text, t.Variants, t.Needs, t.Unfolded)
	if needsWindowLine != 0 && len(t.Needs) == 0 {
		p.add(needsWindowLine, theme, name, "needs_window applies only with needs: list the words the term needs near it, or remove needs_window")
	}
	if t.Window != 0 && !t.Weak {
		p.add(windowLine, theme, name, "window applies only to weak terms (a strong term counts anywhere): add weak: true or remove window")
	}
	if t.Context {
		switch {
		case t.Weak:
			p.add(n.Line, theme, name, "a context term cannot be weak: it is what weak terms need; remove weak: true or context: true")
		case weightLine != 0:
			p.add(weightLine, theme, name, "a context term counts nothing, so it has no weight: remove weight")
		case len(t.Needs) > 0:
			p.add(n.Line, theme, name, "a context term counts nothing, so needs does nothing: remove needs or context: true")
		}
		t.Weight = 0
	}
	return t
}

func (p *parser) checkWindow(line int, theme, name string, w int, zero string) {
	if w < 0 || w > maxWindow {
		p.add(line, theme, name, fmt.Sprintf("window %d is out of range: use %s or a number of words up to %d", w, zero, maxWindow))
	}
}

func (p *parser) exclusion(theme string, n *yaml.Node) Exclusion {
	// Exclusions follow the defaults for folded and hyphens as terms do: an
	// exclusion narrower than the terms it guards would let them through in
	// text typed without diacritics.
	e := Exclusion{Line: n.Line, Scope: "near", Folded: p.defaults.folded, Hyphens: p.defaults.hyphens}
	if n.Kind == yaml.ScalarNode {
		e.Text = norm.NFC.String(p.str(n, theme, "", "an exclusion"))
		return e
	}
	name := nodeValue(n, "text")
	windowLine, unfoldedLine := 0, 0
	p.fields(n, theme, name, "an exclusion", []string{"id", "text", "variants", "cancels", "window", "scope", "case_sensitive", "folded", "unfolded", "hyphens", "other_expansion"}, func(k string, v *yaml.Node) {
		if p.phraseKey(k, v, theme, name, &e.ID, &e.Text, &e.Variants) {
			return
		}
		switch k {
		case "cancels":
			e.Cancels = p.strList(v, theme, name, "cancels")
			if len(e.Cancels) == 0 {
				p.add(v.Line, theme, name, "cancels is empty: list the term ids to cancel, or remove cancels to cancel every term of the theme")
			}
		case "window":
			e.Window = p.integer(v, theme, name, k)
			p.checkWindow(v.Line, theme, name, e.Window, "0 (overlapping only)")
			windowLine = v.Line
		case "scope":
			e.Scope = p.str(v, theme, name, k)
			if e.Scope != "near" && e.Scope != "document" {
				p.add(v.Line, theme, name, fmt.Sprintf("scope %q is unknown: use near (the default) or document", e.Scope))
			}
		case "case_sensitive":
			e.CaseSensitive = p.boolean(v, theme, name, k)
		case "folded":
			e.Folded = p.boolean(v, theme, name, k)
		case "unfolded":
			e.Unfolded, unfoldedLine = p.unfolded(v, theme, name), v.Line
		case "hyphens":
			e.Hyphens = p.boolean(v, theme, name, k)
		case "other_expansion":
			e.OtherExpansion = p.boolean(v, theme, name, k)
		}
	})
	p.checkUnfolded(unfoldedLine, theme, name, e.Folded, e.Text, e.Variants, nil, e.Unfolded)
	if e.OtherExpansion {
		switch {
		case !isAcronym(e.Text):
			p.add(n.Line, theme, name, fmt.Sprintf("other_expansion: the text %q must be an acronym of 2 to %d capital letters A-Z (the words spelling it out are found in the document)", e.Text, maxAcronym))
		case len(e.Variants) > 0: // (an unfolded list is refused already: an acronym has no diacritics)
			p.add(n.Line, theme, name, "other_expansion: the exclusion matches the words that spell its acronym out, so it takes no variants: write one exclusion per acronym")
		}
	}
	if e.Window != 0 && e.Scope == "document" {
		p.add(windowLine, theme, name, "window does nothing with scope: document (the whole document): remove one")
	}
	return e
}

// maxAcronym bounds an other_expansion acronym: each letter is a word to
// look back for.
const maxAcronym = 10

// isAcronym reports whether s is 2 to maxAcronym capital letters A-Z.
func isAcronym(s string) bool {
	if len(s) < 2 || len(s) > maxAcronym {
		return false
	}
	for i := range len(s) {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// unfolded reads an unfolded: list (NFC, like the phrases it names).
func (p *parser) unfolded(v *yaml.Node, theme, name string) []string {
	var out []string
	for _, s := range p.strList(v, theme, name, "unfolded") {
		out = append(out, norm.NFC.String(s))
	}
	if len(out) == 0 {
		p.add(v.Line, theme, name, "unfolded is empty: list the phrases to match only with their diacritics, or remove unfolded")
	}
	return out
}

// checkUnfolded holds an unfolded: list (read at line, 0 when absent) to its
// entry: it names the entry's own phrases, in an entry that is folded, or a
// term's needs phrases (always folded), each with a mark to lose.
func (p *parser) checkUnfolded(line int, theme, name string, folded bool, text string, variants, needs, unfolded []string) {
	if line == 0 {
		return
	}
	if !folded && len(needs) == 0 {
		p.add(line, theme, name, "unfolded does nothing with folded: false (no phrase of the entry is folded): remove one")
		return
	}
	phrases := "the text or a variant"
	if needs != nil {
		phrases = "the text, a variant or a needs phrase"
	}
	for _, u := range unfolded {
		own, need := u == text || slices.Contains(variants, u), slices.Contains(needs, u)
		switch {
		case !own && !need:
			p.add(line, theme, name, fmt.Sprintf("unfolded lists %q, which is not %s of this entry: copy the phrase exactly", u, phrases))
		case Unmark(u) == u:
			p.add(line, theme, name, fmt.Sprintf("unfolded lists %q, which has no diacritics: typed without them it reads the same, so folding changes nothing; remove it", u))
		case !folded && !need:
			p.add(line, theme, name, fmt.Sprintf("unfolded lists %q, a phrase of the term, which folded: false keeps to its marks already: remove it", u))
		}
	}
}

// phraseKey reads the keys terms and exclusions share (id, text,
// variants), reporting whether k was one of them.
func (p *parser) phraseKey(k string, v *yaml.Node, theme, name string, id, text *string, variants *[]string) bool {
	switch k {
	case "id":
		*id = p.str(v, theme, name, "id")
	case "text":
		*text = norm.NFC.String(p.str(v, theme, name, "text"))
	case "variants":
		for _, s := range p.strList(v, theme, name, "variants") {
			*variants = append(*variants, norm.NFC.String(s))
		}
	default:
		return false
	}
	return true
}

func nodeValue(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

var themeIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// validate checks what needs the whole ruleset: ids, duplicates, texts that
// normalise to nothing, references.
func (p *parser) validate(rs *Ruleset) {
	themeLines := map[string]int{}
	for ti := range rs.Themes {
		th := &rs.Themes[ti]
		switch {
		case th.ID == "":
			p.add(th.Line, "", "", "a theme has no id: add id: with a short name such as green_transition")
		case !themeIDPattern.MatchString(th.ID):
			p.add(th.Line, th.ID, "", "a theme id must be lower-case letters, digits and _ and start with a letter")
		case themeLines[th.ID] != 0:
			p.add(th.Line, th.ID, "", fmt.Sprintf("duplicate theme id: line %d already defines it; rename or merge one", themeLines[th.ID]))
		default:
			themeLines[th.ID] = th.Line
		}
		if th.LabelVI == "" && th.LabelEN == "" {
			p.add(th.Line, th.ID, "", "the theme has no label: add label: {vi: ..., en: ...}")
		}
		if len(th.Terms) == 0 {
			p.add(th.Line, th.ID, "", "the theme has no terms: add a terms: list")
		}
		termIDs := map[string]int{}
		termKeys := map[string]string{} // every phrase, by its words
		foldKeys := map[string]string{} // case-insensitive phrases, by their words
		caseKeys := map[string]string{} // case-sensitive phrases, by their words and letter case
		strong, counting := false, false
		for i := range th.Terms {
			t := &th.Terms[i]
			if !t.Weak {
				strong = true
			}
			if !t.Context {
				counting = true
			}
			for _, text := range append([]string{t.Text}, t.Variants...) {
				key, msg := checkPhrase(text)
				if msg != "" {
					p.add(t.Line, th.ID, t.Text, msg)
					continue
				}
				// A case-insensitive phrase matches its words in every letter
				// case, a case-sensitive one only in its own: "AI y khoa" and a
				// title's "AI Y khoa" are two phrases, and either is the same
				// words as a case-insensitive "ai y khoa".
				caseKey := key
				if t.CaseSensitive {
					caseKey += "\x00" + caseSignature(text)
				}
				other, dup := foldKeys[key]
				if !dup && t.CaseSensitive {
					other, dup = caseKeys[caseKey]
				} else if !dup {
					other, dup = termKeys[key]
				}
				if dup {
					p.add(t.Line, th.ID, t.Text, fmt.Sprintf("%q matches the same words as term %q: remove one", text, other))
					continue
				}
				if _, seen := termKeys[key]; !seen {
					termKeys[key] = t.Text
				}
				if t.CaseSensitive {
					caseKeys[caseKey] = t.Text
				} else {
					foldKeys[key] = t.Text
				}
			}
			own := t.ownKeys()
			setting := 0 // needs phrases that are not the term's own (Compile leaves those out)
			for _, text := range t.Needs {
				key, msg := checkPhrase(text)
				if msg != "" {
					p.add(t.Line, th.ID, t.Text, "needs: "+msg)
				} else if !own[key] {
					setting++
				}
			}
			if len(t.Needs) > 0 && setting == 0 {
				p.add(t.Line, th.ID, t.Text, "needs lists only the term's own phrases, which are not its setting, so it could never be met: list other words")
			}
			if t.CaseSensitive && len(t.Needs) > 0 {
				ownPats := t.ownPatterns()
				for _, text := range t.Needs {
					if own := ownInOtherCase(text, ownPats); own != "" {
						p.add(t.Line, th.ID, t.Text, fmt.Sprintf("needs: %q holds the term's %q in another letter case, so those words match in any case (\"nhờ ai\", ask someone, for \"nhờ AI\"): write them as the term does", text, own))
					}
				}
			}
			if t.ID == "" {
				t.ID = slug(t.Text)
			}
			if t.ID == "" {
				continue // already reported: the text normalises to nothing
			}
			if line, dup := termIDs[t.ID]; dup {
				p.add(t.Line, th.ID, t.Text, fmt.Sprintf("duplicate term id %q (also on line %d): give one an explicit id:", t.ID, line))
			}
			termIDs[t.ID] = t.Line
		}
		if len(th.Terms) > 0 && !strong {
			p.add(th.Line, th.ID, "", "every term of the theme is weak, so none can ever count: make at least one term strong")
		}
		if len(th.Terms) > 0 && !counting {
			p.add(th.Line, th.ID, "", "every term of the theme is a context term, which counts nothing: add a term that counts")
		}
		exclIDs := map[string]int{}
		for i := range th.Exclusions {
			e := &th.Exclusions[i]
			for _, text := range append([]string{e.Text}, e.Variants...) {
				if _, msg := checkPhrase(text); msg != "" {
					p.add(e.Line, th.ID, e.Text, "exclusion: "+msg)
				}
			}
			if e.ID == "" {
				e.ID = slug(e.Text)
			}
			if line, dup := exclIDs[e.ID]; dup && e.ID != "" {
				p.add(e.Line, th.ID, e.Text, fmt.Sprintf("duplicate exclusion id %q (also on line %d): give one an explicit id:", e.ID, line))
			}
			exclIDs[e.ID] = e.Line
			for _, c := range e.Cancels {
				if _, ok := termIDs[c]; !ok {
					p.add(e.Line, th.ID, e.Text, fmt.Sprintf("cancels unknown term %q: use the id of a term of theme %q", c, th.ID))
				}
			}
		}
	}
}

// checkPhrase reports what is wrong with a term or exclusion text, or
// returns its normalised key (to find duplicates).
// caseSignature is the letter case of a phrase's words ("AI y khoa":
// "UU.l.llll"), which a case-sensitive phrase matches exactly.
func caseSignature(text string) string {
	words, _ := phraseWords(text)
	var b strings.Builder
	for _, w := range words {
		for _, up := range w.upper {
			if up {
				b.WriteByte('U')
			} else {
				b.WriteByte('l')
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}

// ownPatterns are a case-sensitive term's own phrases as patterns, leaving
// out any with no words (reported on their own).
func (t *Term) ownPatterns() []pattern {
	var out []pattern
	for _, text := range append([]string{t.Text}, t.Variants...) {
		if p, err := newPattern(text, t.Hyphens, true); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// ownInOtherCase returns the first of a case-sensitive term's own phrases
// (own) that a needs phrase holds in another letter case and not, at the
// same place, as written by any of them; "" if none. Compile keeps a needs
// phrase's case only where it repeats the term as written (caseOnlyOwn),
// so such a phrase would match the everyday word too.
func ownInOtherCase(needs string, own []pattern) string {
	p, err := newPattern(needs, false, true)
	if err != nil {
		return "" // a needs phrase with no words is reported on its own
	}
	places := p.ownPlaces(own)
	type span struct{ at, n int }
	asWritten := map[span]bool{}
	for _, pl := range places {
		if pl.asWritten {
			asWritten[span{pl.at, len(pl.own.strict)}] = true
		}
	}
	for _, pl := range places {
		if !pl.asWritten && !asWritten[span{pl.at, len(pl.own.strict)}] {
			return pl.own.text
		}
	}
	return ""
}

// ownKeys is the set of the term's own phrases (text and variants), by the
// words they match (checkPhrase's key): what its Needs leave out.
func (t *Term) ownKeys() map[string]bool {
	own := map[string]bool{}
	for _, text := range append([]string{t.Text}, t.Variants...) {
		if key, _ := checkPhrase(text); key != "" {
			own[key] = true
		}
	}
	return own
}

func checkPhrase(text string) (key, problem string) {
	if strings.TrimSpace(text) == "" {
		return "", "the text is empty"
	}
	if !utf8.ValidString(text) {
		return "", "the text is not valid UTF-8"
	}
	if strings.ContainsRune(text, 0) {
		// TagDocument parts a title from its text with one (titleSep).
		return "", "the text holds a NUL character (U+0000): remove it"
	}
	words, gaps := phraseWords(text)
	if len(words) == 0 {
		return "", fmt.Sprintf("%q has no letters or digits, so it normalises to nothing and can never match", text)
	}
	first, last := words[0], words[len(words)-1]
	if first.slot {
		return "", fmt.Sprintf("%q starts with a number slot (%s): the matcher starts from a word, so put one before it", text, NumberSlot)
	}
	for i := 64; i < len(words); i++ {
		if words[i].slot {
			return "", fmt.Sprintf("%q has a number slot (%s) past its 64th word: shorten the phrase", text, NumberSlot)
		}
	}
	after := text[last.end:]
	if last.slot {
		after = after[1:] // the slot's ">"
	}
	if strings.TrimSpace(text[:first.start]) != "" || strings.TrimSpace(after) != "" {
		return "", fmt.Sprintf("%q has punctuation before its first or after its last word; terms match whole words: remove it", text)
	}
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(gaps[i-1].literal)
			b.WriteByte('|')
		}
		key := w.strict
		if other, ok := iySwap(text[w.start:w.end]); ok { // "sĩ" and "sỹ" are the same words (spelling.go)
			if ow, _ := phraseWords(other); len(ow) == 1 {
				key = min(key, ow[0].strict)
			}
		}
		fmt.Fprintf(&b, "%x,", key)
	}
	return b.String(), ""
}

// slug derives a term id from its text: the bare letters, hyphen-joined.
func slug(text string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFC.String(text) {
		info := lookupRune(r)
		if info.class == clsWord && info.fold >= 0 {
			f := info.fold
			if f < 0x80 || info.flags&tokMarked == 0 {
				if dash && b.Len() > 0 {
					b.WriteByte('-')
				}
				dash = false
				b.WriteRune(f)
				continue
			}
		}
		dash = true
	}
	return b.String()
}

// rulesetVersion hashes what the rules mean, not how the file is written.
func rulesetVersion(rs *Ruleset) string {
	canon := struct {
		Engine  string
		Name    string
		Scoring Scoring
		// Omitted when empty: rulesets without prefixes keep their version.
		NumberPrefixes []string `json:",omitempty"`
		Themes         []Theme
	}{engineVersion, rs.Name, rs.Scoring, rs.NumberPrefixes, rs.Themes}
	data, err := json.Marshal(canon)
	if err != nil {
		panic("tagger: ruleset not serialisable: " + err.Error()) // plain data: cannot happen
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:8])
}
