package tagger

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/rules"
)

func TestDefaultRulesetLoads(t *testing.T) {
	rs, err := DefaultRuleset()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ai", "semiconductors", "ehealth", "drones", "green_transition"}
	if len(rs.Themes) != len(want) {
		t.Fatalf("default themes: %d, want %d", len(rs.Themes), len(want))
	}
	for i, th := range rs.Themes {
		if th.ID != want[i] || th.LabelVI == "" || th.LabelEN == "" || th.Description == "" || len(th.Terms) == 0 {
			t.Errorf("theme %d: %+v", i, th.ID)
		}
	}
	if rs.Source != "embedded:default.yaml" {
		t.Errorf("source %q", rs.Source)
	}
	if got := rs.ThemeIDs(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ThemeIDs() = %v, want %v", got, want)
	}
}

func TestVersionIsAContentHash(t *testing.T) {
	base := "name: v\nthemes:\n  - id: x\n    label: {en: X}\n    terms: [alpha, {text: beta, weight: 0.5}]\n"
	version := func(src string) string {
		t.Helper()
		rs, err := ParseRuleset("v.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return rs.Version
	}
	v := version(base)
	if !strings.HasPrefix(v, "sha256:") || len(v) != len("sha256:")+16 {
		t.Fatalf("version %q", v)
	}
	// Comments, layout and the file name do not change what the rules mean.
	reformatted := "# a comment\nname: v\nthemes:\n- id: x\n  label:\n    en: X\n  terms:\n  - alpha\n  - text: beta\n    weight: 0.5\n"
	if got := version(reformatted); got != v {
		t.Errorf("reformatted file: version %s, want %s", got, v)
	}
	if got := version(strings.Replace(base, "0.5", "0.6", 1)); got == v {
		t.Errorf("a changed weight must change the version")
	}
	if a, b := version(string(rules.Default)), version(string(rules.Default)); a != b {
		t.Errorf("version not deterministic: %s %s", a, b)
	}
}

func TestRulesetErrorsAreAllReportedWithLines(t *testing.T) {
	src := `name: broken
colour: blue
themes:
  - id: ai
    label: {vi: AI}
    threshold: 1.5
    terms:
      - {text: "", weight: 0.5}
      - {text: "!!!"}
      - {text: robot, weight: 2}
      - {text: robot}
      - {text: máy, wieght: 1}
      - {text: "C++"}
    exclusions:
      - {text: đồ chơi, cancels: [robots]}
  - id: ai
    label: {en: again}
    terms: [x]
  - id: Bad-Id
    terms: [{text: y, weak: true}]
`
	_, err := ParseRuleset("broken.yaml", []byte(src))
	var rerr *RulesetError
	if !errors.As(err, &rerr) {
		t.Fatalf("want *RulesetError, got %v", err)
	}
	wants := []struct {
		line  int
		theme string
		frag  string
	}{
		{2, "", `unknown key "colour"`},
		{6, "ai", "threshold 1.5 is out of range"},
		{8, "ai", "the text is empty"},
		{9, "ai", "normalises to nothing"},
		{10, "ai", "weight 2 is out of range"},
		{11, "ai", `matches the same words as term "robot"`},
		{12, "ai", `unknown key "wieght"`},
		{13, "ai", "punctuation before its first or after its last word"},
		{15, "ai", `cancels unknown term "robots"`},
		{16, "ai", "duplicate theme id: line 4 already defines it"},
		{19, "Bad-Id", "lower-case letters"},
		{19, "Bad-Id", "no label"},
		{19, "Bad-Id", "every term of the theme is weak"},
	}
	msg := err.Error()
	for _, w := range wants {
		found := false
		for _, p := range rerr.Problems {
			if p.Line == w.line && p.Theme == w.theme && strings.Contains(p.Message, w.frag) && p.File == "broken.yaml" {
				found = true
			}
		}
		if !found {
			t.Errorf("missing problem at line %d (theme %q): %q\nall problems:\n%s", w.line, w.theme, w.frag, msg)
		}
	}
	if !strings.Contains(msg, "broken.yaml:12: theme \"ai\": \"máy\": unknown key \"wieght\"") {
		t.Errorf("message should name file, line, theme and term:\n%s", msg)
	}
}

func TestRulesetSyntaxAndShapeErrors(t *testing.T) {
	for src, frag := range map[string]string{
		"":               "the file is empty",
		"themes: [":      "not valid YAML",
		"name: x":        "no themes",
		"themes: {a: b}": "themes must be a list",
		"themes:\n  - id: x\n    label: {en: X}\n    terms: [a]\n    threshold: high":            "threshold must be a number",
		"scoring: {reference_words: 0}\nthemes:\n  - {id: x, label: {en: X}, terms: [a]}":        "reference_words must be at least 1",
		"themes:\n  - {id: x, label: {en: X}, terms: [{text: a, weak: maybe}]}":                  "weak must be true or false",
		"themes:\n  - {id: x, label: {en: X}, terms: [a], exclusions: [{text: b, scope: page}]}": `scope "page" is unknown`,
	} {
		_, err := ParseRuleset("f.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("%q: err = %v, want it to mention %q", src, err, frag)
		}
	}
}

func TestLoadRulesetFile(t *testing.T) {
	if _, err := LoadRuleset("testdata/does-not-exist.yaml"); err == nil {
		t.Fatal("missing file: want an error")
	}
	path := t.TempDir() + "/r.yaml"
	if err := writeFile(path, "themes:\n  - {id: x, label: {en: X}, terms: [alpha]}\n"); err != nil {
		t.Fatal(err)
	}
	rs, err := LoadRuleset(path)
	if err != nil || rs.Source != path || rs.Themes[0].Terms[0].ID != "alpha" {
		t.Fatalf("LoadRuleset: %+v %v", rs, err)
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

func TestCompileNeedsAValidatedRuleset(t *testing.T) {
	for _, rs := range []*Ruleset{nil, {Name: "hand-made, never validated"}} {
		if _, err := Compile(rs); err == nil || !strings.Contains(err.Error(), "ParseRuleset") {
			t.Errorf("Compile(%+v): err = %v, want one that says to use ParseRuleset", rs, err)
		}
	}
}

// Fields the loader would otherwise accept and ignore: a rules file must do
// what it says or be rejected.
func TestRulesetFieldsThatWouldDoNothing(t *testing.T) {
	for src, frag := range map[string]string{
		"themes:\n  - {id: x, label: {en: X}, terms: [a, {text: b, window: 5}]}":                                "window applies only to weak terms",
		"themes:\n  - {id: x, label: {en: X}, terms: [a], exclusions: [{text: b, scope: document, window: 3}]}": "window does nothing with scope: document",
		"themes:\n  - {id: x, label: {en: X}, terms: [a], exclusions: [{text: b, cancels: []}]}":                "cancels is empty",
		"themes:\n  - {id: x, label: {en: X}, terms: [a, {text: b, weak: true, window: 4294967297}]}":           "window 4294967297 is out of range",
		"themes:\n  - {id: x, label: {en: X}, terms: [a], exclusions: [{text: b, window: 2147483648}]}":         "window 2147483648 is out of range",
		"defaults: {window: 3}\nthemes:\n  - {id: x, label: {en: X}, terms: [a]}":                               `unknown key "window"`,
		"themes:\n  - {id: x, label: {en: X}, terms: [a, {text: b, context: true, weak: true}]}":                "a context term cannot be weak",
		"themes:\n  - {id: x, label: {en: X}, terms: [a, {text: b, context: true, weight: 0.5}]}":               "a context term counts nothing, so it has no weight",
		"themes:\n  - {id: x, label: {en: X}, terms: [{text: b, context: true}]}":                               "every term of the theme is a context term",
	} {
		_, err := ParseRuleset("f.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("%q: err = %v, want it to mention %q", src, err, frag)
		}
	}
}

// TestCaseSensitiveDuplicates: a case-sensitive phrase matches only its own
// letter case, so its capitalised twin (a title's "AI Y khoa") is another
// phrase; the same case twice, or a case-insensitive phrase of the same
// words, is a duplicate.
func TestCaseSensitiveDuplicates(t *testing.T) {
	parse := func(terms string) error {
		_, err := ParseRuleset("t.yaml", []byte("themes:\n  - id: x\n    label: {en: X}\n    terms:\n"+terms))
		return err
	}
	if err := parse("      - {text: AI y khoa, variants: [AI Y khoa], case_sensitive: true}\n"); err != nil {
		t.Errorf("two letter cases of a case-sensitive phrase: %v", err)
	}
	for _, terms := range []string{
		"      - {text: AI y khoa, variants: [AI y khoa], case_sensitive: true}\n",
		"      - {text: AI y khoa, case_sensitive: true}\n      - {text: AI y khoa, case_sensitive: true}\n",
		"      - ai y khoa\n      - {text: AI Y khoa, case_sensitive: true}\n",
		"      - {text: AI Y khoa, case_sensitive: true}\n      - ai y khoa\n",
	} {
		if err := parse(terms); err == nil || !strings.Contains(err.Error(), "matches the same words as term") {
			t.Errorf("%s: error %v, want a duplicate", terms, err)
		}
	}
	// And each case matches its own: the title's capitalised word, the lead's lower-case one.
	tg := compileYAML(t, "themes:\n  - id: x\n    label: {en: X}\n    terms:\n      - {text: AI y khoa, variants: [AI Y khoa], case_sensitive: true}\n")
	for text, want := range map[string]bool{"Hội nghị AI Y khoa mở màn": true, "một hệ thống AI y khoa": true, "ai y khoa nào": false, "AI Y KHOA": false} {
		if got := len(tagChecked(t, tg, text, Options{}).Tags) > 0; got != want {
			t.Errorf("%q tagged %v, want %v", text, got, want)
		}
	}
}
