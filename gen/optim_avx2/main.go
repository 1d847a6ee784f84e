// Command optim_avx2 generates kernels/asm/optim_avx2_amd64.s: the fused
// optimizer steps, SumSquares, Scale, Clamp, AllFinite and ColSum with
// 256-bit vectors; the last elements are handled one at a time.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	// Eight vectors per iteration keeps several loads in flight; the
	// bodies run one after another, so no more than about a dozen YMM
	// registers are live and none of Y16–Y31 is needed.
	avx.GenerateOptim(&avx.OptimLevel{Suffix: "AVX2", Unroll: 4, ColBlock: 4})
	Generate()
}
