//go:build gc && !purego

package kernels

import (
	"fmt"
	"unsafe"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// gemmNEON installs the NEON GEMM into l: 8×12 tiles (BLIS's choice for
// Cortex-A57 and later), 24 accumulators fed by by-element FMLAs from two
// A and three B vectors per k step, 29 of the 32 vector registers.
func gemmNEON(l *impl) {
	const mr, nr = 8, 12
	mc, kc, nc := gemmBlocks(mr, nr, 512)
	l.sgemm = gemmKernel{MR: mr, NR: nr, MC: mc, KC: kc, NC: nc, Block: neonBlock}
}

// neonBlock is the gemmKernel.Block of the neon level. It checks every
// length the assembly relies on: it reads ceil(m/8)·8·kc elements of a and
// ceil(n/12)·12·kc of b, and touches c only at i*ldc+j for i < m, j < n.
// The scratch tile for edge tiles lives on this frame: the assembly is
// noescape, so it costs no allocation.
func neonBlock(kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int) {
	const mr, nr = 8, 12
	if kc < 1 || m < 1 || n < 1 || ldc < n {
		panic(fmt.Sprintf("kernels: gemm %d×%d block: bad shape kc=%d m=%d n=%d ldc=%d", mr, nr, kc, m, n, ldc))
	}
	if len(a) < roundUp(m, mr)*kc || len(b) < roundUp(n, nr)*kc || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels: gemm %d×%d block: len(a)=%d len(b)=%d len(c)=%d for kc=%d m=%d n=%d ldc=%d",
			mr, nr, len(a), len(b), len(c), kc, m, n, ldc))
	}
	var scratch [mr * nr]float32
	asm.SgemmKernel8x12NEON(kc, m, n, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta, &scratch[0])
}
