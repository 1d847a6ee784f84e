// Command int8_avx2 generates kernels/asm/int8_avx2_amd64.s: the int8
// inference path's QuantizeRowsU8 with 256-bit vectors (scalar tails),
// and two int8 products: Int8DenseVNNIAVX2 on AVX-VNNI (the VEX form of
// VPDPBUSD, which avo lacks, emitted as bytes) and Int8DenseAVX2 for AVX2
// CPUs without VNNI (Haswell to Zen 3), which widens to int16 and uses
// VPMADDWD. Both skip, for a single row, the groups of codes that are all
// zero. Every function stays inside Y0–Y15 and VEX encodings.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	l := avx.Int8Level{Suffix: "AVX2"}
	l.GenerateQuantize()
	l.GenerateDenseVNNI()
	l.GenerateDenseMadd()
	Generate()
}
