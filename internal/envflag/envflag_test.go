package envflag

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestName(t *testing.T) {
	if got := Name("grpc-addr"); got != "DOCTAGGER_GRPC_ADDR" {
		t.Errorf("Name = %q", got)
	}
}

// TestApply: the same rules for both flag packages: a twin fills a flag the
// command line did not give, the command line wins, an empty twin is
// skipped only when asked, a bad value names the twin and the flag.
func TestApply(t *testing.T) {
	env := map[string]string{"DOCTAGGER_ADDR": "env:1", "DOCTAGGER_PORT": "env:2", "DOCTAGGER_EMPTY": "", "DOCTAGGER_WAIT": "soon"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	std := flag.NewFlagSet("x", flag.ContinueOnError)
	addr, port, empty := std.String("addr", "def", ""), std.String("port", "def", ""), std.String("empty", "def", "")
	if err := std.Parse([]string{"--port=cli"}); err != nil {
		t.Fatal(err)
	}
	if err := Apply(Std(std), lookup, Options{}); err != nil {
		t.Fatal(err)
	}
	if *addr != "env:1" || *port != "cli" || *empty != "" {
		t.Errorf("std: addr %q port %q empty %q", *addr, *port, *empty)
	}

	pf := pflag.NewFlagSet("x", pflag.ContinueOnError)
	paddr, pport, pempty := pf.String("addr", "def", ""), pf.String("port", "def", ""), pf.String("empty", "def", "")
	pf.Duration("wait", time.Second, "")
	if err := pf.Parse([]string{"arg", "--port", "cli"}); err != nil {
		t.Fatal(err)
	}
	err := Apply(Pflag(pf), lookup, Options{SkipEmpty: true})
	if err == nil || !strings.Contains(err.Error(), `DOCTAGGER_WAIT="soon" (the environment twin of --wait)`) {
		t.Errorf("bad twin: %v", err)
	}
	if *paddr != "env:1" || *pport != "cli" || *pempty != "def" {
		t.Errorf("pflag: addr %q port %q empty %q", *paddr, *pport, *pempty)
	}
	only := pflag.NewFlagSet("x", pflag.ContinueOnError)
	oaddr := only.String("addr", "def", "")
	only.Parse(nil)
	if err := Apply(Pflag(only), lookup, Options{Only: func(string) bool { return false }}); err != nil || *oaddr != "def" {
		t.Errorf("Only: %v %q", err, *oaddr)
	}
}
