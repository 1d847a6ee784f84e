//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

var smallAVX2 = &smallLevel{
	mr:      4,
	maxMACs: 1 << 24,
	nn:      []smallKernel{asm.SgemmSmallNN1AVX2, asm.SgemmSmallNN2AVX2, asm.SgemmSmallNN3AVX2, asm.SgemmSmallNN4AVX2},
	tn:      []smallKernel{asm.SgemmSmallTN1AVX2, asm.SgemmSmallTN2AVX2, asm.SgemmSmallTN3AVX2, asm.SgemmSmallTN4AVX2},
	tnCols: []smallColsKernel{
		asm.SgemmSmallTNCols1AVX2, asm.SgemmSmallTNCols2AVX2, asm.SgemmSmallTNCols3AVX2, asm.SgemmSmallTNCols4AVX2,
	},
	vec: 8,
}

var smallAVX512 = &smallLevel{
	mr:      8,
	maxMACs: 1 << 27,
	nn: []smallKernel{
		asm.SgemmSmallNN1AVX512, asm.SgemmSmallNN2AVX512, asm.SgemmSmallNN3AVX512, asm.SgemmSmallNN4AVX512,
		asm.SgemmSmallNN5AVX512, asm.SgemmSmallNN6AVX512, asm.SgemmSmallNN7AVX512, asm.SgemmSmallNN8AVX512,
	},
	tn: []smallKernel{
		asm.SgemmSmallTN1AVX512, asm.SgemmSmallTN2AVX512, asm.SgemmSmallTN3AVX512, asm.SgemmSmallTN4AVX512,
		asm.SgemmSmallTN5AVX512, asm.SgemmSmallTN6AVX512, asm.SgemmSmallTN7AVX512, asm.SgemmSmallTN8AVX512,
	},
	tnCols: []smallColsKernel{
		asm.SgemmSmallTNCols1AVX512, asm.SgemmSmallTNCols2AVX512, asm.SgemmSmallTNCols3AVX512, asm.SgemmSmallTNCols4AVX512,
	},
	vec: 16,
}

// gemmSmallAVX2 installs the AVX2 unpacked small-matrix GEMM into l.
func gemmSmallAVX2(l *impl) {
	l.smallGemm = smallAVX2.gemm
	l.smallDense = smallAVX2.dense
}

// gemmSmallAVX512 installs the AVX-512 unpacked small-matrix GEMM into l.
func gemmSmallAVX512(l *impl) {
	l.smallGemm = smallAVX512.gemm
	l.smallDense = smallAVX512.dense
}

// Size limits of the unpacked path. maxMACs above and smallMaxB and
// smallMaxBT (gemmsmall.go) were placed with BenchmarkGemmSmallCrossover,
// unpacked against the packed driver of the same level on one core;
// bench/README.md ("The unpacked small GEMM") has the figures. AVX-512 ran
// faster unpacked on every shape tried, so its maxMACs stops at the
// largest shape measured, 512³. AVX2 lost once B outgrew L2 or C grew
// large with a short k, and 256³ keeps it clear of both. A B that must
// first be transposed goes unpacked only when small, its copy then being
// cheap: at the larger Bᵀ shapes tried the two paths came out even.
//
// Without packing every row panel streams the rows of B it needs from
// where B lies, hence the L2 bound on B (smallMaxB, gemmsmall.go) for
// both levels. The limits were placed on one core; with more threads both
// paths split the same problems by blocks of rows of C above the same
// work threshold (splitParts), so neither gains on the other.
