package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testRules = `themes:
  - id: drones
    label: {en: Drones}
    terms:
      - {text: drone, inflect: true}
    exclusions:
      - {text: bagpipes, cancels: [drone], window: 8}
    examples:
      tagged:
        - Police flew a drone over the river.
      not_tagged:
        - The drone of the bagpipes filled the hall.
        - A drone hovered over the stadium.
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustRun calls a tagctl subcommand with args and returns what it wrote to
// standard output; an error fails the test with what it wrote to standard error.
func mustRun(t *testing.T, cmd func([]string, io.Writer, io.Writer) error, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := cmd(args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	return out.String()
}

func TestRulesTestPrintsFailureWithEvidence(t *testing.T) {
	path := writeFile(t, "r.yaml", testRules)
	var out, errOut bytes.Buffer
	err := rulesTestCmd([]string{path}, &out, &errOut)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	got := out.String()
	for _, want := range []string{
		"FAIL " + path + ":13 theme drones: example must be not tagged",
		`+ drone`, `"drone" at 2`, "examples: 3, passed: 2, failed: 1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	out.Reset()
	if err := rulesCheck([]string{path}, &out, &errOut); !errors.As(err, &ee) || !strings.Contains(out.String(), "FAIL") {
		t.Errorf("rules check: err = %v, output:\n%s", err, out.String())
	}
	fixed := writeFile(t, "ok.yaml", strings.Replace(testRules, "        - A drone hovered over the stadium.\n", "", 1))
	if got := mustRun(t, rulesTestCmd, fixed); !strings.Contains(got, "failed: 0") {
		t.Errorf("passing file: output:\n%s", got)
	}
}

func TestRulesDiff(t *testing.T) {
	oldPath := writeFile(t, "old.yaml", testRules)
	newPath := writeFile(t, "new.yaml", strings.Replace(testRules, "      - {text: drone, inflect: true}\n", "      - {text: drone, inflect: true}\n      - {text: UAV, case_sensitive: true}\n", 1))
	corpus := writeFile(t, "c.jsonl", `{"id":"a","text":"A UAV crashed."}
{"id":"b","text":"A drone crashed."}
{"id":"c","text":"Nothing here."}
`)
	got := mustRun(t, rulesDiffCmd, oldPath, newPath, "--corpus", corpus)
	for _, want := range []string{"a (3 words)", "+drones  score 0.0000 -> 0.6321", `+ uav`, "drones                    1        2        1        0", "documents: 3; with changed tags: 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\nb (") {
		t.Errorf("unchanged document b listed:\n%s", got)
	}
}

// rules check counts the phrases that hold another of the same entry and
// --redundant lists them; rules diff lists those the edit added.
func TestRedundantPhrases(t *testing.T) {
	const base = "themes:\n  - id: chips\n    label: {en: Chips}\n    terms:\n      - {text: bán dẫn, variants: [chip bán dẫn%s]}\n      - {text: vi mạch, variants: [nhà máy vi mạch], folded: true, unfolded: [vi mạch]}\n"
	oldPath := writeFile(t, "old.yaml", fmt.Sprintf(base, ""))
	newPath := writeFile(t, "new.yaml", fmt.Sprintf(base, ", ngành bán dẫn Việt Nam"))
	got := mustRun(t, rulesCheck, "--redundant", newPath)
	for _, want := range []string{
		newPath + `:5: theme "chips" term "ban-dan": "chip bán dẫn" holds "bán dẫn"`,
		`"ngành bán dẫn Việt Nam" holds "bán dẫn"`,
		"redundant phrases: 2 ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rules check --redundant: output lacks %q:\n%s", want, got)
		}
	}
	corpus := writeFile(t, "c.jsonl", `{"id":"a","text":"Ngành bán dẫn."}
`)
	got = mustRun(t, rulesDiffCmd, oldPath, newPath, "--corpus", corpus)
	if !strings.Contains(got, `"ngành bán dẫn Việt Nam" holds "bán dẫn"`) || strings.Contains(got, `"chip bán dẫn" holds`) || !strings.Contains(got, "redundant phrases added: 1\n") {
		t.Errorf("rules diff: want the one added pair only:\n%s", got)
	}
}

// rules check counts the phrases holding another term's phrase of the
// theme whose match counts for less, --shadowing lists them, and neither
// fails the check; rules diff lists those the edit added.
func TestShadowingPhrases(t *testing.T) {
	const base = "themes:\n  - id: chips\n    label: {en: Chips}\n    terms:\n      - {id: chip, text: chip}\n      - {id: snack, text: chip khoai tây, weight: 0.8}\n      - {id: cheap, text: chip giá rẻ, weak: true%s}\n"
	oldPath := writeFile(t, "old.yaml", fmt.Sprintf(base, ""))
	newPath := writeFile(t, "new.yaml", fmt.Sprintf(base, ", variants: [chip rẻ]"))
	got := mustRun(t, rulesCheck, "--shadowing", newPath)
	for _, want := range []string{
		newPath + `:6: theme "chips" term "snack" "chip khoai tây" (0.8) holds term "chip" "chip" (1.0): lower weight` + "\n",
		newPath + `:7: theme "chips" term "cheap" "chip giá rẻ" (1.0) holds term "chip" "chip" (1.0): weak` + "\n",
		newPath + `:7: theme "chips" term "cheap" "chip rẻ" (1.0) holds term "chip" "chip" (1.0): weak` + "\n",
		"redundant phrases: 0 ",
		"\nshadowing phrases: 3 (",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rules check --shadowing: output lacks %q:\n%s", want, got)
		}
	}
	if got := mustRun(t, rulesCheck, newPath); strings.Contains(got, "holds term") || !strings.Contains(got, "shadowing phrases: 3 ") {
		t.Errorf("rules check without --shadowing: want the count only:\n%s", got)
	}
	corpus := writeFile(t, "c.jsonl", `{"id":"a","text":"Chip rẻ."}
`)
	got = mustRun(t, rulesDiffCmd, oldPath, newPath, "--corpus", corpus)
	if !strings.Contains(got, "redundant phrases added: 0\n"+newPath+`:7: theme "chips" term "cheap" "chip rẻ" (1.0) holds term "chip" "chip" (1.0): weak`+"\nshadowing phrases added: 1\n") ||
		strings.Contains(got, `"chip khoai tây" (0.8) holds`) || strings.Contains(got, `"chip giá rẻ" (1.0) holds`) {
		t.Errorf("rules diff: want the one added pair only:\n%s", got)
	}
	// The premise: the weak "chip rẻ" takes the strong "chip"'s place.
	if !strings.Contains(got, "-chips  score 0.6321 -> 0.0000") {
		t.Errorf("rules diff: want chips lost where chip rẻ now matches:\n%s", got)
	}
}

// rules diff --unmarked tags the corpus typed without diacritics: folding a
// term changes the unmarked documents only.
func TestRulesDiffUnmarked(t *testing.T) {
	oldPath := writeFile(t, "old.yaml", "themes:\n  - id: chips\n    label: {en: Chips}\n    terms: [{text: bán dẫn, folded: false}]\n")
	newPath := writeFile(t, "new.yaml", "themes:\n  - id: chips\n    label: {en: Chips}\n    terms: [{text: bán dẫn, folded: true}]\n")
	corpus := writeFile(t, "c.jsonl", `{"id":"a","text":"Ngành bán dẫn tăng trưởng."}
`)
	for flag, want := range map[string]string{"": "documents: 1; with changed tags: 0", "--unmarked": "documents: 1; with changed tags: 1"} {
		args := []string{oldPath, newPath, "--corpus", corpus}
		if flag != "" {
			args = append(args, flag)
		}
		if got := mustRun(t, rulesDiffCmd, args...); !strings.Contains(got, want) {
			t.Errorf("rules diff %s: output lacks %q:\n%s", flag, want, got)
		}
	}
}

// --unmarked lists the examples whose answer changes without diacritics,
// with the unmarked text's evidence, and does not fail the run for them.
func TestRulesTestUnmarked(t *testing.T) {
	path := writeFile(t, "vi.yaml", `themes:
  - id: semiconductors
    label: {en: Chips}
    terms:
      - {text: bán dẫn, folded: false}
      - {text: vi mạch, folded: true}
    examples:
      tagged:
        - Ngành bán dẫn tăng trưởng.
        - Nhà máy vi mạch mới.
`)
	var out, errOut bytes.Buffer
	if err := rulesTestCmd([]string{"--unmarked", path}, &out, &errOut); err != nil {
		t.Fatalf("err = %v, want none (unmarked answers are listed, not failed):\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"examples: 2, passed: 2, failed: 0",
		"UNMARKED " + path + `:9 theme semiconductors: example must be tagged: "Nganh ban dan tang truong."`,
		"no term of the theme matched",
		"unmarked: 2 examples with diacritics, 1 answer differently without them",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Nha may vi mach") {
		t.Errorf("the folded term's example is listed:\n%s", got)
	}
	out.Reset()
	if err := rulesTestCmd([]string{path}, &out, &errOut); err != nil || strings.Contains(out.String(), "UNMARKED") {
		t.Errorf("without --unmarked: err = %v, output:\n%s", err, out.String())
	}
}

// TestRulesFileArguments: rules test and rules check take exactly one rule
// file (they share loadRuleFileArg), and a file that does not load is an
// error naming its line, not a run.
func TestRulesFileArguments(t *testing.T) {
	path := writeFile(t, "r.yaml", testRules)
	bad := writeFile(t, "bad.yaml", "themes:\n  - id: x\n    label: {en: X}\n    terms: [{text: a, weight: 3}]\n")
	for name, cmd := range map[string]func([]string, io.Writer, io.Writer) error{"rules test": rulesTestCmd, "rules check": rulesCheck} {
		for _, args := range [][]string{nil, {path, path}} {
			var out, errOut bytes.Buffer
			if err := cmd(args, &out, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), name) {
				t.Errorf("%s %q: err %v, usage %q; want the usage", name, args, err, errOut.String())
			}
		}
		var out, errOut bytes.Buffer
		err := cmd([]string{bad}, &out, &errOut)
		if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), "bad.yaml:4") || strings.Contains(out.String(), "examples:") {
			t.Errorf("%s of a bad file: err %v, out %q; want the file's problem and no run", name, err, out.String())
		}
	}
}
