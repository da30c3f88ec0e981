package tagger

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// benchCorpus is read by the benchmarks; it stays outside the repository.
const benchCorpus = "../../shared/corpus/vi-news-10mb.jsonl"

func loadBenchDocs(b *testing.B) ([]string, int64) {
	b.Helper()
	path := os.Getenv("DOCTAGGER_BENCH_CORPUS")
	if path == "" {
		path = benchCorpus
	}
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("benchmark corpus not available (%v); set DOCTAGGER_BENCH_CORPUS", err)
	}
	defer f.Close()
	var docs []string
	var total int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var d struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			b.Fatal(err)
		}
		docs = append(docs, d.Text)
		total += int64(len(d.Text))
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return docs, total
}

func benchTag(b *testing.B, tg *Tagger) {
	docs, total := loadBenchDocs(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	tags := 0
	for b.Loop() {
		for _, d := range docs {
			res, err := tg.Tag(d, Options{})
			if err != nil {
				b.Fatal(err)
			}
			tags += len(res.Tags)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(docs)), "ns/doc")
	_ = tags
}

// BenchmarkTagDefault tags every article of the corpus once per iteration
// with the default ruleset.
func BenchmarkTagDefault(b *testing.B) {
	rs, err := DefaultRuleset()
	if err != nil {
		b.Fatal(err)
	}
	tg, err := Compile(rs)
	if err != nil {
		b.Fatal(err)
	}
	benchTag(b, tg)
}

// BenchmarkTag10k does the same with a generated 10,000-term ruleset.
func BenchmarkTag10k(b *testing.B) {
	tg, err := Compile(generatedRuleset(b, 10000))
	if err != nil {
		b.Fatal(err)
	}
	benchTag(b, tg)
}

// BenchmarkCompile10k measures compiling a 10,000-term ruleset.
func BenchmarkCompile10k(b *testing.B) {
	rs := generatedRuleset(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(rs); err != nil {
			b.Fatal(err)
		}
	}
}

// generatedRuleset builds n distinct terms of one to three common
// Vietnamese syllables (so that many of them occur in real news), spread
// over 20 themes, a fifth of them matching without diacritics too.
func generatedRuleset(tb testing.TB, n int) *Ruleset {
	tb.Helper()
	rs, err := ParseRuleset("generated", generatedYAML(n))
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// generatedYAML writes the ruleset of generatedRuleset.
func generatedYAML(n int) []byte {
	syll := strings.Fields(`công nghệ số hóa dữ liệu mạng lưới điện năng lượng chính phủ kinh tế
		thị trường doanh nghiệp sản xuất xuất khẩu nhập khẩu đầu tư phát triển giáo dục y tế
		bệnh viện bác sĩ học sinh sinh viên giao thông đường bộ nông nghiệp lúa gạo thủy sản
		ngân hàng tài chính chứng khoán bất động sản du lịch văn hóa thể thao bóng đá an ninh
		quốc phòng môi trường khí hậu nước sạch rác thải nhựa điện thoại máy tính phần mềm
		người dân thành phố tỉnh huyện xã công an tòa án vụ án cháy nổ tai nạn bão lũ`)
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	var b strings.Builder
	b.WriteString("name: generated\nthemes:\n")
	for th := 0; th < 20; th++ {
		fmt.Fprintf(&b, "  - id: theme%d\n    label: {en: Theme %d}\n    terms:\n", th, th)
		for i := 0; i < n/20; {
			words := 1 + rng.IntN(3)
			parts := make([]string, words)
			for w := range parts {
				parts[w] = syll[rng.IntN(len(syll))]
			}
			text := strings.Join(parts, " ")
			if seen[text] {
				continue
			}
			seen[text] = true
			fmt.Fprintf(&b, "      - {id: t%d, text: %q, weight: 0.%d, folded: %v}\n", len(seen), text, 1+rng.IntN(9), rng.IntN(5) == 0)
			i++
		}
	}
	return []byte(b.String())
}

// BenchmarkTagDenseMatches tags a 1 MiB document in which nearly every word
// matches a term, a weak term or an exclusion: the worst case for the steps
// after matching, which must stay linear (n log n), not quadratic.
func BenchmarkTagDenseMatches(b *testing.B) {
	tg := compileYAML(b, contextRules)
	unit := "robot silicon chip bán dẫn căn cước chip silicon thẻ "
	text := strings.Repeat(unit, (1<<20)/len(unit))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tg.Tag(text, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse10k measures reading and validating a 10,000-term ruleset
// file (YAML), the step before Compile.
func BenchmarkParse10k(b *testing.B) {
	src := generatedYAML(10000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRuleset("generated", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTagDenseNeeds tags, with the default ruleset, a 1 MiB document
// dense with the two terms that carry Needs (AI, chip) and with their
// settings' words: the worst case for matchNeeds and hasNeeded, whose cost
// must stay linear in the document.
func BenchmarkTagDenseNeeds(b *testing.B) {
	rs, err := DefaultRuleset()
	if err != nil {
		b.Fatal(err)
	}
	tg, err := Compile(rs)
	if err != nil {
		b.Fatal(err)
	}
	unit := "AI giúp nông dân chọn giống; chip mới trong điện thoại; thợ AI đến trại bò; chip trên miệng bình gốm. "
	text := strings.Repeat(unit, (1<<20)/len(unit))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tg.Tag(text, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
