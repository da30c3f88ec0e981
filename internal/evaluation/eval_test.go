package evaluation

import (
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/tagger"
)

const rules = `name: t
themes:
  - id: space
    label: {vi: Vũ trụ, en: Space}
    threshold: 0.5
    terms:
      - {text: tên lửa}
  - id: sea
    label: {vi: Biển, en: Sea}
    threshold: 0.5
    terms:
      - {text: đại dương}
`

// TestReadGoldAndRun: a gold file whose texts come from a gzipped corpus by
// id is read, checked against the ruleset's themes, and scored: a true
// positive, a false negative, a false positive, an optional theme that
// counts either way, and a theme-less document.
func TestReadGoldAndRun(t *testing.T) {
	dir := t.TempDir()
	gold := filepath.Join(dir, "gold.jsonl")
	os.WriteFile(gold, []byte(strings.Join([]string{
		`{"id": "a", "required": ["space"], "optional": []}`,
		`{"id": "b", "required": ["space", "sea"], "optional": []}`,
		`{"id": "c", "required": [], "optional": ["sea"]}`,
		`{"id": "d", "required": [], "optional": []}`,
		`{"id": "e", "text": "Tàu ngầm lặn sâu dưới đại dương.", "required": [], "optional": []}`,
	}, "\n")), 0o644)
	corpusPath := filepath.Join(dir, "corpus.jsonl.gz")
	f, _ := os.Create(corpusPath)
	zw := gzip.NewWriter(f)
	zw.Write([]byte(strings.Join([]string{
		`{"id": "a", "text": "Phóng tên lửa lên quỹ đạo."}`,
		`{"id": "b", "text": "Tên lửa bay qua."}`,
		`{"id": "c", "text": "Đại dương mênh mông."}`,
		`{"id": "d", "text": "Trời hôm nay nắng."}`,
	}, "\n")))
	zw.Close()
	f.Close()

	rs, err := tagger.ParseRuleset("t.yaml", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := tagger.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := ReadGold(gold, corpusPath, []string{"space", "sea"})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 5 || docs[0].Text == "" || docs[4].Text == "" {
		t.Fatalf("docs %+v", docs)
	}
	rep, err := Run(tg, docs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counts{"space": {TP: 2}, "sea": {FN: 1, FP: 1}}
	for th, c := range want {
		if rep.PerTheme[th] != c {
			t.Errorf("%s: %+v, want %+v", th, rep.PerTheme[th], c)
		}
	}
	if rep.Micro != (Counts{TP: 2, FN: 1, FP: 1}) || rep.Docs != 5 || rep.NoTheme != 2 || rep.NoThemeHit != 1 {
		t.Errorf("report %+v", rep)
	}
	if got := rep.PerTheme["space"].F1(); got != 1 {
		t.Errorf("space F1 %v", got)
	}

	// A label the ruleset does not have is an error naming the line.
	os.WriteFile(gold, []byte(`{"id": "x", "text": "y", "required": ["moon"], "optional": []}`), 0o644)
	if _, err := ReadGold(gold, "", []string{"space", "sea"}); err == nil || !strings.Contains(err.Error(), ":1:") || !strings.Contains(err.Error(), "moon") {
		t.Errorf("unknown theme: %v", err)
	}
}

// TestReadGoldCorpusErrors: a gold file of ids alone without a corpus is a
// NoTextError naming the first document; an id the corpus lacks, and a
// corpus line that is not an object with an id, are errors that name the
// id or the line.
func TestReadGoldCorpusErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gold := write("gold.jsonl", `{"id": "x", "text": "Có chữ.", "required": [], "optional": []}`+"\n"+
		`{"id": "a", "required": [], "optional": []}`+"\n"+`{"id": "b", "required": [], "optional": []}`+"\n")
	var noText *NoTextError
	if _, err := ReadGold(gold, "", nil); !errors.As(err, &noText) || noText.Count != 2 || noText.First != "a" ||
		!strings.Contains(err.Error(), "pass --corpus") {
		t.Errorf("no corpus: %v", err)
	}
	for _, c := range []struct{ corpus, want string }{
		{`{"id": "a", "text": "Một."}` + "\n", `(first: "b")`},
		{`{"id": "a", "text": "Một."}` + "\n" + `["b"]` + "\n", "corpus.jsonl:2: not a JSON object"},
		{`{"text": "Hai.", "id": 7}` + "\n", "corpus.jsonl:1: id: json: cannot unmarshal number"},
	} {
		_, err := ReadGold(gold, write("corpus.jsonl", c.corpus), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("corpus %q: %v, want %q", c.corpus, err, c.want)
		}
	}
}
