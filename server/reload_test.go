package server

import (
	"os"
	"strings"
	"testing"
	"time"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

const forestText = "Bảo vệ rừng nguyên sinh và phóng vệ tinh tên lửa."

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHotReload(t *testing.T) {
	ts := start(t, nil)
	ctx := ctxT(t)
	version := func() string {
		gr, err := ts.client.GetRuleset(ctx, &pb.GetRulesetRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return gr.Ruleset.Version
	}
	tagThemes := func() (map[string]bool, string) {
		resp, err := ts.client.TagDocument(ctx, &pb.TagDocumentRequest{Document: doc("f", forestText)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, tag := range resp.Result.Tags {
			m[tag.Theme] = true
		}
		return m, resp.Result.RulesetVersion
	}
	v1 := version()
	if th, v := tagThemes(); th["forest"] || !th["space"] || v != v1 {
		t.Fatalf("v1: %v %s", th, v)
	}

	// A good file is picked up by the watcher; results name the new version.
	writeFile(t, ts.cfg.RulesPath, rulesV2)
	waitFor(t, "the watcher to load v2", func() bool { return version() != v1 })
	v2 := version()
	if th, v := tagThemes(); !th["forest"] || v != v2 {
		t.Fatalf("v2: %v %s", th, v)
	}
	if got := metricValue(t, ts.srv, "doctagger_ruleset_reloads_total", "success"); got < 1 {
		t.Fatalf("success reloads = %v", got)
	}
	// doctagger_ruleset_info names the serving ruleset, and only it.
	if all, cur := metricValue(t, ts.srv, "doctagger_ruleset_info", ""), metricValue(t, ts.srv, "doctagger_ruleset_info", v2); all != 1 || cur != 1 {
		t.Fatalf("doctagger_ruleset_info: %v series, %v for %s; want exactly the serving one", all, cur, v2)
	}

	// A bad file is rejected with the problems logged and a metric; v2 keeps serving.
	writeFile(t, ts.cfg.RulesPath, rulesBad)
	waitFor(t, "the failed reload", func() bool {
		return metricValue(t, ts.srv, "doctagger_ruleset_reloads_total", "failure") >= 1
	})
	if v := version(); v != v2 {
		t.Fatalf("bad file replaced the rules: %s", v)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "ruleset reload failed") || !strings.Contains(logs, "problems=") || !strings.Contains(logs, "colour") {
		t.Fatalf("the failure does not list the problems:\n%s", logs)
	}
	// Reload (SIGHUP in taggerd) reports the same error; still v2.
	if err := ts.srv.Reload(); err == nil || !strings.Contains(err.Error(), "weight") {
		t.Fatalf("Reload of a bad file: %v", err)
	}
	if th, v := tagThemes(); !th["forest"] || v != v2 {
		t.Fatalf("after bad reload: %v %s", th, v)
	}

	// A rename over the file (as editors do) is seen too.
	tmp := ts.cfg.RulesPath + ".tmp"
	writeFile(t, tmp, rulesV1)
	if err := os.Rename(tmp, ts.cfg.RulesPath); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to load v1 again", func() bool { return version() == v1 })
}

// Reload in the middle of a stream: the documents before it are tagged by
// v1, the ones after by v2, and every result names its version.
func TestReloadDuringStream(t *testing.T) {
	ts := start(t, func(c *Config) { c.WatchRules = false })
	ctx := ctxT(t)
	v1 := ts.srv.rules.Current().Tagger.Version()
	stream, err := ts.client.StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const half = 100
	phase := func(wantVersion string, wantForest bool) {
		t.Helper()
		go func() {
			for range half {
				if stream.Send(&pb.StreamTagDocumentsRequest{Document: doc("x", forestText)}) != nil {
					return
				}
			}
		}()
		for range half {
			resp, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			forest := false
			for _, tag := range resp.Result.Tags {
				forest = forest || tag.Theme == "forest"
			}
			if resp.Result.RulesetVersion != wantVersion || forest != wantForest {
				t.Fatalf("seq %d: version %s forest %v", resp.Result.Sequence, resp.Result.RulesetVersion, forest)
			}
		}
	}
	phase(v1, false)
	writeFile(t, ts.cfg.RulesPath, rulesV2)
	if err := ts.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	v2 := ts.srv.rules.Current().Tagger.Version()
	if v2 == v1 {
		t.Fatal("version unchanged")
	}
	phase(v2, true)
	stream.CloseSend()
	if _, err := stream.Recv(); err == nil {
		t.Fatal("want the end of the stream")
	}
}

// TestHalfWrittenRulesNeverServed: a rules file written in place in two
// pieces, the first of which is valid YAML on its own (one theme of two),
// is reloaded once, whole: the half-written ruleset never serves. Before,
// a 150 ms debounce put it into service for the time between the pieces.
func TestHalfWrittenRulesNeverServed(t *testing.T) {
	ts := start(t, func(c *Config) { c.RulesSettle = 800 * time.Millisecond })
	before := metricValue(t, ts.srv, "doctagger_ruleset_reloads_total", "success")
	full := rulesV2
	half := full[:strings.Index(full, "  - id: ocean")] // the first theme: valid on its own
	f, err := os.OpenFile(ts.cfg.RulesPath, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(half)
	f.Sync()
	seen := map[int]bool{} // theme counts served
	watch := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			seen[len(ts.srv.rules.Current().Tagger.Ruleset().Themes)] = true
		}
	}
	watch(500 * time.Millisecond) // the writer pauses
	f.WriteString(full[len(half):])
	f.Close()
	waitFor(t, "the whole file to load", func() bool { return len(ts.srv.rules.Current().Tagger.Ruleset().Themes) == 3 })
	watch(200 * time.Millisecond)
	if seen[1] {
		t.Fatalf("the half-written ruleset (1 theme) served; theme counts seen: %v", seen)
	}
	if got := metricValue(t, ts.srv, "doctagger_ruleset_reloads_total", "success") - before; got != 1 {
		t.Errorf("%v successful reloads, want 1", got)
	}
}
