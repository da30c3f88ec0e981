package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/server"
)

// tagctlProcess starts tagctl as a process of its own (the test binary in
// TAGCTL_TEST_MAIN mode), with nothing of the caller's DOCTAGGER_*.
func tagctlProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCTAGGER_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "TAGCTL_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, &stderr
}

// readOutput reads an NDJSON output file (gzip when it ends in .gz): the
// result of each id, failing on an id written twice.
func readOutput(t *testing.T, path string) map[string]*pb.DocumentResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	got := map[string]*pb.DocumentResult{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		res := parseResult(t, sc.Text())
		if _, dup := got[res.GetDocumentId()]; dup {
			t.Fatalf("%s: document %s is written twice", path, res.GetDocumentId())
		}
		got[res.GetDocumentId()] = res
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return got
}

// TestShardsKillResume: two shards of 20,000 documents against two
// servers, each shard a tagctl process; one shard's process is killed
// (SIGKILL, mid-write) part-way and run again with --resume. Across the two
// outputs every id is there exactly once, tagged, in the shard its id
// hashes to; the resumed run tagged only what the killed one had not
// written; and its gzip output (a stream cut short by the kill, then
// appended to) reads whole.
func TestShardsKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	servers := []*clienttest.Server{clienttest.Start(t, nil), clienttest.Start(t, nil)}
	addr := servers[0].Addr() + "," + servers[1].Addr()
	const n = 20000
	dir := t.TempDir()
	input := writeNDJSON(t, dir, n, func(i int) string {
		text, _ := clienttest.Sentence(i)
		return strings.Repeat(text+" ", 8) // about 1 KB: a run long enough to kill
	})
	out0 := filepath.Join(dir, "part-0.ndjson")
	out1 := filepath.Join(dir, "part-1.ndjson.gz")
	args := func(i int, out string) []string {
		return []string{"tag", input, "--addr", addr, "--shard", fmt.Sprintf("%d/2", i), "--resume", "-o", out, "--concurrency", "2"}
	}

	// Shard 1 is killed once its output holds some results.
	victim, _ := tagctlProcess(t, args(1, out1)...)
	other, otherErr := tagctlProcess(t, args(0, out0)...)
	deadline := time.Now().Add(time.Minute)
	for {
		if fi, err := os.Stat(out1); err == nil && fi.Size() > 20<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("shard 1 wrote nothing in a minute")
		}
		time.Sleep(time.Millisecond)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := victim.Wait(); err == nil {
		t.Fatal("shard 1 finished before it was killed: make the run longer")
	}
	if err := other.Wait(); err != nil {
		t.Fatalf("shard 0: %v\n%s", err, otherErr)
	}

	// What the killed run left: a gzip stream cut short.
	partial := 0
	if f, err := os.Open(out1); err == nil {
		if zr, err := gzip.NewReader(f); err == nil {
			data, rerr := io.ReadAll(zr)
			partial = bytes.Count(data, []byte("\n"))
			t.Logf("the killed run left %d whole lines (read: %v)", partial, rerr)
		}
		f.Close()
	}

	resumed, resumedErr := tagctlProcess(t, args(1, out1)...)
	if err := resumed.Wait(); err != nil {
		t.Fatalf("resumed shard 1: %v\n%s", err, resumedErr)
	}
	summary := resumedErr.String()
	if !strings.Contains(summary, "resumed: ") {
		t.Errorf("the resumed run says nothing of the output it resumed:\n%s", summary)
	}
	t.Logf("resumed run:\n%s", summary)

	seen := map[string]int{}
	for shard, path := range []string{out0, out1} {
		for id, res := range readOutput(t, path) {
			seen[id]++
			if res.GetError() != nil || len(res.GetTags()) == 0 {
				t.Errorf("%s: %s: %v", path, id, res)
			}
			if s := shardOf(id, 2); s != shard {
				t.Errorf("%s is in shard %d's output; its id hashes to %d", id, shard, s)
			}
		}
	}
	for i := range n {
		id := fmt.Sprintf("doc-%06d", i)
		if seen[id] != 1 {
			t.Errorf("%s: written %d times across the shards", id, seen[id])
		}
	}
	if len(seen) != n {
		t.Errorf("%d ids in the outputs, want %d", len(seen), n)
	}
	// The resumed run tagged only what was missing.
	var tagged int
	if _, err := fmt.Sscanf(summary[strings.Index(summary, "tagctl tag: "):], "tagctl tag: %d documents", &tagged); err != nil {
		t.Fatalf("summary: %v\n%s", err, summary)
	}
	if total := len(readOutput(t, out1)); tagged+partial < total-5 || tagged >= total {
		t.Errorf("the resumed run tagged %d documents; %d were left by the killed run, %d in all", tagged, partial, total)
	}
}

// TestLocalLikeService: tag --local (the engine in this process) writes
// the same records as the service for the same rules and inputs: tags,
// scores, labels, evidence, untagged themes, words, ruleset version,
// sequence; failed lines alike; the same exit status.
func TestLocalLikeService(t *testing.T) {
	rules, _ := filepath.Abs("../../rules/default.yaml")
	srv := clienttest.Start(t, func(c *server.Config) { c.RulesPath = rules })
	dir := inputTree(t)
	input := writeNDJSON(t, t.TempDir(), 2000, func(i int) string {
		text, _ := clienttest.Sentence(i)
		return text
	})
	for _, flags := range [][]string{{"--evidence", "--untagged", "--ordered"}, {"--themes", "ai,drones", "--min-score", "0.6", "--ordered"}, {"--themes", "nope"}} {
		codeS, outS, errS := runTagctl(t, append(append([]string{"tag", "--addr", srv.Addr(), dir, input}, flags...), "-q")...)
		codeL, outL, errL := runTagctl(t, append(append([]string{"tag", "--rules", rules, dir, input}, flags...), "-q")...)
		if codeS != codeL {
			t.Errorf("%v: exit %d from the service, %d in process\n%s\n%s", flags, codeS, codeL, errS, errL)
		}
		service, local := parseOutput(t, outS), parseOutput(t, outL)
		if len(service) != len(local) || len(service) < 2000 {
			t.Fatalf("%v: %d results from the service, %d in process", flags, len(service), len(local))
		}
		for id, s := range service {
			l := local[id]
			if (s.Error == nil) != (l.Error == nil) || s.Error != nil && s.Error.Code != l.Error.Code {
				t.Errorf("%v: %s: service error %v, in process %v", flags, id, s.Error, l.Error)
				continue
			}
			if s.Error != nil {
				continue
			}
			if !proto.Equal(s.res, l.res) {
				t.Errorf("%v: %s differs:\n service:    %v\n in process: %v", flags, id, s.res, l.res)
			}
		}
	}
}
