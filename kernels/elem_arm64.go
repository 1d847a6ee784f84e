//go:build gc && !purego

package kernels

import (
	"math"

	"github.com/simdmlp/simdmlp/kernels/asm"
)

// The NEON elementwise kernels. The assembly works on whole vectors of 4
// lanes only; the last len%4 elements (columns, for the bias kernels) are
// finished here with the reference's scalar functions, which compute the
// same operations as the vector lanes, so every result is bit-identical to
// the generic level. Softmax and the cross-entropy take their
// exponentials from the assembly and do the rest (row maximum, float64
// sums in index order, scaling) as the reference does, so they are
// bit-identical too. SoftmaxGrad sums Σ dy·y here in float64 in column
// order, as the reference does, and runs its second pass in assembly;
// Argmax (and CountCorrect through it) is whole rows of assembly.

// elemNEON installs the NEON elementwise kernels into l.
func elemNEON(l *impl) {
	addBias := biasNEON(asm.AddBiasNEON, func(v float32) float32 { return v })
	l.acts[ActLinear].bias = addBias
	l.acts[ActReLU] = actKernels{
		forward: elementwise(unaryNEON(asm.ReluNEON, refRelu)),
		bias:    biasNEON(asm.BiasReluNEON, relu32),
		grad:    elementwiseGrad(gradNEON(asm.ReluGradNEON, refReluGrad)),
	}
	l.acts[ActSigmoid] = actKernels{
		forward: elementwise(unaryNEON(asm.SigmoidNEON, refSigmoid)),
		bias:    biasNEON(asm.BiasSigmoidNEON, sigmoid32),
		grad:    elementwiseGrad(gradNEON(asm.SigmoidGradNEON, refSigmoidGrad)),
	}
	l.acts[ActTanh] = actKernels{
		forward: elementwise(unaryNEON(asm.TanhNEON, refTanh)),
		bias:    biasNEON(asm.BiasTanhNEON, tanh32),
		grad:    elementwiseGrad(gradNEON(asm.TanhGradNEON, refTanhGrad)),
	}
	l.acts[ActSoftmax] = actKernels{
		forward: softmaxNEON,
		bias: func(x, bias []float32, rows, cols int) {
			addBias(x, bias, rows, cols)
			softmaxNEON(x, x, rows, cols)
		},
		grad: softmaxGradNEON,
	}
	l.softmaxCrossEntropy = softmaxCrossEntropyNEON
	l.argmax = argmaxNEON
	l.countCorrect = countCorrectNEON
}

// softmaxGradNEON is refSoftmaxGrad with the second pass, (dy − s)·y, on
// the whole vectors of each row in assembly.
func softmaxGradNEON(dx, dy, y []float32, rows, cols int) {
	if cols == 0 {
		return
	}
	c4 := cols &^ 3
	for i := range rows {
		dxr := dx[i*cols : (i+1)*cols]
		dyr := dy[i*cols : (i+1)*cols][:len(dxr)]
		yr := y[i*cols : (i+1)*cols][:len(dxr)]
		s := softmaxGradDot(dyr, yr)
		if c4 > 0 {
			asm.SubMulNEON(dxr[:c4], dyr[:c4], yr[:c4], s)
		}
		for j := c4; j < cols; j++ {
			dxr[j] = (dyr[j] - s) * yr[j]
		}
	}
}

// argmaxNEON runs the assembly on rows of at least one vector.
func argmaxNEON(dst []int32, x []float32, rows, cols int) {
	if rows == 0 {
		return
	}
	if cols < 4 {
		refArgmax(dst, x, rows, cols)
		return
	}
	asm.ArgmaxNEON(dst[:rows], x[:rows*cols], rows, cols)
}

// countCorrectNEON takes the row indices from the assembly ceChunk rows
// at a time, in a stack array (see ceChunk).
func countCorrectNEON(x []float32, labels []int32, rows, cols int) int {
	if cols < 4 {
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

// expShiftNEON sets dst[j] = exp32(x[j] − m), the whole vectors in
// assembly.
func expShiftNEON(dst, x []float32, m float32) {
	dst = dst[:len(x)]
	n4 := len(x) &^ 3
	if n4 > 0 {
		asm.ExpShiftNEON(dst[:n4], x[:n4], m)
	}
	for j := n4; j < len(x); j++ {
		dst[j] = exp32(x[j] - m)
	}
}

// softmaxNEON is refSoftmax with the exponentials from expShiftNEON.
func softmaxNEON(dst, x []float32, rows, cols int) {
	if cols == 0 {
		return
	}
	for i := range rows {
		d := dst[i*cols : (i+1)*cols]
		expShiftNEON(d, x[i*cols:(i+1)*cols], rowMax(x[i*cols:(i+1)*cols]))
		var s float64
		for _, e := range d {
			s += float64(e)
		}
		inv := 1 / s
		for j, e := range d {
			d[j] = float32(float64(e) * inv)
		}
	}
}

// softmaxCrossEntropyNEON is refSoftmaxCrossEntropy with the exponentials
// from expShiftNEON, parked in probs or grad as the reference parks them;
// with neither output there is nowhere to put them, and the reference
// runs.
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
		expShiftNEON(buf, z, m)
		var other float64
		for j, e := range buf {
			if j != y {
				other += float64(e)
			}
		}
		zy := z[y]
		s := other + float64(buf[y])
		if d := float64(zy) - float64(m); d == 0 {
			total += math.Log1p(other)
		} else {
			total += math.Log(s) - d
		}

		inv := 1 / s
		var p, g []float32
		if probs != nil {
			p = probs[i*cols : (i+1)*cols][:len(buf)]
		}
		if grad != nil {
			g = grad[i*cols : (i+1)*cols][:len(buf)]
		}
		for j, e := range buf {
			pj := float64(e) * inv
			if p != nil {
				p[j] = float32(pj)
			}
			if g != nil {
				if j == y {
					g[j] = float32(-other * inv * invB)
				} else {
					g[j] = float32(pj * invB)
				}
			}
		}
	}
	return total
}

// unaryNEON runs the vector kernel on the whole vectors of x and ref on
// the rest. The exported wrapper has checked len(dst) == len(x).
func unaryNEON(vec, ref func(dst, x []float32)) func(dst, x []float32) {
	return func(dst, x []float32) {
		dst = dst[:len(x)]
		n4 := len(x) &^ 3
		if n4 > 0 {
			vec(dst[:n4], x[:n4])
		}
		ref(dst[n4:], x[n4:])
	}
}

func gradNEON(vec, ref func(dx, dy, y []float32)) func(dx, dy, y []float32) {
	return func(dx, dy, y []float32) {
		n := len(dx)
		dy, y = dy[:n], y[:n]
		n4 := n &^ 3
		if n4 > 0 {
			vec(dx[:n4], dy[:n4], y[:n4])
		}
		ref(dx[n4:], dy[n4:], y[n4:])
	}
}

// biasNEON runs the vector kernel on the first cols&^3 columns of every
// row and finishes the other columns with act(x + b).
func biasNEON(vec func(x, bias []float32, rows, cols int), act func(float32) float32) func(x, bias []float32, rows, cols int) {
	return func(x, bias []float32, rows, cols int) {
		if rows == 0 || cols == 0 {
			return
		}
		x = x[:rows*cols]
		bias = bias[:cols]
		c4 := cols &^ 3
		if c4 > 0 {
			vec(x, bias[:c4], rows, cols)
		}
		if c4 == cols {
			return
		}
		tail := bias[c4:]
		for i := range rows {
			row := x[i*cols+c4 : (i+1)*cols][:len(tail)]
			for j, b := range tail {
				row[j] = act(row[j] + b)
			}
		}
	}
}
