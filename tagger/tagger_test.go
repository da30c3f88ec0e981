package tagger

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var (
	defaultOnce   sync.Once
	defaultTagger *Tagger
)

func defaultT(t testing.TB) *Tagger {
	t.Helper()
	defaultOnce.Do(func() {
		rs, err := DefaultRuleset()
		if err != nil {
			t.Fatal(err)
		}
		defaultTagger, err = Compile(rs)
		if err != nil {
			t.Fatal(err)
		}
	})
	return defaultTagger
}

func compileYAML(t testing.TB, src string) *Tagger {
	t.Helper()
	rs, err := ParseRuleset("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func themesOf(res Result) []string {
	var out []string
	for _, tg := range res.Tags {
		out = append(out, tg.Theme)
	}
	slices.Sort(out)
	return out
}

func tagThemes(t *testing.T, tg *Tagger, text string) []string {
	t.Helper()
	return themesOf(tagChecked(t, tg, text, Options{}))
}

// wantThemes checks the themes each text is tagged with (nil: none).
func wantThemes(t *testing.T, tg *Tagger, cases map[string][]string) {
	t.Helper()
	for text, want := range cases {
		if got := tagThemes(t, tg, text); !slices.Equal(got, want) {
			t.Errorf("%q: themes %v, want %v", text, got, want)
		}
	}
}

// wantParseError parses a one-theme ruleset whose theme "x" holds the YAML
// lines given (terms:, exclusions:) and checks that its error mentions want,
// or that it parses when want is "".
func wantParseError(t *testing.T, theme, want string) {
	t.Helper()
	_, err := ParseRuleset("t.yaml", []byte("themes:\n  - id: x\n    label: {en: X}\n    "+theme+"\n"))
	if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
		t.Errorf("%s: error %v, want %q", theme, err, want)
	}
}

// tagChecked tags text, failing the test on an error, and checks the
// offset contract on every match of the result.
func tagChecked(t testing.TB, tg *Tagger, text string, opts Options) Result {
	t.Helper()
	res, err := tg.Tag(text, opts)
	if err != nil {
		t.Fatalf("Tag(%q): %v", text, err)
	}
	checkEvidence(t, text, res)
	return res
}

// checkEvidence asserts the offset contract on every match of a result.
func checkEvidence(t testing.TB, text string, res Result) {
	t.Helper()
	check := func(e Evidence) {
		if e.Start < 0 || e.End > len(text) || e.Start >= e.End {
			t.Fatalf("evidence %+v: offsets out of bounds for a text of %d bytes", e, len(text))
		}
		if !utf8.RuneStart(text[e.Start]) || (e.End < len(text) && !utf8.RuneStart(text[e.End])) {
			t.Fatalf("evidence %+v: offsets not on rune boundaries", e)
		}
		if text[e.Start:e.End] != e.Text {
			t.Fatalf("evidence %+v: text[start:end] = %q, want the matched text", e, text[e.Start:e.End])
		}
		if rs, re := utf8.RuneCountInString(text[:e.Start]), utf8.RuneCountInString(text[:e.End]); e.RuneStart != rs || e.RuneEnd != re {
			t.Fatalf("evidence %+v: rune offsets %d-%d, want %d-%d", e, e.RuneStart, e.RuneEnd, rs, re)
		}
		if us, ue := utf16Len(text[:e.Start]), utf16Len(text[:e.End]); e.UTF16Start != us || e.UTF16End != ue {
			t.Fatalf("evidence %+v: UTF-16 offsets %d-%d, want %d-%d", e, e.UTF16Start, e.UTF16End, us, ue)
		}
	}
	for _, group := range [][]Tag{res.Tags, res.Untagged} {
		for _, tg := range group {
			if tg.Score < 0 || tg.Score > 1 {
				t.Fatalf("theme %s: score %v outside [0,1]", tg.Theme, tg.Score)
			}
			for _, e := range tg.Evidence {
				check(e)
			}
			for _, d := range tg.Dropped {
				check(d.Evidence)
				if d.Reason == DropExcluded {
					if text[d.ExclusionStart:d.ExclusionEnd] != d.ExclusionText {
						t.Fatalf("dropped %+v: exclusion offsets do not give its text", d)
					}
					if us, ue := utf16Len(text[:d.ExclusionStart]), utf16Len(text[:d.ExclusionEnd]); d.ExclusionUTF16Start != us || d.ExclusionUTF16End != ue {
						t.Fatalf("dropped %+v: exclusion UTF-16 offsets, want %d-%d", d, us, ue)
					}
					if rs, re := utf8.RuneCountInString(text[:d.ExclusionStart]), utf8.RuneCountInString(text[:d.ExclusionEnd]); d.ExclusionRuneStart != rs || d.ExclusionRuneEnd != re {
						t.Fatalf("dropped %+v: exclusion rune offsets %d-%d, want %d-%d", d, d.ExclusionRuneStart, d.ExclusionRuneEnd, rs, re)
					}
				}
			}
		}
	}
}

// Labelled sentences written for these tests: what the default rules must
// and must not tag.
func TestDefaultRulesLabelledSentences(t *testing.T) {
	tg := defaultT(t)
	cases := []struct {
		name, text string
		want       []string
	}{
		{"vi ai", "Chính phủ đặt mục tiêu đưa Việt Nam thành trung tâm trí tuệ nhân tạo của khu vực.", []string{"ai"}},
		{"acronym AI", "Nhiều ngân hàng đã dùng AI để chấm điểm tín dụng khách hàng.", []string{"ai"}},
		{"ai = who", "Không ai biết vì sao con đường này bị ngập suốt ba ngày.", nil},
		{"Ai at sentence start", "Ai cũng muốn con mình được học ở trường tốt. Ai sẽ trả tiền?", nil},
		{"all-caps ai = who", "KHÔNG AI BIẾT CHUYỆN GÌ ĐÃ XẢY RA Ở ĐÓ", nil},
		{"all-caps AI with context", "ỨNG DỤNG AI TRONG NÔNG NGHIỆP\nCác mô hình trí tuệ nhân tạo giúp dự báo sâu bệnh.", []string{"ai"}},
		{"AI inside other words", "Công ty AIZ và bảo hiểm AIA cho biết; he said the AIS data was late.", nil},
		{"en ai", "The ministry published guidance on artificial intelligence in public services.", []string{"ai"}},
		{"no diacritics", "Viet Nam can dau tu manh vao tri tue nhan tao va chuyen doi xanh.", []string{"ai", "green_transition"}},
		{"chip industry", "Việt Nam muốn tham gia chuỗi sản xuất chip và đào tạo kỹ sư thiết kế vi mạch.", []string{"semiconductors"}},
		{"chip ID card", "Người dân đến làm căn cước công dân gắn chip tại trụ sở công an phường.", nil},
		{"chip bank card", "Ngân hàng khuyến cáo khách hàng đổi thẻ từ sang thẻ chip trước cuối năm.", nil},
		{"potato chips", "Cửa hàng bán chip khoai tây và nước ngọt cho học sinh.", nil},
		{"selling leads to", "Việc mua bán dẫn đến tranh chấp giữa hai gia đình.", nil},
		{"chipset not chip", "Chiếc điện thoại có màn hình lớn và pin bền.", nil},
		{"drones", "Công an tỉnh dùng máy bay không người lái để tìm người mất tích trong rừng.", []string{"drones"}},
		{"drones en plural", "Farmers now spray their rice fields with drones.", []string{"drones"}},
		{"ordinary aircraft", "Chiếc máy bay chở 180 hành khách đã hạ cánh an toàn xuống sân bay Nội Bài.", nil},
		{"green transition", "Doanh nghiệp cần giảm phát thải và mua tín chỉ các-bon để đạt mục tiêu net zero.", []string{"green_transition"}},
		{"green as a colour", "Cô mặc chiếc áo màu xanh lá cây, đứng dưới hàng cây xanh trước cổng trường.", nil},
		{"generic sustainable", "Công ty đặt mục tiêu phát triển bền vững và tăng trưởng doanh thu.", nil},
		{"ehealth", "Bệnh viện triển khai bệnh án điện tử và khám bệnh từ xa cho người dân vùng cao.", []string{"ehealth"}},
		{"plain health news", "Bệnh viện tiếp nhận nhiều ca sốt xuất huyết trong tuần qua.", nil},
		{"old tone placement", "Thành phố cam kết trung hoà các-bon vào năm 2050.", []string{"green_transition"}},
		{"phrase across line break", "Dự án đầu tư vào năng lượng\ntái tạo ở miền Trung.", []string{"green_transition"}},
		{"AI = Amnesty International", "Tổ chức Ân xá Quốc tế (AI) cho biết hàng nghìn người bị giam giữ. AI kêu gọi điều tra.", nil},
		{"E5 petrol prices", "Giá xăng E5 RON92 giảm 300 đồng một lít từ chiều nay, xăng E5 vẫn rẻ hơn.", nil},
		{"en semiconductors", "TSMC and other chipmakers are racing to build new fabs as demand for semiconductors soars.", []string{"semiconductors"}},
		{"en ehealth", "The hospital moved patient files to electronic health records and offers telemedicine visits.", []string{"ehealth"}},
		{"en green", "The country wants net zero by 2050 through renewable energy and fewer greenhouse gas emissions.", []string{"green_transition"}},
		{"en AI acronym", "The bank said its new AI model detects fraud faster than the old rules.", []string{"ai"}},
		{"en green colour", "She painted the door green and planted trees in the garden.", nil},
		{"en aircraft", "The airline ordered ten new aircraft from Boeing.", nil},
		{"en potato chips", "Potato chips and soda were served at the party.", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tagThemes(t, tg, c.text)
			if !slices.Equal(got, c.want) {
				t.Errorf("themes of %q = %v, want %v", c.text, got, c.want)
			}
			// The same text in NFD gives the same themes.
			if nfd := norm.NFD.String(c.text); !slices.Equal(tagThemes(t, tg, nfd), c.want) {
				t.Errorf("NFD form of %q: themes differ", c.text)
			}
		})
	}
}

const tonesRules = `
name: tones
themes:
  - id: t
    label: {vi: Thử}
    terms:
      - thủy sản
      - tùy chỉnh
      - sức khỏe
      - hóa chất
      - hòa giải
      - lòe loẹt
`

func TestTonePlacementAndNormalForms(t *testing.T) {
	tg := compileYAML(t, tonesRules)
	for _, text := range []string{
		"thủy sản", "thuỷ sản", "tùy chỉnh", "tuỳ chỉnh", "sức khỏe", "sức khoẻ",
		"hóa chất", "hoá chất", "hòa giải", "hoà giải", "lòe loẹt", "loè loẹt",
		"THUỶ SẢN", "Hoà Giải",
	} {
		for _, form := range []string{text, norm.NFD.String(text), norm.NFC.String(text)} {
			res := tagChecked(t, tg, form, Options{})
			if len(res.Tags) != 1 || len(res.Tags[0].Evidence) != 1 || res.Tags[0].Evidence[0].Text != form {
				t.Errorf("%q (%d bytes): want one match of the whole text, got %+v", form, len(form), res.Tags)
			}
		}
	}
	// Other tones are other words.
	for _, text := range []string{"thủy săn", "hỏa chất", "hoa chất"} {
		if got := tagThemes(t, tg, text); got != nil {
			t.Errorf("%q matched %v: a different tone is a different word", text, got)
		}
	}
}

// utf16Len is the length of s in UTF-16 code units, the obvious way.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// TestUTF16Offsets: after characters outside the Basic Multilingual Plane
// (emoji, two UTF-16 code units each), the UTF-16 offsets run ahead of the
// rune offsets, in the fast path, the NFD path and for exclusions.
func TestUTF16Offsets(t *testing.T) {
	tg := defaultT(t)
	for _, text := range []string{
		"🚀🇻🇳 Ứng dụng trí tuệ nhân tạo 🤖 trong y tế số 𝔸.",
		norm.NFD.String("🚀🇻🇳 Ứng dụng trí tuệ nhân tạo 🤖 trong y tế số 𝔸."),
		// The first emoji after the first rune that is not NFC: the
		// scanner stopped before it.
		norm.NFD.String("Ứng dụng 🤖 trí tuệ nhân tạo trong y tế số."),
		"Căn cước 🪪 gắn chip 😀 đã cấp; ngành chip bán dẫn 💡 tăng tốc.",
	} {
		res := tagChecked(t, tg, text, Options{IncludeUntagged: true})
		ahead := 0
		for _, g := range [][]Tag{res.Tags, res.Untagged} {
			for _, tag := range g {
				for _, e := range tag.Evidence {
					if e.UTF16Start > e.RuneStart {
						ahead++
					}
				}
			}
		}
		if ahead == 0 {
			t.Errorf("%q: no evidence after an emoji: %+v", text, res)
		}
	}
	// An emoji only after the evidence: the offsets are the rune offsets.
	tagChecked(t, tg, "Ứng dụng trí tuệ nhân tạo trong y tế số 🤖.", Options{IncludeUntagged: true})
}

func TestNFDOffsetsPointIntoOriginal(t *testing.T) {
	tg := defaultT(t)
	text := norm.NFD.String("Ứng dụng trí tuệ nhân tạo trong y tế số.")
	res := tagChecked(t, tg, text, Options{})
	if len(res.Tags) != 2 {
		t.Fatalf("want ai and ehealth, got %+v", res.Tags)
	}
	for _, tg := range res.Tags {
		for _, e := range tg.Evidence {
			if !strings.HasPrefix(norm.NFC.String(e.Text), "trí") && !strings.HasPrefix(norm.NFC.String(e.Text), "y tế") {
				t.Errorf("unexpected evidence %q", e.Text)
			}
		}
	}
}

const foldRules = `
name: fold
themes:
  - id: semi
    label: {en: Semi}
    terms:
      - {text: bán dẫn}
      - {text: vi mạch, folded: true}
      - {text: mạch tích hợp, folded: true}
`

func TestFoldedMatchingIsOptInAndExact(t *testing.T) {
	tg := compileYAML(t, foldRules)
	cases := map[string]bool{
		"nganh vi mach":    true,  // typed without diacritics: folded term matches
		"ngành vi mạch":    true,  // with them
		"ngành vi mach":    true,  // partly
		"mach tích hợp":    true,  // partly, the first word bare
		"ngành vì mạch":    false, // accented differently: another word
		"ban dan":          false, // strict term: no folding
		"bán dẫn":          true,
		"VI MACH DIEN TU":  true,
		"nganh vi-mach so": false, // no hyphen allowed by this term
	}
	for text, want := range cases {
		res := tagChecked(t, tg, text, Options{})
		if got := len(res.Tags) == 1; got != want {
			t.Errorf("%q: tagged=%v, want %v (%+v)", text, got, want, res.Tags)
		}
		if want && strings.Contains(text, "mach") && !res.Tags[0].Evidence[0].Folded {
			t.Errorf("%q: evidence should say the match was made without diacritics", text)
		}
	}
}

func TestCaseSensitiveAcronym(t *testing.T) {
	tg := compileYAML(t, `
name: acr
themes:
  - id: ai
    label: {en: AI}
    terms:
      - {text: AI, case_sensitive: true}
      - {text: học máy, weight: 0.5}
`)
	cases := map[string]int{ // text -> counted AI matches
		"Công nghệ AI mới":             1,
		"ai đó đã đến":                 0,
		"Ai đó đã đến":                 0,
		"aI lạ":                        0,
		"KHÔNG AI BIẾT":                0, // all capitals: needs support
		"KHÔNG AI BIẾT\nhọc máy":       1, // supported by a strong term
		"AI.":                          1,
		"AIZ AIA SAID":                 0,
		"(AI)":                         1,
		"Tin tức: AI và học máy":       1,
		"BÁO CÁO VỀ AI\nphần mềm mới.": 0,
		"X1 AI Z":                      1, // capitals around it, but no word of two letters
	}
	for text, want := range cases {
		res := tagChecked(t, tg, text, Options{IncludeUntagged: true})
		got := 0
		for _, group := range [][]Tag{res.Tags, res.Untagged} {
			for _, tag := range group {
				for _, e := range tag.Evidence {
					if e.Term == "ai" {
						got++
					}
				}
			}
		}
		if got != want {
			t.Errorf("%q: %d counted AI matches, want %d (%+v %+v)", text, got, want, res.Tags, res.Untagged)
		}
	}
}

func TestWholeWordsHyphensAndInflections(t *testing.T) {
	tg := compileYAML(t, `
name: words
themes:
  - id: x
    label: {en: X}
    terms:
      - {text: chip, inflect: true}
      - {text: battery, inflect: true}
      - {text: các bon, hyphens: true}
      - {text: e-health}
      - {text: công nghiệp 4.0}
`)
	cases := map[string]string{ // text -> matched text, "" for none
		"chip":                      "chip",
		"chips":                     "chips",
		"chipset":                   "",
		"microchip":                 "",
		"batteries":                 "batteries",
		"các-bon":                   "các-bon",
		"các   bon":                 "các   bon",
		"các, bon":                  "",
		"e-health":                  "e-health",
		"e health":                  "e health",
		"ehealth":                   "",
		"cách mạng công nghiệp 4.0": "công nghiệp 4.0",
		"công nghiệp 4":             "",
		"công nghiệp 4,0":           "",
	}
	for text, want := range cases {
		res := tagChecked(t, tg, text, Options{})
		got := ""
		if len(res.Tags) == 1 {
			got = res.Tags[0].Evidence[0].Text
		}
		if got != want {
			t.Errorf("%q: matched %q, want %q", text, got, want)
		}
	}
}

const contextRules = `
name: ctx
themes:
  - id: semi
    label: {en: Semiconductors}
    terms:
      - {text: chip, weight: 0.8}
      - {text: bán dẫn}
      - {text: silicon, weak: true, window: 3}
      - {text: robot, weak: true}
    exclusions:
      - {text: căn cước, cancels: [chip], window: 4}
      - {text: thẻ ngân hàng, scope: document, cancels: [chip]}
`

func TestExclusionsAndWeakTerms(t *testing.T) {
	tg := compileYAML(t, contextRules)
	tag := func(text string) Result {
		res := tagChecked(t, tg, text, Options{IncludeUntagged: true})
		return res
	}
	// An exclusion before the match, within its window, cancels it.
	res := tag("căn cước công dân gắn chip")
	if len(res.Tags) != 0 || len(res.Untagged) != 1 || len(res.Untagged[0].Dropped) != 1 {
		t.Fatalf("chip near căn cước: want one dropped match, got %+v", res)
	}
	d := res.Untagged[0].Dropped[0]
	if d.Reason != DropExcluded || d.Exclusion != "can-cuoc" || d.ExclusionText != "căn cước" || d.Text != "chip" {
		t.Errorf("dropped = %+v", d)
	}
	// In NFD the offsets, exclusion's included, still point into the input.
	nfd := norm.NFD.String("Thẻ căn cước công dân gắn chip")
	if res := tag(nfd); len(res.Untagged) != 1 || res.Untagged[0].Dropped[0].ExclusionRuneStart != 5 { // "Thẻ " is 5 code points in NFD
		t.Errorf("NFD exclusion: %+v", res.Untagged)
	}
	// Outside the window it counts.
	if res := tag("căn cước công dân được cấp. Nhà máy mới sẽ làm chip"); len(res.Tags) != 1 {
		t.Errorf("chip far from căn cước should count: %+v", res)
	}
	// A document-scope exclusion cancels everywhere.
	if res := tag("Nhà máy mới sẽ làm chip. Xa hơn nữa nhiều từ nữa ở đây có thẻ ngân hàng"); len(res.Tags) != 0 {
		t.Errorf("document-scope exclusion should cancel: %+v", res)
	}
	// Exclusions cancel only the terms they name.
	if res := tag("căn cước bán dẫn"); len(res.Tags) != 1 {
		t.Errorf("bán dẫn is not cancelled by căn cước: %+v", res)
	}
	// Weak terms: alone, nothing; with a strong term anywhere, they count;
	// with a window, only near.
	if res := tag("robot silicon"); len(res.Tags) != 0 || len(res.Untagged[0].Dropped) != 2 || res.Untagged[0].Dropped[0].Reason != DropUnsupported {
		t.Errorf("weak terms alone must not count: %+v", res)
	}
	res = tag("robot một hai ba bốn năm sáu bảy tám chín mười bán dẫn silicon")
	if len(res.Tags) != 1 || len(res.Tags[0].Evidence) != 3 {
		t.Errorf("weak terms with support: %+v", res)
	}
	res = tag("silicon một hai ba bốn năm sáu bảy bán dẫn")
	if len(res.Tags[0].Evidence) != 1 || len(res.Tags[0].Dropped) != 1 {
		t.Errorf("silicon beyond its 3-word window must not count: %+v", res)
	}
}

func TestScoringSaturatesAndKnowsLength(t *testing.T) {
	tg := compileYAML(t, `
name: score
themes:
  - id: x
    label: {en: X}
    threshold: 0.5
    terms: [alpha, beta, gamma, delta, epsilon]
`)
	score := func(text string) float64 {
		res, err := tg.Tag(text, Options{IncludeUntagged: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range [][]Tag{res.Tags, res.Untagged} {
			for _, tag := range g {
				return tag.Score
			}
		}
		return 0
	}
	ten := score(strings.Repeat("alpha ", 10))
	five := score("alpha beta gamma delta epsilon")
	if ten >= five {
		t.Errorf("ten mentions of one term (%v) must score below five distinct terms (%v)", ten, five)
	}
	if one, two := score("alpha"), score("alpha alpha"); !(two > one) {
		t.Errorf("a repeated mention should add something: %v, %v", one, two)
	}
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 300) // 1,500 words
	short, long := score("alpha is here"), score(filler+"alpha"+filler)
	if !(short >= 0.5 && long < 0.5) {
		t.Errorf("one mention tags a short text (%v) but is a passing mention in a long one (%v)", short, long)
	}
}

func TestPassingMentionInLongArticle(t *testing.T) {
	tg := defaultT(t)
	para := "Hội nghị bàn về phát triển nông nghiệp, giá lúa gạo, thủy lợi và đời sống của người dân các tỉnh miền Tây trong năm tới. "
	text := strings.Repeat(para, 30) + "Các đại biểu cũng nhắc tới trí tuệ nhân tạo, bán dẫn, năng lượng tái tạo trong danh sách công nghệ chiến lược. " + strings.Repeat(para, 30)
	res, err := tg.Tag(text, Options{IncludeUntagged: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tags) != 0 {
		t.Errorf("a list of technologies in a long article is a passing mention, got %+v", themesOf(res))
	}
	var untagged []string
	for _, u := range res.Untagged {
		untagged = append(untagged, u.Theme)
	}
	for _, want := range []string{"ai", "semiconductors", "green_transition"} {
		if !slices.Contains(untagged, want) {
			t.Errorf("the passing mention of %s should show as an untagged candidate, got %v", want, untagged)
		}
	}
}

func TestTagsSortedAndOptions(t *testing.T) {
	tg := defaultT(t)
	text := "Trí tuệ nhân tạo, học máy và ChatGPT thay đổi nghề báo. Một nhà máy điện mặt trời mới khánh thành."
	res, err := tg.Tag(text, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tags) != 2 || res.Tags[0].Score < res.Tags[1].Score || res.Tags[0].Theme != "ai" {
		t.Fatalf("want ai then green_transition, by score: %+v", res.Tags)
	}
	if res.RulesetVersion != tg.Version() || !strings.HasPrefix(res.RulesetVersion, "sha256:") {
		t.Errorf("version %q", res.RulesetVersion)
	}
	res, _ = tg.Tag(text, Options{Themes: []string{"green_transition"}})
	if got := themesOf(res); !slices.Equal(got, []string{"green_transition"}) {
		t.Errorf("restricted to green_transition: %v", got)
	}
	res, _ = tg.Tag(text, Options{MinScore: 0.99})
	if len(res.Tags) != 0 {
		t.Errorf("min score 0.99: %v", themesOf(res))
	}
	res, _ = tg.Tag(text, Options{OmitEvidence: true})
	if len(res.Tags) != 2 || res.Tags[0].Evidence != nil {
		t.Errorf("omit evidence: %+v", res.Tags)
	}
	var unknown *UnknownThemeError
	if _, err := tg.Tag(text, Options{Themes: []string{"crypto"}}); !errors.As(err, &unknown) || unknown.Theme != "crypto" {
		t.Errorf("unknown theme: err = %v", err)
	}
}

func TestInvalidUTF8(t *testing.T) {
	tg := defaultT(t)
	for _, c := range []struct {
		text string
		at   int
	}{
		{"trí tuệ \xff nhân tạo", 11},
		{"\xc3", 0},
		{"abc\xe1\xba", 3},
		{norm.NFD.String("trí tuệ") + "\x80", len(norm.NFD.String("trí tuệ"))}, // found on the slow path
	} {
		_, err := tg.Tag(c.text, Options{})
		var bad *InvalidUTF8Error
		if !errors.As(err, &bad) || bad.Offset != c.at {
			t.Errorf("%q: err = %v, want invalid UTF-8 at %d", c.text, err, c.at)
		}
	}
	if res, err := tg.Tag("", Options{}); err != nil || len(res.Tags) != 0 {
		t.Errorf("empty text: %v %v", res, err)
	}
}

func TestConcurrentUse(t *testing.T) {
	tg := defaultT(t)
	texts := []string{
		"Trí tuệ nhân tạo và sản xuất chip bán dẫn.",
		norm.NFD.String("Máy bay không người lái phun thuốc cho lúa."),
		"Năng lượng tái tạo, điện gió và điện mặt trời.",
	}
	want := make([][]string, len(texts))
	for i, s := range texts {
		res, _ := tg.Tag(s, Options{})
		want[i] = themesOf(res)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := (g + i) % len(texts)
				res, err := tg.Tag(texts[k], Options{})
				if err != nil || !slices.Equal(themesOf(res), want[k]) {
					t.Errorf("concurrent Tag: %v %v", res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A match that only overlaps another of its theme (neither inside the
// other) is a mention of its own: an earlier, weaker phrase must not hide a
// strong term that stands in full in the text.
func TestOverlappingMatchesBothCount(t *testing.T) {
	tg := defaultT(t)
	for _, text := range []string{
		"Người dân có thể cài ứng dụng sức khỏe điện tử để xem kết quả xét nghiệm.", // ứng dụng sức khỏe / sức khỏe điện tử
		"Thành phố phát triển ứng dụng sức khoẻ số cho người cao tuổi.",             // ứng dụng sức khỏe / sức khỏe số
	} {
		for _, form := range []string{text, norm.NFD.String(text)} {
			if got := tagThemes(t, tg, form); !slices.Equal(got, []string{"ehealth"}) {
				t.Errorf("%q: themes %v, want [ehealth]", form, got)
			}
		}
	}
	tg = compileYAML(t, `
name: overlap
themes:
  - id: x
    label: {en: X}
    terms:
      - {text: xe máy điện, weak: true}
      - {text: điện năng lượng mặt trời}
      - {text: năng lượng}
`)
	res, err := tg.Tag("Hãng ra mắt xe máy điện năng lượng mặt trời.", Options{IncludeUntagged: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range [][]Tag{res.Tags, res.Untagged} {
		for _, tag := range g {
			for _, e := range tag.Evidence {
				got = append(got, e.Text)
			}
		}
	}
	// "năng lượng" stands inside the longer match: the same mention.
	if want := []string{"xe máy điện", "điện năng lượng mặt trời"}; !slices.Equal(got, want) {
		t.Errorf("evidence %q, want %q", got, want)
	}
}

// Exclusions follow the ruleset's defaults for folded and hyphens as terms
// do: a term that matches text typed without diacritics is cancelled there
// by its exclusion too.
func TestExclusionsFollowDefaults(t *testing.T) {
	tg := defaultT(t)
	for _, text := range []string{
		"Lam the can cuoc gan chip o dau? The can cuoc gan chip co gi moi? Chip tren the luu thong tin ca nhan.",
		"Nguoi dan doi the tu sang the chip, ngan hang khuyen cao doi the chip truoc cuoi nam.",
	} {
		if got := tagThemes(t, tg, text); got != nil {
			t.Errorf("%q: themes %v, want none (a chip in a card, typed without diacritics)", text, got)
		}
	}
	tg = compileYAML(t, `
name: excl-defaults
defaults: {folded: true, hyphens: true}
themes:
  - id: semi
    label: {en: Semi}
    terms: [chip]
    exclusions:
      - {text: căn cước, cancels: [chip], window: 2}
      - {text: gắn chip, folded: false, hyphens: false}
`)
	for text, want := range map[string]bool{
		"can cuoc chip":  false, // folded by default
		"căn-cước chip":  false, // hyphens by default
		"nhà máy chip":   true,
		"may gan chip":   true, // this exclusion turned folding off
		"máy gắn-chip":   true, // and hyphens
		"máy gắn chip":   false,
		"CAN CUOC CHIP!": false,
	} {
		if got := tagThemes(t, tg, text) != nil; got != want {
			t.Errorf("%q: tagged %v, want %v", text, got, want)
		}
	}
}

// TestCaseSensitiveExclusion: an exclusion with case_sensitive cancels only
// the case it names (a company's name, not the common noun); it does not
// take case_sensitive from the defaults, and a ruleset without it keeps its
// version.
func TestCaseSensitiveExclusion(t *testing.T) {
	const rules = `
name: excl-case
defaults: {case_sensitive: %s}
themes:
  - id: green
    label: {en: Green}
    terms:
      - {text: electric boat, inflect: true, case_sensitive: false}
    exclusions:
      - {text: Electric Boat, case_sensitive: true, window: 3}
      - {text: toy boat, window: 5%s}
`
	tg := compileYAML(t, fmt.Sprintf(rules, "false", ""))
	for text, want := range map[string]bool{
		"The city ordered two electric boats for the river.":      true,
		"Electric Boat delivered the submarine late.":             false, // the company
		"An Electric Boat engineer said the electric boat works.": false, // within 3 words of the name
		"ELECTRIC BOAT: the ferry line goes electric.":            true,  // not the case it names
		"the toy boat and an electric boat on the pond":           false,
		"THE TOY BOAT AND AN ELECTRIC BOAT":                       false, // case-insensitive by default
	} {
		if got := tagThemes(t, tg, text) != nil; got != want {
			t.Errorf("%q: tagged %v, want %v", text, got, want)
		}
	}
	// With case_sensitive in the defaults, terms follow it and exclusions do not.
	tg = compileYAML(t, fmt.Sprintf(rules, "true", ""))
	if got := tagThemes(t, tg, "THE TOY BOAT AND AN ELECTRIC BOAT"); got != nil {
		t.Errorf("an exclusion took case_sensitive from the defaults: tagged %v", got)
	}
	// The key is omitted from the version when false: a ruleset that says
	// case_sensitive: false keeps the version of one that does not say it.
	a, err := ParseRuleset("excl-case.yaml", []byte(fmt.Sprintf(rules, "false", "")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseRuleset("excl-case.yaml", []byte(fmt.Sprintf(rules, "false", ", case_sensitive: false")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseRuleset("excl-case.yaml", []byte(fmt.Sprintf(rules, "false", ", case_sensitive: true")))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != b.Version || a.Version == c.Version {
		t.Errorf("versions: without the key %s, false %s, true %s; want the first two equal and the third different", a.Version, b.Version, c.Version)
	}
	// An all-capital case-sensitive exclusion cancels in all-capital text
	// too, and is compiled without the acronym's capitals check, which
	// only a term's support reads.
	tg = compileYAML(t, `
name: excl-caps
themes:
  - id: green
    label: {en: Green}
    terms: [emissions]
    exclusions:
      - {text: EMCON, case_sensitive: true, window: 5}
`)
	for text, want := range map[string]bool{
		"NAVIES TRAIN UNDER EMCON, EMISSIONS KEPT LOW": false,
		"navies train under emcon, emissions kept low": true, // not the case it names
		"Steel mills cut emissions":                    true,
	} {
		if got := tagThemes(t, tg, text) != nil; got != want {
			t.Errorf("%q: tagged %v, want %v", text, got, want)
		}
	}
	for _, p := range tg.patterns {
		if p.excl >= 0 && p.acronym {
			t.Errorf("exclusion pattern %q is compiled as an acronym", p.text)
		}
	}
	if _, err := ParseRuleset("excl-case.yaml", []byte(fmt.Sprintf(rules, "false", ", case_sensitive: yes please"))); err == nil || !strings.Contains(err.Error(), "case_sensitive") {
		t.Errorf("a non-boolean case_sensitive on an exclusion: err %v, want one naming the key", err)
	}
}

// TestExclusionInsideLongerTerm: an exclusion's match inside a longer match
// of a term of its theme does not count, as a term's match inside a longer
// one does not: "máy gắn chip" (a die bonder) names the sense, and the ID
// card's "gắn chip" inside it cancels nothing. A term match of the same
// span, or one in another theme, does not hide it.
func TestExclusionInsideLongerTerm(t *testing.T) {
	tg := compileYAML(t, `
name: excl-inside
themes:
  - id: chips
    label: {en: Chips}
    terms:
      - {text: vi mạch}
      - {text: máy gắn chip, weight: 0.1}
      - {text: thẻ gắn chip, weight: 0.1}
    exclusions:
      - {text: gắn chip, cancels: [vi-mach], scope: document}
      - {text: thẻ gắn chip, cancels: [vi-mach], scope: document}
  - id: cards
    label: {en: Cards}
    terms: [căn cước gắn chip]
`)
	for text, want := range map[string]bool{
		"Kỹ thuật viên chỉnh máy gắn chip rồi kiểm thử vi mạch.": true,  // inside the longer term
		"Người dân nhận thẻ gắn chip; vi mạch lưu vân tay.":      false, // the same span as a term: still cancels
		"Căn cước gắn chip có vi mạch lưu vân tay.":              false, // longer, but of another theme
		"Máy gắn chip ở xưởng; thẻ gắn chip cũng có vi mạch.":    false, // one match outside cancels in the document
	} {
		got := slices.Contains(tagThemes(t, tg, text), "chips")
		if got != want {
			t.Errorf("%q: chips tagged %v, want %v", text, got, want)
		}
	}
}

// TestExclusionWindow: an exclusion without a window cancels only the
// matches it overlaps, not one beside it ("… hạ tầng AI. Các trung tâm dữ
// liệu AI" kept the first AI only after this was fixed); a window of w
// reaches matches with at most w words between.
func TestExclusionWindow(t *testing.T) {
	const rules = `
name: excl-window
themes:
  - id: chips
    label: {en: Chips}
    terms: [chip]
    exclusions:
      - {text: chip card}
      - {text: card reader%s}
`
	tg := compileYAML(t, fmt.Sprintf(rules, ""))
	for text, want := range map[string]bool{
		"a new chip":                       true,
		"a chip card":                      false, // overlaps
		"the chip. Card reader sales fell": true,  // beside, not in it
		"the chip, then the card reader":   true,
	} {
		if got := tagThemes(t, tg, text) != nil; got != want {
			t.Errorf("window 0, %q: tagged %v, want %v", text, got, want)
		}
	}
	tg = compileYAML(t, fmt.Sprintf(rules, ", window: 2"))
	for text, want := range map[string]bool{
		"the chip. Card reader sales fell":   false, // no word between
		"the chip, then the card reader":     false, // two words between
		"the chip, and then the card reader": true,  // three
	} {
		if got := tagThemes(t, tg, text) != nil; got != want {
			t.Errorf("window 2, %q: tagged %v, want %v", text, got, want)
		}
	}
}

// A phrase matches across one line break (hard-wrapped text) but not
// across a paragraph break: a blank line, CR LF pairs counting as one break,
// or U+2029. Both ways of matching are held to it: the trie's plain phrases
// and the phrases it verifies word by word (folded, case-sensitive).
func TestPhrasesStopAtParagraphs(t *testing.T) {
	tg := compileYAML(t, `
name: paragraphs
themes:
  - id: cars
    label: {en: Cars}
    terms: [electric car fleet]
  - id: health
    label: {en: Health}
    terms:
      - {text: sức khỏe số, folded: true}
      - {text: Smart Hospital, case_sensitive: true}
`)
	for text, want := range map[string][]string{
		"an electric car fleet":                {"cars"},
		"an electric\ncar fleet":               {"cars"},
		"an electric\r\ncar\nfleet":            {"cars"},
		"an electric \n car fleet":             {"cars"},
		"an electric\n\ncar fleet":             nil,
		"an electric car\n\nfleet":             nil, // the break between the last two words
		"an electric\r\n\r\ncar fleet":         nil,
		"an electric \n \t\n car fleet":        nil,
		"an electric\u2029car fleet":           nil,
		"an electric\r\rcar fleet":             nil,
		"Khám sức khỏe\nsố hóa":                {"health"},
		"Kham suc khoe\nso hoa":                {"health"},
		"Kham suc khoe\n\nSo Noi vu thong bao": nil,
		"a Smart\nHospital":                    {"health"},
		"a Smart\n\nHospital":                  nil,
	} {
		if got := tagThemes(t, tg, text); !slices.Equal(got, want) {
			t.Errorf("%q: tagged %v, want %v", text, got, want)
		}
	}
}

// A quotation mark breaks a phrase, as other punctuation does, even with a
// space beside it: Vietnamese news puts a word's other sense in quotes
// (`"đặt lịch khám" trực tuyến` at a restaurant is no online booking). A
// phrase that writes the quote matches it as written. Reading quotes as
// spaces was measured twice (rounds 95 and 113) and dropped: it found no
// new theme on the 35,440 articles and tagged three theme-less tuning texts.
func TestQuotesBreakPhrases(t *testing.T) {
	tg := compileYAML(t, `
name: quotes
themes:
  - id: health
    label: {en: Health}
    terms: [đặt lịch khám trực tuyến]
  - id: drones
    label: {en: Drones}
    terms:
      - {text: máy bay phun thuốc, variants: ['máy bay" phun thuốc', 'máy bay” phun thuốc']}
`)
	for text, want := range map[string][]string{
		"đặt lịch khám trực tuyến":             {"health"},
		`quán nhận "đặt lịch khám" trực tuyến`: nil,
		"quán nhận “đặt lịch khám” trực tuyến": nil,
		"quán nhận 'đặt lịch khám' trực tuyến": nil,
		"máy bay phun thuốc":                   {"drones"},
		`vay mua "máy bay" phun thuốc`:         {"drones"},
		"vay mua “máy bay” phun thuốc":         {"drones"},
		"vay mua ‘máy bay’ phun thuốc":         nil, // a quote mark the phrases do not write
	} {
		if got := tagThemes(t, tg, text); !slices.Equal(got, want) {
			t.Errorf("%q: tagged %v, want %v", text, got, want)
		}
	}
}

// Exclusions cost time in proportion to the matches they can cancel, not
// the product of exclusion and term matches: a document-scope exclusion
// repeated through a long text with many term matches stays linear.
func TestManyExclusionsStayLinear(t *testing.T) {
	tg := defaultT(t)
	once := func(text string) (cpu, wall time.Duration) {
		startCPU, startWall := cpuTime(), wallTime()
		if _, err := tg.Tag(text, Options{}); err != nil {
			t.Fatal(err)
		}
		return cpuTime() - startCPU, wallTime() - startWall
	}
	// Not a speed target: a complexity check with a wide margin either way
	// for a noisy machine. 32 times the text: linear takes about 32 times
	// as long, quadratic about 1,024; the bound is their geometric mean.
	// The time is the process's CPU time, not the wall clock: on a machine
	// whose cores other processes hold, the long run is preempted and the
	// short one mostly is not, which took the wall-clock ratio past 180 with
	// three busy loops beside it (the CPU-time ratio stayed at 31 to 43, as
	// when idle). The two sizes take turns, best of five each, so that what
	// load remains (caches) slows both alike.
	smallText := strings.Repeat("AI và Ân xá Quốc tế, chip căn cước. ", 1000)
	largeText := strings.Repeat("AI và Ân xá Quốc tế, chip căn cước. ", 32000)
	small, large := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	smallWall, largeWall := small, large
	for range 5 {
		cpu, wall := once(smallText)
		small, smallWall = min(small, cpu), min(smallWall, wall)
		cpu, wall = once(largeText)
		large, largeWall = min(large, cpu), min(largeWall, wall)
	}
	ratio := float64(large) / float64(small)
	t.Logf("32 times the text: %.0f times the CPU time (%v, %v); wall clock %.0f times (%v, %v)",
		ratio, small, large, float64(largeWall)/float64(smallWall), smallWall, largeWall)
	if ratio > 180 {
		t.Errorf("32 times the text took %.0f times as long (%v, %v): exclusions are not linear", ratio, small, large)
	}
}

var processStart = time.Now()

// wallTime is the wall clock as a duration since the test process started
// (cpuTime's fallback, and the log's second ratio).
func wallTime() time.Duration { return time.Since(processStart) }

// TestInvisibleCharactersAndEth: web text carries soft hyphens and
// zero-width joiners inside words, and legacy converters write Đ as Ð
// (eth). Neither may hide a term; evidence still points into the original
// text, and a trailing soft hyphen is not part of the word.
func TestInvisibleCharactersAndEth(t *testing.T) {
	tg := defaultT(t)
	for _, c := range []struct{ text, theme, evidence string }{
		{"The semi\u00adconductor shortage hit carmakers hard this spring.", "semiconductors", "semi\u00adconductor"},
		{"Nhà máy bán\u200d dẫn mới khởi công tại Bắc Ninh.", "semiconductors", "bán\u200d dẫn"},
		{"ÐIỆN GIÓ ngoài khơi: tỉnh cấp phép dự án mới.", "green_transition", "ÐIỆN GIÓ"},
		{"Dự án điện gió\u00ad lớn nhất miền Trung vận hành.", "green_transition", "điện gió"},
	} {
		res := tagChecked(t, tg, c.text, Options{})
		if got := themesOf(res); !slices.Contains(got, c.theme) {
			t.Errorf("%q: themes %v, want %s", c.text, got, c.theme)
			continue
		}
		for _, tag := range res.Tags {
			if tag.Theme == c.theme && tag.Evidence[0].Text != c.evidence {
				t.Errorf("%q: evidence %q, want %q", c.text, tag.Evidence[0].Text, c.evidence)
			}
		}
	}
}

// TestContextTerms: a context term counts nothing and tags nothing, but
// weak terms near it count as near a strong term; it shows as evidence of
// weight 0.
func TestContextTerms(t *testing.T) {
	tg := compileYAML(t, `
name: ctx
themes:
  - id: ehealth
    label: {en: E-health}
    terms:
      - {text: bệnh án điện tử}
      - {text: bệnh viện, variants: [người bệnh], context: true}
      - {text: ứng dụng di động, weight: 0.5, weak: true, window: 8}
      - {text: trực tuyến, weight: 0.5, weak: true, window: 8}
`)
	tag := func(text string) Result {
		t.Helper()
		return tagChecked(t, tg, text, Options{IncludeUntagged: true})
	}
	if res := tag("Bệnh viện tỉnh khai trương khu nhà mới cho người bệnh."); len(res.Tags) != 0 {
		t.Errorf("context terms alone must not tag: %+v", res)
	}
	if res := tag("Cửa hàng bán hàng trực tuyến qua ứng dụng di động."); len(res.Tags) != 0 {
		t.Errorf("weak terms without context must not tag: %+v", res)
	}
	res := tag("Bệnh viện ra mắt ứng dụng di động, người bệnh đặt lịch trực tuyến.")
	if len(res.Tags) != 1 {
		t.Fatalf("weak terms beside a context term should tag: %+v", res)
	}
	var weights []float64
	for _, e := range res.Tags[0].Evidence {
		weights = append(weights, e.Weight)
	}
	if !slices.Equal(weights, []float64{0, 0.5, 0, 0.5}) {
		t.Errorf("evidence weights = %v, want the context terms at 0 and the weak terms at 0.5", weights)
	}
	// A theme with nothing but context matches is not reported.
	if res := tag("Bệnh viện tỉnh khai trương khu nhà mới cho người bệnh."); len(res.Untagged) != 0 {
		t.Errorf("context matches alone are nothing to report: %+v", res.Untagged)
	}
	// Beyond the weak term's window the context does not help.
	if res := tag("Bệnh viện tỉnh năm nay mở thêm ba khoa và tuyển hai mươi bác sĩ trẻ; ứng dụng di động."); len(res.Tags) != 0 {
		t.Errorf("a weak term beyond its window must not count: %+v", res)
	}
}

// TestOneSensePerDocument: with scoring.one_sense_per_document, a term
// whose exclusions cancel more of its matches than they leave loses the
// rest too; off, or without such a majority, nothing changes.
func TestOneSensePerDocument(t *testing.T) {
	const rules = `
name: sense
scoring: {one_sense_per_document: %v}
themes:
  - id: drones
    label: {en: Drones}
    terms: [drone, {text: UAV}]
    exclusions:
      - {text: nhạc, cancels: [drone], window: 3}
`
	filler := strings.Repeat("Khán giả ngồi nghe rất lâu. ", 12)
	headline := "Drone vang lên giữa phố cổ\n\n" + filler + "Đêm nhạc drone ở Hà Nội. " + filler + "Ban nhạc chơi drone suốt đêm."
	kept := "Drone giao hàng về tận bản\n\n" + filler + "Đêm nhạc drone. " + filler + "Một chiếc drone chở thuốc, rồi drone khác bay về kho."
	tied := "Drone vang lên giữa phố cổ\n\n" + filler + "Đêm nhạc drone ở Hà Nội. " + filler + "Một chiếc drone chở thuốc."
	other := headline + " Cảnh sát dùng UAV để trông bãi xe."
	for _, c := range []struct {
		on   bool
		text string
		want []string
	}{
		{false, headline, []string{"drones"}},
		{true, headline, nil},             // 2 cancelled, 1 kept: the headline's drone is the music too
		{true, kept, []string{"drones"}},  // 1 cancelled, 3 kept
		{true, tied, []string{"drones"}},  // 1 cancelled, 2 kept: no majority
		{true, other, []string{"drones"}}, // another term of the theme still counts
	} {
		tg := compileYAML(t, fmt.Sprintf(rules, c.on))
		res := tagChecked(t, tg, c.text, Options{IncludeUntagged: true})
		if got := themesOf(res); !slices.Equal(got, c.want) {
			t.Errorf("one sense %v, %q: themes %v, want %v", c.on, c.text, got, c.want)
		}
		if c.on && c.want == nil {
			// The headline's match is dropped, by the exclusion that cancelled the others.
			d := res.Untagged[0].Dropped
			if len(d) != 3 || d[0].Start != 0 || d[0].Reason != DropExcluded || d[0].Exclusion == "" {
				t.Errorf("dropped %+v, want the headline's drone excluded too", d)
			}
		}
	}
	if _, err := ParseRuleset("x.yaml", []byte(fmt.Sprintf(rules, "maybe"))); err == nil || !strings.Contains(err.Error(), "one_sense_per_document") {
		t.Errorf("a non-boolean one_sense_per_document: error %v", err)
	}
}

// unfolded may name a term's needs phrases, which are otherwise read without
// diacritics in text typed without them: "phóng" (launched) is "phong" then,
// also "phòng" (room), and a migrant worker named Shahed who rents a room is
// no drone. The setting's other words still match unmarked.
func TestNeedsUnfolded(t *testing.T) {
	tg := compileYAML(t, `
themes:
  - id: drones
    label: {en: Drones}
    terms:
      - {text: Shahed, case_sensitive: true, weight: 0.8, needs: [phóng, tên lửa], unfolded: [phóng], needs_window: 30}
`)
	wantThemes(t, tg, map[string][]string{
		"Nga phóng 40 Shahed vào Kharkiv.":                 {"drones"},
		"Anh Shahed thuê phòng trọ gần khu công nghiệp.":   nil,
		"Anh Shahed thue phong tro gan khu cong nghiep.":   nil,        // "phóng" keeps to its marks
		"Nga ban ten lua va Shahed vao Kharkiv trong dem.": {"drones"}, // "tên lửa" is folded still
		"Nga phong 40 Shahed vao Kharkiv trong dem qua.":   nil,        // the price: "phóng" typed without marks is not read
	})
}

// TestTermNeeds: a term with needs counts only where a word of its own
// setting stands within needs_window words (0: anywhere); the setting
// supports no other term, matches in any case and without diacritics
// (even for an unfolded term), and a match without it is dropped as unsupported.
func TestTermNeeds(t *testing.T) {
	tg := compileYAML(t, `
name: needs
themes:
  - id: semiconductors
    label: {en: Chips}
    terms:
      - {text: chip, inflect: true, weight: 0.8, needs: [wafer, bán dẫn, foundry], needs_window: 5}
      - {text: ASML, case_sensitive: true, weight: 0.8, needs: [lithography], needs_window: 0}
      - {text: wafer fab, weight: 0.3, weak: true}
`)
	for _, c := range []struct {
		text string
		want []string
	}{
		{"The vase has a small chip on its rim.", nil},
		{"The chip was cut from a silicon wafer in Arizona.", []string{"semiconductors"}},
		{"The WAFER maker shipped new chips last week.", []string{"semiconductors"}},                             // any case
		{"Foundry output rose. " + strings.Repeat("Prices held steady today. ", 4) + "The chip sold well.", nil}, // beyond the window
		{"The chip sold well. " + strings.Repeat("Prices held steady today. ", 4) + "Foundry output rose.", nil},
		{"Nha may ban dan o Bac Ninh xuat khau chip.", []string{"semiconductors"}},                                                                 // folded
		{"ASML shares rose. " + strings.Repeat("Investors cheered the results. ", 20) + "Its lithography sales grew.", []string{"semiconductors"}}, // window 0: the document
		{"ASML shares rose after the results.", nil},
	} {
		res := tagChecked(t, tg, c.text, Options{IncludeUntagged: true})
		if got := themesOf(res); !slices.Equal(got, c.want) {
			t.Errorf("%q: themes %v, want %v", c.text, got, c.want)
		}
	}
	res := tagChecked(t, tg, "The vase has a small chip on its rim.", Options{IncludeUntagged: true})
	if len(res.Untagged) != 1 || len(res.Untagged[0].Dropped) != 1 || res.Untagged[0].Dropped[0].Reason != DropNeedsUnmet || res.Untagged[0].Dropped[0].Text != "chip" {
		t.Errorf("a chip without its setting: %+v, want it dropped as needs unmet", res.Untagged)
	}
	// The setting is not a term: it supports no weak term and shows as no evidence.
	if res := tagChecked(t, tg, "A wafer fab opened near the wafer plant.", Options{IncludeUntagged: true}); len(res.Tags) != 0 {
		t.Errorf("a term's needs must not support the theme's weak terms: %+v", res)
	}
	// A setting written once with an anchor serves other terms by its alias.
	shared := compileYAML(t, `
themes:
  - id: ai
    label: {en: AI}
    terms:
      - {text: AI, case_sensitive: true, needs: &computing [software, data, machine learning, LLM, nhờ AI, AI sẽ]}
      - {text: LLM, case_sensitive: true, needs: *computing}
      - {text: machine learning, needs: *computing}
`)
	wantThemes(t, shared, map[string][]string{
		"The LLM was trained on public data.":         {"ai"},
		"She earned an LLM in labour law in Lyon.":    nil,
		"The AI reads the data from the sensors.":     {"ai"},
		"The nutrition table lists the AI for fibre.": nil,
		// A term's own phrase in a shared setting is not its setting: it
		// would meet the needs of each of its matches by itself.
		"Machine learning sorts the data.":                 {"ai"},
		"The loom course covers machine learning by hand.": nil,
		"The LLM used machine learning.":                   {"ai"}, // each is the other's setting
		// A setting that repeats a case-sensitive term holds it as written:
		// "nhờ AI" is the acronym, not the everyday "nhờ ai" (ask someone)
		// nor "ai sẽ" (who will); its other words match in any case.
		"Nhóm nhạc AI ra album mới; cả nhóm chưa biết nên nhờ ai làm quản lý.": nil,
		"Nhóm AI thắng giải. Không biết ai sẽ trao giải.":                      nil,
		"Nhóm nhạc AI ra album mới. Nhờ AI, giọng hát được tổng hợp.":          {"ai"},
		"Hãng cho biết AI sẽ đọc hồ sơ.":                                       {"ai"},
		"Nhom nhac AI ra album moi. Nho AI, giong hat duoc tong hop.":          {"ai"}, // a setting typed without diacritics
	})
	for _, c := range []struct{ term, want string }{ // want "": no error
		// A needs phrase that repeats the term as one of its phrases writes
		// it is fine, whatever case another of its phrases has.
		{"{text: AI, case_sensitive: true, needs: [Nhờ AI, nhờ AI, bằng AI]}", ""},
		{"{text: Bác sĩ AI, variants: [bác sĩ AI], case_sensitive: true, needs: [bệnh viện, bác sĩ AI khám]}", ""},
		{"{text: chip, needs: []}", "needs is empty"},
		{"{text: chip, needs_window: 5}", "needs_window applies only with needs"},
		{"{text: chip, context: true, needs: [wafer]}", "needs does nothing"},
		{"{text: chip, needs: [wafer], needs_window: -1}", "window -1 is out of range"},
		{"{text: chip, needs: ['!!']}", "needs:"},
		{"{text: chip, variants: [chíp], needs: [Chip, chíp]}", "needs lists only the term's own phrases"},
		{"{text: AI, case_sensitive: true, needs: [nhờ ai, AI sẽ]}", `needs: "nhờ ai" holds the term's "AI" in another letter case`},
		{"{text: Bác sĩ AI, case_sensitive: true, needs: [bệnh viện, bác sĩ ai khám]}", `"bác sĩ ai khám" holds the term's "Bác sĩ AI" in another letter case`},
		// unfolded may name needs phrases, in a term folded or not (needs are
		// always read without diacritics but for those).
		{"{text: chip, needs: [wafer, bán dẫn], unfolded: [bán dẫn]}", ""},
		{"{text: chip, folded: true, variants: [chíp], needs: [bán dẫn], unfolded: [chíp, bán dẫn]}", ""},
		{"{text: chip, variants: [chíp], needs: [bán dẫn], unfolded: [chíp]}", `unfolded lists "chíp", a phrase of the term, which folded: false keeps to its marks already`},
		{"{text: chip, variants: [chíp], needs: [bán dẫn], unfolded: [bán dẫn, chíp]}", `unfolded lists "chíp", a phrase of the term, which folded: false keeps to its marks already`},
		{"{text: chip, needs: [wafer], unfolded: [wafer]}", `unfolded lists "wafer", which has no diacritics`},
		{"{text: chip, needs: [wafer], unfolded: [bán dẫn]}", `unfolded lists "bán dẫn", which is not the text, a variant or a needs phrase of this entry`},
	} {
		wantParseError(t, "terms: [alpha, "+c.term+"]", c.want)
	}
}

// TestDropReason: what each kind of dropped term lacked, in words.
func TestDropReason(t *testing.T) {
	rs, err := ParseRuleset("t.yaml", []byte(`
themes:
  - id: x
    label: {en: X}
    terms:
      - alpha
      - {text: beta, weak: true, window: 8}
      - {text: gamma, weak: true}
      - {text: delta, needs: [one, two, three, four], needs_window: 20}
      - {text: eps, needs: [one]}
      - {text: zeta, weak: true, window: 5, needs: [one], needs_window: 9}
      - {text: ETA, case_sensitive: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	drop := func(term, reason string) Dropped { return Dropped{Evidence: Evidence{Term: term}, Reason: reason} }
	var none *Ruleset
	for _, c := range []struct {
		rs    *Ruleset
		theme string
		d     Dropped
		want  string
	}{
		{rs, "x", drop("beta", DropUnsupported), "unsupported: a weak term with no strong or context term of the theme within 8 words"},
		{rs, "x", drop("gamma", DropUnsupported), "unsupported: a weak term with no strong or context term of the theme in the document"},
		{rs, "x", drop("delta", DropNeedsUnmet), "needs unmet: no word of its needs within 20 words (one, two, three, …)"},
		{rs, "x", drop("eps", DropNeedsUnmet), "needs unmet: no word of its needs in the document (one)"},
		// A weak term with needs: which of the two it lacked is in the reason, not guessed.
		{rs, "x", drop("zeta", DropNeedsUnmet), "needs unmet: no word of its needs within 9 words (one)"},
		{rs, "x", drop("zeta", DropUnsupported), "unsupported: a weak term with no strong or context term of the theme within 5 words"},
		{rs, "x", drop("eta", DropUnsupported), "unsupported: an acronym in all-capital text with no strong term of the theme in the document"},
		{rs, "x", drop("nope", DropUnsupported), DropUnsupported},
		{rs, "x", drop("nope", DropNeedsUnmet), DropNeedsUnmet},
		{rs, "other", drop("beta", DropUnsupported), DropUnsupported},
		{rs, "x", Dropped{Evidence: Evidence{Term: "beta"}, Reason: DropExcluded, Exclusion: "x"}, DropExcluded},
		{none, "x", drop("beta", DropUnsupported), DropUnsupported},
	} {
		if got := c.rs.DropReason(c.theme, c.d); got != c.want {
			t.Errorf("DropReason(%+v) = %q, want %q", c.d, got, c.want)
		}
	}
	// The engine says which: a weak term with needs, without its needs, then with them but with no strong term, then with both.
	tg := compileYAML(t, `
themes:
  - id: x
    label: {en: X}
    terms:
      - alpha
      - {text: zeta, weak: true, needs: [one]}
`)
	for text, want := range map[string]string{"zeta here": DropNeedsUnmet, "one zeta here": DropUnsupported, "alpha and one zeta here": ""} {
		res := tagChecked(t, tg, text, Options{IncludeUntagged: true})
		var got string
		for _, g := range [][]Tag{res.Tags, res.Untagged} {
			for _, tag := range g {
				for _, d := range tag.Dropped {
					got = d.Reason
				}
			}
		}
		if got != want {
			t.Errorf("%q: zeta dropped as %q, want %q", text, got, want)
		}
	}
}

// A NumberSlot ("<n>") matches any number, of one token or several joined
// by a separator, a decimal point or a range dash, and only a number; the
// evidence spans the number as written.
func TestNumberSlot(t *testing.T) {
	tg := compileYAML(t, `
name: slots
defaults: {folded: true}
themes:
  - id: green
    label: {en: Green}
    terms:
      - giảm <n>% khí thải
      - {text: trained on <n> images, inflect: true}
      - {text: COP <n>, case_sensitive: true}
  - id: paris
    label: {en: Paris}
    terms:
      - {text: COP 21, case_sensitive: true}
  - id: health
    label: {en: Health}
    terms: [bệnh án điện tử]
    exclusions:
      - {text: bệnh án số <n>, window: 10}
`)
	checkMatchedText(t, tg, map[string]string{
		"Nhà máy sẽ giảm 40% khí thải.":                       "giảm 40% khí thải",
		"Nhà máy sẽ giảm 40 % khí thải.":                      "giảm 40 % khí thải",
		"Nhà máy sẽ giảm 1,5% khí thải.":                      "giảm 1,5% khí thải",
		"Nhà máy sẽ giảm 30-40% khí thải.":                    "giảm 30-40% khí thải",
		"Nhà máy sẽ giảm 30–40% khí thải.":                    "giảm 30–40% khí thải",
		"Nha may se giam 40% khi thai.":                       "giam 40% khi thai",
		"a model trained on 120,000 images of defects":        "trained on 120,000 images",
		"a model trained on 1.250.000.000 images":             "trained on 1.250.000.000 images",
		"a model trained on 1.000.000.000.000.000.000 images": "", // seven groups: more than a number spans
		"trained on 40 image":                                 "",
		"Nhà máy sẽ giảm khí thải.":                           "",
		"Nhà máy sẽ giảm bốn mươi % khí thải.":                "",
		"Nhà máy sẽ giảm 40 khí thải.":                        "",
		"Nhà máy sẽ giảm 40a% khí thải.":                      "",
		"Nhà máy sẽ giảm 40, 50% khí thải.":                   "", // a list, not a number
		"Nhà máy sẽ giảm 40\n\n% khí thải.":                   "",
		"at COP 28 in Dubai":                                  "COP 28",
	})
	// Where a phrase with the number itself and one with the slot both
	// match, both are found: the slot's branch does not stop the other.
	if got := tagThemes(t, tg, "at COP 21 in Paris"); !slices.Equal(got, []string{"green", "paris"}) {
		t.Errorf(`"COP 21": tagged %v, want green (COP <n>) and paris (COP 21)`, got)
	}
	// A term's setting (needs) with slots: found however many tokens its
	// numbers span.
	needs := compileYAML(t, `
name: needs-slots
themes:
  - id: money
    label: {en: Money}
    terms:
      - {text: quỹ, needs: [từ <n> đến <n>], needs_window: 3}
`)
	checkThemes(t, needs, map[string][]string{
		"Góp từ 1.000.000.000.000.000 đến 2.000.000.000.000.000 vào quỹ.": {"money"},
		"Góp từ 1 đến 2 triệu vào quỹ.":                                   {"money"},
		"Góp nhiều tỷ đồng vào quỹ.":                                      nil,
	})
	// An exclusion with a slot cancels as one without.
	if got := tagThemes(t, tg, "Bệnh án số 12 được lưu trong tủ, chưa có bệnh án điện tử."); got != nil {
		t.Errorf("bệnh án số 12 beside bệnh án điện tử: tagged %v, want nothing", got)
	}
	if got := tagThemes(t, tg, "Bệnh viện đã dùng bệnh án điện tử."); !slices.Equal(got, []string{"health"}) {
		t.Errorf("bệnh án điện tử: tagged %v, want health", got)
	}
}

// number_prefixes: a slot also takes one of the listed words before its
// number ("hơn 40%", "more than 120,000"), typed with or without
// diacritics, joined by spaces only, and never a word marked differently.
func TestNumberPrefixes(t *testing.T) {
	src := `
name: prefixes
defaults: {folded: true}
number_prefixes: [hơn, khoảng, more than, over]
themes:
  - id: green
    label: {en: Green}
    terms:
      - giảm <n>% khí thải
      - {text: trained on <n> images, inflect: true}
  - id: money
    label: {en: Money}
    terms:
      - {text: quỹ, needs: [từ <n> đến <n>], needs_window: 3}
`
	tg := compileYAML(t, src)
	checkMatchedText(t, tg, map[string]string{
		"Nhà máy sẽ giảm hơn 40% khí thải.":           "giảm hơn 40% khí thải",
		"Nhà máy sẽ giảm khoảng 1,5% khí thải.":       "giảm khoảng 1,5% khí thải",
		"Nha may se giam hon 40% khi thai.":           "giam hon 40% khi thai",
		"Nhà máy sẽ giảm hon 40% khí thải.":           "giảm hon 40% khí thải", // the prefix alone typed without marks
		"Nhà máy sẽ giảm 40% khí thải.":               "giảm 40% khí thải",
		"a model trained on more than 120,000 images": "trained on more than 120,000 images",
		"a model trained on over 1.250.000 images":    "trained on over 1.250.000 images",
		"a model trained on More Than 5 images":       "trained on More Than 5 images",
		"Nhà máy sẽ giảm hôn 40% khí thải.":           "", // marked differently: another word
		"a model trained on more 120 images":          "",
		"a model trained on than 120 images":          "",
		"a model trained on more than images":         "",
		"a model trained on more, than 120 images":    "",
		"a model trained on more than\n\n120 images":  "",
		"a model trained on more than, 120 images":    "",
		"a model trained on over over 120 images":     "", // one prefix
		"Nhà máy sẽ giảm hơn bốn mươi % khí thải.":    "",
	})
	// A setting's slots take prefixes too, however many tokens they span.
	checkThemes(t, tg, map[string][]string{
		"Góp từ khoảng 1.000.000.000.000.000 đến hơn 2.000.000.000.000.000 vào quỹ.": {"money"},
		"Góp từ hơn 1 đến 2 triệu vào quỹ.":                                          {"money"},
		"Góp từ hơn một đến hai triệu vào quỹ.":                                      nil,
	})
	// The prefixes are part of the version; a ruleset without them keeps
	// the version it had before prefixes existed.
	without, err := ParseRuleset("x.yaml", []byte(strings.Replace(src, "number_prefixes: [hơn, khoảng, more than, over]\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if tg.Ruleset().Version == without.Version {
		t.Error("number_prefixes do not change the ruleset version")
	}
	if got := tagThemes(t, referenceTagger(t, without), "Nhà máy sẽ giảm hơn 40% khí thải."); got != nil {
		t.Errorf("without number_prefixes: tagged %v, want nothing", got)
	}
	for _, tc := range []struct{ list, problem string }{
		{`["hơn 2"]`, "holds a digit"},
		{`["hơn <n>"]`, "holds a digit or a number slot"},
		{`["more-than"]`, "a hyphen between its words"},
		{`["a b c d"]`, "has 4 words"},
		{`["hơn", "Hơn"]`, "listed twice"},
		{`["hoà", "hòa"]`, "listed twice"},
		{`[""]`, "no letters"},
		{`["hơn."]`, "punctuation before or after"},
		{`{a: b}`, "must be a list of strings"},
	} {
		_, err := ParseRuleset("test.yaml", []byte("name: x\nnumber_prefixes: "+tc.list+"\nthemes:\n  - id: a\n    label: {en: A}\n    terms: [năm <n>]\n"))
		if err == nil || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("number_prefixes %s: error %v, want one saying %q", tc.list, err, tc.problem)
		}
	}
}

// The prefixes multiply a phrase's forms: past maxPrefixedPatterns Compile
// refuses it, naming the phrase; a copy that would put a slot past the
// 64th word is skipped, and the phrase still matches without a prefix.
func TestNumberPrefixLimits(t *testing.T) {
	many := "number_prefixes: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p]\n" // 16: 17^3 forms of three slots
	rs, err := ParseRuleset("many.yaml", []byte("name: x\n"+many+"themes:\n  - id: a\n    label: {en: A}\n    terms: [từ <n> đến <n> và <n> lần]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(rs); err == nil || !strings.Contains(err.Error(), "too many number slots") || !strings.Contains(err.Error(), "từ <n> đến <n> và <n> lần") {
		t.Errorf("17^3 forms: err = %v, want one naming the phrase", err)
	}
	long := strings.Repeat("từ ", 62) + "<n> lần"
	tg := compileYAML(t, "name: x\nnumber_prefixes: [more than]\nthemes:\n  - id: a\n    label: {en: A}\n    terms: [\""+long+"\"]\n")
	text := strings.Repeat("từ ", 62)
	checkThemes(t, tg, map[string][]string{
		text + "5 lần":           {"a"},
		text + "more than 5 lần": nil, // the prefix would put the slot at word 64
	})
}

// RedundantPhrases reads a slot with the forms the prefixes give it: a
// phrase that only adds a listed prefix before a slot adds nothing.
func TestRedundantPhrasesWithPrefixes(t *testing.T) {
	rs, err := ParseRuleset("r.yaml", []byte(`name: x
defaults: {folded: true}
number_prefixes: [hơn, more than]
themes:
  - id: a
    label: {en: A}
    terms:
      - {text: giảm <n>% khí thải, variants: [giảm hơn <n>% khí thải, cam kết giảm more than <n>% khí thải, giảm khoảng <n>% khí thải]}
      - {text: trí tuệ, variants: [trí tuệ nhân tạo, tri tue], unfolded: [trí tuệ]}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs.RedundantPhrases() {
		got = append(got, r.Longer+" ⊃ "+r.Shorter)
	}
	want := []string{"giảm hơn <n>% khí thải ⊃ giảm <n>% khí thải", "cam kết giảm more than <n>% khí thải ⊃ giảm <n>% khí thải"}
	if !slices.Equal(got, want) {
		t.Errorf("redundant: %q, want %q (khoảng is no listed prefix; the unfolded trí tuệ does not cover trí tuệ nhân tạo typed without marks)", got, want)
	}
}

// ShadowingPhrases lists each phrase holding another term's phrase of the
// theme whose match counts for less (lower weight, weak, needs), and none
// where the longer term is as strong and as plain; tagging shows the
// premise: the longer phrase's match replaces the shorter one's.
func TestShadowingPhrases(t *testing.T) {
	const src = `name: x
number_prefixes: [hơn]
themes:
  - id: a
    label: {en: A}
    terms:
      - {id: chip, text: chip, weight: 0.8}
      - {id: chip-snack, text: chip khoai tây, weight: 0.3}
      - {id: chip-semi, text: chip bán dẫn, weight: 1}
      - {id: chip-memory, text: chip nhớ, weight: 0.8}
      - {id: chip-cheap, text: chip rẻ, weight: 0.8, weak: true}
      - {id: chip-green, text: chip xanh, weight: 0.8, needs: [điện thoại]}
      - {id: chip-factory, text: nhà máy chip, context: true}
      - {id: lo, text: lò, weak: true}
      - {id: lo-nung, text: lò nung}
      - {id: lo-cao, text: lò cao, weak: true}
      - {id: wafer, text: wafer, needs: [nhà máy]}
      - {id: wafer-si, text: wafer silicon}
      - {id: hospital, text: bệnh viện, context: true}
      - {id: hospital-robot, text: robot bệnh viện, weight: 0.5}
      - {id: hospital-big, text: bệnh viện lớn, context: true}
      - {id: own, text: máy chủ, variants: [máy chủ AI], weight: 0.9}
      - {id: hospital-app, text: ứng dụng bệnh viện, weight: 0.4, weak: true}
      - {id: acronym, text: AI, case_sensitive: true, weight: 0.8}
      - {id: ai-boom, text: AI boom, weight: 0.5}
      - {id: pony, text: Pony.ai, weight: 0.6}
  - id: b
    label: {en: B}
    terms:
      - {id: cut, text: giảm <n>% khí thải}
      - {id: pledge, text: cam kết giảm hơn <n>% khí thải, weight: 0.5}
      - {id: about, text: giảm khoảng <n>% khí thải, weight: 0.5}
      - {id: crisps, text: chip khoai tây chiên, weight: 0.2}
`
	rs, err := ParseRuleset("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range rs.ShadowingPhrases() {
		got = append(got, fmt.Sprintf("%s:%d %s %q (%g) ⊃ %s %q (%g): %s", s.Theme, s.Line, s.LongerTerm, s.Longer, s.LongerWeight, s.ShorterTerm, s.Shorter, s.ShorterWeight, s.Reason))
	}
	want := []string{
		`a:8 chip-snack "chip khoai tây" (0.3) ⊃ chip "chip" (0.8): lower weight`,
		`a:11 chip-cheap "chip rẻ" (0.8) ⊃ chip "chip" (0.8): weak`,
		`a:12 chip-green "chip xanh" (0.8) ⊃ chip "chip" (0.8): needs`,
		`a:13 chip-factory "nhà máy chip" (0) ⊃ chip "chip" (0.8): lower weight`,
		`a:25 ai-boom "AI boom" (0.5) ⊃ acronym "AI" (0.8): lower weight`,
		`b:31 pledge "cam kết giảm hơn <n>% khí thải" (0.5) ⊃ cut "giảm <n>% khí thải" (1): lower weight`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("shadowing:\n%s\nwant\n%s\n(not: an equal or higher weight, a plain term over a weak, needing or context one, a weak one over a context one, two weak or two context terms, a term's own phrases, another theme's, a case-sensitive phrase in another case, khoảng, which is no listed prefix)", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	tg, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	evidence := func(text string) []string {
		var out []string
		res := tagChecked(t, tg, text, Options{IncludeUntagged: true})
		for _, tag := range append(res.Tags, res.Untagged...) {
			for _, e := range tag.Evidence {
				out = append(out, fmt.Sprintf("%s %g", e.Term, e.Weight))
			}
		}
		return out
	}
	if got := evidence("Giá chip tăng."); !slices.Equal(got, []string{"chip 0.8"}) {
		t.Errorf("chip alone: evidence %q, want chip 0.8", got)
	}
	if got := evidence("Giá chip khoai tây tăng."); !slices.Equal(got, []string{"chip-snack 0.3"}) {
		t.Errorf("chip khoai tây: evidence %q, want chip-snack 0.3 alone (the longer phrase takes chip's place)", got)
	}
}

// checkThemes tags each text and checks the themes tagged, in order.
func checkThemes(t *testing.T, tg *Tagger, cases map[string][]string) {
	t.Helper()
	for text, want := range cases {
		if got := tagThemes(t, tg, text); !slices.Equal(got, want) {
			t.Errorf("%q: tagged %v, want %v", text, got, want)
		}
	}
}

// checkMatchedText tags each text and checks that some evidence reads want
// as written, or that nothing matched where want is "".
func checkMatchedText(t *testing.T, tg *Tagger, cases map[string]string) {
	t.Helper()
	for text, want := range cases {
		res := tagChecked(t, tg, text, Options{IncludeUntagged: true})
		var got []string
		for _, group := range [][]Tag{res.Tags, res.Untagged} {
			for _, tag := range group {
				for _, ev := range tag.Evidence {
					got = append(got, ev.Text)
				}
			}
		}
		if want == "" && len(got) != 0 || want != "" && !slices.Contains(got, want) {
			t.Errorf("%q: matched %q, want %q", text, got, want)
		}
	}
}

func TestNumberSlotPlacement(t *testing.T) {
	for _, tc := range []struct{ text, problem string }{
		{"<n> triệu tấn", "starts with a number slot"},
		{"<n>", "starts with a number slot"},
		{"tăng <n>%", "punctuation before its first or after its last word"},
		{strings.Repeat("từ ", 64) + "<n>", "past its 64th word"},
	} {
		_, err := ParseRuleset("test.yaml", []byte("name: x\nthemes:\n  - id: a\n    label: {en: A}\n    terms: [\""+tc.text+"\"]\n"))
		if err == nil || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%q: error %v, want one saying %q", tc.text, err, tc.problem)
		}
	}
	if _, err := ParseRuleset("test.yaml", []byte("name: x\nthemes:\n  - id: a\n    label: {en: A}\n    terms: [năm <n>, tăng <n> lần]\n")); err != nil {
		t.Errorf("a slot last: %v", err)
	}
}

// other_expansion: an acronym spelled out as other words in the document
// ("Assistant Instructor (AI)") cancels the acronym; spelled out as a term
// of the theme ("artificial intelligence (AI)") it does not.
func TestOtherExpansion(t *testing.T) {
	tg := compileYAML(t, `
themes:
  - id: ai
    label: {en: AI}
    terms:
      - {text: AI, case_sensitive: true, weight: 0.6}
      - {text: artificial intelligence}
      - {text: trí tuệ nhân tạo}
    exclusions:
      - {id: ai-spelled-otherwise, text: AI, other_expansion: true, cancels: [ai], scope: document}
`)
	wantThemes(t, tg, map[string][]string{
		"Many sign up for the Assistant Instructor (AI) course. An AI can supervise students; each AI earns little.": nil,
		"Tests found the acid-insoluble (AI) content above 2%. High AI values mean clay in the stone.":               nil,
		"The AI (accident investigator) blamed skipped checks. The AI report was shared.":                            nil,
		"Ông Ấn Ích (AI) nói. AI giúp bác sĩ, AI đọc phim.":                                                          nil,
		"The AI workshops need no computer: AI here stands for Appreciative Inquiry, a management method.":           nil,
		"AI stands for Accident Investigation in the report. The AI found a worn cable.":                             nil,
		"Lớp AI, viết tắt của Ấn Ích, mở hôm qua. AI giúp bác sĩ.":                                                   nil,
		"Ở đây AI là viết tắt của Ấn Ích. AI giúp bác sĩ.":                                                           nil,
		"AI Stands For Accident Investigation in the report. The AI found a worn cable.":                             nil,
		// The theme's own sense spelled out, or no spelling out at all.
		"Artificial intelligence (AI) reads the scans. The AI flags a tumour.":  {"ai"},
		"Trí tuệ nhân tạo (AI) đọc phim. AI giúp bác sĩ.":                       {"ai"},
		"The new AI (a chatbot) answers questions. AI helps the staff.":         {"ai"},
		"Assistant Instructor AI courses are popular. The AI tool grades them.": {"ai"}, // no parentheses
		"Accident, investigator (AI) said. The AI tool helps.":                  {"ai"}, // a comma between the words
		"They train Assistant Instructors.\n\n(AI) The AI tool grades them.":    {"ai"}, // another paragraph
		"Accident investigator: (AI) The AI tool helps.":                        {"ai"}, // punctuation before the bracket
		"AI stands for artificial intelligence. The AI flags a tumour.":         {"ai"}, // the theme's own sense
		"AI stands for growth, the firm says. AI tools help.":                   {"ai"}, // not the acronym's letters
		"AI stands for. Accident Investigation uses the AI tool.":               {"ai"}, // a full stop, not a space
		"AI often stands for Accident Investigation. The AI tool helps.":        {"ai"}, // another word between
	})
	res := tagChecked(t, tg, "Many sign up for the Assistant Instructor (AI) course. An AI can supervise students.", Options{IncludeUntagged: true})
	if len(res.Untagged) != 1 || len(res.Untagged[0].Dropped) != 2 {
		t.Fatalf("untagged: %+v, want the two AIs dropped", res.Untagged)
	}
	for _, d := range res.Untagged[0].Dropped {
		if d.Reason != DropExcluded || d.Exclusion != "ai-spelled-otherwise" || d.ExclusionText != "Assistant Instructor" {
			t.Errorf("dropped %+v, want it excluded by ai-spelled-otherwise at \"Assistant Instructor\"", d)
		}
	}
	for _, c := range []struct{ excl, want string }{
		{"{text: Ai, other_expansion: true}", "must be an acronym of 2 to 10 capital letters"},
		{"{text: A I, other_expansion: true}", "must be an acronym"},
		{"{text: AI, variants: [KI], other_expansion: true}", "takes no variants"},
		{"{text: AI, folded: true, unfolded: [AI], other_expansion: true}", `unfolded lists "AI", which has no diacritics`},
		{"{text: AI, other_expansion: true, cancels: [ai]}", ""},
	} {
		wantParseError(t, "terms: [{text: AI, case_sensitive: true}]\n    exclusions: ["+c.excl+"]", c.want)
	}
}
