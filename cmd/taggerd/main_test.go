package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/doctagger/doctagger/api/tagger/v1"
)

// The test binary doubles as taggerd: with TAGGERD_TEST_MAIN=1 it runs main.
func TestMain(m *testing.M) {
	if os.Getenv("TAGGERD_TEST_MAIN") == "1" {
		os.Args = append([]string{"taggerd"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type proc struct {
	cmd      *exec.Cmd
	grpcAddr string
	httpAddr string
	mu       sync.Mutex
	logs     bytes.Buffer
	exited   chan error
}

func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startTaggerd runs taggerd on random loopback ports with JSON logs and
// returns once it serves.
func startTaggerd(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	args = append([]string{"--grpc-addr=127.0.0.1:0", "--http-addr=127.0.0.1:0", "--log-format=json"}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "TAGGERD_TEST_MAIN=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, exited: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.logs.Write(line)
			p.logs.WriteByte('\n')
			p.mu.Unlock()
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "taggerd serving" {
				p.grpcAddr, _ = m["grpc"].(string)
				p.httpAddr, _ = m["http"].(string)
				once.Do(func() { close(ready) })
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("taggerd logs:\n%s", p.Logs())
		}
	})
	select {
	case <-ready:
	case err := <-p.exited:
		t.Fatalf("taggerd exited: %v\n%s", err, p.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("taggerd not serving after 30s\n%s", p.Logs())
	}
	return p
}

func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.exited:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("taggerd did not exit within 30s")
		return nil
	}
}

func client(t *testing.T, addr string) pb.TaggerServiceClient {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewTaggerServiceClient(conn)
}

const text = "Chính phủ đầu tư vào trí tuệ nhân tạo và chip bán dẫn."

// SIGTERM while a stream is in flight: the stream finishes, every document
// gets its result, and the process exits 0.
func TestSIGTERMDuringStream(t *testing.T) {
	p := startTaggerd(t, nil, "--shutdown-grace=20s")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := client(t, p.grpcAddr).StreamTagDocuments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	go func() {
		for i := 1; i <= n; i++ {
			if i == 500 {
				if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Errorf("signal: %v", err)
				}
			}
			if err := stream.Send(&pb.StreamTagDocumentsRequest{Document: &pb.Document{Id: fmt.Sprint(i), Text: text}}); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
			if i%100 == 0 {
				time.Sleep(5 * time.Millisecond) // keep the stream open across the signal
			}
		}
		stream.CloseSend()
	}()
	seen := map[int64]bool{}
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d results: %v", len(seen), err)
		}
		if resp.Result.Error != nil || len(resp.Result.Tags) == 0 {
			t.Fatalf("result %v", resp.Result)
		}
		seen[resp.Result.Sequence] = true
	}
	if len(seen) != n {
		t.Fatalf("%d results for %d documents", len(seen), n)
	}
	if err := p.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
	logs := p.Logs()
	if !strings.Contains(logs, "shutting down") || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Fatalf("no shutdown in logs")
	}
}

// SIGHUP reloads the rules file; a bad file keeps the old rules.
func TestSIGHUPReload(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	write := func(extra string) {
		data := "name: hup\nthemes:\n  - id: space\n    label: {vi: Vũ trụ, en: Space}\n    threshold: 0.5\n    terms:\n      - {text: tên lửa}\n" + extra
		if err := os.WriteFile(rules, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	// The file watcher is off, so only SIGHUP can reload; env twin of --rules.
	p := startTaggerd(t, []string{"DOCTAGGER_RULES=" + rules, "DOCTAGGER_WATCH_RULES=false"})
	c := client(t, p.grpcAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	themes := func() int {
		lt, err := c.ListThemes(ctx, &pb.ListThemesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return len(lt.Themes)
	}
	if themes() != 1 {
		t.Fatal("want 1 theme")
	}
	write("  - id: sea\n    label: {vi: Biển, en: Sea}\n    threshold: 0.5\n    terms:\n      - {text: biển}\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for themes() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload")
		}
		time.Sleep(20 * time.Millisecond)
	}
	write("  - id: sea\n    threshold: 9\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Logs(), "ruleset reload failed") {
		if time.Now().After(deadline) {
			t.Fatal("bad reload not logged")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if themes() != 2 {
		t.Fatal("a bad file replaced the rules")
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if err := p.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

func TestFlags(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"--help"}, func(string) (string, bool) { return "", false }, io.Discard, &out)
	if err != errHelp {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"--grpc-addr", "DOCTAGGER_GRPC_ADDR", "--http-addr", "--rules", "DOCTAGGER_RULES",
		"--watch-rules", "--max-document-bytes", "--max-batch-documents", "--max-message-bytes", "--stream-max-in-flight",
		"--stream-idle-timeout", "--max-connection-age", "DOCTAGGER_MAX_CONNECTION_AGE", "--shutdown-grace", "--tls-cert", "--tls-key", "--client-ca", "--auth-token-file",
		"DOCTAGGER_AUTH_TOKENS", "--open-health", "--open-metrics", "--playground", "--log-format", "--log-level"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %s", want)
		}
	}
	env := map[string]string{
		"DOCTAGGER_MAX_BATCH_DOCUMENTS": "7",
		"DOCTAGGER_HTTP_ADDR":           "",
		"DOCTAGGER_AUTH_TOKENS":         "a, b",
		"DOCTAGGER_GRPC_ADDR":           ":1",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := parseFlags([]string{"--grpc-addr=:2"}, lookup, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxBatchDocuments != 7 || cfg.HTTPAddr != "" || len(cfg.AuthTokens) != 2 || cfg.GRPCAddr != ":2" {
		t.Fatalf("cfg %+v", cfg)
	}
	if cfg.UI == nil {
		t.Errorf("the playground is served by default")
	}
	if cfg, err := parseFlags([]string{"--playground=false"}, lookup, io.Discard, io.Discard); err != nil || cfg.UI != nil {
		t.Errorf("--playground=false: UI %v, err %v", cfg.UI, err)
	}
	if _, err := parseFlags(nil, func(k string) (string, bool) {
		if k == "DOCTAGGER_SHUTDOWN_GRACE" {
			return "soon", true
		}
		return "", false
	}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "DOCTAGGER_SHUTDOWN_GRACE") {
		t.Fatalf("bad env value: %v", err)
	}
	// Tokens set but empty (an empty Secret key) must not start the server
	// open; unset, it runs without authentication.
	for _, v := range []string{"", " , "} {
		if _, err := parseFlags(nil, func(k string) (string, bool) {
			return v, k == "DOCTAGGER_AUTH_TOKENS"
		}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "DOCTAGGER_AUTH_TOKENS") {
			t.Errorf("DOCTAGGER_AUTH_TOKENS=%q: %v, want an error", v, err)
		}
	}
}

// TestVersion: taggerd --version prints the version, the commit and the Go
// version, and exits 0 without serving; a binary built in the git checkout
// (with VCS stamping) names its commit.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseFlags([]string{"--version"}, func(string) (string, bool) { return "", false }, &out, io.Discard); err != errVersion {
		t.Fatalf("--version: %v", err)
	}
	if s := out.String(); !strings.HasPrefix(s, "taggerd ") || !strings.Contains(s, "commit ") || !strings.Contains(s, "go1.") {
		t.Errorf("--version printed %q", s)
	}
	if testing.Short() {
		return
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "taggerd")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Skipf("go build -buildvcs=true: %v\n%s", err, msg)
	}
	got, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("taggerd --version: %v", err)
	}
	if !strings.Contains(string(got), "commit "+strings.TrimSpace(string(rev))) {
		t.Errorf("taggerd --version = %q, want commit %s", got, rev)
	}
}
