package tagger

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// TestCorpusDigest writes, for every article of a corpus, a digest of
// everything Tag returns (tags, untagged themes, scores, words, every
// piece of evidence with its byte, rune and UTF-16 offsets) under several
// rulesets and options, one line per article. Run it before and after a
// change to the engine and compare the files: they must be identical.
//
//	DOCTAGGER_DIGEST=/tmp/after.txt go test ./tagger -run TestCorpusDigest -timeout 30m
//
// The corpus is ../shared/corpus/vi-news.jsonl.gz unless
// DOCTAGGER_DIGEST_CORPUS names another (.jsonl or .jsonl.gz).
func TestCorpusDigest(t *testing.T) {
	out := os.Getenv("DOCTAGGER_DIGEST")
	if out == "" {
		t.Skip("set DOCTAGGER_DIGEST to the file to write")
	}
	path := os.Getenv("DOCTAGGER_DIGEST_CORPUS")
	if path == "" {
		path = "../../shared/corpus/vi-news.jsonl.gz"
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		if r, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
	}
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	bw := bufio.NewWriter(w)
	defer bw.Flush()

	gen, err := Compile(generatedRuleset(t, 10000))
	if err != nil {
		t.Fatal(err)
	}
	runs := []struct {
		tg   *Tagger
		opts Options
	}{
		{defaultT(t), Options{IncludeUntagged: true}},
		{defaultT(t), Options{}},
		{defaultT(t), Options{OmitEvidence: true, MinScore: 0.6}},
		{gen, Options{IncludeUntagged: true}},
		{gen, Options{Themes: []string{"theme3", "theme7"}}},
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n, tagged := 0, 0
	for sc.Scan() {
		var d struct{ ID, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(bw, "%s", d.ID)
		for _, run := range runs {
			res, err := run.tg.Tag(d.Text, run.opts)
			js, _ := json.Marshal(struct {
				Res Result
				Err string
			}{res, fmt.Sprint(err)})
			fmt.Fprintf(bw, " %x", sha256.Sum256(js))
			if run.tg == defaultTagger && !run.opts.IncludeUntagged && len(res.Tags) > 0 {
				tagged++
			}
		}
		fmt.Fprintln(bw)
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d articles, %d tagged with the default rules", n, tagged)
}
