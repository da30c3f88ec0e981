package tagger

import (
	"strings"
	"testing"
)

func TestUnmark(t *testing.T) {
	for in, want := range map[string]string{
		"Trí tuệ nhân tạo":          "Tri tue nhan tao",
		"Đà Nẵng đầu tư bán dẫn":    "Da Nang dau tu ban dan",
		"hoà thuỷ khoẻ":             "hoa thuy khoe",
		"AI chip, 3 nm":             "AI chip, 3 nm",
		"tri\u0301 tue\u0323\u0302": "tri tue", // NFD input
		"":                          "",
	} {
		if got := Unmark(in); got != want {
			t.Errorf("Unmark(%q) = %q, want %q", in, got, want)
		}
	}
}

// An example whose term is not folded answers differently typed without
// marks; one whose term is folded does not.
func TestExamplesUnmarked(t *testing.T) {
	res := compileYAML(t, `themes:
  - id: semiconductors
    label: {en: Chips}
    terms:
      - {text: bán dẫn, folded: false}
      - {text: vi mạch, folded: true}
    examples:
      tagged:
        - Ngành bán dẫn tăng trưởng.
        - Nhà máy vi mạch mới.
        - Intel chips.
`).TestExamplesUnmarked()
	if len(res) != 2 {
		t.Fatalf("got %d results, want 2 (the example without marks is not rerun): %+v", len(res), res)
	}
	if res[0].Passed || res[0].Example.Text != "Nganh ban dan tang truong." {
		t.Errorf("unfolded term: %+v, want a failure on the unmarked text", res[0])
	}
	if !res[1].Passed || res[1].Example.Text != "Nha may vi mach moi." {
		t.Errorf("folded term: %+v, want a pass", res[1])
	}
}

// unfolded: keeps the listed phrases of a folded term or exclusion to their
// marks; the entry's other phrases still match typed without them.
func TestUnfoldedPhrases(t *testing.T) {
	tg := compileYAML(t, `defaults: {folded: true}
themes:
  - id: green_transition
    label: {en: Green}
    terms:
      - {text: xe điện, variants: [ô tô điện], unfolded: [xe điện]}
    exclusions:
      - {text: chùa, variants: [du khách], unfolded: [chùa], cancels: [xe-dien], window: 5}
`)
	for text, want := range map[string]bool{
		"Thành phố mua thêm xe điện.":   true,
		"Thanh pho mua them xe dien.":   false, // unfolded: "xe dien" stays unmatched
		"Thanh pho mua them o to dien.": true,  // its variant is still folded
		"Xe điện chở khách lên chùa.":   false, // the exclusion as written
		"Ô tô điện chở người lên chua.": true,  // unfolded: "chua" is "chưa" (not yet), no exclusion
		"O to dien cho du khach.":       false, // the exclusion's folded variant cancels
	} {
		if got := len(tagThemes(t, tg, text)) > 0; got != want {
			t.Errorf("%q: tagged %v, want %v", text, got, want)
		}
	}
}

func TestUnfoldedErrors(t *testing.T) {
	for entry, frag := range map[string]string{
		"{text: xe điện, unfolded: [ô tô điện]}":                    `unfolded lists "ô tô điện", which is not the text`,
		"{text: xe điện, variants: [EV], unfolded: [EV]}":           `unfolded lists "EV", which has no diacritics`,
		"{text: xe điện, folded: false, unfolded: [xe điện]}":       "unfolded does nothing with folded: false",
		"{text: xe điện, unfolded: []}":                             "unfolded is empty",
		"{text: xe điện, unfolded: [xe dien], variants: [xe dien]}": `"xe dien", which has no diacritics`,
	} {
		for _, list := range []string{"terms: [a, " + entry + "]", "terms: [a]\n    exclusions: [" + entry + "]"} {
			src := "defaults: {folded: true}\nthemes:\n  - id: x\n    label: {en: X}\n    " + list + "\n"
			_, err := ParseRuleset("f.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), frag) {
				t.Errorf("%s: err = %v, want it to mention %q", list, err, frag)
			}
		}
	}
}
