package tagger

import (
	"bytes"
	"os"
	"slices"
	"strings"
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
// The loader's keys are read from its own error for an unknown key at each
// level, not copied here, so a key added to load.go alone fails the test.
func TestSchemaKeysMatchLoader(t *testing.T) {
	theme := "themes:\n  - id: x\n    label: {en: X}\n    terms: [alpha]\n"
	for _, c := range []struct {
		typ  any
		yaml string // with a key "bogus" at the type's level
	}{
		{fileRuleset{}, "bogus: 1\n" + theme},
		{fileScoring{}, "scoring: {bogus: 1}\n" + theme},
		{fileDefaults{}, "defaults: {bogus: 1}\n" + theme},
		{fileTheme{}, theme + "    bogus: 1\n"},
		{fileLabel{}, strings.Replace(theme, "{en: X}", "{en: X, bogus: 1}", 1)},
		{fileTerm{}, strings.Replace(theme, "[alpha]", "[{text: alpha, bogus: 1}]", 1)},
		{fileExclusion{}, theme + "    exclusions: [{text: beta, bogus: 1}]\n"},
		{fileExamples{}, theme + "    examples: {bogus: [a]}\n"},
	} {
		_, err := ParseRuleset("t.yaml", []byte(c.yaml))
		var msg string
		if err != nil {
			msg = err.Error()
		}
		_, known, ok := strings.Cut(msg, `unknown key "bogus" in `)
		_, known, ok2 := strings.Cut(known, "(known keys: ")
		known, _, ok3 := strings.Cut(known, ")")
		if !ok || !ok2 || !ok3 {
			t.Errorf("%T: the loader did not report the unknown key with its known keys: %v", c.typ, err)
			continue
		}
		if got, loader := fileKeys(c.typ), strings.Split(known, ", "); !slices.Equal(got, loader) {
			t.Errorf("%T keys %v, loader %v", c.typ, got, loader)
		}
	}
}
