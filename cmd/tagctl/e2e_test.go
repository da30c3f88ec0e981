package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
	"github.com/doctagger/doctagger/client"
	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/server"
	"github.com/doctagger/doctagger/tagger"
)

func TestMain(m *testing.M) {
	// The test binary doubles as tagctl: with TAGCTL_TEST_MAIN=1 it runs
	// main, as a process that a test can kill.
	if os.Getenv("TAGCTL_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// The tests must not see the caller's DOCTAGGER_* variables.
	lookupEnv = func(string) (string, bool) { return "", false }
	os.Exit(m.Run())
}

// writeNDJSON writes n generated documents; text(i) gives each text.
func writeNDJSON(t *testing.T, dir string, n int, text func(i int) string) string {
	t.Helper()
	path := filepath.Join(dir, "docs.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range n {
		enc.Encode(map[string]string{"id": fmt.Sprintf("doc-%06d", i), "text": text(i)})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

type outLine struct {
	ID             string
	RulesetVersion string
	Tags           []outTag
	Error          *struct {
		Code, Message string // the code's name: INVALID_ARGUMENT
	}
	res *pb.DocumentResult
}

type outTag struct {
	Theme string
	Score float64
}

// parseResult reads one line of tagctl's NDJSON output as a line of the
// REST NDJSON stream: {"result": DocumentResult} in the API's JSON, no
// unknown field.
func parseResult(t *testing.T, line string) *pb.DocumentResult {
	t.Helper()
	var resp pb.StreamTagDocumentsResponse
	if err := protojson.Unmarshal([]byte(line), &resp); err != nil || resp.GetResult() == nil {
		t.Fatalf("output line %q is not a REST stream result line: %v", line, err)
	}
	return resp.GetResult()
}

// parseOutput reads NDJSON output and fails on a duplicate id.
func parseOutput(t *testing.T, out string) map[string]outLine {
	t.Helper()
	got := map[string]outLine{}
	for line := range strings.Lines(out) {
		res := parseResult(t, line)
		l := outLine{ID: res.GetDocumentId(), RulesetVersion: res.GetRulesetVersion(), res: res}
		for _, tg := range res.GetTags() {
			l.Tags = append(l.Tags, outTag{Theme: tg.GetTheme(), Score: tg.GetScore()})
		}
		if e := res.GetError(); e != nil {
			l.Error = &struct{ Code, Message string }{codeName(codes.Code(e.GetCode())), e.GetMessage()}
		}
		if _, dup := got[l.ID]; dup {
			t.Fatalf("document %s is in the output twice", l.ID)
		}
		got[l.ID] = l
	}
	return got
}

// tagctlAsync runs tagctl in the background.
func tagctlAsync(t *testing.T, args ...string) <-chan [3]any {
	done := make(chan [3]any, 1)
	go func() {
		var out, errb strings.Builder
		code := run(args, &out, &errb)
		done <- [3]any{code, out.String(), errb.String()}
	}()
	return done
}

func wait(t *testing.T, done <-chan [3]any) (int, string, string) {
	t.Helper()
	select {
	case r := <-done:
		return r[0].(int), r[1].(string), r[2].(string)
	case <-time.After(2 * time.Minute):
		t.Fatal("tagctl did not finish in 2 minutes")
	}
	return 0, "", ""
}

// whenDone calls f once the servers together have tagged n documents, or
// gives up when stop is closed.
func whenDone(servers []*clienttest.Server, n int64, stop <-chan [3]any, f func()) (fired chan bool) {
	fired = make(chan bool, 1)
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var sum int64
			for _, s := range servers {
				sum += s.Documents()
			}
			if sum >= n {
				f()
				fired <- true
				return
			}
			select {
			case <-tick.C:
			case <-stop:
				fired <- false
				return
			}
		}
	}()
	return fired
}

// TestTagReplicaKilled: three servers, 20,000 documents, one server killed
// (every connection cut, no graceful shutdown) in the middle: the output
// has every id exactly once with its tags, and the work was spread.
func TestTagReplicaKilled(t *testing.T) {
	servers := []*clienttest.Server{clienttest.Start(t, nil), clienttest.Start(t, nil), clienttest.Start(t, nil)}
	const n = 20000
	input := writeNDJSON(t, t.TempDir(), n, func(i int) string {
		text, _ := clienttest.Sentence(i)
		return text
	})
	addr := servers[0].Addr() + "," + servers[1].Addr() + "," + servers[2].Addr()

	start := time.Now()
	done := tagctlAsync(t, "tag", "--addr", addr, "--concurrency", "6", input)
	stopWatch := make(chan [3]any)
	fired := whenDone(servers, n/3, stopWatch, servers[1].Kill)
	code, out, stderr := wait(t, done)
	close(stopWatch)
	elapsed := time.Since(start)
	if !<-fired {
		t.Fatal("the run ended before a server was killed")
	}
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := parseOutput(t, out)
	if len(got) != n {
		t.Fatalf("%d results for %d documents", len(got), n)
	}
	for i := range n {
		id := fmt.Sprintf("doc-%06d", i)
		l, ok := got[id]
		if !ok {
			t.Fatalf("%s missing from the output", id)
		}
		if l.Error != nil || len(l.Tags) != 1 || l.Tags[0].Theme != sentenceTheme(i) || l.RulesetVersion == "" {
			t.Fatalf("%s: %+v", id, l)
		}
	}
	counts := []int64{servers[0].Documents(), servers[1].Documents(), servers[2].Documents()}
	t.Logf("%d documents in %s (%.0f/s); per server %v", n, elapsed.Round(time.Millisecond), n/elapsed.Seconds(), counts)
	t.Logf("summary:\n%s", stderr)
	for i, c := range counts {
		if c < n/20 {
			t.Errorf("server %d tagged only %d documents: work not spread (%v)", i, c, counts)
		}
	}
	if counts[1] >= n/2 {
		t.Errorf("the killed server tagged %d of %d documents", counts[1], n)
	}
	if !strings.Contains(stderr, fmt.Sprintf("%d documents, 0 failed", n)) {
		t.Errorf("summary: %s", stderr)
	}
}

// Two test rulesets: v2 adds the theme "forest".
const rulesV1 = `name: e2e
themes:
  - id: space
    label: {vi: Vũ trụ, en: Space}
    description: rockets
    threshold: 0.5
    terms:
      - {text: tên lửa}
`

const rulesV2 = rulesV1 + `  - id: forest
    label: {vi: Rừng, en: Forest}
    description: forests
    threshold: 0.5
    terms:
      - {text: rừng nguyên sinh}
`

func rulesetVersion(t *testing.T, path string) string {
	t.Helper()
	rs, err := tagger.LoadRuleset(path)
	if err != nil {
		t.Fatal(err)
	}
	return rs.Version
}

// TestTagRulesetChange: mid-run, one server is restarted with a changed
// ruleset and the other reloads it from a ConfigMap-style mount: every
// result names the version that produced it, and its tags agree with that
// version.
func TestTagRulesetChange(t *testing.T) {
	dir := t.TempDir()
	v1File := filepath.Join(dir, "v1.yaml")
	v2File := filepath.Join(dir, "v2.yaml")
	os.WriteFile(v1File, []byte(rulesV1), 0o644)
	os.WriteFile(v2File, []byte(rulesV2), 0o644)
	v1, v2 := rulesetVersion(t, v1File), rulesetVersion(t, v2File)

	mount := filepath.Join(dir, "configmap")
	os.Mkdir(mount, 0o755)
	mounted := clienttest.WriteRules(t, mount, rulesV1)

	a := clienttest.Start(t, func(c *server.Config) { c.RulesPath = v1File; c.WatchRules = false })
	b := clienttest.Start(t, func(c *server.Config) { c.RulesPath = mounted; c.WatchRules = false })

	const n = 20000
	input := writeNDJSON(t, dir, n, func(i int) string {
		return fmt.Sprintf("Bảo vệ rừng nguyên sinh và phóng tên lửa, bản tin %d.", i)
	})
	done := tagctlAsync(t, "tag", "--addr", a.Addr()+","+b.Addr(), "--concurrency", "4", input)
	stopWatch := make(chan [3]any)
	fired := whenDone([]*clienttest.Server{a, b}, n/3, stopWatch, func() {
		a.Stop()
		a.Restart(func(c *server.Config) { c.RulesPath = v2File; c.WatchRules = false })
		clienttest.WriteRules(t, mount, rulesV2)
		if err := b.Reload(); err != nil {
			t.Error(err)
		}
	})
	code, out, stderr := wait(t, done)
	close(stopWatch)
	if !<-fired {
		t.Fatal("the run ended before the ruleset changed")
	}
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	got := parseOutput(t, out)
	if len(got) != n {
		t.Fatalf("%d results for %d documents", len(got), n)
	}
	perVersion := map[string]int{}
	for id, l := range got {
		perVersion[l.RulesetVersion]++
		var themes []string
		for _, tag := range l.Tags {
			themes = append(themes, tag.Theme)
		}
		want := map[string]string{v1: "space", v2: "forest space"}[l.RulesetVersion]
		if want == "" || strings.Join(slices.Sorted(slices.Values(themes)), " ") != want {
			t.Fatalf("%s: version %q, tags %v", id, l.RulesetVersion, themes)
		}
	}
	t.Logf("per version: %v", perVersion)
	if perVersion[v1] == 0 || perVersion[v2] == 0 {
		t.Fatalf("both versions should appear: %v", perVersion)
	}
}

// TestConfigMapHotReload: taggerd watching a ruleset mounted from a
// ConfigMap (a symlink through ..data, swapped by renaming ..data) picks
// up a change without a restart or a SIGHUP.
func TestConfigMapHotReload(t *testing.T) {
	mount := t.TempDir()
	path := clienttest.WriteRules(t, mount, rulesV1)
	srv := clienttest.Start(t, func(c *server.Config) { c.RulesPath = path; c.WatchRules = true })
	c, err := client.New(srv.Addr(), client.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rs, err := c.GetRuleset(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := rs.GetVersion()
	time.Sleep(100 * time.Millisecond) // let the watcher start
	clienttest.WriteRules(t, mount, rulesV2)
	deadline := time.Now().Add(5 * time.Second)
	for {
		rs, err := c.GetRuleset(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rs.GetVersion() != first {
			if rs.GetThemeCount() != 2 {
				t.Fatalf("reloaded ruleset has %d themes", rs.GetThemeCount())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still serves %s 5 s after the ConfigMap changed", first)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sentenceTheme(i int) string {
	_, theme := clienttest.Sentence(i)
	return theme
}
