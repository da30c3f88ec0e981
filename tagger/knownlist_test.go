package tagger

import "testing"

// checkKnownList holds a rule-file check's findings (keys) to the list of
// the ones that are known and accepted: reportNew(i) is called for each key
// not on the list, and a listed key no longer found fails as stale, so the
// list stays true. Used by TestDefaultShadowing and TestDefaultRedundant.
func checkKnownList(t *testing.T, keys, known []string, listName string, reportNew func(i int)) {
	t.Helper()
	isKnown := make(map[string]bool, len(known))
	for _, k := range known {
		isKnown[k] = true
	}
	found := make(map[string]bool, len(keys))
	for i, k := range keys {
		found[k] = true
		if !isKnown[k] {
			reportNew(i)
		}
	}
	for _, k := range known {
		if !found[k] {
			t.Errorf("%s lists %q, which rules/default.yaml no longer has: remove it from the list", listName, k)
		}
	}
}
