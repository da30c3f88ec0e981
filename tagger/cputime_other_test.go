//go:build !unix

package tagger

import "time"

// cpuTime falls back to the wall clock where getrusage does not exist.
func cpuTime() time.Duration { return wallTime() }
