//go:build gc && !purego

package kernels

import (
	"golang.org/x/sys/cpu"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// archLevels returns the amd64 levels this CPU supports, slowest first.
// The flags come from x/sys/cpu, which also checks that the operating
// system saves the wider registers, and which honours GODEBUG (for example
// GODEBUG=cpu.avx512f=off hides the avx512 level).
//
// Each level starts as a copy of the level below it, so a kernel that has
// no faster version at this level keeps the best one below it; the
// gemm*/elem* functions then install what the level has in assembly.
func archLevels() []*impl {
	var levels []*impl
	below := generic
	if hasAVX2() {
		l := cloneLevel(below, "avx2")
		gemmAVX2(l)
		gemmSmallAVX2(l)
		elemAVX2(l)
		optimAVX2(l)
		int8AVX2(l)
		prefetchAMD64(l)
		l.fmaPeak, l.fmaFlops = asm.FMAPeakAVX2, 2*8*14
		levels = append(levels, l)
		below = l
	}
	if hasAVX2() && hasAVX512() {
		l := cloneLevel(below, "avx512")
		gemmAVX512(l)
		gemmSmallAVX512(l)
		elemAVX512(l)
		optimAVX512(l)
		int8AVX512(l)
		l.fmaPeak, l.fmaFlops = asm.FMAPeakAVX512, 2*16*28
		levels = append(levels, l)
	}
	return levels
}

// hasAVX2 reports AVX2 together with FMA: every AVX2 kernel uses both.
func hasAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// hasAVX512 reports the AVX-512 subsets the kernels use: F for the 512-bit
// arithmetic, VL for masked 256-bit tails, DQ and BW for the mask and
// integer instructions.
func hasAVX512() bool {
	x := &cpu.X86
	return x.HasAVX512F && x.HasAVX512VL && x.HasAVX512DQ && x.HasAVX512BW
}

func cloneLevel(from *impl, name string) *impl {
	l := *from
	l.name = name
	return &l
}
