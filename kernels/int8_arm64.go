//go:build gc && !purego

package kernels

import (
	"golang.org/x/sys/cpu"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// int8NEON installs the NEON int8 path into l: the row quantization, and
// the product in the variant the CPU can run — SDOT where the
// dot-product extension is present (cpu.ARM64.HasASIMDDP, HWCAP
// asimddp), widening multiply-accumulates everywhere else (Cortex-A53,
// A72 and other ARMv8.0 cores). Both give the reference's bits, so the
// choice changes speed only. GODEBUG=cpu.asimddp=off, which
// golang.org/x/sys/cpu reads at start-up, clears the flag and so forces
// the widening variant on a core that has SDOT (the tests use it to run
// both variants on one machine; see TestInt8NEONVariant).
func int8NEON(l *impl) {
	l.quantizeRowsU8 = quantizeRowsU8NEON
	l.int8Dense = int8DenseWide
	if cpu.ARM64.HasASIMDDP {
		l.int8Dense = int8DenseSDOT
	}
}

// quantizeRowsU8NEON is the neon level's quantizeRowsU8: the assembly
// does the whole of refQuantizeRowsU8, tails included.
func quantizeRowsU8NEON(q []uint8, ldq int, scale []float32, zero []int32, x []float32, ldx, m, k int) {
	if m == 0 {
		return
	}
	asm.QuantizeRowsU8NEON(q, ldq, scale, zero, x, ldx, m, k)
}

// int8DenseSDOT and int8DenseWide are the neon level's int8Dense, one per
// variant; they are named functions so that the tests can tell which one
// a level holds.
func int8DenseSDOT(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, _ []float32, _ []int32) {
	int8DenseAsm(asm.Int8DenseSDOTNEON, m, a, lda, scale, zero, w, bias, y, ldy)
}

func int8DenseWide(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, _ []float32, _ []int32) {
	int8DenseAsm(asm.Int8DenseWideNEON, m, a, lda, scale, zero, w, bias, y, ldy)
}

type int8DenseKernel func(a []uint8, lda int, scale []float32, zero []int32, packed []int8, colSum []int32, wscale, bias, y []float32, ldy, m, n, kg int)

// int8DenseAsm calls the assembly product k through int8AsmArgs's
// checks.
func int8DenseAsm(k int8DenseKernel, m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int) {
	if m == 0 {
		return
	}
	kg, ok := int8AsmArgs(m, a, lda, scale, zero, w, bias, y, ldy, false, nil)
	if !ok {
		refInt8Dense(m, a, lda, scale, zero, w, bias, y, ldy)
		return
	}
	k(a, lda, scale, zero, w.packed, w.colSum, w.scale, bias, y, ldy, m, w.units, kg)
}
