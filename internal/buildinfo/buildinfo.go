// Package buildinfo says which build a binary is: its version, commit and
// Go version, for taggerd --version and tagctl --version.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at link time, for builds without module or VCS information (the
// Dockerfile's: -ldflags "-X github.com/doctagger/doctagger/internal/buildinfo.version=v1.2.0
// -X github.com/doctagger/doctagger/internal/buildinfo.commit=abc1234").
var version, commit string

// Info is what a binary knows of its build.
type Info struct {
	Version   string // the module version (v1.2.0, a pseudo-version), or "devel"
	Commit    string // the VCS revision, with "+dirty" for local changes; "unknown" without VCS info
	Time      string // the commit time, when known
	GoVersion string
}

// Read reads the build information: link-time values first, then the
// module version and VCS stamps Go records (go build in a git checkout,
// go install module@version).
func Read() Info {
	in := Info{Version: "devel", Commit: "unknown", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			in.Version = v
		}
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.Time = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && in.Commit != "unknown" {
			in.Commit += "+dirty"
		}
	}
	if version != "" {
		in.Version = version
	}
	if commit != "" {
		in.Commit = commit
	}
	return in
}

// String is one line: "tagctl devel (commit 5f71d8f..., 2026-01-02T03:04:05Z) go1.26.8 linux/amd64".
func (in Info) String(program string) string {
	c := in.Commit
	if in.Time != "" {
		c += ", " + in.Time
	}
	return fmt.Sprintf("%s %s (commit %s) %s %s/%s", program, in.Version, c, in.GoVersion, runtime.GOOS, runtime.GOARCH)
}
