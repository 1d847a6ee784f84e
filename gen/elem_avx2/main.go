// Command elem_avx2 generates kernels/asm/elem_avx2_amd64.{s,go}: the
// AVX2 activation, gradient, softmax, cross-entropy, argmax and dropout
// kernels of package kernels. The kernels themselves are emitted by
// avx.GenerateElem, shared with the other vector level.
package main

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/simdmlp/simdmlp/gen/internal/avx"
)

func main() {
	avx.Setup()
	avx.GenerateElem(avx.ElemAVX2())
	Generate()
}
