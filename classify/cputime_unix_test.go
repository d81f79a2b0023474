//go:build unix

package classify

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time so far. The benchmarks report it per
// operation beside the wall time: on a shared machine the wall time grows
// with other processes' load, the CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
