// Command int8_avx512 generates kernels/asm/int8_avx512_amd64.s: the int8
// inference path's QuantizeRowsU8 with 512-bit vectors and opmask tails,
// and the int8 product on AVX512-VNNI (VPDPBUSD on ZMM).
//
// Tiles of up to 4 rows × 4 vectors (64 columns): 16 sums, the 4 vectors
// of weights loaded once per group of 4 inputs and reused by every row,
// and one broadcast per row, so a group issues 8 loads for 16 VPDPBUSD.
// One or two rows keep two sets of sums over alternate groups, so that a
// single prediction still has 8 independent sums in flight.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	l := avx.Int8Level{Suffix: "AVX512", Wide: true}
	l.GenerateQuantize()
	l.GenerateDenseVNNI()
	Generate()
}
