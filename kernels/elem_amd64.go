//go:build gc && !purego

package kernels

import (
	"fmt"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// The elementwise, row and loss kernels in assembly. The exported wrappers
// have checked every length; what the assembly needs beyond that (cols ≥ 1
// for the per-row kernels, scratch for the per-row loss terms) is arranged
// here. The exponential-based kernels compute exp32, sigmoid32 and tanh32
// lane by lane with the reference's own operations, so Sigmoid, Tanh and
// the exponentials inside Softmax and the cross-entropy are bit-identical
// to the generic level, and so are the gradients, AddBias, SoftmaxGrad,
// Argmax and Dropout. Softmax and the cross-entropy sum their exponentials
// in float64 in another order than the reference, which stays within
// their documented bounds.

// elemAsm is one ISA's set of elementwise, row and loss kernels; the two
// levels differ only in this table.
type elemAsm struct {
	acts [numActivations]asmAct
	// rows selects the cross-entropy and argmax kernels, which are
	// called directly (see ceChunk).
	rows    rowISA
	dropout dropoutAsm
}

var elemAVX2Asm = &elemAsm{
	acts: [numActivations]asmAct{
		ActLinear: {bias: asm.AddBiasAVX2, minCols: minBiasCols},
		ActReLU: {forward: elementwise(asm.ReluAVX2), bias: asm.BiasReluAVX2,
			grad: elementwiseGrad(asm.ReluGradAVX2), minCols: minBiasCols},
		ActSigmoid: {forward: elementwise(asm.SigmoidAVX2), bias: asm.BiasSigmoidAVX2,
			grad: elementwiseGrad(asm.SigmoidGradAVX2), minCols: minSoftmaxCols},
		ActTanh: {forward: elementwise(asm.TanhAVX2), bias: asm.BiasTanhAVX2,
			grad: elementwiseGrad(asm.TanhGradAVX2), minCols: minSoftmaxCols},
		ActSoftmax: {forward: rowKernel(asm.SoftmaxAVX2), bias: rowKernel(asm.BiasSoftmaxAVX2),
			grad: gradRowKernel(asm.SoftmaxGradAVX2), minCols: minSoftmaxCols, rowwise: true},
	},
	rows:    rowsAVX2,
	dropout: asm.DropoutAVX2,
}

// The AVX-512 level keeps the AVX2 row kernels for rows narrower than
// narrowAVX512 (its Softmax goes with BiasActivation(softmax) so that the
// two stay bit-identical: the levels sum in different orders).
var elemAVX512Asm = &elemAsm{
	acts: [numActivations]asmAct{
		ActLinear: {bias: asm.AddBiasAVX512, minCols: minBiasCols},
		ActReLU: {forward: elementwise(asm.ReluAVX512), bias: asm.BiasReluAVX512,
			grad: elementwiseGrad(asm.ReluGradAVX512), minCols: minBiasCols},
		ActSigmoid: {forward: elementwise(asm.SigmoidAVX512), bias: asm.BiasSigmoidAVX512,
			grad: elementwiseGrad(asm.SigmoidGradAVX512), minCols: narrowAVX512},
		ActTanh: {forward: elementwise(asm.TanhAVX512), bias: asm.BiasTanhAVX512,
			grad: elementwiseGrad(asm.TanhGradAVX512), minCols: narrowAVX512},
		ActSoftmax: {forward: rowKernel(asm.SoftmaxAVX512), bias: rowKernel(asm.BiasSoftmaxAVX512),
			grad: gradRowKernel(asm.SoftmaxGradAVX512), minCols: narrowAVX512, rowwise: true},
	},
	rows:    rowsAVX512,
	dropout: asm.DropoutAVX512,
}

// installElem installs a's kernels into l, which starts as a copy of the
// level below.
func installElem(l *impl, a *elemAsm) {
	installActs(l, &a.acts)
	isa := a.rows
	l.softmaxCrossEntropy = func(probs, grad, logits []float32, labels []int32, rows, cols int) float64 {
		return softmaxCrossEntropyAsm(isa, probs, grad, logits, labels, rows, cols)
	}
	l.argmax = func(dst []int32, x []float32, rows, cols int) {
		if cols < minSoftmaxCols {
			refArgmax(dst, x, rows, cols)
			return
		}
		argmaxRows(isa, dst, x, rows, cols)
	}
	l.countCorrect = func(x []float32, labels []int32, rows, cols int) int {
		return countCorrectAsm(isa, x, labels, rows, cols)
	}
	installDropout(l, a.dropout)
}

// elemAVX2 installs the AVX2 elementwise kernels into l.
func elemAVX2(l *impl) { installElem(l, elemAVX2Asm) }

// elemAVX512 installs the AVX-512 elementwise kernels into l. l starts as
// a copy of the avx2 level, whose row kernels it keeps for narrow rows.
func elemAVX512(l *impl) { installElem(l, elemAVX512Asm) }

// Below these widths the assembly row kernels lose to the Go reference:
// every row is then a tail, which the AVX2 code loads and stores lane by
// lane, and each row has a fixed cost (for softmax a horizontal maximum
// and sum). The widths were placed with the row-kernel benchmarks
// (bench/README.md, "Narrow rows in the AVX row kernels").
const (
	minBiasCols    = 8
	minSoftmaxCols = 4
)

// narrowAVX512 is the width below which the AVX-512 level leaves the
// in-place row kernels to the AVX2 code. A 16-lane masked store of a row
// narrower than 8 columns reaches two rows on, which the AVX-512 code
// loads only after the store (it loads one row ahead), and a load that
// overlaps a pending masked store waits until the store reaches the
// cache, which made narrow rows slower than the generic level
// (bench/README.md, "Narrow rows in the AVX row kernels").
const narrowAVX512 = 8

// rowKernel wraps a softmax-style kernel so that an empty matrix never
// reaches the assembly (a row of no columns has no softmax).
func rowKernel(f func(a, b []float32, rows, cols int)) func(a, b []float32, rows, cols int) {
	return func(a, b []float32, rows, cols int) {
		if rows == 0 || cols == 0 {
			return
		}
		f(a, b, rows, cols)
	}
}

func gradRowKernel(f func(dx, dy, y []float32, rows, cols int)) func(dx, dy, y []float32, rows, cols int) {
	return func(dx, dy, y []float32, rows, cols int) {
		if rows == 0 || cols == 0 {
			return
		}
		f(dx, dy, y, rows, cols)
	}
}

// rowISA names an ISA's cross-entropy and argmax assembly. They are
// called directly, not through function values, so that the stack arrays
// handed to them do not escape (see ceChunk).
type rowISA int

const (
	rowsAVX2 rowISA = iota
	rowsAVX512
)

func ceRows(isa rowISA, p, g, z []float32, labels []int32, rows, cols int, invB float64, stats []float64) {
	switch isa {
	case rowsAVX2:
		asm.SoftmaxCrossEntropyAVX2(p, g, z, labels, rows, cols, invB, stats)
	case rowsAVX512:
		asm.SoftmaxCrossEntropyAVX512(p, g, z, labels, rows, cols, invB, stats)
	default:
		panic(fmt.Sprintf("kernels: no cross-entropy kernel for row ISA %d", isa))
	}
}

func argmaxRows(isa rowISA, dst []int32, x []float32, rows, cols int) {
	switch isa {
	case rowsAVX2:
		asm.ArgmaxAVX2(dst, x, rows, cols)
	case rowsAVX512:
		asm.ArgmaxAVX512(dst, x, rows, cols)
	default:
		panic(fmt.Sprintf("kernels: no argmax kernel for row ISA %d", isa))
	}
}

// softmaxCrossEntropyAsm runs the assembly cross-entropy, which writes
// probs and grad and each row's loss (with refSoftmaxCrossEntropy's
// formulas, float64 logarithms in vector lanes), ceChunk rows at a time;
// the losses are added here in row order, as the reference adds them.
func softmaxCrossEntropyAsm(isa rowISA, probs, grad, logits []float32, labels []int32, rows, cols int) float64 {
	if cols < minSoftmaxCols {
		return refSoftmaxCrossEntropy(probs, grad, logits, labels, rows, cols)
	}
	var stats [3 * ceChunk]float64
	var total float64
	for i0 := 0; i0 < rows; i0 += ceChunk {
		r := min(ceChunk, rows-i0)
		p, g, z := ceSlices(probs, grad, logits, i0, r, cols)
		ceRows(isa, p, g, z, labels[i0:i0+r], r, cols, 1/float64(rows), stats[:])
		total = addRowLosses(total, stats[:r])
	}
	return total
}

// ceSlices cuts rows i0..i0+r out of the cross-entropy's matrices; an
// absent (nil) output stays nil, which the assembly reads as "skip".
func ceSlices(probs, grad, logits []float32, i0, r, cols int) (p, g, z []float32) {
	lo, hi := i0*cols, (i0+r)*cols
	if probs != nil {
		p = probs[lo:hi]
	}
	if grad != nil {
		g = grad[lo:hi]
	}
	return p, g, logits[lo:hi]
}

// addRowLosses adds the row losses to total in row order.
func addRowLosses(total float64, losses []float64) float64 {
	for _, l := range losses {
		total += l
	}
	return total
}

// countCorrectAsm takes the row indices from the assembly ceChunk rows at
// a time, in a stack array.
func countCorrectAsm(isa rowISA, x []float32, labels []int32, rows, cols int) int {
	if cols < minSoftmaxCols {
		return refCountCorrect(x, labels, rows, cols)
	}
	var idx [ceChunk]int32
	n := 0
	for i0 := 0; i0 < rows; i0 += ceChunk {
		r := min(ceChunk, rows-i0)
		argmaxRows(isa, idx[:r], x[i0*cols:(i0+r)*cols], r, cols)
		n += countEqual(idx[:r], labels[i0:i0+r])
	}
	return n
}
