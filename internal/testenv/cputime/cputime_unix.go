//go:build unix

// Package cputime gives benchmarks the process's CPU time, so that they can
// report CPU time per operation (cpu-ns/op): on a machine shared with other
// work it measures a benchmark's cost far more steadily than wall-clock
// time, which includes waiting for a core. Test code only.
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time (user and system) the process has used so far.
func Process() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
