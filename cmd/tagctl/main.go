// Command tagctl is doctagger's command-line tool: local commands that need
// no server (rules check, eval, tag --local) and remote ones that talk to
// taggerd (tag, themes, ruleset). Its commands are cobra commands: flags
// may follow arguments, every command has --help, and tagctl completion
// bash|zsh|fish prints a shell completion script.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/doctagger/doctagger/internal/buildinfo"
	"github.com/doctagger/doctagger/internal/envflag"
	"github.com/doctagger/doctagger/internal/telemetry"
)

// command is a tagctl subcommand that parses its own flags with the
// standard flag package (newFlags, parse): register adds it to the command
// tree as a cobra command that hands it its arguments as they are. Its
// flags may follow its arguments too (parse reads them interspersed).
type command struct {
	name    string // may be two words: "rules check"
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands []command

// register adds a command; call it from an init function.
func register(c command) { commands = append(commands, c) }

// errUsage marks an error already explained to the user (exit status 2).
var errUsage = errors.New("usage")

// exitError carries an exit status without printing more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// flagError is a command-line error found by cobra: exit status 2.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }

// lookupEnv is os.LookupEnv; tests replace it.
var lookupEnv = os.LookupEnv

func main() {
	// Tracing from the OTEL_* environment, off unless set: each call to
	// the service then carries this run's trace context (docs/service.md).
	_, shutdown, err := telemetry.Setup(context.Background(), "tagctl", os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tagctl: tracing:", err)
		os.Exit(2)
	}
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = shutdown(ctx) // send the spans still batched
	cancel()
	os.Exit(code)
}

// run runs tagctl with args and returns its exit status: 0, 1 when the
// command failed (or any document did), 2 on a usage error, 130 when
// interrupted.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(longFlags(root, args))
	cmd, err := root.ExecuteC()
	return exitStatus(cmd, err, stderr)
}

func exitStatus(cmd *cobra.Command, err error, stderr io.Writer) int {
	name := "tagctl"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	var (
		ee exitError
		fe flagError
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp), errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &fe):
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", name, fe.err, name)
		return 2
	case cmd != nil && !cmd.HasParent() || strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintf(stderr, "%s: %v\nRun 'tagctl --help' for usage.\n", name, err)
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 1
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "tagctl",
		Short: "doctagger's command-line tool",
		Long: `tagctl tags documents with doctagger, on a taggerd service (gRPC, or its REST
mirror with --rest) or in process (tag --local), checks and evaluates rulesets,
and asks a service what it serves. Connection flags have environment twins
(--addr is DOCTAGGER_ADDR); a flag given wins over its twin.`,
		Version:       buildinfo.Read().String("tagctl"),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Completion of file names for arguments, by default.
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError{err} })
	root.AddCommand(tagCommand(stdout, stderr), themesCommand(stdout, stderr), rulesetCommand(stdout, stderr))
	for _, c := range commands {
		addLegacy(root, c, stdout, stderr)
	}
	return root
}

// addLegacy adds a registered command under its parents ("rules check" is
// check under rules, made when missing).
func addLegacy(root *cobra.Command, c command, stdout, stderr io.Writer) {
	words := strings.Fields(c.name)
	parent := root
	for _, w := range words[:len(words)-1] {
		var next *cobra.Command
		for _, sub := range parent.Commands() {
			if sub.Name() == w {
				next = sub
			}
		}
		if next == nil {
			next = &cobra.Command{Use: w, Short: w + " commands"}
			parent.AddCommand(next)
		}
		parent = next
	}
	run := c.run
	parent.AddCommand(&cobra.Command{
		Use:                words[len(words)-1],
		Short:              c.summary,
		DisableFlagParsing: true, // its own flags; --help is its own too
		RunE: func(_ *cobra.Command, args []string) error {
			return run(args, stdout, stderr)
		},
	})
}

var longFlagRE = regexp.MustCompile(`^-([a-z][a-z0-9]*(?:-[a-z0-9]+)+|[a-z][a-z0-9]+)(=.*)?$`)

// longFlags rewrites -name to --name for the long flags of tagctl's cobra
// commands, as the flag package (and so tagctl before cobra) read them:
// "-format table" keeps working. Arguments after "--" are left alone, and
// so are the arguments of the commands that parse their own flags.
func longFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd.DisableFlagParsing {
		return args
	}
	names := map[string]bool{}
	for c := cmd; c != nil; c = c.Parent() {
		c.Flags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
	}
	names["help"], names["version"] = true, true
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if m := longFlagRE.FindStringSubmatch(a); m != nil && names[m[1]] {
			out[i] = "-" + a
		}
	}
	return out
}

// newFlags makes a FlagSet (standard library) that reports errors instead
// of exiting, for registered commands.
func newFlags(name, argsUsage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tagctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tagctl %s [flags] %s\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning a parse error into errUsage (already
// printed). Flags may follow arguments: "rules check FILE -x" reads -x.
// After "--" everything is an argument.
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// fs.Args() is now the arguments, in order.
	return fs.Parse(append([]string{"--"}, positional...))
}

// parseWithEnv parses the command line, then sets the connection flags it
// did not give from their environment twins (for registered commands that
// take remote's flags on a flag.FlagSet).
//
//lint:ignore U1000 kept for registered commands
func parseWithEnv(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	return envflag.Apply(envflag.Std(fs), lookupEnv, envflag.Options{Only: isConnFlag, SkipEmpty: true})
}
