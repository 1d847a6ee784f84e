package kernels

import (
	"fmt"
	"unsafe"
)

// genericGemm is the portable GEMM level: one row of C by seven columns per
// micro-kernel call.
//
// Why 1×7: Go's amd64 compiler has no fused multiply-add at the default
// GOAMD64=v1 and only 15 allocatable XMM registers, and its scheduler
// issues every multiply of a loop body before the adds that consume them,
// so each accumulator needs a second register for its pending product.
// Seven accumulators, seven products and the broadcast element of A fill
// the 15 registers exactly with nothing spilled. Of the shapes tried, 1×7
// came closest to the scalar ceiling of two multiplies and two adds per
// cycle; 2×3 and 3×2 were a little slower and 2×4, which spills, much
// slower (bench/README.md, "The generic level's 1×7 tile"). With one row,
// the rows of an untransposed A need no packing at all (see gemm), which
// keeps the overhead low on the small shapes the trainer uses.
var genericGemm = func() gemmKernel {
	mc, kc, nc := gemmBlocks(1, 7, 512)
	return gemmKernel{MR: 1, NR: 7, MC: mc, KC: kc, NC: nc, Micro: refGemm1x7}
}()

// refGemm1x7 is the generic micro-kernel (see gemmKernel.Micro): MR = 1,
// NR = 7, so m is always 1 and n ≤ 7.
func refGemm1x7(kc int, a, b, c []float32, ldc int, alpha, beta float32, m, n int) {
	if m != 1 || n < 1 || n > 7 || kc < 1 {
		panic(fmt.Sprintf("kernels: refGemm1x7: bad tile kc=%d m=%d n=%d", kc, m, n))
	}
	// These checks are what makes the unsafe loads below stay inside a
	// and b: the loop reads a[0:kc] and b[0:7*kc] and nothing else.
	if len(a) < kc || len(b) < 7*kc || len(c) < n {
		panic(fmt.Sprintf("kernels: refGemm1x7: len(a)=%d len(b)=%d len(c)=%d for kc=%d n=%d", len(a), len(b), len(c), kc, n))
	}

	var c0, c1, c2, c3, c4, c5, c6 float32
	if n <= 4 {
		// A narrow edge tile (n = 10 is 7 + 3) need not pay for seven
		// columns.
		c0, c1, c2, c3 = refGemm1x4Sums(kc, a, b)
	} else {
		c0, c1, c2, c3, c4, c5, c6 = refGemm1x7Sums(kc, a, b)
	}
	if n == 7 {
		c := c[:7:7]
		if beta == 0 {
			c[0], c[1], c[2], c[3] = alpha*c0, alpha*c1, alpha*c2, alpha*c3
			c[4], c[5], c[6] = alpha*c4, alpha*c5, alpha*c6
			return
		}
		c[0] = alpha*c0 + beta*c[0]
		c[1] = alpha*c1 + beta*c[1]
		c[2] = alpha*c2 + beta*c[2]
		c[3] = alpha*c3 + beta*c[3]
		c[4] = alpha*c4 + beta*c[4]
		c[5] = alpha*c5 + beta*c[5]
		c[6] = alpha*c6 + beta*c[6]
		return
	}
	t := [7]float32{c0, c1, c2, c3, c4, c5, c6}
	for j, v := range c[:n] {
		if beta == 0 {
			c[j] = alpha * t[j]
		} else {
			c[j] = alpha*t[j] + beta*v
		}
	}
}

// refGemm1x7Sums returns Σ_p a[p]·b[7p+j] for j = 0..6, p < kc. Its caller
// has checked len(a) ≥ kc and len(b) ≥ 7·kc.
//
// It is a function of its own, kept out of line, so that alpha, beta and
// the C slice are not live during the loop: the loop needs all 15 XMM
// registers (seven sums, seven pending products, one element of A), and
// two more live values made the compiler spill and shuffle registers on
// every step.
//
// The loads use unsafe pointer arithmetic because every safe form was
// slower: indexing keeps a bounds check per load, and reslicing
// (a = a[4:]) costs pointer-masking instructions, a large share of a loop
// this short (bench/README.md, "The generic level's 1×7 tile"). The
// offsets are computed from the step index, never by advancing a pointer,
// so no pointer ever leaves the slices' elements (the code is valid under
// -race/checkptr), and the length check in the caller bounds every index:
// the loops read a[0:kc] and b[0:7·kc] only.
//
//go:noinline
func refGemm1x7Sums(kc int, a, b []float32) (c0, c1, c2, c3, c4, c5, c6 float32) {
	pa := unsafe.Pointer(unsafe.SliceData(a))
	pb := unsafe.Pointer(unsafe.SliceData(b))
	ld := func(base unsafe.Pointer, off int) float32 { return *(*float32)(unsafe.Add(base, off)) }
	p := 0
	// Four k steps per iteration amortize the loop overhead. Within an
	// iteration each step's sums feed the next step, so the scheduler keeps
	// the steps in order and only the last step's products wait in
	// registers.
	for ; p+4 <= kc; p += 4 {
		ia, ib := 4*p, 28*p
		a0 := ld(pa, ia)
		c0 += a0 * ld(pb, ib)
		c1 += a0 * ld(pb, ib+4)
		c2 += a0 * ld(pb, ib+8)
		c3 += a0 * ld(pb, ib+12)
		c4 += a0 * ld(pb, ib+16)
		c5 += a0 * ld(pb, ib+20)
		c6 += a0 * ld(pb, ib+24)
		a1 := ld(pa, ia+4)
		c0 += a1 * ld(pb, ib+28)
		c1 += a1 * ld(pb, ib+32)
		c2 += a1 * ld(pb, ib+36)
		c3 += a1 * ld(pb, ib+40)
		c4 += a1 * ld(pb, ib+44)
		c5 += a1 * ld(pb, ib+48)
		c6 += a1 * ld(pb, ib+52)
		a2 := ld(pa, ia+8)
		c0 += a2 * ld(pb, ib+56)
		c1 += a2 * ld(pb, ib+60)
		c2 += a2 * ld(pb, ib+64)
		c3 += a2 * ld(pb, ib+68)
		c4 += a2 * ld(pb, ib+72)
		c5 += a2 * ld(pb, ib+76)
		c6 += a2 * ld(pb, ib+80)
		a3 := ld(pa, ia+12)
		c0 += a3 * ld(pb, ib+84)
		c1 += a3 * ld(pb, ib+88)
		c2 += a3 * ld(pb, ib+92)
		c3 += a3 * ld(pb, ib+96)
		c4 += a3 * ld(pb, ib+100)
		c5 += a3 * ld(pb, ib+104)
		c6 += a3 * ld(pb, ib+108)
	}
	for ; p < kc; p++ {
		ia, ib := 4*p, 28*p
		a0 := ld(pa, ia)
		c0 += a0 * ld(pb, ib)
		c1 += a0 * ld(pb, ib+4)
		c2 += a0 * ld(pb, ib+8)
		c3 += a0 * ld(pb, ib+12)
		c4 += a0 * ld(pb, ib+16)
		c5 += a0 * ld(pb, ib+20)
		c6 += a0 * ld(pb, ib+24)
	}
	return c0, c1, c2, c3, c4, c5, c6
}

// refGemm1x4Sums is refGemm1x7Sums for the first four columns of the
// seven-column B panel only, under the same preconditions.
//
//go:noinline
func refGemm1x4Sums(kc int, a, b []float32) (c0, c1, c2, c3 float32) {
	pa := unsafe.Pointer(unsafe.SliceData(a))
	pb := unsafe.Pointer(unsafe.SliceData(b))
	ld := func(base unsafe.Pointer, off int) float32 { return *(*float32)(unsafe.Add(base, off)) }
	p := 0
	for ; p+4 <= kc; p += 4 {
		ia, ib := 4*p, 28*p
		a0 := ld(pa, ia)
		c0 += a0 * ld(pb, ib)
		c1 += a0 * ld(pb, ib+4)
		c2 += a0 * ld(pb, ib+8)
		c3 += a0 * ld(pb, ib+12)
		a1 := ld(pa, ia+4)
		c0 += a1 * ld(pb, ib+28)
		c1 += a1 * ld(pb, ib+32)
		c2 += a1 * ld(pb, ib+36)
		c3 += a1 * ld(pb, ib+40)
		a2 := ld(pa, ia+8)
		c0 += a2 * ld(pb, ib+56)
		c1 += a2 * ld(pb, ib+60)
		c2 += a2 * ld(pb, ib+64)
		c3 += a2 * ld(pb, ib+68)
		a3 := ld(pa, ia+12)
		c0 += a3 * ld(pb, ib+84)
		c1 += a3 * ld(pb, ib+88)
		c2 += a3 * ld(pb, ib+92)
		c3 += a3 * ld(pb, ib+96)
	}
	for ; p < kc; p++ {
		ia, ib := 4*p, 28*p
		a0 := ld(pa, ia)
		c0 += a0 * ld(pb, ib)
		c1 += a0 * ld(pb, ib+4)
		c2 += a0 * ld(pb, ib+8)
		c3 += a0 * ld(pb, ib+12)
	}
	return c0, c1, c2, c3
}
