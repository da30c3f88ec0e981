package tagger

import (
	"bytes"
	"os"
	"slices"
	"testing"
)

// TestSchemaFresh holds rules/ruleset.schema.json to the generated schema.
// Regenerate: DOCTAGGER_WRITE_SCHEMA=1 go test ./tagger -run TestSchemaFresh
func TestSchemaFresh(t *testing.T) {
	const path = "../rules/ruleset.schema.json"
	want := RulesetSchema()
	if os.Getenv("DOCTAGGER_WRITE_SCHEMA") != "" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("rules/ruleset.schema.json is stale: DOCTAGGER_WRITE_SCHEMA=1 go test ./tagger -run TestSchemaFresh")
	}
}

// TestSchemaKeysMatchLoader: every key the loader knows is in the schema
// types and the other way round, so the schema cannot drift from parsing.
func TestSchemaKeysMatchLoader(t *testing.T) {
	for _, c := range []struct {
		typ  any
		keys []string // the loader's lists, in load.go
	}{
		{fileRuleset{}, []string{"name", "description", "scoring", "defaults", "themes"}},
		{fileScoring{}, []string{"reference_words", "repeat_factor", "max_repeat", "max_length_factor"}},
		{fileDefaults{}, []string{"weight", "case_sensitive", "folded", "inflect", "hyphens"}},
		{fileTheme{}, []string{"id", "label", "description", "threshold", "terms", "exclusions", "examples"}},
		{fileLabel{}, []string{"vi", "en"}},
		{fileTerm{}, []string{"id", "text", "variants", "weight", "case_sensitive", "folded", "inflect", "hyphens", "weak", "window"}},
		{fileExclusion{}, []string{"id", "text", "variants", "cancels", "window", "scope", "folded", "hyphens"}},
		{fileExamples{}, []string{"tagged", "not_tagged"}},
	} {
		got := fileKeys(c.typ)
		if !slices.Equal(got, c.keys) {
			t.Errorf("%T keys %v, loader %v", c.typ, got, c.keys)
		}
	}
	// The loader reports an unknown key with the list it knows: probe it.
	for key, want := range map[string]string{"": "name, description, scoring, defaults, themes"} {
		_, err := ParseRuleset("t.yaml", []byte("bogus"+key+": 1\nthemes: []\n"))
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("loader's known keys changed: %v", err)
		}
	}
}
