// Command gemmsmall_avx2 generates the AVX2+FMA unpacked small-matrix GEMM
// kernels (kernels/asm/gemmsmall_avx2_amd64.s).
//
// Panels are 4 rows by 3 vectors of 8: twelve sums, three rows of B and
// one broadcast fill the 16 YMM registers exactly, and 4 divides every
// row count of the tutorial's trainer (32, 100 and 784).
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	avx.SmallGemm{ISA: "AVX2", MR: 4, NV: 3}.Generate()
	Generate()
}
