package kernels

import "math"

// refQuantizeRowsU8 is the generic level's QuantizeRowsU8, its arguments
// checked: the rules of QuantizeRowsU8, one float32 operation at a time.
func refQuantizeRowsU8(q []uint8, ldq int, scale []float32, zero []int32, x []float32, ldx, m, k int) {
	for i := range m {
		row := x[i*ldx : i*ldx+k]
		var lo, hi float32
		for _, v := range row {
			lo = min(lo, v)
			hi = max(hi, v)
		}
		// Go's min and max carry a NaN through, and with lo ≤ 0 ≤ hi the
		// sum is finite exactly when both are: the row holds a NaN or ±Inf
		// when it is not.
		if t := lo + hi; t != t || t-t != 0 {
			scale[i], zero[i] = float32(math.NaN()), 0
			continue
		}
		s, inv, zp := float32(1), float32(1), int32(0)
		if hi != lo {
			// At least the smallest normal float32, so that inv stays
			// finite for a row of tiny values.
			s = max((hi-lo)/255, 0x1p-126)
			inv = 1 / s
			zp = clampU8(roundEvenInt32(-lo * inv))
		}
		scale[i], zero[i] = s, zp
		out := q[i*ldq : (i+1)*ldq]
		for c, v := range row {
			out[c] = uint8(clampU8(roundEvenInt32(v*inv) + zp))
		}
		clear(out[k:])
	}
}

// roundEvenInt32 is VCVTPS2DQ (and FCVTNS) on one value whose magnitude
// is far below 2³¹: the nearest integer, ties to even.
func roundEvenInt32(v float32) int32 {
	return int32(math.RoundToEven(float64(v)))
}

func clampU8(v int32) int32 { return max(0, min(255, v)) }

// refInt8Dense is the generic level's int8 product and epilogue (see
// DenseInt8), its arguments checked: for each of m rows of codes a
// (leading dimension lda ≥ w.in, the codes past w.in unread) with their
// scales and zero points, y's row gets the linear outputs. It reads the
// codes row-major, not packed, so that the tests also check the packing
// the levels read.
func refInt8Dense(m int, a []uint8, lda int, scale []float32, zero []int32, w *Int8Weights, bias []float32, y []float32, ldy int) {
	for i := range m {
		row := a[i*lda : i*lda+w.in]
		for j := range w.units {
			var acc int32
			for k, v := range row {
				acc += int32(v) * int32(w.q[k*w.units+j])
			}
			t := float32(acc - zero[i]*w.colSum[j])
			c := scale[i] * w.scale[j]
			y[i*ldy+j] = float32(t*c) + bias[j] // never fused
		}
	}
}
