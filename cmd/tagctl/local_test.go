package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runTagctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRulesCheck(t *testing.T) {
	code, out, _ := runTagctl(t, "rules", "check", "../../rules/default.yaml")
	if code != 0 || !strings.Contains(out, "version sha256:") || !strings.Contains(out, "green_transition") {
		t.Fatalf("rules check of the default rules: code %d\n%s", code, out)
	}
	// The summary counts the terms with a setting of their own.
	needs := writeTemp(t, "needs.yaml", "themes:\n  - id: x\n    label: {en: X}\n    terms: [a, {text: b, needs: [c]}, {text: d, weak: true}]\n")
	if code, out, _ := runTagctl(t, "rules", "check", needs); code != 0 || !regexp.MustCompile(`(?m)^x +3 +1 +1 +0 +0\.50 `).MatchString(out) {
		t.Errorf("rules check summary (terms, weak, needs, exclusions, threshold): code %d\n%s", code, out)
	}
	bad := writeTemp(t, "bad.yaml", "themes:\n  - id: x\n    label: {en: X}\n    terms: [{text: a, weight: 3}]\n  - id: x\n    label: {en: Y}\n    terms: [b]\n")
	code, _, errOut := runTagctl(t, "rules", "check", bad)
	if code != 1 || !strings.Contains(errOut, "bad.yaml:4") || !strings.Contains(errOut, "bad.yaml:5") || !strings.Contains(errOut, "2 problems") {
		t.Fatalf("rules check of a bad file: code %d\n%s", code, errOut)
	}
	if code, _, _ := runTagctl(t, "rules", "check"); code != 2 {
		t.Errorf("rules check without a file: code %d, want 2", code)
	}
}

const goldLines = `{"id": "d1", "text": "Doanh nghiệp đầu tư vào trí tuệ nhân tạo.", "required": ["ai"]}
{"id": "d2", "text": "Không ai đến dự buổi họp chiều qua.", "required": []}
{"id": "d3", "text": "Người dân làm căn cước gắn chip.", "required": [], "optional": []}
{"id": "d4", "text": "Nhà máy điện mặt trời mới.", "required": ["green_transition", "drones"]}
`

func TestEval(t *testing.T) {
	gold := writeTemp(t, "gold.jsonl", goldLines)
	preds := filepath.Join(t.TempDir(), "pred.jsonl")
	code, out, errOut := runTagctl(t, "eval", "--gold", gold, "--errors", "--predictions", preds)
	if code != 0 {
		t.Fatalf("eval: code %d: %s", code, errOut)
	}
	for _, want := range []string{
		"FN d4 drones: no term of the theme matched",
		"ai                     1     0     0     1.000   1.000   1.000",
		"drones                 0     0     1     1.000   0.000   0.000",
		"micro                  2     0     1     1.000   0.667   0.800",
		"with no theme: 2, of which tagged with any theme: 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(preds)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 {
		t.Fatalf("predictions: %d lines, want 4", len(lines))
	}
	var p struct {
		ID   string
		Tags []struct {
			Theme string
			Score float64
		}
	}
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil || p.ID != "d1" || len(p.Tags) != 1 || p.Tags[0].Theme != "ai" || p.Tags[0].Score <= 0.5 {
		t.Errorf("first prediction %s: %+v %v", lines[0], p, err)
	}
}

func TestEvalWithCorpusAndGzip(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl.gz")
	f, err := os.Create(corpus)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write([]byte(`{"id": "c1", "text": "Công an dùng máy bay không người lái tuần tra."}` + "\n" + `{"id": "c2", "text": "Chiếc máy bay hạ cánh an toàn."}` + "\n"))
	zw.Close()
	f.Close()
	gold := writeTemp(t, "gold.jsonl", `{"id": "c1", "required": ["drones"]}`+"\n"+`{"id": "c2", "required": []}`+"\n")
	code, out, errOut := runTagctl(t, "eval", "--gold", gold, "--corpus", corpus)
	if code != 0 || !strings.Contains(out, "drones                 1     0     0") {
		t.Fatalf("eval --corpus: code %d\n%s%s", code, out, errOut)
	}
	// Without the corpus, a text-less gold file is an error that says what to do.
	code, _, errOut = runTagctl(t, "eval", "--gold", gold)
	if code != 1 || !strings.Contains(errOut, "--corpus") {
		t.Errorf("eval without corpus: code %d: %s", code, errOut)
	}
	// A gold id missing from the corpus is named.
	gold2 := writeTemp(t, "gold2.jsonl", `{"id": "zz", "required": []}`+"\n")
	if code, _, errOut = runTagctl(t, "eval", "--gold", gold2, "--corpus", corpus); code != 1 || !strings.Contains(errOut, `"zz"`) {
		t.Errorf("missing id: code %d: %s", code, errOut)
	}
	// Unknown themes and malformed lines are errors with the line number.
	gold3 := writeTemp(t, "gold3.jsonl", `{"id": "a", "text": "x", "required": ["crypto"]}`+"\n")
	if code, _, errOut = runTagctl(t, "eval", "--gold", gold3); code != 1 || !strings.Contains(errOut, "gold3.jsonl:1: unknown theme \"crypto\"") {
		t.Errorf("unknown theme: code %d: %s", code, errOut)
	}
	for content, want := range map[string]string{
		`{"id": "a", "text": "x"}` + "\n" + `{"id": "a", "text": "y"}`:     `bad.jsonl:2: id "a" already on line 1`,
		`{"id": "a", "text": "x", "required": ["ai"], "optional": ["ai"]}`: `theme "ai" is both required and optional`,
		`{"text": "x"}`: "bad.jsonl:1: the document has no id",
		`{"id": "a", "text": "x", "labels": ["ai"]}`: `unknown field "labels"`,
	} {
		bad := writeTemp(t, "bad.jsonl", content+"\n")
		if code, _, errOut := runTagctl(t, "eval", "--gold", bad); code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("gold %s: code %d: %s, want %q", content, code, errOut, want)
		}
	}
}

// TestEvalTitleFirstLine: --title-first-line tags each text's first line as
// its title, which the ruleset's title_weight then weighs: the one mention
// of a long article is enough when it stands in the title, not without
// the flag; a gold line's own "title" is read too.
func TestEvalTitleFirstLine(t *testing.T) {
	rules := writeTemp(t, "rules.yaml", "scoring: {title_weight: 3, max_length_factor: 2.5}\nthemes:\n  - id: chips\n    label: {en: Chips}\n    terms: [bán dẫn]\n")
	body := strings.Repeat("người dân đi chợ mua rau và cá ", 100)
	gold := writeTemp(t, "gold.jsonl", fmt.Sprintf(`{"id": "a", "text": "Nhà máy bán dẫn mới\n%s", "required": ["chips"]}
{"id": "b", "title": "Nhà máy bán dẫn mới", "text": %q, "required": ["chips"]}
`, body, body))
	code, out, errOut := runTagctl(t, "eval", "--rules", rules, "--gold", gold, "--title-first-line", "--errors")
	if code != 0 || !strings.Contains(out, "chips                  2     0     0") {
		t.Fatalf("eval --title-first-line: code %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runTagctl(t, "eval", "--rules", rules, "--gold", gold, "--errors")
	if code != 0 || !strings.Contains(out, "chips                  1     0     1") || !strings.Contains(out, "FN a chips") {
		t.Fatalf("eval without --title-first-line: code %d\n%s%s", code, out, errOut)
	}
}

// TestEvalUnmarked: --unmarked tags the set typed without diacritics, title
// and text, so a term that is not folded misses there (in the text of a,
// in the title of b) and a folded one does not (c).
func TestEvalUnmarked(t *testing.T) {
	rules := writeTemp(t, "rules.yaml", "themes:\n  - id: chips\n    label: {en: Chips}\n    terms: [{text: bán dẫn, folded: false}, {text: vi mạch, folded: true}]\n")
	gold := writeTemp(t, "gold.jsonl", `{"id": "a", "text": "Nhà máy bán dẫn mới", "required": ["chips"]}
{"id": "b", "title": "Nhà máy bán dẫn", "text": "Khởi công ở Hòa Lạc.", "required": ["chips"]}
{"id": "c", "title": "Nhà máy vi mạch", "text": "Khởi công ở Hòa Lạc.", "required": ["chips"]}
`)
	code, out, errOut := runTagctl(t, "eval", "--rules", rules, "--gold", gold, "--errors")
	if code != 0 || !strings.Contains(out, "chips                  3     0     0") {
		t.Fatalf("eval: code %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runTagctl(t, "eval", "--rules", rules, "--gold", gold, "--errors", "--unmarked")
	if code != 0 || !strings.Contains(out, "typed without diacritics") || !strings.Contains(out, "chips                  1     0     2") ||
		!strings.Contains(out, "FN a chips") || !strings.Contains(out, "FN b chips") {
		t.Fatalf("eval --unmarked: code %d\n%s%s", code, out, errOut)
	}
}
