package tagger

import (
	"strings"
	"testing"
)

// TestNoAllocationsWithoutTags: a document that gets no tag costs no
// allocation, whether nothing in it matched or it had matches that stayed
// under the threshold (whose evidence is built only for reported themes).
func TestNoAllocationsWithoutTags(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops objects)")
	}
	tg := defaultT(t)
	filler := strings.Repeat("Hôm nay trời đẹp, người dân đi chợ mua rau và cá. ", 60)
	texts := map[string]string{
		"no match":        filler,
		"under threshold": filler + "Một con chip nhỏ. " + filler,
		// An acronym spelled out as other words after "Stands For": the
		// other_expansion exclusion compares the words between, and a
		// capitalised one must not cost a lower-cased copy.
		"spelled out": filler + "AI Stands For Ấn Ích. AI Là Viết Tắt Của Ấn Ích. " + filler,
	}
	for name, text := range texts {
		res, err := tg.Tag(text, Options{IncludeUntagged: true})
		if err != nil || len(res.Tags) != 0 {
			t.Fatalf("%s: want no tags, got %+v, %v", name, res.Tags, err)
		}
		if name == "under threshold" && len(res.Untagged) == 0 {
			t.Fatalf("%s: the text should have matches under the threshold", name)
		}
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := tg.Tag(text, Options{}); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per untagged document, want 0", name, allocs)
		}
	}
}
