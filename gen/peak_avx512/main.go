// Command peak_avx512 generates kernels/asm/peak_avx512_amd64.s: the FMA
// loop that measures a core's 512-bit peak (see avx.GeneratePeak).
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	// 28 chains in Z0–Z27: 512-bit FMA has 4 to 6 cycles of latency
	// on current cores, with one or two units.
	zmm := []VecPhysical{
		Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13,
		Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27,
	}
	broadcast := func(bits uint32) func(VecPhysical) {
		return func(v VecPhysical) {
			r := GP32()
			MOVL(U32(bits), r)
			VPBROADCASTD(r, v)
		}
	}
	avx.GeneratePeak("AVX512", 16, zmm, Z28, Z29, broadcast(0x3f000000), broadcast(0x3f800000))
	Generate()
}
