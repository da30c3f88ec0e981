// Package rules holds the default ruleset, embedded in the binaries so the
// service runs with no files. default.yaml is the file to copy as a start.
package rules

import _ "embed"

// DefaultName is the file name of the embedded default ruleset.
const DefaultName = "default.yaml"

// Default is the content of default.yaml.
//
//go:embed default.yaml
var Default []byte
