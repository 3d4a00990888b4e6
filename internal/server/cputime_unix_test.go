//go:build unix

package server

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) the process has used so far.
// On a machine shared with other work, CPU time per operation measures a
// benchmark's cost far more steadily than wall-clock time, which includes
// waiting for a core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
