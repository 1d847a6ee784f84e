// Command elem_avx512 generates kernels/asm/elem_avx512_amd64.{s,go}: the
// AVX-512 activation, gradient, softmax, cross-entropy, argmax and dropout
// kernels of package kernels. The kernels themselves are emitted by
// avx.GenerateElem, shared with the other vector level.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	avx.GenerateElem(avx.ElemAVX512())
	Generate()
}
