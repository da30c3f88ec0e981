package middleware

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadTokens: "name: token" names the caller, a plain line is token-N,
// a bad name is an error naming its line.
func TestReadTokens(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(p, []byte("# comment\nsearch: abc\n\nplain:with-colon\nbatch:\tdef\nghi\n"), 0o600)
	got, err := ReadTokens(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Token{{"search", "abc"}, {"token-2", "plain:with-colon"}, {"batch", "def"}, {"token-4", "ghi"}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	os.WriteFile(p, []byte("ok: a\nbad name: b\n"), 0o600)
	if _, err := ReadTokens(p); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad name: %v", err)
	}
	a := NewAuth(false)
	a.SetTokens(got)
	if name, err := a.Caller("Bearer def"); err != nil || name != "batch" {
		t.Errorf("Caller: %q %v", name, err)
	}
}

// TestReadQuotaFile: defaults from the flags unless the file sets them,
// callers by name, unknown keys refused.
func TestReadQuotaFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "q.yaml")
	os.WriteFile(p, []byte("callers:\n  batch: {documents_per_second: 100, streams: 4}\n"), 0o600)
	cfg, err := ReadQuotaFile(p, Quota{DocumentsPerSecond: 10})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.For("batch") != (Quota{DocumentsPerSecond: 100, Streams: 4}) || cfg.For("other") != (Quota{DocumentsPerSecond: 10}) {
		t.Errorf("%+v", cfg)
	}
	if cfg.For("batch").burst() != 100 || (Quota{DocumentsPerSecond: 0.5}).burst() != 1 {
		t.Error("default burst")
	}
	os.WriteFile(p, []byte("callers:\n  batch: {documents_a_second: 100}\n"), 0o600)
	if _, err := ReadQuotaFile(p, Quota{}); err == nil {
		t.Error("unknown key accepted")
	}
	os.WriteFile(p, []byte(""), 0o600)
	if cfg, err := ReadQuotaFile(p, Quota{Streams: 2}); err != nil || cfg.Default.Streams != 2 {
		t.Errorf("empty file: %+v %v", cfg, err)
	}
}

// TestTakeDocuments: a burst passes, the next is refused with the wait,
// a batch over the burst takes the whole bucket.
func TestTakeDocuments(t *testing.T) {
	q := NewQuotas(QuotaConfig{Callers: map[string]Quota{"a": {DocumentsPerSecond: 10, Burst: 5}}}, nil)
	if d, l := q.takeDocuments("a", 5); l != nil {
		t.Fatalf("burst refused, wait %s", d)
	}
	d, l := q.takeDocuments("a", 1)
	if l == nil || d <= 0 || d > 200e6 {
		t.Fatalf("over the burst: wait %s, %v", d, l)
	}
	if _, l := q.takeDocuments("b", 1000); l != nil {
		t.Error("a caller without a quota was refused")
	}
	q2 := NewQuotas(QuotaConfig{Default: Quota{DocumentsPerSecond: 10, Burst: 5}}, nil)
	if _, l := q2.takeDocuments("x", 50); l != nil {
		t.Error("a batch over the burst never passes")
	}
}

// TestQuotaFileErrors: a missing file, a bad caller name, negative limits
// and a second document are errors naming the file.
func TestQuotaFileErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "q.yaml")
	if _, err := ReadQuotaFile(p, Quota{}); err == nil || !strings.Contains(err.Error(), "reading the quota file") {
		t.Errorf("missing file: %v", err)
	}
	for content, want := range map[string]string{
		"callers:\n  \"bad name\": {streams: 1}\n":  `caller name "bad name"`,
		"callers:\n  batch: {burst: -1}\n":          "caller batch: negative limit",
		"default: {documents_per_second: -1}\n":     "default: negative limit",
		"default: {streams: x}\n":                   "quota file",
		"default: {streams: 1}\n---\ndefault: {}\n": "", // the first document only
	} {
		os.WriteFile(p, []byte(content), 0o600)
		_, err := ReadQuotaFile(p, Quota{})
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", content, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: %v, want an error with %q and the file's name", content, err, want)
		}
	}
}

// TestParseTokenErrors: a caller name the metrics and logs cannot carry,
// or a name without a token ("team: ", which ReadTokens trims to "team:",
// was the accepted token "team:"), is refused; a plain token is named by
// its place.
func TestParseTokenErrors(t *testing.T) {
	for entry, want := range map[string]string{
		"bad name: tok":                   `caller name "bad name"`,
		"-dash: tok":                      `caller name "-dash"`,
		strings.Repeat("n", 65) + ": tok": "at most 64",
		"team: ":                          "caller team has an empty token",
		"team:\t \t":                      "caller team has an empty token",
		"team:":                           "caller team has an empty token",
		"plain:with-colon":                "",
		"bad name:":                       "", // not a caller's name: a plain token
	} {
		tok, err := ParseToken(entry, 3)
		if want == "" {
			if err != nil || tok.Name != "token-3" {
				t.Errorf("%q: %+v %v, want the plain token token-3", entry, tok, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %+v %v, want an error with %q", entry, tok, err, want)
		}
	}
	if _, err := ReadTokens(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("missing token file accepted")
	}
	p := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(p, []byte("# only a comment\n\n"), 0o600)
	if _, err := ReadTokens(p); err == nil || !strings.Contains(err.Error(), "has no token") {
		t.Errorf("token file without a token: %v", err)
	}
}
