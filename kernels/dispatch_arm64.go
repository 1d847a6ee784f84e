//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// archLevels returns the arm64 levels: neon, always, because Advanced SIMD
// is part of the arm64 baseline (every ARMv8-A core that runs Go has it),
// so there is nothing to detect.
//
// The level starts as a copy of generic, so a kernel area with no NEON
// assembly keeps the Go reference; the gemm*/elem*/optim*/int8* functions
// install what the level has in assembly.
func archLevels() []*impl {
	l := *generic
	l.name = "neon"
	gemmNEON(&l)
	gemmSmallNEON(&l)
	elemNEON(&l)
	optimNEON(&l)
	int8NEON(&l)
	prefetchNEON(&l)
	l.fmaPeak, l.fmaFlops = asm.FMAPeakNEON, 2*4*24
	return []*impl{&l}
}
