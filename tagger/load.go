package tagger

import (
	"os"

	"github.com/doctagger/doctagger/rules"
)

// LoadRuleset reads and validates a ruleset file.
func LoadRuleset(path string) (*Ruleset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseRuleset(path, data)
}

// DefaultRuleset returns the embedded default ruleset.
func DefaultRuleset() (*Ruleset, error) {
	return ParseRuleset("embedded:"+rules.DefaultName, rules.Default)
}

// ParseRuleset validates a ruleset held in memory; source names it in
// errors and in Ruleset.Source.
func ParseRuleset(source string, data []byte) (*Ruleset, error) {
	return &Ruleset{Source: source}, nil // STUB
}
