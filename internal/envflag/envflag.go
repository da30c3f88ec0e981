// Package envflag gives command-line flags their environment twins, for
// taggerd and tagctl alike: --grpc-addr is DOCTAGGER_GRPC_ADDR. After the
// command line is parsed, each flag it did not give takes the value of its
// twin when that is set, so a flag given on the command line wins.
//
// It works on the standard library's flag.FlagSet (taggerd) and on pflag's
// (tagctl, through cobra).
package envflag

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// Prefix starts every twin's name.
const Prefix = "DOCTAGGER_"

// Name is the environment twin of a flag: "grpc-addr" is
// DOCTAGGER_GRPC_ADDR.
func Name(flagName string) string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Lookup finds an environment variable, as os.LookupEnv does.
type Lookup func(string) (string, bool)

// Flag is what Apply needs of one flag.
type Flag struct {
	Name  string
	Set   func(string) error
	Given bool // given on the command line
}

// Std lists the flags of a parsed standard-library FlagSet.
func Std(fs *flag.FlagSet) []Flag {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var out []Flag
	fs.VisitAll(func(f *flag.Flag) {
		out = append(out, Flag{Name: f.Name, Set: f.Value.Set, Given: given[f.Name]})
	})
	return out
}

// Pflag lists the flags of a parsed pflag FlagSet.
func Pflag(fs *pflag.FlagSet) []Flag {
	var out []Flag
	fs.VisitAll(func(f *pflag.Flag) {
		out = append(out, Flag{Name: f.Name, Set: func(v string) error { return fs.Set(f.Name, v) }, Given: f.Changed})
	})
	return out
}

// Options tune Apply.
type Options struct {
	// Only, when set, picks the flags that have a twin (default: all).
	Only func(name string) bool
	// SkipEmpty ignores a twin that is set but empty (tagctl); otherwise
	// the empty value is the flag's value (taggerd: DOCTAGGER_HTTP_ADDR=""
	// turns HTTP off).
	SkipEmpty bool
}

// Apply sets every flag not given on the command line from its twin, when
// the twin is set. The error names each twin whose value the flag refused.
func Apply(flags []Flag, lookup Lookup, o Options) error {
	var errs []error
	for _, f := range flags {
		if f.Given || o.Only != nil && !o.Only(f.Name) {
			continue
		}
		v, ok := lookup(Name(f.Name))
		if !ok || o.SkipEmpty && v == "" {
			continue
		}
		if err := f.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q (the environment twin of --%s): %v", Name(f.Name), v, f.Name, err))
		}
	}
	return errors.Join(errs...)
}
