// Command int8_avx512 generates kernels/asm/int8_avx512_amd64.s: the int8
// inference path's QuantizeRowsU8 with 512-bit vectors and opmask tails,
// and the int8 product on AVX512-VNNI (VPDPBUSD on ZMM).
//
// Tiles of up to 4 rows × 6 vectors (96 columns; one row takes 8): the
// vectors of weights loaded once per group of 4 inputs and reused by every
// row, one broadcast per row, and the last units mod 16 columns from the
// weights' tail layout. One or two rows keep two sets of sums over
// alternate groups, so that a single prediction still has enough
// independent sums in flight, and a single row skips the groups of codes
// that are all zero (gen/internal/avx/int8_dense.go has the details).
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
