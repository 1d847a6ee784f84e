// Command optim_avx512 generates kernels/asm/optim_avx512_amd64.s: the
// fused optimizer steps, SumSquares, Scale, Clamp, AllFinite and ColSum
// with 512-bit vectors, partial last vectors under a K mask.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.GenerateOptim(&avx.OptimLevel{Suffix: "AVX512", AVX512: true, Unroll: 4, ColBlock: 4})
	Generate()
}
