//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// The NEON elementwise, row and loss kernels. Every assembly function
// handles any length itself: the last len%4 elements (columns, for the
// bias kernels) run through the same vector operations, loaded and stored
// lane by lane (gen/internal/neon), and the lanes do the reference's
// operations unfused, so every result is bit-identical to the generic
// level. The glue is the table below and one installer.
//
// Softmax, SoftmaxGrad and the cross-entropy keep a thin Go driver per
// row, for the steps that are scalar in the reference and must stay in
// its order: the row maximum and Σ dy·y (the reference's own rowMax and
// softmaxGradDot), 1/s, and the loss's float64 logarithms (ceRowLoss),
// which have no NEON instruction. The exponentials with their index-order
// float64 sum (ExpShiftNEON), the scaling (NormalizeNEON) and
// SoftmaxGrad's second pass (SubMulNEON) are assembly.

// elemNEONActs is the NEON activation table (see asmAct); every kernel
// takes rows of any width.
var elemNEONActs = [numActivations]asmAct{
	ActLinear: {bias: biasRowsNEON(asm.AddBiasNEON)},
	ActReLU: {forward: elementwise(asm.ReluNEON), bias: biasRowsNEON(asm.BiasReluNEON),
		grad: elementwiseGrad(asm.ReluGradNEON)},
	ActSigmoid: {forward: elementwise(asm.SigmoidNEON), bias: biasRowsNEON(asm.BiasSigmoidNEON),
		grad: elementwiseGrad(asm.SigmoidGradNEON)},
	ActTanh: {forward: elementwise(asm.TanhNEON), bias: biasRowsNEON(asm.BiasTanhNEON),
		grad: elementwiseGrad(asm.TanhGradNEON)},
	ActSoftmax: {forward: softmaxNEON, bias: biasSoftmaxNEON, grad: softmaxGradNEON, rowwise: true},
}

// elemNEON installs the NEON elementwise kernels into l.
func elemNEON(l *impl) {
	installActs(l, &elemNEONActs)
	l.softmaxCrossEntropy = softmaxCrossEntropyNEON
	l.argmax = argmaxNEON
	l.countCorrect = countCorrectNEON
	installDropout(l, asm.DropoutNEON)
}

// biasRowsNEON keeps an empty matrix from the assembly (which runs at
// least one row) and reslices both buffers to what it reads.
func biasRowsNEON(f func(x, bias []float32, rows, cols int)) func(x, bias []float32, rows, cols int) {
	return func(x, bias []float32, rows, cols int) {
		if rows == 0 || cols == 0 {
			return
		}
		f(x[:rows*cols], bias[:cols], rows, cols)
	}
}

// softmaxNEON is refSoftmax: per row the maximum, the exponentials and
// their sum, then the scaling by 1/sum.
func softmaxNEON(dst, x []float32, rows, cols int) {
	if cols == 0 {
		return
	}
	for i := range rows {
		d, xr := dst[i*cols:(i+1)*cols], x[i*cols:(i+1)*cols]
		s := asm.ExpShiftNEON(d, xr, rowMax(xr), -1)
		asm.NormalizeNEON(d, d, 1/s, 1)
	}
}

// biasSoftmaxNEON is refBiasSoftmax: AddBias, then softmaxNEON in place.
func biasSoftmaxNEON(x, bias []float32, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	asm.AddBiasNEON(x[:rows*cols], bias[:cols], rows, cols)
	softmaxNEON(x, x, rows, cols)
}

// softmaxGradNEON is refSoftmaxGrad: per row s = Σ dy·y, then (dy − s)·y.
func softmaxGradNEON(dx, dy, y []float32, rows, cols int) {
	for i := range rows {
		dxr := dx[i*cols : (i+1)*cols]
		dyr := dy[i*cols : (i+1)*cols][:len(dxr)]
		yr := y[i*cols : (i+1)*cols][:len(dxr)]
		asm.SubMulNEON(dxr, dyr, yr, softmaxGradDot(dyr, yr))
	}
}

// softmaxCrossEntropyNEON is refSoftmaxCrossEntropy with the exponentials
// parked in probs or grad as the reference parks them; with neither
// output there is nowhere to put them, and the reference runs. grad is
// written before probs, because with both outputs the exponentials are in
// probs.
func softmaxCrossEntropyNEON(probs, grad, logits []float32, labels []int32, rows, cols int) float64 {
	if probs == nil && grad == nil {
		return refSoftmaxCrossEntropy(probs, grad, logits, labels, rows, cols)
	}
	var total float64
	invB := 1 / float64(rows)
	for i := range rows {
		z := logits[i*cols : (i+1)*cols]
		y := int(labels[i])
		m := rowMax(z)
		buf := grad
		if probs != nil {
			buf = probs
		}
		buf = buf[i*cols : (i+1)*cols][:len(z)]
		other := asm.ExpShiftNEON(buf, z, m, y)
		s := other + float64(buf[y])
		total += ceRowLoss(other, s, z[y], m)
		inv := 1 / s
		if grad != nil {
			g := grad[i*cols : (i+1)*cols][:len(buf)]
			asm.NormalizeNEON(g, buf, inv, invB)
			g[y] = ceLabelGrad(other, inv, invB)
		}
		if probs != nil {
			asm.NormalizeNEON(buf, buf, inv, 1)
		}
	}
	return total
}

// argmaxNEON runs the assembly on every row of at least one column.
func argmaxNEON(dst []int32, x []float32, rows, cols int) {
	if rows == 0 || cols == 0 {
		refArgmax(dst, x, rows, cols)
		return
	}
	asm.ArgmaxNEON(dst[:rows], x[:rows*cols], rows, cols)
}

// countCorrectNEON takes the row indices from the assembly ceChunk rows
// at a time, in a stack array (see ceChunk).
func countCorrectNEON(x []float32, labels []int32, rows, cols int) int {
	if cols == 0 {
		return refCountCorrect(x, labels, rows, cols)
	}
	var idx [ceChunk]int32
	n := 0
	for i0 := 0; i0 < rows; i0 += ceChunk {
		r := min(ceChunk, rows-i0)
		asm.ArgmaxNEON(idx[:r], x[i0*cols:(i0+r)*cols], r, cols)
		n += countEqual(idx[:r], labels[i0:i0+r])
	}
	return n
}
