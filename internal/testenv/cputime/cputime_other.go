//go:build !unix

// Package cputime gives benchmarks the process's CPU time (see the unix
// build); it is not measured on this platform.
package cputime

import "time"

// Process is not measured on this platform: always 0.
func Process() time.Duration { return 0 }
