package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/doctagger/doctagger/tagger"
)

func load(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// The ruleset shipped in the ConfigMap must load and compile.
func TestRulesCompile(t *testing.T) {
	rs, err := tagger.LoadRuleset("rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tagger.Compile(rs); err != nil {
		t.Fatal(err)
	}
	// It starts as the default rules, so that a deployment behaves like the
	// binary's embedded rules until someone edits it; keep them in step.
	def, err := tagger.DefaultRuleset()
	if err != nil {
		t.Fatal(err)
	}
	if rs.Version != def.Version {
		t.Errorf("deploy/rules.yaml (%s) differs from rules/default.yaml (%s): cp rules/default.yaml deploy/rules.yaml", rs.Version, def.Version)
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	var k struct {
		Resources          []string
		ConfigMapGenerator []struct {
			Name    string
			Files   []string
			Options struct {
				DisableNameSuffixHash bool `yaml:"disableNameSuffixHash"`
			}
		} `yaml:"configMapGenerator"`
	}
	load(t, "kustomization.yaml", &k)
	files, _ := filepath.Glob("*.yaml")
	for _, f := range files {
		if f == "kustomization.yaml" || f == "rules.yaml" {
			continue
		}
		if !slices.Contains(k.Resources, f) {
			t.Errorf("%s is not in kustomization.yaml resources", f)
		}
	}
	if len(k.ConfigMapGenerator) != 1 || k.ConfigMapGenerator[0].Name != "doctagger-rules" ||
		!slices.Contains(k.ConfigMapGenerator[0].Files, "rules.yaml") || !k.ConfigMapGenerator[0].Options.DisableNameSuffixHash {
		t.Errorf("the rules ConfigMap must be generated from rules.yaml with a stable name (hot reload, not a rollout): %+v", k.ConfigMapGenerator)
	}
}

type probe struct {
	GRPC *struct {
		Port    int
		Service string
	} `yaml:"grpc"`
}

func TestDeployment(t *testing.T) {
	var d struct {
		Spec struct {
			Template struct {
				Spec struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
					SecurityContext               struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
					} `yaml:"securityContext"`
					Containers []struct {
						Args           []string
						ReadinessProbe probe `yaml:"readinessProbe"`
						LivenessProbe  probe `yaml:"livenessProbe"`
						Resources      struct {
							Requests map[string]string
							Limits   map[string]string
						}
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
							SubPath   string `yaml:"subPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name      string
						ConfigMap *struct{ Name string } `yaml:"configMap"`
					}
				}
			}
		}
	}
	load(t, "deployment.yaml", &d)
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if p := c.ReadinessProbe.GRPC; p == nil || p.Port != 9090 || p.Service != "tagger.v1.TaggerService" {
		t.Errorf("readiness probe: want gRPC health of tagger.v1.TaggerService on 9090, got %+v", p)
	}
	if p := c.LivenessProbe.GRPC; p == nil || p.Port != 9090 {
		t.Errorf("liveness probe: want gRPC health on 9090, got %+v", p)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
			t.Errorf("resources: %s request and limit wanted: %+v", r, c.Resources)
		}
	}
	if !spec.SecurityContext.RunAsNonRoot {
		t.Error("runAsNonRoot is not set")
	}
	// --shutdown-grace (15 s) + 5 s force-stop + 5 s preStop must fit.
	if spec.TerminationGracePeriodSeconds < 25 {
		t.Errorf("terminationGracePeriodSeconds %d < 25", spec.TerminationGracePeriodSeconds)
	}

	// --rules names a file in the ConfigMap volume, mounted whole (a
	// subPath mount never sees ConfigMap updates).
	var rulesPath string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--rules="); ok {
			rulesPath = v
		}
	}
	if rulesPath == "" {
		t.Fatal("no --rules argument")
	}
	found := false
	for _, m := range c.VolumeMounts {
		if filepath.Join(m.MountPath, filepath.Base(rulesPath)) != rulesPath {
			continue
		}
		found = true
		if m.SubPath != "" {
			t.Errorf("the rules volume is mounted with subPath %q: ConfigMap updates would never arrive", m.SubPath)
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && (v.ConfigMap == nil || v.ConfigMap.Name != "doctagger-rules") {
				t.Errorf("volume %s is not the doctagger-rules ConfigMap", v.Name)
			}
		}
	}
	if !found || filepath.Base(rulesPath) != "rules.yaml" {
		t.Errorf("--rules=%s is not rules.yaml in a mounted volume", rulesPath)
	}
}

func TestServices(t *testing.T) {
	var grpc, http struct {
		Spec struct {
			ClusterIP string `yaml:"clusterIP"`
			Type      string
			Ports     []struct{ Port int }
		}
	}
	load(t, "service-grpc.yaml", &grpc)
	load(t, "service-http.yaml", &http)
	if grpc.Spec.ClusterIP != "None" || len(grpc.Spec.Ports) != 1 || grpc.Spec.Ports[0].Port != 9090 {
		t.Errorf("the gRPC Service must be headless on 9090: %+v", grpc.Spec)
	}
	if http.Spec.ClusterIP == "None" || len(http.Spec.Ports) != 1 || http.Spec.Ports[0].Port != 8080 {
		t.Errorf("the HTTP Service must be a ClusterIP on 8080: %+v", http.Spec)
	}
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/taggerd", "./cmd/tagctl", "USER 65532:65532", "AS build", "COPY --from=build"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// TestBatchJob: the batch recipe (deploy/batch) is an Indexed Job whose pod
// I runs tagctl tag --shard $(JOB_COMPLETION_INDEX)/N --resume with N the
// Job's completions, each shard writing a file of its own on the data
// volume, the index declared for the expansion of the arguments.
func TestBatchJob(t *testing.T) {
	var k struct{ Resources []string }
	load(t, "batch/kustomization.yaml", &k)
	if !slices.Contains(k.Resources, "job.yaml") || !slices.Contains(k.Resources, "pvc.yaml") {
		t.Fatalf("batch/kustomization.yaml resources: %v", k.Resources)
	}
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Parallelism    int
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Name    string
						Command []string
						Args    []string
						Env     []struct {
							Name      string
							ValueFrom struct {
								FieldRef struct {
									FieldPath string `yaml:"fieldPath"`
								} `yaml:"fieldRef"`
							} `yaml:"valueFrom"`
						}
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name                  string
						PersistentVolumeClaim struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	load(t, "batch/job.yaml", &job)
	s := job.Spec
	if job.Kind != "Job" || s.CompletionMode != "Indexed" || s.Completions < 1 || s.Parallelism < 1 {
		t.Fatalf("want an Indexed Job: %+v", job)
	}
	if s.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("restartPolicy %q: podFailurePolicy needs Never", s.Template.Spec.RestartPolicy)
	}
	c := s.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if len(c.Command) != 1 || !strings.HasSuffix(c.Command[0], "/tagctl") || len(c.Args) == 0 || c.Args[0] != "tag" {
		t.Errorf("the container runs %v %v, want tagctl tag", c.Command, c.Args)
	}
	n := strconv.Itoa(s.Completions)
	for _, want := range []string{"--shard=$(JOB_COMPLETION_INDEX)/" + n, "--resume", "--output=/data/out/tags-$(JOB_COMPLETION_INDEX)-of-" + n + ".ndjson.gz"} {
		if !strings.Contains(args, want) {
			t.Errorf("the args %q lack %q (completions: %s)", args, want, n)
		}
	}
	declared := false
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" && strings.Contains(e.ValueFrom.FieldRef.FieldPath, "batch.kubernetes.io/job-completion-index") {
			declared = true
		}
	}
	if !declared {
		t.Error("JOB_COMPLETION_INDEX is not declared in env: $(JOB_COMPLETION_INDEX) in args would not expand")
	}
	if len(c.VolumeMounts) == 0 || c.VolumeMounts[0].MountPath != "/data" || len(s.Template.Spec.Volumes) == 0 ||
		s.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "doctagger-batch-data" {
		t.Errorf("the data volume: mounts %+v, volumes %+v", c.VolumeMounts, s.Template.Spec.Volumes)
	}
}
