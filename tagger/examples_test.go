package tagger

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/rules"
)

// TestDefaultExamples runs the examples of rules/default.yaml: CI fails,
// naming the example, when a rule edit breaks one.
func TestDefaultExamples(t *testing.T) {
	rs, err := DefaultRuleset()
	if err != nil {
		t.Fatal(err)
	}
	tg, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	results := tg.TestExamples()
	perTheme := map[string][2]int{}
	for _, r := range results {
		c := perTheme[r.Theme]
		if r.Example.Tagged {
			c[0]++
		} else {
			c[1]++
		}
		perTheme[r.Theme] = c
		if !r.Passed || r.Err != nil {
			score := 0.0
			if r.Tag != nil {
				score = r.Tag.Score
			}
			t.Errorf("rules/default.yaml:%d theme %s: example must be %s, score %.4f: %q (tagctl rules test rules/default.yaml shows the evidence)",
				r.Example.Line, r.Theme, map[bool]string{true: "tagged", false: "not tagged"}[r.Example.Tagged], score, r.Example.Text)
		}
	}
	// Every theme pins both sides.
	for _, th := range rs.Themes {
		if c := perTheme[th.ID]; c[0] < 5 || c[1] < 3 {
			t.Errorf("theme %s has %d tagged and %d not_tagged examples; keep at least 5 and 3", th.ID, c[0], c[1])
		}
	}
}

// knownUnmarked lists the default examples whose answer changes when typed
// without diacritics, each by the start of its unmarked text: every one
// rests on a word that cannot be folded ("ban dan" is also "bàn dân", "hoc
// sau" also "học sau", "cho" also "chó" and "cho", "ban ve" also "bàn về";
// scripts/unmarked.py collisions measures them). A new example that
// changes unmarked, or a fold that breaks an old one, fails here.
var knownUnmarked = []string{
	"Camera o cac nut giao dung phan mem dua",
	"TRUY TIM AI DUNG SAU duong day lam gia",
	"Bac Ninh thu hut them hai du an ban dan",
	"Chi so ban dan Philadelphia giam 3%",
	"Mang ban dan cua hang dien tu Nhat lai",
	"Tiem do chip o Go Vap quang cao do chip",
	"Phong kham thu y lap ho so suc khoe dien",
	"Dem nhac ban ve qua ung dung, khan gia",
	"Yen mach va chuoi la nguon nang luong sa",
	"Chuyen gia khuyen chi bo sung CO2 khi nh", // "khi nha kinh" is also "khí nhà kính"
	"Xe dien chiem gan het xe moi ban ra: cu",  // "chay pin" is also "chảy pin"
	"O Nepal, nguoi dan mua o to cam dien nhi", // "xe cam dien" is also "(tài) xế cầm điện (thoại)"
	"Nho con chip nho trong camera hanh trinh", // "chip nho" is also "chip nhỏ": a bare "chip"
	"Nguoi benh o Can Tho nay nhan toa dien t", // "toa dien tu" is also "tòa điện tử" (a court)
}

// TestDefaultExamplesUnmarked runs the default examples typed without
// diacritics (rules test --unmarked): only the known ones may answer
// differently, and each known one still must (else drop it from the list).
func TestDefaultExamplesUnmarked(t *testing.T) {
	changed := map[string]bool{}
	for _, r := range defaultT(t).TestExamplesUnmarked() {
		if r.Passed && r.Err == nil {
			continue
		}
		known := false
		for _, k := range knownUnmarked {
			if strings.HasPrefix(r.Example.Text, k) {
				known, changed[k] = true, true
			}
		}
		if !known {
			t.Errorf("rules/default.yaml:%d theme %s: typed without diacritics the example is no longer %s: %q (tagctl rules test --unmarked rules/default.yaml shows the evidence)",
				r.Example.Line, r.Theme, map[bool]string{true: "tagged", false: "untagged"}[r.Example.Tagged], r.Example.Text)
		}
	}
	for _, k := range knownUnmarked {
		if !changed[k] {
			t.Errorf("%q now answers the same without diacritics: drop it from knownUnmarked", k)
		}
	}
}

// TestExamplesNameTheBrokenExample removes a term and checks that the
// examples that depended on it fail, with their line.
func TestExamplesNameTheBrokenExample(t *testing.T) {
	src := `themes:
  - id: drones
    label: {en: Drones}
    terms:
      - {text: drone, inflect: true}
      - {text: UAV, case_sensitive: true}
    examples:
      tagged:
        - Police used a drone to find the lost hiker.
        - A UAV crashed near the airport.
      not_tagged:
        - The airport reopened after the storm.
`
	rs, err := ParseRuleset("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := Compile(rs)
	for _, r := range tg.TestExamples() {
		if !r.Passed {
			t.Errorf("line %d failed with the full rules", r.Example.Line)
		}
	}
	rs2, err := ParseRuleset("test.yaml", []byte(strings.Replace(src, "      - {text: drone, inflect: true}\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	tg2, _ := Compile(rs2)
	var failed []int
	for _, r := range tg2.TestExamples() {
		if !r.Passed {
			failed = append(failed, r.Example.Line)
			if r.Tag != nil {
				t.Errorf("no term matched, yet a tag was reported: %+v", r.Tag)
			}
		}
	}
	if len(failed) != 1 || failed[0] != 8 {
		t.Errorf("without the drone term, failed examples on lines %v, want [8]", failed)
	}
	if rs.Version == rs2.Version {
		t.Errorf("removing a term left the version at %s", rs.Version)
	}
}

func TestExamplesParse(t *testing.T) {
	base := "themes:\n  - id: x\n    label: {en: X}\n    terms: [alpha]\n"
	for name, c := range map[string]struct{ yaml, want string }{
		"unknown key": {"    examples: {must: [a]}\n", `unknown key "must" in examples`},
		"not a list":  {"    examples: {tagged: alpha}\n", "examples.tagged must be a list"},
		"empty text":  {"    examples: {tagged: [\"  \"]}\n", "examples.tagged is empty"},
		"not a map":   {"    examples: [alpha]\n", "examples must be a mapping"},
	} {
		_, err := ParseRuleset("t.yaml", []byte(base+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	a, err := ParseRuleset("t.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseRuleset("t.yaml", []byte(base+"    examples:\n      tagged: [alpha beta]\n      not_tagged: [gamma]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != b.Version {
		t.Errorf("examples changed the version: %s vs %s", a.Version, b.Version)
	}
	if ex := b.Themes[0].Examples; len(ex) != 2 || !ex[0].Tagged || ex[1].Tagged || ex[1].Text != "gamma" || ex[0].Line != 6 {
		t.Errorf("examples = %+v", ex)
	}
}

// TestExamplesSplicedIntoQuotes: an example pasted between the lines of a
// multi-line quoted one is folded into it by YAML; the loader says so, with
// both lines, instead of testing one wrong text in place of two.
func TestExamplesSplicedIntoQuotes(t *testing.T) {
	base := "themes:\n  - id: x\n    label: {en: X}\n    terms: [alpha]\n    examples:\n      tagged:\n"
	for name, c := range map[string]struct{ yaml, want, start string }{
		"double quotes": {"        - \"alpha one, \\\"quoted\\\", runs on\n          to a second line\n        - alpha pasted here\n          and a third line\"\n", "t.yaml:9", "line 7"},
		"single quotes": {"        - 'alpha''s long example\n        - alpha pasted here\n          ends here'\n", "t.yaml:8", "line 7"},
		// The quote opens on the line after the item's "-": the list's own
		// column, not the quote's, says where an item starts.
		"quote on the next line": {"        -\n          \"alpha one\n        - alpha pasted here\"\n", "t.yaml:9", "line 8"},
	} {
		_, err := ParseRuleset("t.yaml", []byte(base+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "inside the quotes of the example that starts on "+c.start) {
			t.Errorf("%s: err = %v, want a problem on %s naming %s", name, err, c.want, c.start)
		}
	}
	// Multi-line quoted examples that end before the next item, and an
	// indented "- " inside the quotes, are fine; so is "- " in a flow list,
	// which has no such items, and after a tab, which YAML never indents with.
	for name, src := range map[string]string{
		"flow list":     "        - \"alpha one\"\n        - alpha two\n      not_tagged:\n        [\"beta one\n        - beta two\"]\n",
		"tab":           "        - \"alpha one\n\t- a tab, then a dash\"\n        - alpha two\n",
		"double quotes": "        - \"alpha one\n          - a dash inside, indented\n          ends here\"\n        - alpha two\n",
		"single quotes": "        - 'alpha''s one\n          ends here'\n        - alpha two\n",
		"escaped break": "        - \"alpha one \\\n          ends here\"\n        - alpha two\n",
	} {
		rs, err := ParseRuleset("t.yaml", []byte(base+src))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := 2
		if name == "flow list" {
			want = 3 // and YAML folds the flow item's lines into "beta one - beta two"
		}
		if ex := rs.Themes[0].Examples; len(ex) != want || ex[1].Text != "alpha two" {
			t.Errorf("%s: examples = %+v", name, ex)
		}
	}
}

// TestDeployRulesAreDefault: deploy/rules.yaml is a byte copy of the
// default rules (examples and comments included, which the version omits).
func TestDeployRulesAreDefault(t *testing.T) {
	data, err := os.ReadFile("../deploy/rules.yaml")
	if err != nil {
		t.Skip(err)
	}
	if !bytes.Equal(data, rules.Default) {
		t.Error("deploy/rules.yaml differs from rules/default.yaml: cp rules/default.yaml deploy/rules.yaml")
	}
}

// TestExamplesInvalidText: an example the tagger refuses (the loader
// cannot produce one; a ruleset built in code can) fails with the error,
// and the other examples still run.
func TestExamplesInvalidText(t *testing.T) {
	rs, err := ParseRuleset("t.yaml", []byte("themes:\n  - id: x\n    label: {en: X}\n    terms: [alpha]\n    examples: {tagged: [alpha beta]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rs.Themes[0].Examples = append(rs.Themes[0].Examples, Example{Text: "alpha \xff", Tagged: true})
	tg, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	got := tg.TestExamples()
	if len(got) != 2 || !got[0].Passed || got[0].Err != nil {
		t.Fatalf("results %+v, want the valid example first, passed", got)
	}
	var bad *InvalidUTF8Error
	if r := got[1]; r.Passed || !errors.As(r.Err, &bad) || bad.Offset != 6 || r.Tag != nil {
		t.Errorf("invalid example: %+v, want it failed with an *InvalidUTF8Error at 6", r)
	}
}
