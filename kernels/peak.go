package kernels

import (
	"fmt"
	"strings"
)

// FMAPeakLoop runs the peak loop of the named kernel level for iters rounds
// and returns the number of floating-point operations it did. The loop
// does nothing but independent fused multiply-adds on the level's widest
// vectors (256 bits on avx2, 512 on avx512, 128 on neon), in more
// dependency chains than the FMA units need to stay busy, with no memory
// traffic: flops divided by the time it took is the core's peak for that
// level, which no kernel can beat and no change to the kernels can slow.
//
// It is a measuring stick, not a kernel. The benchmarks report every
// kernel as a fraction of it (BenchmarkFMAPeak measures it; bench/README.md
// explains), and the performance gate compares against it round by round.
// The generic level, the purego build and CPUs without a vector level
// have no peak loop: FMAPeakLoop then returns an error, as it does for an
// unknown level. A negative iters counts as 0. It may run on any number of
// goroutines at once.
func FMAPeakLoop(level string, iters int) (flops int64, err error) {
	name := strings.ToLower(strings.TrimSpace(level))
	for _, l := range levels {
		if l.name != name {
			continue
		}
		if l.fmaPeak == nil {
			return 0, fmt.Errorf("kernels: level %q has no FMA peak loop (only the vector levels do)", l.name)
		}
		iters = max(iters, 0)
		l.fmaPeak(iters)
		return int64(iters) * int64(l.fmaFlops), nil
	}
	return 0, fmt.Errorf("kernels: unknown or unavailable level %q (available: %s)", level, strings.Join(Available(), ", "))
}
