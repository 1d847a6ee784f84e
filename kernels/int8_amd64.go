//go:build gc && !purego

package kernels

import (
	"golang.org/x/sys/cpu"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// The int8 kernels of the amd64 levels. Which product a level installs
// depends on the CPU's dot-product instructions, decided once when the
// levels are built:
//
//   - avx2: Int8DenseVNNIAVX2 (VEX VPDPBUSD) with AVX-VNNI (Alder Lake,
//     Zen 5), else Int8DenseAVX2 (VPMADDWD on widened codes);
//   - avx512: Int8DenseVNNIAVX512 (VPDPBUSD on ZMM) with AVX512-VNNI, else
//     the avx2 level's product, which cloneLevel has copied.
//
// x/sys/cpu honours GODEBUG for both flags, so GODEBUG=cpu.avxvnni=off
// and GODEBUG=cpu.avx512vnni=off force the other variants on a VNNI
// machine (TestInt8Variants runs the int8 tests so).

// int8Dense* are the installed products, package variables so that the
// tests can tell which one a level holds.
var (
	int8DenseMaddAVX2   = int8DenseAsm(asm.Int8DenseAVX2, false)
	int8DenseVNNIAVX2   = int8DenseAsm(asm.Int8DenseVNNIAVX2, false)
	int8DenseVNNIAVX512 = int8DenseAsm(asm.Int8DenseVNNIAVX512, true)
)

// int8AVX2 installs the AVX2 level's int8 kernels into l.
func int8AVX2(l *impl) {
	l.quantizeRowsU8 = asm.QuantizeRowsU8AVX2
	l.int8Dense = int8DenseMaddAVX2
	if cpu.X86.HasAVXVNNI {
		l.int8Dense = int8DenseVNNIAVX2
	}
}

// int8AVX512 installs the AVX-512 level's int8 kernels into l.
func int8AVX512(l *impl) {
	l.quantizeRowsU8 = asm.QuantizeRowsU8AVX512
	if cpu.X86.HasAVX512VNNI {
		l.int8Dense = int8DenseVNNIAVX512
	}
}

// int8DenseAsm adapts an assembly product to the level's hook, through
// int8AsmArgs's checks; tail says whether it reads w.tail (the AVX-512
// kernel) rather than the partial vector of w.packed.
func int8DenseAsm(f func(m, kg int, a []uint8, lda int, scale []float32, zero []int32, w []int8, np int, colSum []int32, wscale, bias, y []float32, ldy, n int, pf []float32, tail []int8, nz []int32), tail bool) func(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, pf []float32, nz []int32) {
	return func(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int, pf []float32, nz []int32) {
		if m == 0 {
			return
		}
		kg, ok := int8AsmArgs(m, a, lda, scale, zero, w, bias, y, ldy, tail, nz)
		if !ok {
			refInt8Dense(m, a, lda, scale, zero, w, bias, y, ldy)
			return
		}
		f(m, kg, a, lda, scale, zero, w.packed, roundUp(w.units, int8Cols), w.colSum, w.scale, bias, y, ldy, w.units, pf, w.tail, nz)
	}
}
