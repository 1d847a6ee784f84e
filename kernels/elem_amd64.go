//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// The elementwise, row and loss kernels in assembly. The exported wrappers
// have checked every length; what the assembly needs beyond that (cols ≥ 1
// for the per-row kernels, scratch for the per-row loss terms) is arranged
// here. The exponential-based kernels compute exp32, sigmoid32 and tanh32
// lane by lane with the reference's own operations, so Sigmoid, Tanh and
// the exponentials inside Softmax and the cross-entropy are bit-identical
// to the generic level, and so are the gradients, AddBias, SoftmaxGrad and
// Argmax. Softmax and the cross-entropy sum their exponentials in float64
// in another order than the reference, which stays within their
// documented bounds.

// elemAVX2 installs the AVX2 elementwise kernels into l.
func elemAVX2(l *impl) {
	l.relu = asm.ReluAVX2
	l.sigmoid = asm.SigmoidAVX2
	l.tanh = asm.TanhAVX2
	l.reluGrad = asm.ReluGradAVX2
	l.sigmoidGrad = asm.SigmoidGradAVX2
	l.tanhGrad = asm.TanhGradAVX2
	l.softmax = byCols(minSoftmaxCols, refSoftmax, rowKernel(asm.SoftmaxAVX2))
	l.softmaxGrad = gradRowKernel(asm.SoftmaxGradAVX2)
	l.addBias = byCols(minBiasCols, refAddBias, asm.AddBiasAVX2)
	l.biasRelu = byCols(minBiasCols, refBiasRelu, asm.BiasReluAVX2)
	l.biasSigmoid = byCols(minSoftmaxCols, refBiasSigmoid, asm.BiasSigmoidAVX2)
	l.biasTanh = byCols(minSoftmaxCols, refBiasTanh, asm.BiasTanhAVX2)
	l.biasSoftmax = byCols(minSoftmaxCols, refBiasSoftmax, rowKernel(asm.BiasSoftmaxAVX2))
	l.softmaxCrossEntropy = softmaxCrossEntropyAVX2
	l.argmax = argmaxAVX2
	l.countCorrect = countCorrectAVX2
}

// elemAVX512 installs the AVX-512 elementwise kernels into l. l starts as
// a copy of the avx2 level, whose row kernels it keeps for narrow rows.
func elemAVX512(l *impl) {
	l.relu = asm.ReluAVX512
	l.sigmoid = asm.SigmoidAVX512
	l.tanh = asm.TanhAVX512
	l.reluGrad = asm.ReluGradAVX512
	l.sigmoidGrad = asm.SigmoidGradAVX512
	l.tanhGrad = asm.TanhGradAVX512
	l.softmaxGrad = gradRowKernel(asm.SoftmaxGradAVX512)
	l.addBias = byCols(minBiasCols, refAddBias, asm.AddBiasAVX512)
	l.biasRelu = byCols(minBiasCols, refBiasRelu, asm.BiasReluAVX512)
	// Softmax goes with BiasActivation(softmax) so that the two stay
	// bit-identical (the levels sum in different orders).
	l.biasSigmoid = byCols(narrowAVX512, l.biasSigmoid, asm.BiasSigmoidAVX512)
	l.biasTanh = byCols(narrowAVX512, l.biasTanh, asm.BiasTanhAVX512)
	l.biasSoftmax = byCols(narrowAVX512, l.biasSoftmax, rowKernel(asm.BiasSoftmaxAVX512))
	l.softmax = byCols(narrowAVX512, l.softmax, rowKernel(asm.SoftmaxAVX512))
	l.softmaxCrossEntropy = softmaxCrossEntropyAVX512
	l.argmax = argmaxAVX512
	l.countCorrect = countCorrectAVX512
}

// Below these widths the assembly row kernels lose to the Go reference:
// every row is then a tail, which the AVX2 code loads and stores lane by
// lane, and each row has a fixed cost (for softmax a horizontal maximum
// and sum). Measured on 32-row matrices: AddBias and BiasActivation(relu)
// with 7 columns took about 2.5 times the reference's time, Softmax with 1
// column 4 times, sigmoid and tanh with 1 column 1.6 times; from 3 columns
// on the exp-based kernels were faster.
const (
	minBiasCols    = 8
	minSoftmaxCols = 4
)

// narrowAVX512 is the width below which the AVX-512 level leaves the
// in-place row kernels to the AVX2 code. A 16-lane masked store of a row
// narrower than 8 columns reaches two rows on, which the AVX-512 code
// loads only after the store (it loads one row ahead), and a load that
// overlaps a pending masked store waits until the store reaches the cache:
// BiasActivation(relu) on 32×7 ran slower than the generic level.
const narrowAVX512 = 8

// byCols picks small for rows narrower than minCols columns, else big.
func byCols(minCols int, small, big func(x, b []float32, rows, cols int)) func(x, b []float32, rows, cols int) {
	return func(x, b []float32, rows, cols int) {
		if cols < minCols {
			small(x, b, rows, cols)
			return
		}
		big(x, b, rows, cols)
	}
}

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

// The assembly cross-entropy writes probs and grad and each row's loss
// (with refSoftmaxCrossEntropy's formulas, float64 logarithms in vector
// lanes); the losses are added here in row order, as the reference adds
// them.

func softmaxCrossEntropyAVX2(probs, grad, logits []float32, labels []int32, rows, cols int) float64 {
	if cols < minSoftmaxCols {
		return refSoftmaxCrossEntropy(probs, grad, logits, labels, rows, cols)
	}
	var stats [3 * ceChunk]float64
	var total float64
	for i0 := 0; i0 < rows; i0 += ceChunk {
		r := min(ceChunk, rows-i0)
		p, g, z := ceSlices(probs, grad, logits, i0, r, cols)
		asm.SoftmaxCrossEntropyAVX2(p, g, z, labels[i0:i0+r], r, cols, 1/float64(rows), stats[:])
		total = addRowLosses(total, stats[:r])
	}
	return total
}

func softmaxCrossEntropyAVX512(probs, grad, logits []float32, labels []int32, rows, cols int) float64 {
	if cols < minSoftmaxCols {
		return refSoftmaxCrossEntropy(probs, grad, logits, labels, rows, cols)
	}
	var stats [3 * ceChunk]float64
	var total float64
	for i0 := 0; i0 < rows; i0 += ceChunk {
		r := min(ceChunk, rows-i0)
		p, g, z := ceSlices(probs, grad, logits, i0, r, cols)
		asm.SoftmaxCrossEntropyAVX512(p, g, z, labels[i0:i0+r], r, cols, 1/float64(rows), stats[:])
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

func argmaxAVX2(dst []int32, x []float32, rows, cols int) {
	if cols < minSoftmaxCols {
		refArgmax(dst, x, rows, cols)
		return
	}
	asm.ArgmaxAVX2(dst, x, rows, cols)
}

func argmaxAVX512(dst []int32, x []float32, rows, cols int) {
	if cols < minSoftmaxCols {
		refArgmax(dst, x, rows, cols)
		return
	}
	asm.ArgmaxAVX512(dst, x, rows, cols)
}

func countCorrectAVX2(x []float32, labels []int32, rows, cols int) int {
	if cols < minSoftmaxCols {
		return refCountCorrect(x, labels, rows, cols)
	}
	var idx [ceChunk]int32
	n := 0
	for i0 := 0; i0 < rows; i0 += ceChunk {
		r := min(ceChunk, rows-i0)
		asm.ArgmaxAVX2(idx[:r], x[i0*cols:(i0+r)*cols], r, cols)
		n += countEqual(idx[:r], labels[i0:i0+r])
	}
	return n
}

func countCorrectAVX512(x []float32, labels []int32, rows, cols int) int {
	if cols < minSoftmaxCols {
		return refCountCorrect(x, labels, rows, cols)
	}
	var idx [ceChunk]int32
	n := 0
	for i0 := 0; i0 < rows; i0 += ceChunk {
		r := min(ceChunk, rows-i0)
		asm.ArgmaxAVX512(idx[:r], x[i0*cols:(i0+r)*cols], r, cols)
		n += countEqual(idx[:r], labels[i0:i0+r])
	}
	return n
}
