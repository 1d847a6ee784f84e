// Command gemmsmall_avx512 generates the AVX-512 unpacked small-matrix
// GEMM kernels (kernels/asm/gemmsmall_avx512_amd64.s).
//
// Panels are 8 rows by 3 vectors of 16: 24 sums, three rows of B and the
// broadcast use 28 of the 32 ZMM registers, a k step issues 11 loads for
// 24 FMAs, and 8 divides the trainer's row counts 32 and 784.
//
// Shorter panels take wider chunks so that enough independent sums are in
// flight to cover the FMA latency: one row (a single prediction) takes 16
// vectors, 256 columns, reading B from memory, so a layer of up to 256
// units is one pass over its weights (wider chunks gave nothing at 100
// units, where the pass runs at the L2 bandwidth, and double the code);
// two and three rows take 7 vectors (the tutorial's 100 units in one
// pass), four 6, five and six 4.
//
// SgemmSmallTNCols1..4 take the last 1 to 4 columns of a plain Aᵀ·B (the
// weight gradient Xᵀ·dZ) with vectors down C's rows, where the TN kernels
// would spend a vector of 16 lanes on them: for the tutorial's 784×100
// gradient that was one FMA in seven, and the 8-sum tail tile also waited
// on the FMA latency (avx.TNCols has the layout).
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	avx.SmallGemm{ISA: "AVX512", Wide: true, MR: 8, NV: []int{16, 7, 7, 6, 4, 4, 3, 3}}.Generate()
	avx.TNCols(true)
	Generate()
}
