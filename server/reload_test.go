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

// Reload while a stream runs: every result is complete and names the
// version that produced it.
func TestReloadDuringStream(t *testing.T) {
	ts := start(t, func(c *Config) { c.WatchRules = false })
	ctx := ctxT(t)
	v1 := ts.srv.rules.current().tagger.Version()
	stream, err := ts.client.StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	go func() {
		for i := 1; i <= n; i++ {
			if i == n/2 {
				writeFile(t, ts.cfg.RulesPath, rulesV2)
				if err := ts.srv.Reload(); err != nil {
					t.Errorf("reload: %v", err)
				}
			}
			if stream.Send(&pb.StreamTagDocumentsRequest{Document: doc("x", forestText)}) != nil {
				return
			}
		}
		stream.CloseSend()
	}()
	got, err := recvAll(t, stream)
	if err != nil || len(got) != n {
		t.Fatalf("%d results, %v", len(got), err)
	}
	v2 := ts.srv.rules.current().tagger.Version()
	for seq, r := range got {
		forest := false
		for _, tag := range r.Tags {
			forest = forest || tag.Theme == "forest"
		}
		switch r.RulesetVersion {
		case v1:
			if forest {
				t.Fatalf("seq %d: v1 result with a v2 theme", seq)
			}
		case v2:
			if !forest {
				t.Fatalf("seq %d: v2 result without forest", seq)
			}
		default:
			t.Fatalf("seq %d: version %q", seq, r.RulesetVersion)
		}
	}
	if got[n].RulesetVersion != v2 || got[1].RulesetVersion != v1 {
		t.Fatalf("first %s, last %s", got[1].RulesetVersion, got[n].RulesetVersion)
	}
}
