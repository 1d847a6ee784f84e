package kernels

import "math"

// The portable Go reference of every kernel except GEMM (ref_gemm.go) and
// the optimizer updates (ref_optim.go). The exported wrappers in kernels.go
// have checked every length, so these functions only reslice to let the
// compiler drop bounds checks inside the loops.
//
// The reference is also what users run on CPUs without an assembly level,
// so it is written for speed where that costs no clarity: one pass over
// memory per kernel, no allocation, no function values in inner loops.

func refRelu(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = relu32(v)
	}
}

// relu32 keeps x unless it is below zero. That is the single NaN-keeping
// max instruction on amd64 (MAXPS with x as the second operand) and a
// compare-and-clear on arm64; both keep −0 as −0, so the reference does too.
func relu32(v float32) float32 {
	if v < 0 {
		return 0
	}
	return v
}

func refSigmoid(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = sigmoid32(v)
	}
}

func refTanh(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = tanh32(v)
	}
}

func refReluGrad(dx, dy, y []float32) {
	dy = dy[:len(dx)]
	y = y[:len(dx)]
	for i := range dx {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// refSigmoidGrad evaluates dy·y·(1−y) left to right, as TF's SigmoidGrad
// does.
func refSigmoidGrad(dx, dy, y []float32) {
	dy = dy[:len(dx)]
	y = y[:len(dx)]
	for i := range dx {
		yi := y[i]
		dx[i] = float32(dy[i]*yi) * (1 - yi)
	}
}

// refTanhGrad evaluates dy·(1−y²) as TF's TanhGrad does, with y² rounded
// before the subtraction.
func refTanhGrad(dx, dy, y []float32) {
	dy = dy[:len(dx)]
	y = y[:len(dx)]
	for i := range dx {
		yi := y[i]
		dx[i] = dy[i] * (1 - float32(yi*yi))
	}
}

// rowMax returns the largest element of x. NaN needs no care here: if m
// misses a NaN element, that element's exponential is NaN and poisons the
// sum, so the whole row still comes out NaN, as it does on the vector
// levels whatever their max instruction does with NaN.
func rowMax(x []float32) float32 {
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	return m
}

// softmaxRow sets dst to the softmax of x; dst may be x. The exponentials
// are stored in dst and summed in float64, then scaled by the float64
// reciprocal of the sum, so each result is the exp error plus one
// rounding, whatever the row length.
func softmaxRow(dst, x []float32) {
	dst = dst[:len(x)]
	m := rowMax(x)
	var s float64
	for j, v := range x {
		e := exp32(v - m)
		dst[j] = e
		s += float64(e)
	}
	inv := 1 / s
	for j, e := range dst {
		dst[j] = float32(float64(e) * inv)
	}
}

func refSoftmax(dst, x []float32, rows, cols int) {
	if cols == 0 {
		return
	}
	for i := 0; i < rows; i++ {
		softmaxRow(dst[i*cols:(i+1)*cols], x[i*cols:(i+1)*cols])
	}
}

// softmaxGradDot is SoftmaxGrad's s = Σ dy·y for one row, accumulated in
// float64 in column order (each product is exact) and rounded once; every
// level computes it this way so that SoftmaxGrad's bits agree.
func softmaxGradDot(dy, y []float32) float32 {
	y = y[:len(dy)]
	var s float64
	for j, d := range dy {
		s += float64(d) * float64(y[j])
	}
	return float32(s)
}

// refSoftmaxGrad computes y ⊙ (dy − s) with s = Σ dy·y summed in float64
// and rounded once; s is complete before dx is written, so dx may be dy.
func refSoftmaxGrad(dx, dy, y []float32, rows, cols int) {
	for i := 0; i < rows; i++ {
		dxr := dx[i*cols : (i+1)*cols]
		dyr := dy[i*cols : (i+1)*cols][:len(dxr)]
		yr := y[i*cols : (i+1)*cols][:len(dxr)]
		s := softmaxGradDot(dyr, yr)
		for j := range dxr {
			dxr[j] = (dyr[j] - s) * yr[j]
		}
	}
}

func refAddBias(x, bias []float32, rows, cols int) {
	bias = bias[:cols]
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols][:len(bias)]
		for j, b := range bias {
			row[j] += b
		}
	}
}

// The fused bias kernels do per element exactly what AddBias followed by
// the activation does, so their results are bit-identical to the two-pass
// version; only the memory traffic differs.

func refBiasRelu(x, bias []float32, rows, cols int) {
	bias = bias[:cols]
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols][:len(bias)]
		for j, b := range bias {
			row[j] = relu32(row[j] + b)
		}
	}
}

func refBiasSigmoid(x, bias []float32, rows, cols int) {
	bias = bias[:cols]
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols][:len(bias)]
		for j, b := range bias {
			row[j] = sigmoid32(row[j] + b)
		}
	}
}

func refBiasTanh(x, bias []float32, rows, cols int) {
	bias = bias[:cols]
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols][:len(bias)]
		for j, b := range bias {
			row[j] = tanh32(row[j] + b)
		}
	}
}

func refBiasSoftmax(x, bias []float32, rows, cols int) {
	if cols == 0 {
		return
	}
	bias = bias[:cols]
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols][:len(bias)]
		for j, b := range bias {
			row[j] += b
		}
		softmaxRow(row, row)
	}
}

// refColSum adds the rows in order into dst, in float32: the order every
// level keeps (vector lanes run across columns), so ColSum is bit-identical
// on all levels.
func refColSum(dst, x []float32, rows, cols int) {
	dst = dst[:cols]
	clear(dst)
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols][:len(dst)]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// refSoftmaxCrossEntropy follows TF's fused sparse cross-entropy kernel:
// shift by the row max, one exponential per logit, log of the sum. The
// sums, the log and the per-row loss are float64, and the label term
// logit[y] − max is taken in float64 too, so logits as far apart as ±3e38
// still give a finite loss.
//
// The sum of the exponentials other than the label's is kept apart: when
// the label is the row maximum its exponential is exactly 1, and both the
// loss log(1 + other) and the label's gradient −other/sum keep their full
// relative precision however confident the prediction, instead of
// rounding to 0 through 1 − (almost 1).
func refSoftmaxCrossEntropy(probs, grad, logits []float32, labels []int32, rows, cols int) float64 {
	var total float64
	invB := 1 / float64(rows)
	for i := 0; i < rows; i++ {
		z := logits[i*cols : (i+1)*cols]
		y := int(labels[i])
		m := rowMax(z)

		// The exponentials are parked in whichever output exists, so each
		// is computed once.
		var buf []float32
		switch {
		case probs != nil:
			buf = probs[i*cols : (i+1)*cols][:len(z)]
		case grad != nil:
			buf = grad[i*cols : (i+1)*cols][:len(z)]
		}
		var other float64
		for j, v := range z {
			e := exp32(v - m)
			if buf != nil {
				buf[j] = e
			}
			if j != y {
				other += float64(e)
			}
		}
		zy := z[y]
		s := other + float64(exp32(zy-m))
		total += ceRowLoss(other, s, zy, m)
		if buf == nil {
			continue
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
					g[j] = ceLabelGrad(other, inv, invB)
				} else {
					g[j] = float32(pj * invB)
				}
			}
		}
	}
	return total
}

// ceRowLoss is one row's loss, log(s) − (z[y] − max), from other, the sum
// of the row's exponentials but the label's, and s, all of them. When the
// label holds the maximum, log1p(other) keeps the precision that log(s)
// would lose to rounding near 1.
func ceRowLoss(other, s float64, zy, m float32) float64 {
	if d := float64(zy) - float64(m); d != 0 {
		return math.Log(s) - d
	}
	return math.Log1p(other)
}

// ceLabelGrad is the gradient at the label, (p − 1)/rows with p − 1
// computed as −other/s, which does not cancel.
func ceLabelGrad(other, inv, invB float64) float32 {
	return float32(-other * inv * invB)
}

// argmaxRow returns the index of the first largest element; see Argmax for
// what a NaN does.
func argmaxRow(x []float32) int {
	best, bi := x[0], 0
	for j, v := range x {
		if v > best {
			best, bi = v, j
		}
	}
	return bi
}

func refArgmax(dst []int32, x []float32, rows, cols int) {
	dst = dst[:rows]
	for i := range dst {
		dst[i] = int32(argmaxRow(x[i*cols : (i+1)*cols]))
	}
}

func refCountCorrect(x []float32, labels []int32, rows, cols int) int {
	labels = labels[:rows]
	n := 0
	for i, l := range labels {
		if int32(argmaxRow(x[i*cols:(i+1)*cols])) == l {
			n++
		}
	}
	return n
}

// refSumSquares sums in float64 from the first element on; float64
// products of float32 values are exact.
// refSumSquares adds in the order every level uses, so that gradient
// clipping by norm gives the same bits on every level: element i goes to
// partial sum i mod 32 (the float64 lanes of the vector accumulators), and the 32 partial sums are then folded pairwise, the
// upper half onto the lower, 16, 8, 4, 2, 1. Each square is exact in
// float64, so only the additions round.
func refSumSquares(x []float32) float64 {
	var s [32]float64
	for i, v := range x {
		s[i%32] += float64(v) * float64(v)
	}
	for step := 16; step >= 1; step /= 2 {
		for k := range step {
			s[k] += s[k+step]
		}
	}
	return s[0]
}

func refScale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// refClamp uses comparisons rather than the builtin min and max so that
// NaN falls through both unchanged.
func refClamp(x []float32, lo, hi float32) {
	for i, v := range x {
		if v < lo {
			x[i] = lo
		} else if v > hi {
			x[i] = hi
		}
	}
}

func refAllFinite(x []float32) bool {
	for _, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return false
		}
	}
	return true
}
