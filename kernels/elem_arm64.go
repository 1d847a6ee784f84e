//go:build gc && !purego

package kernels

import "github.com/simdmlp/simdmlp/kernels/asm"

// The NEON elementwise kernels. The assembly works on whole vectors of 4
// lanes only; the last len%4 elements (columns, for the bias kernels) are
// finished here with the reference's scalar functions, which compute the
// same operations as the vector lanes, so every result is bit-identical to
// the generic level. Softmax, the cross-entropy, Argmax and ColSum keep the
// generic level's code on arm64.

// elemNEON installs the NEON elementwise kernels into l.
func elemNEON(l *impl) {
	l.relu = unaryNEON(asm.ReluNEON, refRelu)
	l.sigmoid = unaryNEON(asm.SigmoidNEON, refSigmoid)
	l.tanh = unaryNEON(asm.TanhNEON, refTanh)
	l.reluGrad = gradNEON(asm.ReluGradNEON, refReluGrad)
	l.sigmoidGrad = gradNEON(asm.SigmoidGradNEON, refSigmoidGrad)
	l.tanhGrad = gradNEON(asm.TanhGradNEON, refTanhGrad)
	l.addBias = biasNEON(asm.AddBiasNEON, func(v float32) float32 { return v })
	l.biasRelu = biasNEON(asm.BiasReluNEON, relu32)
	l.biasSigmoid = biasNEON(asm.BiasSigmoidNEON, sigmoid32)
	l.biasTanh = biasNEON(asm.BiasTanhNEON, tanh32)
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
