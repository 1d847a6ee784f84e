//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

var smallAVX2 = &smallLevel{
	mr:      4,
	maxMACs: 1 << 24,
	nn:      []smallKernel{asm.SgemmSmallNN1AVX2, asm.SgemmSmallNN2AVX2, asm.SgemmSmallNN3AVX2, asm.SgemmSmallNN4AVX2},
	tn:      []smallKernel{asm.SgemmSmallTN1AVX2, asm.SgemmSmallTN2AVX2, asm.SgemmSmallTN3AVX2, asm.SgemmSmallTN4AVX2},
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

// Size limits of the unpacked path, placed with BenchmarkGemmSmallCrossover
// (one core, Zen 5, quiet machine; median GFLOP/s, unpacked vs the packed
// driver of the same level):
//
//   - AVX-512 ran faster unpacked on every shape tried: 258 vs 175 at
//     128³, 245 vs 213 at 512³, 236 vs 213 at 1024×1024×32 (Aᵀ), 169 vs
//     143 at 32×1024×1024. maxMACs stops at 512³, the largest measured.
//   - AVX2 ran faster unpacked up to 384³ (131 vs 116), about even at 512³
//     (106 vs 117, within the noise), and slower once B outgrew L2
//     (32×1024×1024: 48 vs 88) or C reached 4 MiB with k = 32 (74 vs
//     113); maxMACs = 256³ keeps it clear of both.
//   - With B transposed first (A·Bᵀ) the two paths came out even at
//     32×300 by 300 and 32×784 by 100 on both levels, so only a small Bᵀ,
//     whose copy is cheap (the trainer's 100×10: 87 vs 65 on AVX-512),
//     goes unpacked.
//
// Without packing every row panel streams the rows of B it needs from
// where B lies, hence the L2 bound on B (smallMaxB, gemmsmall.go) for
// both levels. The limits were placed on one core; with more threads both
// paths split the same problems by blocks of rows of C above the same
// work threshold (splitParts), so neither gains on the other.
