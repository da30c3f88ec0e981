package evaluation

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/internal/corpus"
	"github.com/doctagger/doctagger/tagger"
)

// TestEvalSets: every labelled set in eval/ reads as a gold file with the
// default ruleset's themes (valid lines, unique ids, known themes, none both
// required and optional); each document is labelled in one set only, so
// that figures across sets (the 2017 census of eval/README.md) count it
// once; the sets of our own texts carry them, and the 2017 sets' ids are
// all in the corpus when ../shared is there (it is in CI).
func TestEvalSets(t *testing.T) {
	themes := defaultThemeIDs(t)
	files, err := filepath.Glob("../../eval/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no eval sets found: %v", err)
	}
	subset, err := corpusSubset(t, files, "../../../shared/corpus/vi-news.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	setOf := map[string]string{}
	for _, f := range files {
		name := filepath.Base(f)
		fromCorpus := strings.HasPrefix(name, "vi-news")
		path := ""
		if fromCorpus {
			path = subset
		}
		docs, err := ReadGold(f, path, themes)
		if noText := (*NoTextError)(nil); fromCorpus && path == "" && errors.As(err, &noText) {
			continue // its lines are valid: texts are looked for after them
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, d := range docs {
			if strings.TrimSpace(d.Text) == "" {
				t.Errorf("%s: %s has no text", name, d.ID)
			}
			if prev, ok := setOf[d.ID]; ok {
				t.Errorf("%s: %s is labelled in %s too", name, d.ID, prev)
			}
			setOf[d.ID] = name
		}
	}
}

// corpusSubset writes the corpus lines the 2017 sets label to a file of
// their own, in one pass over the corpus (a pass a set takes seconds each);
// "" when there is no corpus.
func corpusSubset(t *testing.T, files []string, corpusPath string) (string, error) {
	if _, err := os.Stat(corpusPath); err != nil {
		t.Logf("no corpus at %s: the 2017 sets' ids are not looked up", corpusPath)
		return "", nil
	}
	need := map[string]bool{}
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), "vi-news") {
			continue
		}
		ids, err := idsIn(f)
		if err != nil {
			return "", err
		}
		for id := range ids {
			need[id] = true
		}
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "subset.jsonl"))
	if err != nil {
		return "", err
	}
	defer out.Close()
	err = corpus.EachLine(corpusPath, func(n int, b []byte) error {
		id, err := corpus.ID(b)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", corpusPath, n, err)
		}
		if need[id] {
			if _, err := out.Write(b); err != nil {
				return err
			}
			_, err = out.WriteString("\n")
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return out.Name(), out.Close()
}

// TestSecondLabels: a second, independent labelling of a set
// (eval/second-labels/NAME.jsonl, for agreement figures) and the
// adjudication of the two (eval/adjudicated/NAME.jsonl) read as gold files
// and label exactly the documents of eval/NAME.jsonl.
func TestSecondLabels(t *testing.T) {
	themes := defaultThemeIDs(t)
	var files []string
	for _, dir := range []string{"second-labels", "adjudicated"} {
		found, err := filepath.Glob(filepath.Join("../../eval", dir, "*.jsonl"))
		if err != nil || len(found) == 0 {
			t.Fatalf("no labellings found in eval/%s: %v", dir, err)
		}
		files = append(files, found...)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if _, err := ReadGold(f, "", themes); err != nil && !errors.As(err, new(*NoTextError)) {
			t.Errorf("%s: %v", f, err)
			continue
		}
		first, err := idsIn(filepath.Join("../../eval", name))
		if err != nil {
			t.Fatal(err)
		}
		second, err := idsIn(f)
		if err != nil {
			t.Fatal(err)
		}
		for id := range first {
			if !second[id] {
				t.Errorf("%s: %s of eval/%s is not labelled", f, id, name)
			}
		}
		for id := range second {
			if !first[id] {
				t.Errorf("%s: %s is not in eval/%s", f, id, name)
			}
		}
	}
}

func defaultThemeIDs(t *testing.T) []string {
	t.Helper()
	rs, err := tagger.DefaultRuleset()
	if err != nil {
		t.Fatal(err)
	}
	return rs.ThemeIDs()
}

// idsIn is the set of ids a JSON Lines file labels; a line without an id is
// skipped (ReadGold reports it).
func idsIn(path string) (map[string]bool, error) {
	ids := map[string]bool{}
	err := corpus.EachLine(path, func(n int, b []byte) error {
		if id, err := corpus.ID(b); err == nil {
			ids[id] = true
		}
		return nil
	})
	return ids, err
}
