//go:build unix

package tagger

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this test process has used so far. Unlike the wall
// clock it does not run on while other processes hold the cores, so a ratio
// of two measurements survives a busy shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return wallTime()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
