package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/client/clienttest"
)

// TestCLI: flags after arguments, the old single-dash long flags, --help
// per command, --version, completion scripts, usage errors naming the flag.
func TestCLI(t *testing.T) {
	input := writeNDJSON(t, t.TempDir(), 3, func(i int) string { return "trí tuệ nhân tạo" })
	code, out, stderr := runTagctl(t, "tag", input, "--format", "table", "-q", "--local")
	if code != 0 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "ai(") || stderr != "" {
		t.Errorf("flags after the file: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := runTagctl(t, "tag", "-format", "csv", "-local", input); code != 0 || !strings.HasPrefix(out, "id,themes") {
		t.Errorf("-format csv: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"tag", "--help"}, {"themes", "-h"}, {"ruleset", "--help"}, {"help", "tag"}} {
		code, out, _ := runTagctl(t, args...)
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--addr") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if code, out, _ := runTagctl(t, "--version"); code != 0 || !strings.HasPrefix(out, "tagctl ") || !strings.Contains(out, "commit ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: exit %d %q", code, out)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if code, out, _ := runTagctl(t, "completion", sh); code != 0 || !strings.Contains(out, "tagctl") || len(out) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes", sh, code, len(out))
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tag", "--format", "xml", input}, `--format "xml": want ndjson, csv or table`},
		{[]string{"tag", "--nope", input}, "unknown flag: --nope"},
		{[]string{"tag", "--shard", "2/2", input}, `--shard "2/2": want I/N with 0 <= I < N`},
		{[]string{"tag", "--resume", input}, "--resume reads and appends to the output file: give it with -o FILE"},
		{[]string{"tag", "--cert", "c.pem", input}, "a client certificate needs both --cert and --key"},
		{[]string{"nope"}, `unknown command "nope"`},
	} {
		code, _, stderr := runTagctl(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, stderr)
		}
	}
}

// TestOnlyTagged: --only-tagged writes the tagged documents and the failed
// ones, and counts the others.
func TestOnlyTagged(t *testing.T) {
	srv := clienttest.Start(t, nil)
	input := writeNDJSON(t, t.TempDir(), 100, func(i int) string {
		if i%10 == 0 {
			return "trí tuệ nhân tạo"
		}
		return "thời tiết hôm nay đẹp"
	})
	code, out, stderr := runTagctl(t, "tag", input, "--addr", srv.Addr(), "--only-tagged", "--format", "csv")
	if code != 0 || strings.Count(out, "\n") != 11 || !strings.Contains(stderr, "untagged, not written (--only-tagged): 90") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
}

// TestResumeOutput: --resume keeps the final results of an output (tags,
// or a document the server refused), drops a torn last line and the
// documents that failed for the job's sake (here UNAVAILABLE), tags only
// what is missing, and leaves every id once; a gzip output too.
func TestResumeOutput(t *testing.T) {
	dir := t.TempDir()
	input := writeNDJSON(t, dir, 50, func(i int) string { return "chất bán dẫn" })
	for _, name := range []string{"out.ndjson", "out.ndjson.gz"} {
		out := filepath.Join(dir, name)
		// A first run of the first 20 documents.
		first := writeNDJSON(t, t.TempDir(), 20, func(i int) string { return "chất bán dẫn" })
		if code, _, stderr := runTagctl(t, "tag", "--local", first, "-o", out, "-q"); code != 0 {
			t.Fatalf("first run: exit %d\n%s", code, stderr)
		}
		if !strings.HasSuffix(name, ".gz") {
			f, _ := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
			fmt.Fprintln(f, `{"result":{"documentId":"doc-000030","error":{"code":14,"message":"no replica"}}}`)
			fmt.Fprintln(f, `{"result":{"documentId":"doc-000031","error":{"code":3,"message":"refused"}}}`)
			fmt.Fprint(f, `{"result":{"documentId":"doc-0000`) // torn
			f.Close()
		}
		code, _, stderr := runTagctl(t, "tag", "--local", input, "-o", out, "--resume")
		if code != 0 {
			t.Fatalf("%s: resumed: exit %d\n%s", name, code, stderr)
		}
		got := readOutput(t, out)
		if len(got) != 50 {
			t.Errorf("%s: %d results, want 50", name, len(got))
		}
		wantTagged := 30
		if !strings.HasSuffix(name, ".gz") {
			wantTagged = 29 // doc-000031 stays failed
			if got["doc-000031"].GetError().GetCode() != 3 || got["doc-000030"].GetError() != nil {
				t.Errorf("%s: %v %v", name, got["doc-000030"], got["doc-000031"])
			}
		}
		if !strings.Contains(stderr, fmt.Sprintf("tagctl tag: %d documents, 0 failed", wantTagged)) {
			t.Errorf("%s: summary:\n%s", name, stderr)
		}
	}
}
