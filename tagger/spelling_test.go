package tagger

import (
	"strings"
	"testing"
)

func TestIYSwap(t *testing.T) {
	for in, want := range map[string]string{
		"sĩ": "sỹ", "sỹ": "sĩ", "Kỹ": "Kĩ", "kì": "kỳ", "lý": "lí", "tỷ": "tỉ",
		"quy": "qui", "Quý": "Quí", "hy": "hi", "ty": "ti", "mĩ": "mỹ",
		"si\u0303": "sỹ", // NFD in, NFC out
		"thủy":     "", "tuỳ": "", "vi": "", "thi": "", "đi": "", "ai": "", "AI": "", "y": "", "bác": "", "kỹ sư": "",
	} {
		got, ok := iySwap(in)
		if ok != (want != "") || got != want {
			t.Errorf("iySwap(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// A term written with one i/y spelling matches the other, in the strict
// and the folded trie, and in exclusions and needs; the evidence quotes
// the text as written.
func TestIYSpellingsMatchEachOther(t *testing.T) {
	tg := compileYAML(t, `
name: iy
defaults: {folded: true}
themes:
  - id: ehealth
    label: {en: E-health}
    terms:
      - {text: bác sĩ gia đình trực tuyến}
      - {text: kĩ thuật số y tế, weight: 0.9, needs: [quy định], needs_window: 10}
    exclusions:
      - {text: lý thuyết, cancels: [bac-si-gia-dinh-truc-tuyen], window: 3}
`)
	cases := map[string]bool{
		"Dịch vụ bác sỹ gia đình trực tuyến mở rộng":           true,
		"Dịch vụ bác sĩ gia đình trực tuyến mở rộng":           true,
		"Dich vu bac sy gia dinh truc tuyen mo rong":           true,  // unmarked, the other spelling
		"Lí thuyết bác sỹ gia đình trực tuyến":                 false, // the exclusion in its other spelling
		"Qui định mới về kỹ thuật số y tế":                     true,  // the term and its setting in the other spelling
		"Kỹ thuật số y tế phát triển":                          false, // no setting
		"Dịch vụ bác sí gia đình trực tuyến (a misspelt tone)": false,
	}
	for text, want := range cases {
		res := tagChecked(t, tg, text, Options{})
		if got := len(res.Tags) == 1; got != want {
			t.Errorf("%q: tagged=%v, want %v (%+v)", text, got, want, res.Tags)
		}
		if want && strings.Contains(text, "sỹ") && res.Tags[0].Evidence[0].Text != "bác sỹ gia đình trực tuyến" {
			t.Errorf("%q: evidence %q, want the text as written", text, res.Tags[0].Evidence[0].Text)
		}
	}
}

// The loader counts the two spellings as the same words.
func TestIYSpellingsAreDuplicates(t *testing.T) {
	_, err := ParseRuleset("iy.yaml", []byte(`themes:
  - id: ehealth
    label: {en: E-health}
    terms:
      - {text: bác sĩ, variants: [bác sỹ]}
`))
	if err == nil || !strings.Contains(err.Error(), `"bác sỹ" matches the same words as term "bác sĩ"`) {
		t.Fatalf("err = %v, want the two spellings reported as the same words", err)
	}
}
