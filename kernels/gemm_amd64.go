//go:build gc && !purego

package kernels

import (
	"fmt"
	"unsafe"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// gemmAVX2 installs the AVX2+FMA GEMM into l: 6×16 tiles, twelve ymm
// accumulators, the largest tile that fits the 16 registers with the two
// B vectors and an A broadcast (BLIS uses the same for Haswell and Zen).
func gemmAVX2(l *impl) {
	const mr, nr = 6, 16
	mc, kc, nc := gemmBlocks(mr, nr, 512)
	l.sgemm = gemmKernel{MR: mr, NR: nr, MC: mc, KC: kc, NC: nc, Block: asmBlock(mr, nr, asm.SgemmKernel6x16AVX2), PackT: packT6AVX2}
}

// packT6AVX2 is the AVX2 level's gemmKernel.PackT: whole chunks of eight
// k steps by PackT6AVX2, which transposes them in registers, the rest by
// packTransposed. On the trainer's forward product at batch 256 (X,
// 256×784, packed whole once per call) the scalar copy was a quarter of
// the product's time (BenchmarkPackT measures the two).
func packT6AVX2(panel, src []float32, ld, kc int) {
	chunks := kc / 8
	if chunks > 0 {
		// The assembly reads 8·chunks elements of rows 0-5 of src and
		// writes the first 48·chunks of panel.
		if ld < 1 || len(src) < 5*ld+8*chunks || len(panel) < 48*chunks {
			panic(fmt.Sprintf("kernels: PackT6AVX2: len(src)=%d len(panel)=%d for ld=%d kc=%d", len(src), len(panel), ld, kc))
		}
		asm.PackT6AVX2(chunks, unsafe.SliceData(src), ld, unsafe.SliceData(panel))
	}
	if rest := kc - 8*chunks; rest > 0 {
		packTransposed(panel[48*chunks:], src[8*chunks:], ld, 6, 6, rest)
	}
}

// gemmAVX512 installs the AVX-512 GEMM into l. Of the tiles that fill the
// 32 zmm registers, 12×32 is installed: on large products it was as fast
// as 14×32 or faster, and wastes less on edge tiles; 6×64's 64-column B
// panels crowd L1; and feeding A by embedded-broadcast FMAs
// (VFMADD231PS.BCST) instead of one VBROADCASTSS per element was slower
// once the panels left L1. BenchmarkSgemmTile keeps comparing them;
// bench/README.md ("The AVX-512 GEMM tile") has the figures.
func gemmAVX512(l *impl) {
	l.sgemm = avx512Tile.kernel()
}

// gemmTile is one assembly micro-kernel with its tile shape.
type gemmTile struct {
	name   string
	mr, nr int
	fn     func(kc, m, n int, a, b, c *float32, ldc int, alpha, beta float32)
}

// avx512Tile is the AVX-512 micro-kernel gemmAVX512 installs. The others
// are in package alttiles, which only the tests link (avx512Tiles).
var avx512Tile = gemmTile{"12x32", 12, 32, asm.SgemmKernel12x32AVX512}

func (t gemmTile) kernel() gemmKernel {
	mc, kc, nc := gemmBlocks(t.mr, t.nr, 512)
	return gemmKernel{MR: t.mr, NR: t.nr, MC: mc, KC: kc, NC: nc, Block: asmBlock(t.mr, t.nr, t.fn)}
}

// asmBlock wraps an assembly block kernel as a gemmKernel.Block, checking
// every length the assembly will rely on: it reads ceil(m/mr)·mr·kc
// elements of a and ceil(n/nr)·nr·kc of b, and touches c only at
// i*ldc+j for i < m, j < n.
func asmBlock(mr, nr int, fn func(kc, m, n int, a, b, c *float32, ldc int, alpha, beta float32)) func(kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int) {
	return func(kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int) {
		if kc < 1 || m < 1 || n < 1 || ldc < n {
			panic(fmt.Sprintf("kernels: gemm %d×%d block: bad shape kc=%d m=%d n=%d ldc=%d", mr, nr, kc, m, n, ldc))
		}
		if len(a) < roundUp(m, mr)*kc || len(b) < roundUp(n, nr)*kc || len(c) < (m-1)*ldc+n {
			panic(fmt.Sprintf("kernels: gemm %d×%d block: len(a)=%d len(b)=%d len(c)=%d for kc=%d m=%d n=%d ldc=%d",
				mr, nr, len(a), len(b), len(c), kc, m, n, ldc))
		}
		fn(kc, m, n, unsafe.SliceData(a), unsafe.SliceData(b), unsafe.SliceData(c), ldc, alpha, beta)
	}
}
