// Command gemmsmall_avx512 generates the AVX-512 unpacked small-matrix
// GEMM kernels (kernels/asm/gemmsmall_avx512_amd64.s).
//
// Panels are 8 rows by 3 vectors of 16: 24 sums, three rows of B and the
// broadcast use 28 of the 32 ZMM registers, a k step issues 11 loads for
// 24 FMAs, and 8 divides the trainer's row counts 32 and 784.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	avx.SmallGemm{ISA: "AVX512", Wide: true, MR: 8, NV: 3}.Generate()
	Generate()
}
