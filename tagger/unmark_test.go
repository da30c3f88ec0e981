package tagger

import "testing"

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
