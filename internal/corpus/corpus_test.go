package corpus

import (
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEachLine: plain and gzipped files give the same non-blank lines with
// their numbers in the file; fn's error stops the reading and comes back.
func TestEachLine(t *testing.T) {
	dir := t.TempDir()
	text := "{\"id\":\"a\"}\n\n  \t\n{\"id\":\"b\"}\n"
	plain := filepath.Join(dir, "docs.jsonl")
	if err := os.WriteFile(plain, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	gzPath := filepath.Join(dir, "docs.JSONL.GZ")
	f, err := os.Create(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write([]byte(text))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, path := range []string{plain, gzPath} {
		var got []string
		err := EachLine(path, func(n int, line []byte) error {
			got = append(got, strings.Repeat("#", n)+string(line))
			return nil
		})
		if want := "#{\"id\":\"a\"} ####{\"id\":\"b\"}"; err != nil || strings.Join(got, " ") != want {
			t.Errorf("%s: lines %q, %v; want %q", path, got, err, want)
		}
		stop := errors.New("stop")
		calls := 0
		if err := EachLine(path, func(int, []byte) error { calls++; return stop }); err != stop || calls != 1 {
			t.Errorf("%s: fn's error: %v after %d calls, want it after 1", path, err, calls)
		}
	}
	// A .gz that is not gzip, and a missing file.
	if err := EachLine(plain+".gz", func(int, []byte) error { return nil }); err == nil {
		t.Error("a missing file: no error")
	}
	notGz := filepath.Join(dir, "plain.gz")
	os.WriteFile(notGz, []byte(text), 0o644)
	if err := EachLine(notGz, func(int, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), notGz) {
		t.Errorf("a .gz that is not gzip: %v, want an error naming the file", err)
	}
}

// TestID: a line's id wherever it stands among the keys, past nested
// values and escapes, and errors for what has none.
func TestID(t *testing.T) {
	for _, c := range []struct{ line, id, err string }{
		{`{"id": "baomoi-1", "text": "x"}`, "baomoi-1", ""},
		{`{"text": "a \"quoted\" {brace}", "meta": {"id": "inner"}, "id": "tail"}`, "tail", ""},
		{`{"id": "\u0041-\u1ea1"}`, "A-ạ", ""},
		{`{"text": "no id"}`, "", "no id"},
		{`["id", "x"]`, "", "not a JSON object"},
		{`{"id": 7}`, "", "id: json: cannot unmarshal number"},
		{`{"id": "a"`, "a", ""}, // the id is read before the rest: a truncated tail is the caller's
	} {
		id, err := ID([]byte(c.line))
		if id != c.id || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ID(%s) = %q, %v; want %q, %q", c.line, id, err, c.id, c.err)
		}
	}
}
