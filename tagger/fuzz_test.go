package tagger

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// summary is what must not depend on the normal form of the input.
func summary(res Result) string {
	s := fmt.Sprintf("words=%d", res.Words)
	for _, g := range [][]Tag{res.Tags, res.Untagged} {
		for _, tag := range g {
			s += fmt.Sprintf(" %s:%.4f[", tag.Theme, tag.Score)
			for _, e := range tag.Evidence {
				s += fmt.Sprintf("%s:%d:%s,", e.Term, utf8.RuneCountInString(norm.NFC.String(e.Text)), norm.NFC.String(e.Text))
			}
			for _, d := range tag.Dropped {
				s += fmt.Sprintf("-%s:%s,", d.Term, d.Reason)
			}
			s += "]"
		}
	}
	return s
}

// FuzzTag checks over arbitrary bytes and rules: no panic, offsets within
// bounds and on rune boundaries, text[start:end] equal to the matched text,
// and the same results for the NFC and NFD forms of a text.
// referenceTagger compiles rs with the scanner's fast path off.
func referenceTagger(t testing.TB, rs *Ruleset) *Tagger {
	t.Helper()
	tg, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	tg.noWordCache = true
	return tg
}

func FuzzTag(f *testing.F) {
	seeds := [][2]string{
		{"Trí tuệ nhân tạo và chip bán dẫn", "bán dẫn"},
		{"KHÔNG AI BIẾT", "AI"},
		{"thuỷ sản và hoà bình", "thủy sản"},
		{"tri tue nhan tao", "trí tuệ"},
		{"các-bon thấp, net-zero", "các bon"},
		{"Ả\u0301 ệ e\u0323\u0302 x\u0302", "ệ"},
		{"drones\n\nand UAVs", "drone"},
		{"\xff\xfe bad", "bad"},
		{"ᄒ\u1161\u11ab 한국", "한"},
		{"a\u0300\u0301 ≠ =\u0338", "a"},
		{"Trí tuệ nhân tạo, trí tuệ nhân tạo và chip; thẻ căn cước gắn chip, “AI” và AI. Tri tue nhan tao!", "trí tuệ"},
		{"giảm 40% khí thải, giam 1.250,5 % khi thai, giảm 30–40-50, COP 21\n\n7", "giảm <n>% khí"},
		{"năm 2025-2026 và năm 2.0.2.6.1.1.1 và năm", "năm <n>"},
		{"giảm hơn 40% khí thải, giam hon 1,5 % khi thai, giảm hôn 3%, giảm more than 2 %, giảm hơn\n\n4%", "giảm <n>%"},
		{"(AI) Assistant Instructor (AI) và AI, AI (acid-insoluble), x\n(AI) Ấn Ích (AI (AI) a-i (AI", "AI"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	def := defaultT(f)
	defRef := referenceTagger(f, def.rs)
	f.Fuzz(func(t *testing.T, text, term string) {
		// Not a timing assertion: a watchdog that turns a hang or a
		// pathological (super-linear) input into a crash the fuzzer saves.
		watchdog := time.AfterFunc(20*time.Second, func() {
			panic(fmt.Sprintf("one input ran for 20s (text %q, term %q)", text, term))
		})
		defer watchdog.Stop()
		taggers, refs := []*Tagger{def}, []*Tagger{defRef}
		quoted, _ := json.Marshal(term)
		src := fmt.Sprintf(`name: fuzz
number_prefixes: [hơn, more than]
themes:
  - id: a
    label: {en: A}
    terms:
      - {text: %s, folded: true, hyphens: true, inflect: true}
  - id: b
    label: {en: B}
    terms:
      - {text: %s, case_sensitive: true}
      - {text: zzz, weak: true}
    exclusions:
      - {text: %s, window: 2, cancels: [zzz]}
`, quoted, quoted, quoted)
		if rs, err := ParseRuleset("fuzz.yaml", []byte(src)); err == nil {
			tg, err := Compile(rs)
			if err != nil {
				t.Fatalf("a ruleset that parses must compile: %v", err)
			}
			taggers, refs = append(taggers, tg), append(refs, referenceTagger(t, rs))
		}
		for ti, tg := range taggers {
			res, err := tg.Tag(text, Options{IncludeUntagged: true})
			// The scanner's word cache changes nothing: the same result
			// as without it, the first time and once the text's words
			// are in the cache.
			ref, refErr := refs[ti].Tag(text, Options{IncludeUntagged: true})
			again, againErr := tg.Tag(text, Options{IncludeUntagged: true})
			if !reflect.DeepEqual(res, ref) || !reflect.DeepEqual(err, refErr) || !reflect.DeepEqual(again, ref) || !reflect.DeepEqual(againErr, refErr) {
				t.Fatalf("Tag(%q) with the word cache:\n %+v (%v)\n then %+v (%v)\nwithout:\n %+v (%v)", text, res, err, again, againErr, ref, refErr)
			}
			if !utf8.ValidString(text) {
				var bad *InvalidUTF8Error
				if !errors.As(err, &bad) {
					t.Fatalf("invalid UTF-8 %q: err = %v", text, err)
				}
				if r, size := utf8.DecodeRuneInString(text[bad.Offset:]); r != utf8.RuneError || size != 1 || !utf8.ValidString(text[:bad.Offset]) {
					t.Fatalf("invalid UTF-8 %q: offset %d is not the first bad sequence", text, bad.Offset)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Tag(%q): %v", text, err)
			}
			checkEvidence(t, text, res)
			if i := strings.IndexByte(text, '\n'); i >= 0 {
				// The first line as a title: evidence in its own field,
				// the text's word count.
				doc := Document{Title: text[:i], Text: text[i+1:]}
				dres, err := tg.TagDocument(doc, Options{IncludeUntagged: true})
				if err != nil {
					t.Fatalf("TagDocument(%q): %v", doc, err)
				}
				checkDocEvidence(t, doc, dres)
				if tres, _ := tg.Tag(doc.Text, Options{OmitEvidence: true}); tres.Words != dres.Words {
					t.Fatalf("TagDocument(%q): %d words, the text has %d", doc, dres.Words, tres.Words)
				}
			}
			nfc, err1 := tg.Tag(norm.NFC.String(text), Options{IncludeUntagged: true})
			nfd, err2 := tg.Tag(norm.NFD.String(text), Options{IncludeUntagged: true})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			checkEvidence(t, norm.NFD.String(text), nfd)
			if a, b := summary(nfc), summary(nfd); a != b {
				t.Fatalf("NFC and NFD forms of %q differ:\nNFC %s\nNFD %s", text, a, b)
			}
			if !slices.IsSortedFunc(res.Tags, func(a, b Tag) int { return int((b.Score - a.Score) * 1e6) }) {
				t.Fatalf("tags not sorted by score: %+v", res.Tags)
			}
		}
	})
}

// TestWordCacheChangesNoResult tags long random texts of theme words,
// confusers and awkward pieces with and without the scanner's word cache,
// twice with it (the second time every word is a hit): the results,
// evidence and offsets included, must be the same.
func TestWordCacheChangesNoResult(t *testing.T) {
	def := defaultT(t)
	ref := referenceTagger(t, def.rs)
	rng := rand.New(rand.NewPCG(5, 6))
	words := []string{
		"trí tuệ nhân tạo", "Trí Tuệ Nhân Tạo", "tri tue nhan tao", "trí tue nhan tao", "máy bay khong nguoi lai", "AI", "ai", "KHÔNG AI BIẾT", "học máy", "học máy tính",
		"bán dẫn", "chip", "căn cước gắn chip", "thẻ căn cước", "vi mạch", "Intel", "TSMC",
		"bệnh án điện tử", "khám, chữa bệnh từ xa", "VNeID", "bệnh viện",
		"máy bay không người lái", "drone", "drones", "UAV", "flycam", "nhạc drone",
		"phát thải ròng bằng 0", "các-bon", "net-zero", "xe điện", "biến đổi khí hậu", "hoà", "thuỷ",
		"người", "được", "nghiêng", "2026", "Việt Nam", "và", "của", "semiconductors",
	}
	// A folded match may begin at a word with its diacritics: the
	// candidates must not leave it out.
	for _, text := range []string{"trí tue nhan tao", "Hệ thống máy bay khong nguoi lai"} {
		res, err := def.Tag(text, Options{IncludeUntagged: true})
		all := append(res.Tags, res.Untagged...)
		if err != nil || len(all) == 0 || len(all[0].Evidence) == 0 || !all[0].Evidence[0].Folded {
			t.Fatalf("Tag(%q) = %+v, %v: want a folded match", text, res, err)
		}
	}
	for n := range 3000 {
		text := randomText(rng, words, 5+rng.IntN(80), 8)
		if n%500 == 0 {
			// Runs of over 1,024 cached words with ASCII separators only
			// (wordsIn stops and is called again with more room).
			text = strings.Repeat("Trí tuệ nhân tạo và chip bán dẫn, xe điện; drone 2026 của người được ", 200+n/10) + text
		}
		opts := Options{IncludeUntagged: true}
		want, wantErr := ref.Tag(text, opts)
		for pass := range 2 {
			got, err := def.Tag(text, opts)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
				t.Fatalf("pass %d, Tag(%q) with the word cache:\n %+v (%v)\nwithout:\n %+v (%v)", pass, text, got, err, want, wantErr)
			}
		}
	}
}

// FuzzParseRuleset checks the loader over arbitrary rule files: no panic, and
// either a ruleset with themes or a *RulesetError whose problems all carry a
// message. The seeds hold multi-line quoted examples, which the loader reads
// from the source lines as well as from the YAML nodes (splicedItem).
func FuzzParseRuleset(f *testing.F) {
	base := "themes:\n  - id: x\n    label: {en: X}\n    terms: [alpha]\n    examples:\n      tagged:\n"
	for _, s := range []string{
		"        - \"alpha one\n          runs on\"\n        - alpha two\n",
		"        - \"alpha one\n        - pasted\"\n",
		"        - 'alpha''s one\n        - pasted'\n",
		"        - \"alpha \\\n          one\"\n",
		"      - \"x\n  - \"",
		"        -\t\"a\n        -\t\"",
	} {
		f.Add(base + s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		rs, err := ParseRuleset("f.yaml", []byte(src))
		if err != nil {
			var re *RulesetError
			if !errors.As(err, &re) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, p := range re.Problems {
				if p.Message == "" {
					t.Fatalf("a problem without a message: %+v", p)
				}
			}
			return
		}
		if len(rs.Themes) == 0 {
			t.Fatal("no error and no themes")
		}
	})
}
