// Command peak_avx2 generates kernels/asm/peak_avx2_amd64.s: the FMA loop
// that measures a core's 256-bit peak (see avx.GeneratePeak).
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	// 14 chains in Y0–Y13: more than the 8 (4-cycle latency × 2 FMA
	// units) of current cores, and no EVEX-only register.
	acc := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13}
	broadcast := func(bits uint32) func(VecPhysical) {
		return func(v VecPhysical) {
			r := GP32()
			MOVL(U32(bits), r)
			VMOVD(r, v.AsX())
			VBROADCASTSS(v.AsX(), v)
		}
	}
	avx.GeneratePeak("AVX2", 8, acc, Y14, Y15, broadcast(0x3f000000), broadcast(0x3f800000))
	Generate()
}
