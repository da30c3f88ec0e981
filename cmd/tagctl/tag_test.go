package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/server"
)

// inputTree writes plain files, a hidden file and directory, an NDJSON file
// with a bad line and a gzipped JSONL file.
func inputTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", []byte("Doanh nghiệp đầu tư vào trí tuệ nhân tạo."))
	write("sub/b.txt", []byte("Máy bay không người lái giao hàng."))
	write("sub/deeper/c.md", []byte("Thời tiết hôm nay đẹp."))
	write(".hidden.txt", []byte("trí tuệ nhân tạo"))
	write(".git/x.txt", []byte("trí tuệ nhân tạo"))
	write("docs.ndjson", []byte(`{"id":"n1","text":"Nhà máy chip mới sản xuất chất bán dẫn."}
{"id":2,"text":"Tỉnh phát hành trái phiếu xanh."}

not json
{"id":"notext"}
{"text":"Bệnh án điện tử cho mọi người dân.","language":"en"}
`))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"id":"z1","text":"drone giao hàng"}` + "\n"))
	zw.Close()
	write("more.jsonl.gz", gz.Bytes())
	return dir
}

func TestTagInputsAndNDJSON(t *testing.T) {
	srv := clienttest.Start(t, nil)
	dir := inputTree(t)
	code, out, stderr := runTagctl(t, "tag", "--addr", srv.Addr(), "--evidence", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (two bad lines); stderr:\n%s", code, stderr)
	}
	got := parseOutput(t, out)
	ndjson := filepath.Join(dir, "docs.ndjson")
	want := map[string]string{
		filepath.Join(dir, "a.txt"):           "ai",
		filepath.Join(dir, "sub/b.txt"):       "drones",
		filepath.Join(dir, "sub/deeper/c.md"): "",
		"n1":                                  "semiconductors",
		"2":                                   "green_transition",
		ndjson + ":6":                         "ehealth",
		"z1":                                  "drones",
		ndjson + ":4":                         "error",
		ndjson + ":5":                         "error",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), out)
	}
	for id, theme := range want {
		l, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: missing", id)
		case theme == "error":
			if l.Error == nil || l.Error.Code != "INVALID_ARGUMENT" {
				t.Errorf("%s: want an error record, got %+v", id, l)
			}
			if !strings.Contains(stderr, "failed "+id+": INVALID_ARGUMENT") {
				t.Errorf("stderr does not report %s:\n%s", id, stderr)
			}
		case theme == "":
			if l.Error != nil || len(l.Tags) != 0 {
				t.Errorf("%s: %+v", id, l)
			}
		default:
			if l.Error != nil || len(l.Tags) != 1 || l.Tags[0].Theme != theme {
				t.Errorf("%s: %+v", id, l)
			}
		}
	}
	if !strings.Contains(out, `"evidence":[{"term":`) {
		t.Error("--evidence: no evidence in the output")
	}
	if !strings.Contains(out, `"label":"E-health"`) {
		t.Error("the language of an NDJSON line did not pick English labels")
	}
	if !strings.Contains(stderr, "9 documents, 2 failed") || !strings.Contains(stderr, "tags per theme: drones 2,") {
		t.Errorf("summary:\n%s", stderr)
	}
}

func TestTagStdinAndFormats(t *testing.T) {
	srv := clienttest.Start(t, nil)
	defer func(r io.Reader) { stdin = r }(stdin)

	stdin = strings.NewReader(`{"id":"s1","text":"trí tuệ nhân tạo và máy bay không người lái"}` + "\n" + `{"id":"s2","text":"không có gì"}`)
	code, out, stderr := runTagctl(t, "tag", "--addr", srv.Addr(), "--format", "csv", "-q")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != "id,themes,scores,ruleset_version,words,error_code,error" {
		t.Fatalf("csv: %v %q", err, out)
	}
	for _, row := range rows[1:] {
		if row[0] == "s1" && (row[1] != "ai;drones" && row[1] != "drones;ai" || !strings.Contains(row[2], ";")) {
			t.Errorf("csv row %q", row)
		}
	}

	stdin = strings.NewReader("Bệnh viện dùng bệnh án điện tử.\nDòng thứ hai.")
	code, out, _ = runTagctl(t, "tag", "--addr", srv.Addr(), "--plain", "--format", "table", "--themes", "ehealth,ai", "-")
	if code != 0 || !strings.Contains(out, "ID") || !strings.Contains(out, "ehealth(") {
		t.Fatalf("table: exit %d\n%s", code, out)
	}

	stdin = strings.NewReader(`{"id":"x","text":"trí tuệ nhân tạo"}`)
	code, out, stderr = runTagctl(t, "tag", "--addr", srv.Addr(), "--themes", "nope")
	if code != 1 || !strings.Contains(out, `"error":{"code":3,`) || !strings.Contains(stderr, "unknown theme") {
		t.Fatalf("unknown theme: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestTagREST(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) { c.AuthTokens = []string{"tok"} })
	dir := inputTree(t)
	code, out, stderr := runTagctl(t, "tag", "--rest", srv.HTTPURL(), "--token", "tok", "--token-plaintext", "--concurrency", "2", dir)
	if code != 1 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := parseOutput(t, out)
	if len(got) != 9 || got["n1"].Tags[0].Theme != "semiconductors" || got["n1"].RulesetVersion == "" {
		t.Fatalf("REST output:\n%s", out)
	}

	// Many documents over several requests.
	input := writeNDJSON(t, t.TempDir(), 1000, func(i int) string { return "trí tuệ nhân tạo" })
	code, out, stderr = runTagctl(t, "tag", "--rest", srv.HTTPURL(), "--token", "tok", "--token-plaintext", input)
	if code != 0 || len(parseOutput(t, out)) != 1000 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}

	code, _, stderr = runTagctl(t, "tag", "--rest", srv.HTTPURL(), "--token", "wrong", "--token-plaintext", input)
	if code != 1 || !strings.Contains(stderr, "UNAUTHENTICATED") || !strings.Contains(stderr, "1000 documents, 1000 failed") {
		t.Fatalf("wrong token: exit %d; stderr:\n%s", code, stderr[max(0, len(stderr)-500):])
	}
	code, _, stderr = runTagctl(t, "tag", "--rest", srv.HTTPURL(), "--token", "tok", input)
	if code != 1 || !strings.Contains(stderr, "needs an https:// URL") {
		t.Fatalf("token over http: exit %d: %s", code, stderr)
	}
	// --tls does not make an http:// URL secure: the same error, naming
	// the flags (not the client's options).
	code, _, stderr = runTagctl(t, "tag", "--rest", srv.HTTPURL(), "--tls", "--token", "tok", input)
	if code != 1 || !strings.Contains(stderr, "tagctl tag: a bearer token needs an https:// URL; use --token-plaintext") {
		t.Fatalf("token over http with --tls: exit %d: %s", code, stderr)
	}
	// Over gRPC too, naming the flags (not the client's options).
	code, _, stderr = runTagctl(t, "tag", "--addr", srv.Addr(), "--token", "tok", input)
	if code != 1 || !strings.Contains(stderr, "tagctl tag: a bearer token needs TLS (--tls, --ca or --cert); use --token-plaintext") {
		t.Fatalf("token over plaintext gRPC: exit %d: %s", code, stderr)
	}
}

func TestTagEnvAndFailures(t *testing.T) {
	srv := clienttest.Start(t, func(c *server.Config) { c.AuthTokens = []string{"s3cret"} })
	input := writeNDJSON(t, t.TempDir(), 50, func(i int) string { return "chất bán dẫn" })
	env := map[string]string{"DOCTAGGER_ADDR": srv.Addr(), "DOCTAGGER_TOKEN": "s3cret", "DOCTAGGER_TOKEN_PLAINTEXT": "true"}
	lookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	defer func() { lookupEnv = func(string) (string, bool) { return "", false } }()

	code, out, stderr := runTagctl(t, "tag", input)
	if code != 0 || len(parseOutput(t, out)) != 50 {
		t.Fatalf("with env twins: exit %d\n%s", code, stderr)
	}
	// The flag wins over its twin.
	code, _, stderr = runTagctl(t, "tag", "--token", "wrong", input)
	if code != 1 || strings.Count(stderr, "failed doc-") != 50 || !strings.Contains(stderr, "UNAUTHENTICATED") {
		t.Fatalf("wrong token: exit %d\n%s", code, stderr)
	}

	// No server: every document fails after --retry-for.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	start := time.Now()
	code, out, stderr = runTagctl(t, "tag", "--addr", dead, "--retry-for", "300ms", input)
	got := parseOutput(t, out)
	if code != 1 || len(got) != 50 || got["doc-000007"].Error == nil || got["doc-000007"].Error.Code != "UNAVAILABLE" {
		t.Fatalf("no server: exit %d\n%s\n%s", code, out, stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to give up", d)
	}

	if code, _, _ := runTagctl(t, "tag", "--format", "xml", input); code != 2 {
		t.Errorf("bad --format: exit %d", code)
	}
	if code, _, _ := runTagctl(t, "tag", filepath.Join(t.TempDir(), "missing")); code != 1 {
		t.Errorf("missing input: exit %d", code)
	}
}

func TestTagProgress(t *testing.T) {
	srv := clienttest.Start(t, nil)
	input := writeNDJSON(t, t.TempDir(), 300, func(i int) string { return "trí tuệ nhân tạo" })
	_, _, stderr := runTagctl(t, "tag", "--addr", srv.Addr(), "--progress", "always", input)
	if !strings.Contains(stderr, "tagging") || !strings.Contains(stderr, "/300") {
		t.Errorf("no progress bar:\n%q", stderr)
	}
	_, _, stderr = runTagctl(t, "tag", "--addr", srv.Addr(), input) // stderr is not a terminal
	if strings.Contains(stderr, "tagging") {
		t.Errorf("progress bar without a terminal:\n%q", stderr)
	}
}

func TestThemesAndRuleset(t *testing.T) {
	srv := clienttest.Start(t, nil)
	for _, args := range [][]string{{"--addr", srv.Addr()}, {"--rest", srv.HTTPURL()}} {
		code, out, stderr := runTagctl(t, append([]string{"themes"}, args...)...)
		if code != 0 || !strings.Contains(out, "green_transition") || !strings.Contains(out, "ruleset sha256:") {
			t.Errorf("themes %v: exit %d\n%s%s", args, code, out, stderr)
		}
		code, out, stderr = runTagctl(t, append([]string{"themes", "--format", "json"}, args...)...)
		if code != 0 || !strings.Contains(out, `"labelEn": "Drones"`) && !strings.Contains(out, `"labelEn":  "Drones"`) {
			t.Errorf("themes json %v: exit %d\n%s%s", args, code, out, stderr)
		}
		code, out, stderr = runTagctl(t, append([]string{"ruleset"}, args...)...)
		if code != 0 || !strings.Contains(out, "embedded:default.yaml") || !strings.Contains(out, "themes      5") {
			t.Errorf("ruleset %v: exit %d\n%s%s", args, code, out, stderr)
		}
	}
	// The JSON formats are what the REST routes answer, message for message.
	for _, tc := range []struct {
		cmd, route  string
		tagctl, api proto.Message
	}{
		{"themes", "/v1/themes", new(pb.ListThemesResponse), new(pb.ListThemesResponse)},
		{"ruleset", "/v1/ruleset", new(pb.GetRulesetResponse), new(pb.GetRulesetResponse)},
	} {
		resp, err := http.Get(srv.HTTPURL() + tc.route)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := protojson.Unmarshal(body, tc.api); err != nil {
			t.Fatalf("GET %s: %v: %s", tc.route, err, body)
		}
		for _, args := range [][]string{{"--addr", srv.Addr()}, {"--rest", srv.HTTPURL()}} {
			code, out, stderr := runTagctl(t, append([]string{tc.cmd, "--format", "json"}, args...)...)
			proto.Reset(tc.tagctl)
			if err := protojson.Unmarshal([]byte(out), tc.tagctl); code != 0 || err != nil || !proto.Equal(tc.tagctl, tc.api) {
				t.Errorf("%s --format json %v: exit %d, %v: want GET %s's answer %v, got\n%s%s", tc.cmd, args, code, err, tc.route, tc.api, out, stderr)
			}
		}
	}
	if code, _, stderr := runTagctl(t, "ruleset", "--format", "yaml"); code != 2 || !strings.Contains(stderr, `--format "yaml": want text or json`) {
		t.Errorf("ruleset --format yaml: exit %d: %s", code, stderr)
	}
	code, _, stderr := runTagctl(t, "ruleset", "--addr", "127.0.0.1:1", "--timeout", "1s")
	if code != 1 || !strings.Contains(stderr, "Unavailable") && !strings.Contains(stderr, "DeadlineExceeded") {
		t.Errorf("no server: exit %d: %s", code, stderr)
	}
}

// TestTagTitles: a line's "title" is sent and tagged as the title (its
// evidence inTitle), and --title-first-line makes a text's first line its
// title; over gRPC and in process alike.
func TestTagTitles(t *testing.T) {
	srv := clienttest.Start(t, nil)
	in := writeTemp(t, "docs.ndjson", `{"id": "a", "title": "Trí tuệ nhân tạo", "text": "Bài về thời tiết."}
{"id": "b", "text": "Trí tuệ nhân tạo\nBài về thời tiết."}
`)
	for _, where := range [][]string{{"--addr", srv.Addr()}, {"--local"}} {
		for _, split := range []bool{false, true} {
			args := append([]string{"tag", "--evidence", "--ordered", in}, where...)
			if split {
				args = append(args, "--title-first-line")
			}
			code, out, stderr := runTagctl(t, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("%v: %s", args, out)
			}
			if !strings.Contains(lines[0], `"inTitle":true`) || !strings.Contains(lines[0], `"words":4`) {
				t.Errorf("%v: the title of a: %s", args, lines[0])
			}
			if got := strings.Contains(lines[1], `"inTitle":true`); got != split {
				t.Errorf("%v: b's first line taken as its title: %v, want %v: %s", args, got, split, lines[1])
			}
		}
	}
}
