package deploy

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/doctagger/doctagger/client/clienttest"
	"github.com/doctagger/doctagger/internal/middleware"
	"github.com/doctagger/doctagger/server"
)

// The monitoring component (deploy/monitoring): a kustomize Component with
// the ServiceMonitor and the dashboard's ConfigMap for the Grafana sidecar.
func TestMonitoringComponent(t *testing.T) {
	var k struct {
		APIVersion         string `yaml:"apiVersion"`
		Kind               string
		Resources          []string
		ConfigMapGenerator []struct {
			Name    string
			Files   []string
			Options struct {
				Labels                map[string]string
				DisableNameSuffixHash bool `yaml:"disableNameSuffixHash"`
			}
		} `yaml:"configMapGenerator"`
	}
	load(t, "monitoring/kustomization.yaml", &k)
	if k.APIVersion != "kustomize.config.k8s.io/v1alpha1" || k.Kind != "Component" {
		t.Errorf("monitoring/kustomization.yaml is %s %s, want a kustomize.config.k8s.io/v1alpha1 Component", k.APIVersion, k.Kind)
	}
	files, _ := filepath.Glob("monitoring/*.yaml")
	for _, f := range files {
		if f = filepath.Base(f); f != "kustomization.yaml" && !slices.Contains(k.Resources, f) {
			t.Errorf("monitoring/%s is not in monitoring/kustomization.yaml resources", f)
		}
	}
	if len(k.ConfigMapGenerator) != 1 || !slices.Contains(k.ConfigMapGenerator[0].Files, "dashboard.json") ||
		k.ConfigMapGenerator[0].Options.Labels["grafana_dashboard"] != "1" || !k.ConfigMapGenerator[0].Options.DisableNameSuffixHash {
		t.Errorf("want one ConfigMap generated from dashboard.json, labelled grafana_dashboard: \"1\" for the Grafana sidecar, with a stable name: %+v", k.ConfigMapGenerator)
	}
}

type service struct {
	Metadata struct {
		Name   string
		Labels map[string]string
	}
	Spec struct {
		Ports []struct {
			Name       string
			Port       int
			TargetPort string `yaml:"targetPort"`
		}
	}
}

// serviceLabels are the labels of a Service once built: its own and the
// kustomization's (labels: pairs).
func serviceLabels(t *testing.T, s service) map[string]string {
	var k struct {
		Labels []struct{ Pairs map[string]string }
	}
	load(t, "kustomization.yaml", &k)
	l := maps.Clone(s.Metadata.Labels)
	if l == nil {
		l = map[string]string{}
	}
	for _, p := range k.Labels {
		maps.Copy(l, p.Pairs)
	}
	return l
}

// TestServiceMonitor: the ServiceMonitor selects doctagger-http by its
// labels and scrapes /metrics on its http port, and no other Service of
// deploy/ is both selected and has that port (taggerd scraped twice).
func TestServiceMonitor(t *testing.T) {
	var sm struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Spec       struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			}
			NamespaceSelector map[string]any `yaml:"namespaceSelector"`
			Endpoints         []struct {
				Port string
				Path string
			}
		}
	}
	load(t, "monitoring/servicemonitor.yaml", &sm)
	if sm.APIVersion != "monitoring.coreos.com/v1" || sm.Kind != "ServiceMonitor" {
		t.Fatalf("monitoring/servicemonitor.yaml is %s %s", sm.APIVersion, sm.Kind)
	}
	if len(sm.Spec.Selector.MatchLabels) == 0 || len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("want a label selector and one endpoint: %+v", sm.Spec)
	}
	if sm.Spec.NamespaceSelector != nil {
		t.Errorf("namespaceSelector %v: the Service is in the ServiceMonitor's own namespace (the kustomization's namespace: sets both)", sm.Spec.NamespaceSelector)
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Path != "" && ep.Path != "/metrics" {
		t.Errorf("the endpoint's path is %q, taggerd serves /metrics", ep.Path)
	}
	selects := func(labels map[string]string) bool {
		for k, v := range sm.Spec.Selector.MatchLabels {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	hasPort := func(s service) bool {
		return slices.ContainsFunc(s.Spec.Ports, func(p struct {
			Name       string
			Port       int
			TargetPort string `yaml:"targetPort"`
		}) bool {
			return p.Name == ep.Port
		})
	}
	var httpSvc, grpcSvc service
	load(t, "service-http.yaml", &httpSvc)
	load(t, "service-grpc.yaml", &grpcSvc)
	if l := serviceLabels(t, httpSvc); !selects(l) {
		t.Errorf("the selector %v does not select doctagger-http (labels %v)", sm.Spec.Selector.MatchLabels, l)
	}
	if !hasPort(httpSvc) {
		t.Errorf("doctagger-http has no port named %q: %+v", ep.Port, httpSvc.Spec.Ports)
	}
	if selects(serviceLabels(t, grpcSvc)) && hasPort(grpcSvc) {
		t.Errorf("the ServiceMonitor scrapes doctagger-grpc's %q port too", ep.Port)
	}
}

type dashboard struct {
	Title      string
	UID        string
	Templating struct {
		List []struct {
			Name  string
			Type  string
			Query any
		}
	}
	Panels []panel
}

type panel struct {
	ID         int
	Type       string
	Title      string
	Datasource *struct{ Type, UID string }
	Targets    []struct {
		RefID      string `json:"refId"`
		Expr       string
		Datasource *struct{ Type, UID string }
	}
	Panels []panel // a collapsed row's
}

// TestDashboard: dashboard.json is a Grafana dashboard whose panels all
// have a title and queries on the ${datasource} variable (a Prometheus data
// source), and whose queries name only metrics that taggerd exports.
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile("monitoring/dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("the dashboard needs a title and a uid (the sidecar and links find it by uid): %q %q", d.Title, d.UID)
	}
	hasDS := false
	queries := map[string][]string{} // where -> PromQL
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			hasDS = hasDS || v.Name == "datasource" && v.Query == "prometheus"
		case "query":
			q := v.Query
			if m, ok := q.(map[string]any); ok {
				q = m["query"]
			}
			s, _ := q.(string)
			if s == "" {
				t.Errorf("variable %s has no query", v.Name)
			}
			// label_values(selector, label): the selector is PromQL.
			if m := regexp.MustCompile(`^label_values\((.*),\s*\w+\)$`).FindStringSubmatch(s); m != nil {
				s = m[1]
			}
			queries["variable "+v.Name] = append(queries["variable "+v.Name], s)
		}
	}
	if !hasDS {
		t.Error(`no template variable "datasource" of type datasource (query prometheus)`)
	}
	var panels []panel
	for _, p := range d.Panels {
		panels = append(panels, p)
		panels = append(panels, p.Panels...)
	}
	ids := map[int]bool{}
	for _, p := range panels {
		if p.Title == "" {
			t.Errorf("panel %d (%s) has no title", p.ID, p.Type)
		}
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want uid ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q: target %s has no expr", p.Title, tg.RefID)
			}
			if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: target %s datasource %+v, want uid ${datasource}", p.Title, tg.RefID, tg.Datasource)
			}
			queries["panel "+p.Title] = append(queries["panel "+p.Title], tg.Expr)
		}
	}
	if len(panels) < 10 {
		t.Errorf("%d panels", len(panels))
	}

	exported := exportedMetrics(t)
	used := map[string]bool{}
	for where, exprs := range queries {
		for _, e := range exprs {
			names := metricNames(e)
			if len(names) == 0 && strings.HasPrefix(where, "panel") {
				t.Errorf("%s: no metric in %q", where, e)
			}
			for _, n := range names {
				used[n] = true
				if !exported[n] {
					t.Errorf("%s: %s is not a metric taggerd exports (in %q)", where, n, e)
				}
			}
		}
	}
	// The metrics docs/service.md promises operators are all on it.
	for _, n := range []string{"grpc_server_handled_total", "grpc_server_handling_seconds_bucket", "doctagger_calls_total",
		"doctagger_documents_total", "doctagger_tags_total", "doctagger_document_duration_seconds_bucket",
		"doctagger_streams_active", "doctagger_ruleset_info", "doctagger_ruleset_reloads_total",
		"doctagger_quota_exceeded_total", "doctagger_caller_documents_total", "doctagger_build_info",
		"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes"} {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}

// TestMetricNames: the extraction the dashboard test relies on finds the
// metric names of an expression, a misspelt one included, and not its
// label names, functions, keywords, strings or Grafana variables.
func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (version, go_version) (rate(doctagger_calls_totl{code!="OK", go_x=~"a|b"}[$__rate_interval])) / on (pod) group_left(version) doctagger_build_info`: {"doctagger_calls_totl", "doctagger_build_info"},
		`histogram_quantile(0.99, sum(rate(grpc_server_handling_seconds_bucket[5m] offset 1h)) without (grpc_code)) > bool 1e3`:                                    {"grpc_server_handling_seconds_bucket"},
		`time() - max(process_start_time_seconds{pod="x:y(z)"}) and up:ratio`:                                                                                      {"process_start_time_seconds", "up:ratio"},
		`doctagger_build_info{namespace="$namespace"}`:                                                                                                             {"doctagger_build_info"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %q, want %q", expr, got, want)
		}
	}
}

var (
	promStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promVars     = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`\b[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true, "start": true, "end": true}
)

// metricNames are the metric names an expression (PromQL, with Grafana
// variables) reads: its identifiers once strings, label matchers, ranges
// and grouping label lists are removed, but for functions (an identifier
// before "(") and keywords.
func metricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, `""`)
	e = promVars.ReplaceAllString(e, " ")
	e = promMatchers.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	var names []string
	for _, loc := range promIdent.FindAllStringIndex(e, -1) {
		id := e[loc[0]:loc[1]]
		if promKeywords[strings.ToLower(id)] || strings.HasPrefix(strings.TrimLeft(e[loc[1]:], " \t\n"), "(") {
			continue
		}
		names = append(names, id)
	}
	return names
}

// exportedMetrics are the names of the series taggerd exports (a histogram
// x as x_bucket, x_sum and x_count): server.New registers every metric, but
// a labelled metric appears only once it has a series, so the server runs
// and is given a REST call that tags and one refused over its quota.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	srv := clienttest.Start(t, func(cfg *server.Config) {
		cfg.Registry = nil // the server's own: with the Go and process collectors
		// One document now, the next in about 17 minutes.
		cfg.Quota = middleware.Quota{DocumentsPerSecond: 0.001, Burst: 1}
	})
	tag := func(want int) {
		resp, err := http.Post(srv.HTTPURL()+"/v1/documents:tag", "application/json",
			strings.NewReader(`{"document": {"id": "a1", "text": "Chính phủ đầu tư vào trí tuệ nhân tạo và chip bán dẫn."}}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST /v1/documents:tag: %s %s, want %d", resp.Status, body, want)
		}
	}
	tag(http.StatusOK)
	tag(http.StatusTooManyRequests)

	// The names as scraped: a histogram x comes as x_bucket, x_sum, x_count.
	resp, err := http.Get(srv.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s, %v", resp.Status, err)
	}
	names := map[string]bool{}
	for line := range strings.Lines(string(body)) {
		if i := strings.IndexAny(line, "{ "); i > 0 && line[0] != '#' {
			names[line[:i]] = true
		}
	}
	for _, n := range []string{"doctagger_tags_total", "doctagger_calls_total", "doctagger_caller_documents_total", "doctagger_quota_exceeded_total"} {
		if !names[n] {
			t.Errorf("%s has no series after a tagged document and a refused one", n)
		}
	}
	return names
}
