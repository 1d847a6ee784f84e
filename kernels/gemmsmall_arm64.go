//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// smallNEON is the NEON set of unpacked kernels: panels of up to 4 rows
// (gen/gemmsmall_neon explains the chunk widths).
//
// maxMACs, 2²⁴ (256³), is the AVX2 level's limit: there is no arm64
// machine here to place it with BenchmarkGemmSmallCrossover, and like
// AVX2's, the NEON tile has too few sums to run from L2 as fast as the
// packed driver once B outgrows L1 by much. On real hardware,
// `go test -run '^$' -bench GemmSmallCrossover ./kernels/` shows where the
// two paths cross.
var smallNEON = &smallLevel{
	mr:      4,
	maxMACs: 1 << 24,
	nn:      []smallKernel{asm.SgemmSmallNN1NEON, asm.SgemmSmallNN2NEON, asm.SgemmSmallNN3NEON, asm.SgemmSmallNN4NEON},
	tn:      []smallKernel{asm.SgemmSmallTN1NEON, asm.SgemmSmallTN2NEON, asm.SgemmSmallTN3NEON, asm.SgemmSmallTN4NEON},
}

// gemmSmallNEON installs the NEON unpacked small-matrix GEMM and the fused
// dense layer into l.
func gemmSmallNEON(l *impl) {
	l.smallGemm = smallNEON.gemm
	l.smallDense = smallNEON.dense
}
