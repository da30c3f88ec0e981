package tagger

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// checkDocEvidence checks every piece of evidence of res against the field
// it says it is in (checkEvidence's checks, per field).
func checkDocEvidence(t testing.TB, doc Document, res Result) {
	t.Helper()
	split := func(inTitle bool) Result {
		var out Result
		for _, g := range [][]Tag{res.Tags, res.Untagged} {
			for _, tg := range g {
				c := Tag{Theme: tg.Theme, Score: tg.Score}
				for _, e := range tg.Evidence {
					if e.InTitle == inTitle {
						c.Evidence = append(c.Evidence, e)
					}
				}
				for _, d := range tg.Dropped {
					if d.InTitle == inTitle {
						c.Dropped = append(c.Dropped, Dropped{Evidence: d.Evidence, Reason: DropUnsupported})
					}
					if d.Reason == DropExcluded && d.ExclusionInTitle == inTitle {
						// The exclusion, checked as a match of its own.
						c.Dropped = append(c.Dropped, Dropped{Reason: DropUnsupported, Evidence: Evidence{
							Text: d.ExclusionText, Start: d.ExclusionStart, End: d.ExclusionEnd,
							RuneStart: d.ExclusionRuneStart, RuneEnd: d.ExclusionRuneEnd,
							UTF16Start: d.ExclusionUTF16Start, UTF16End: d.ExclusionUTF16End,
						}})
					}
				}
				out.Tags = append(out.Tags, c)
			}
		}
		return out
	}
	checkEvidence(t, doc.Title, split(true))
	checkEvidence(t, doc.Text, split(false))
}

const titleRules = `name: title
scoring: {reference_words: 200, max_length_factor: 2.5%s}
themes:
  - id: ai
    label: {en: AI}
    terms:
      - trí tuệ nhân tạo
      - {text: AI, case_sensitive: true, weight: 0.8}
      - {text: học sâu, weight: 0.5, weak: true}
    exclusions:
      - {text: trí tuệ nhân tạo giả, scope: document}
  - id: chips
    label: {en: Chips}
    terms:
      - bán dẫn
      - {text: chip, weight: 0.6}
    exclusions:
      - {text: căn cước, cancels: [chip], window: 5}
`

func titleTagger(t testing.TB, weight string) *Tagger {
	extra := ""
	if weight != "" {
		extra = ", title_weight: " + weight
	}
	return compileYAML(t, strings.Replace(titleRules, "%s", extra, 1))
}

// TestTagDocumentNoTitle: without a title TagDocument is Tag, result for
// result, and allocates nothing for an untagged document.
func TestTagDocumentNoTitle(t *testing.T) {
	tg := defaultT(t)
	for _, text := range []string{
		"",
		"Nvidia ra mắt chip trí tuệ nhân tạo mới",
		"Căn cước gắn chip đã cấp cho 🚀 người dân; máy bay không người lái giao hàng",
		norm.NFD.String("Bệnh viện triển khai hồ sơ sức khỏe điện tử"),
		"bad \xff text",
	} {
		for _, opts := range []Options{{}, {IncludeUntagged: true}, {OmitEvidence: true}} {
			want, werr := tg.Tag(text, opts)
			got, gerr := tg.TagDocument(Document{Text: text}, opts)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gerr, werr) {
				t.Errorf("TagDocument(%q) = %+v, %v; Tag = %+v, %v", text, got, gerr, want, werr)
			}
		}
	}
	if raceEnabled {
		return
	}
	text := strings.Repeat("Hôm nay trời đẹp, người dân đi chợ mua rau và cá. ", 60) + "Một con chip nhỏ."
	if allocs := testing.AllocsPerRun(50, func() { tg.TagDocument(Document{Text: text}, Options{}) }); allocs != 0 {
		t.Errorf("TagDocument without a title: %v allocations per untagged document, want 0", allocs)
	}
}

// TestTagDocumentTitleWeight: a match in the title counts title_weight
// times as much as the same match in the text, its evidence says so and
// is placed in the title; matches in the text are placed in the text.
func TestTagDocumentTitleWeight(t *testing.T) {
	doc := Document{Title: "🚀 Chip mới cho trí tuệ nhân tạo", Text: "Hôm nay một công ty ra mắt chip. Giá chưa công bố."}
	flat := titleTagger(t, "")
	heavy := titleTagger(t, "2")
	one, err := flat.TagDocument(doc, Options{IncludeUntagged: true})
	if err != nil {
		t.Fatal(err)
	}
	two, err := heavy.TagDocument(doc, Options{IncludeUntagged: true})
	if err != nil {
		t.Fatal(err)
	}
	checkDocEvidence(t, doc, one)
	checkDocEvidence(t, doc, two)
	// Without a weight the title counts as text: the same score as the
	// title and text tagged as one text.
	joined, err := flat.Tag(doc.Title+"\n"+doc.Text, Options{IncludeUntagged: true})
	if err != nil {
		t.Fatal(err)
	}
	score := func(r Result, theme string) (float64, *Tag) {
		for _, g := range [][]Tag{r.Tags, r.Untagged} {
			for i := range g {
				if g[i].Theme == theme {
					return g[i].Score, &g[i]
				}
			}
		}
		return 0, nil
	}
	for _, theme := range []string{"ai", "chips"} {
		a, _ := score(one, theme)
		b, _ := score(joined, theme)
		if a != b {
			t.Errorf("%s: title_weight 1 scores %v, the joined text %v", theme, a, b)
		}
	}
	// chips: one chip in the title (0.6, doubled) and one in the text: the
	// term's contribution, 0.6 × (1 + 0.5 log2 2) = 0.9, is shared 0.45 each;
	// the title's share doubles: sum 1.35.
	s, chips := score(two, "chips")
	if want := 0.7408; s != want {
		t.Errorf("chips with title_weight 2: score %v, want %v (1 - exp(-1.35))", s, want)
	}
	if len(chips.Evidence) != 2 {
		t.Fatalf("chips evidence %+v, want the title's chip and the text's", chips.Evidence)
	}
	title, text := chips.Evidence[0], chips.Evidence[1]
	if !title.InTitle || title.Text != "Chip" || title.Start != 5 || title.RuneStart != 2 || title.UTF16Start != 3 || title.Weight != 0.9 {
		t.Errorf("title evidence %+v, want Chip at byte 5, rune 2, UTF-16 3, weight 0.9, in the title", title)
	}
	if at := strings.Index(doc.Text, "chip"); text.InTitle || text.Text != "chip" || text.Start != at || text.Weight != 0.45 {
		t.Errorf("text evidence %+v, want chip at byte %d of the text, weight 0.45", text, at)
	}
	if s1, _ := score(one, "chips"); s1 >= s {
		t.Errorf("chips: title_weight 2 scores %v, not more than title_weight 1 (%v)", s, s1)
	}
	// ai only in the title.
	if _, ai := score(two, "ai"); ai == nil || len(ai.Evidence) != 1 || !ai.Evidence[0].InTitle || ai.Evidence[0].Weight != 2 {
		t.Errorf("ai with title_weight 2: %+v, want trí tuệ nhân tạo in the title with weight 2", ai)
	}
	// The same matches in the text alone weigh as before.
	plain, _ := heavy.Tag(doc.Text, Options{IncludeUntagged: true})
	if s, _ := score(plain, "chips"); s != 0.4512 {
		t.Errorf("text alone: chips %v, want 0.4512", s)
	}
}

// TestTagDocumentLength: the length factor and Result.Words are the
// text's: a long title neither dilutes the text's evidence nor counts.
func TestTagDocumentLength(t *testing.T) {
	tg := titleTagger(t, "3")
	filler := strings.Repeat("người dân đi chợ mua rau và cá ", 100) // 800 words
	for _, doc := range []Document{
		{Title: filler, Text: "Nhà máy bán dẫn mới."},
		{Title: "Tin kinh tế", Text: filler + "Nhà máy bán dẫn mới."},
		{Title: norm.NFD.String("Tin kinh tế hôm nay"), Text: "bán dẫn"},
		{Title: "Tin", Text: ""},
	} {
		got, err := tg.TagDocument(doc, Options{IncludeUntagged: true})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := tg.Tag(doc.Text, Options{IncludeUntagged: true})
		if got.Words != want.Words {
			t.Errorf("title %.20q: words %d, want the text's %d", doc.Title, got.Words, want.Words)
		}
		if !reflect.DeepEqual(got.Tags, want.Tags) {
			t.Errorf("title %.20q (no match in it): tags %+v, want the text's %+v", doc.Title, got.Tags, want.Tags)
		}
	}
}

// TestTagDocumentBoundary: no phrase matches across the title's end, an
// acronym in an all-capital title takes no context from the text, and the
// title is part of the document for exclusions and weak terms.
func TestTagDocumentBoundary(t *testing.T) {
	tg := titleTagger(t, "2")
	tags := func(doc Document) Result {
		t.Helper()
		res, err := tg.TagDocument(doc, Options{IncludeUntagged: true})
		if err != nil {
			t.Fatal(err)
		}
		checkDocEvidence(t, doc, res)
		return res
	}
	if res := tags(Document{Title: "Bàn về trí tuệ", Text: "nhân tạo của máy"}); len(res.Tags)+len(res.Untagged) != 0 {
		t.Errorf("a phrase matched across the title's end: %+v", res)
	}
	if res := tags(Document{Title: "Bàn về trí tuệ-", Text: "-nhân tạo của máy"}); len(res.Tags)+len(res.Untagged) != 0 {
		t.Errorf("a phrase matched across the title's end: %+v", res)
	}
	// "AI" in an all-capital title stays in capitals whatever the text:
	// it needs support, and the lower-case text beside it gives none.
	res := tags(Document{Title: "KHÔNG AI BIẾT", Text: "công ty mở phòng"})
	if len(res.Tags) != 0 || len(res.Untagged) != 1 || len(res.Untagged[0].Dropped) != 1 || res.Untagged[0].Dropped[0].Reason != DropUnsupported {
		t.Errorf("AI in an all-capital title: %+v", res)
	}
	// And a strong AI in the title supports one in capitals in the text.
	res = tags(Document{Title: "Công ty mở phòng AI", Text: "KHÔNG AI BIẾT"})
	if len(res.Tags) != 1 || len(res.Tags[0].Evidence) != 2 || !res.Tags[0].Evidence[0].InTitle || res.Tags[0].Evidence[1].InTitle {
		t.Errorf("AI in the title beside capitals in the text: %+v", res.Tags)
	}
	// An exclusion in the title cancels in the text (scope: document), and
	// is placed in the title.
	res = tags(Document{Title: "Trí tuệ nhân tạo giả", Text: "Bài về trí tuệ nhân tạo."})
	if len(res.Tags) != 0 || len(res.Untagged) != 1 {
		t.Fatalf("exclusion in the title: %+v", res)
	}
	for _, d := range res.Untagged[0].Dropped {
		if d.Reason != DropExcluded || !d.ExclusionInTitle || d.ExclusionText != "Trí tuệ nhân tạo giả" || d.ExclusionStart != 0 {
			t.Errorf("dropped %+v: want excluded by the title's exclusion at 0", d)
		}
	}
	// A window counts across the boundary: căn cước ending the title
	// cancels the chip that opens the text.
	res = tags(Document{Title: "Thẻ căn cước", Text: "Chip gắn trên thẻ."})
	if len(res.Tags) != 0 || len(res.Untagged) != 1 || len(res.Untagged[0].Dropped) != 1 || res.Untagged[0].Dropped[0].InTitle || !res.Untagged[0].Dropped[0].ExclusionInTitle {
		t.Errorf("căn cước in the title, chip in the text: %+v", res)
	}
	// A strong term in the title supports a weak term in the text.
	res = tags(Document{Title: "Trí tuệ nhân tạo", Text: "Mô hình học sâu."})
	if len(res.Tags) != 1 || len(res.Tags[0].Evidence) != 2 || res.Tags[0].Evidence[1].InTitle || res.Tags[0].Evidence[1].Text != "học sâu" {
		t.Errorf("weak term in the text, strong in the title: %+v", res.Tags)
	}
}

// TestTagDocumentSlowPath: a title or text that is not NFC (and runes
// outside the BMP) still gives offsets into their own field.
func TestTagDocumentSlowPath(t *testing.T) {
	tg := titleTagger(t, "1.5")
	for _, doc := range []Document{
		{Title: norm.NFD.String("🚀 Trí tuệ nhân tạo"), Text: "Chip bán dẫn 🚀 và chip"},
		{Title: "Trí tuệ nhân tạo 🚀", Text: norm.NFD.String("🚀 bán dẫn và trí tuệ nhân tạo")},
		{Title: "AI", Text: "\u0301chip"},
		{Title: norm.NFD.String("Ả căn cước"), Text: norm.NFD.String("Chip ở đây")},
	} {
		res, err := tg.TagDocument(doc, Options{IncludeUntagged: true})
		if err != nil {
			t.Fatal(err)
		}
		checkDocEvidence(t, doc, res)
		if len(res.Tags)+len(res.Untagged) == 0 {
			t.Errorf("%+v: no match", doc)
		}
	}
}

// TestTagDocumentInvalidUTF8: a bad title is an *InvalidUTF8Error naming
// the title with the offset in it; a bad text names the text, offset in it.
func TestTagDocumentInvalidUTF8(t *testing.T) {
	tg := defaultT(t)
	for _, c := range []struct {
		doc    Document
		field  string
		offset int
		msg    string
	}{
		{Document{Title: "ab\xffc", Text: "chip \xfe"}, "title", 2, "title is not valid UTF-8: invalid byte sequence at byte offset 2"},
		{Document{Title: norm.NFD.String("Ả") + "\xff", Text: "x"}, "title", 3, "title is not valid UTF-8"},
		{Document{Title: "Tin", Text: "chip \xfe"}, "", 5, "text is not valid UTF-8: invalid byte sequence at byte offset 5"},
		{Document{Title: "Tin", Text: norm.NFD.String("Ả") + " \xfe"}, "", 4, "text is not valid UTF-8"},
	} {
		_, err := tg.TagDocument(c.doc, Options{})
		var bad *InvalidUTF8Error
		if !errors.As(err, &bad) || bad.Field != c.field || bad.Offset != c.offset || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: err %v (%+v), want field %q offset %d", c.doc, err, bad, c.field, c.offset)
		}
	}
}

// TestTitleWeightRule: scoring.title_weight is checked, and 1 is the same
// ruleset (the same version) as no title_weight.
func TestTitleWeightRule(t *testing.T) {
	version := func(extra string) (string, error) {
		rs, err := ParseRuleset("t.yaml", []byte(strings.Replace(titleRules, "%s", extra, 1)))
		if err != nil {
			return "", err
		}
		return rs.Version, nil
	}
	none, _ := version("")
	if one, err := version(", title_weight: 1"); err != nil || one != none {
		t.Errorf("title_weight 1: version %s (%v), want %s as without it", one, err, none)
	}
	if two, err := version(", title_weight: 2"); err != nil || two == none {
		t.Errorf("title_weight 2: version %s (%v), want another than %s", two, err, none)
	}
	for _, bad := range []string{"0.5", "4.5", "0", "heavy"} {
		_, err := version(", title_weight: " + bad)
		if err == nil || !strings.Contains(err.Error(), "scoring.title_weight") {
			t.Errorf("title_weight %s: %v, want a problem naming scoring.title_weight", bad, err)
		}
	}
	if _, err := ParseRuleset("t.yaml", []byte("themes: [{id: a, label: {en: A}, terms: [\"a\\0b\"]}]")); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("a term with a NUL: %v, want it refused", err)
	}
}
