// Command gemmsmall_avx2 generates the AVX2+FMA unpacked small-matrix GEMM
// kernels (kernels/asm/gemmsmall_avx2_amd64.s).
//
// Panels are 4 rows by 3 vectors of 8: twelve sums, three rows of B and
// one broadcast fill the 16 YMM registers exactly, and 4 divides every
// row count of the tutorial's trainer (32, 100 and 784).
//
// Shorter panels take wider chunks so that enough independent sums are in
// flight to cover the FMA latency: one row (a single prediction) takes 13
// vectors, 104 columns, reading B from memory (13 sums, the broadcast, a
// masked row of B and the tail mask), so the tutorial's 100 units take one
// pass over the weights; two rows take 4 vectors (8 sums, 4 rows of B).
//
// SgemmSmallTNCols1..4 take the last 1 to 4 columns of a plain Aᵀ·B (the
// weight gradient Xᵀ·dZ) with vectors down C's rows, 16 rows a tile,
// where the TN kernels would spend a vector of 8 and a tile of only 4
// sums on them (avx.TNCols).
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	avx.SmallGemm{ISA: "AVX2", MR: 4, NV: []int{13, 4, 3, 3}}.Generate()
	avx.TNCols(false)
	Generate()
}
